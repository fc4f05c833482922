// The per-operation compute ceiling of the ledger, measured in process on one core: banking
// transfers on disjoint accounts applied in 1,000-request blocks (signature check, proof decode,
// compatibility, metered call, apply, seal), median µs per operation → operations per second.
import { Writer } from "../node/common/codec.js";
import { generateKeyPair } from "../node/keys.js";
import { InProcessBank, acct } from "./in-process-bank.js";
import { median, nowUs } from "./machine.js";

const transferArgs = (a: number, b: number, amount: number) =>
  new Writer().string(acct(a)).string(acct(b)).varint(amount).finish();

export function ceiling(): number {
  const bank = new InProcessBank("ceiling", 1_000_000n);
  const n = 2000;
  const users = Array.from({ length: n }, () => generateKeyPair());
  bank.block(
    users.map((u, i) => bank.request(u, "bank/open", [acct(i)], new Writer().string(acct(i)).finish())),
  );
  bank.block(
    users.map((_, i) =>
      bank.request(
        bank.owner,
        "bank/mint",
        ["bank/.owner", acct(i)],
        new Writer().string(acct(i)).varint(1_000_000).finish(),
      ),
    ),
  );
  const times: number[] = [];
  for (let round = 0; round < 5; round++) {
    const rs = [];
    for (let i = 0; i < n; i += 2)
      rs.push(bank.request(users[i]!, "bank/transfer", [acct(i), acct(i + 1)], transferArgs(i, i + 1, 1)));
    const t0 = nowUs();
    bank.block(rs);
    times.push((nowUs() - t0) / rs.length);
  }
  return 1e6 / median(times);
}
