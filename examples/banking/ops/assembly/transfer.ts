// transfer — moves money between two accounts of the domain; the caller must own the source.
// args: from (string) ‖ to (string) ‖ amount (varint, > 0) · touched: both accounts
import { args, callerIs, done, fail, set } from "../../../../ops/assembly/sdk";
import { readAccount } from "./account";

export function run(): i32 {
  const a = args();
  const fromKey = a.string();
  const toKey = a.string();
  const amount = a.varint();
  a.end();
  if (amount == 0) fail("amount must be positive");
  if (fromKey == toKey) fail("transfer to the same account");
  const from = readAccount(fromKey);
  const to = readAccount(toKey);
  if (!callerIs(from.owner)) fail("caller does not own the source account");
  if (from.balance < amount) fail("insufficient funds");
  if (to.balance > U64.MAX_VALUE - amount) fail("balance would overflow");
  from.balance -= amount;
  to.balance += amount;
  set(fromKey, from.encode());
  set(toKey, to.encode());
  return done();
}
