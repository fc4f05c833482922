// open — creates an account owned by the caller, with balance 0.
// args: account key (string) · touched: the account (must be absent)
import { args, caller, done, fail, has, set } from "../../../../ops/assembly/sdk";
import { Account, checkAccountKey } from "./account";

export function run(): i32 {
  const a = args();
  const key = a.string();
  a.end();
  checkAccountKey(key);
  if (has(key)) fail("account already exists: " + key);
  set(key, new Account(caller(), 0).encode());
  return done();
}
