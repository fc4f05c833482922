// mint — the domain owner creates money in an account.
// args: account key (string) ‖ amount (varint, > 0) · touched: DOMAIN/.owner, the account
import { args, callerIs, done, fail, get, set } from "../../../../ops/assembly/sdk";
import { ownerKey, readAccount } from "./account";

export function run(): i32 {
  const a = args();
  const key = a.string();
  const amount = a.varint();
  a.end();
  const owner = get(ownerKey());
  if (owner == null || !callerIs(owner!)) fail("only the domain owner may mint");
  if (amount == 0) fail("amount must be positive");
  const acct = readAccount(key);
  if (acct.balance > U64.MAX_VALUE - amount) fail("balance would overflow");
  acct.balance += amount;
  set(key, acct.encode());
  return done();
}
