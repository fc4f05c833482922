// Benchmark of the executor (npm run bench:exec): the banking transfer on a warm cache, in µs per
// call including metering and every data copy (input encoding, result decoding, domain checks),
// against the same op compiled without metering and a plain TypeScript function doing the same
// work. Medians over interleaved rounds. The last line is one JSON object.

import { machineLine, median } from "./machine.js";
import { Reader, Writer } from "../node/common/codec.js";
import { bytesEqual } from "../node/common/bytes.js";
import { compileOp } from "../node/exec/core/load.js";
import { instantiate } from "../node/exec/core/slot.js";
import { nodeHostCrypto, nodeSha256 } from "../node/exec/host-crypto.js";
import {
  createExecutor,
  loadBuiltOp,
  type ExecRequest,
  type TouchedRecord,
  type Write,
} from "../node/exec/index.js";

const ROUNDS = 9;
const CALLS = 20_000;

const code = loadBuiltOp("banking/transfer");
const alice = new Uint8Array(32).fill(0xa1);
const bob = new Uint8Array(32).fill(0xb0);
const account = (owner: Uint8Array, balance: bigint) => new Writer().raw(owner).u64(balance).finish();
const records: TouchedRecord[] = [
  { key: "bank/accounts/alice", value: account(alice, 1_000_000n) },
  { key: "bank/accounts/bob", value: account(bob, 5n) },
];
const args = new Writer().string("bank/accounts/alice").string("bank/accounts/bob").varint(250).finish();
// A node knows the code hash from the proof leaf of the op's record, so it passes it in.
const req: ExecRequest = {
  opKey: "bank/transfer",
  code,
  codeHash: nodeSha256(code),
  records,
  args,
  caller: alice,
  gasLimit: 1_000_000n,
};

/** The same work in plain TypeScript: decode, check, compute, encode the two new records. */
function jsTransfer(caller: Uint8Array, a: Uint8Array, recs: readonly TouchedRecord[]): Write[] {
  const r = new Reader(a);
  const fromKey = r.string(1024);
  const toKey = r.string(1024);
  const amount = r.varint64();
  r.end();
  if (amount === 0n) throw new Error("amount must be positive");
  if (fromKey === toKey) throw new Error("transfer to the same account");
  const find = (k: string) => {
    if (!k.startsWith("bank/accounts/") || k.length === 14 || k.indexOf("/", 14) >= 0)
      throw new Error("bad key");
    const rec = recs.find((x) => x.key === k);
    if (!rec || rec.value === null || rec.value.length !== 40) throw new Error("record missing");
    const rd = new Reader(rec.value);
    return { owner: rd.raw(32), balance: rd.u64() };
  };
  const from = find(fromKey);
  const to = find(toKey);
  if (!bytesEqual(from.owner, caller)) throw new Error("caller does not own the source account");
  if (from.balance < amount) throw new Error("insufficient funds");
  if (to.balance + amount > 0xffffffffffffffffn) throw new Error("overflow");
  return [
    {
      key: fromKey,
      value: new Writer(40)
        .raw(from.owner)
        .u64(from.balance - amount)
        .finish(),
    },
    {
      key: toKey,
      value: new Writer(40)
        .raw(to.owner)
        .u64(to.balance + amount)
        .finish(),
    },
  ].sort((x, y) => (x.key < y.key ? -1 : 1));
}

function timeUs(calls: number, f: () => unknown): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) f();
  return Number(process.hrtime.bigint() - t0) / 1000 / calls;
}

const metered = createExecutor();
const unmetered = createExecutor({ metered: false });
// Sanity: all three agree on the writes.
const m = metered.execute(req);
const u = unmetered.execute(req);
const j = jsTransfer(alice, args, records);
if (!m.ok || !u.ok) throw new Error("transfer was rejected");
for (let i = 0; i < 2; i++)
  if (!bytesEqual(m.writes[i]!.value!, u.writes[i]!.value!) || !bytesEqual(m.writes[i]!.value!, j[i]!.value!))
    throw new Error("the three implementations disagree");

// Warm-up (lets the engine tier up), then interleaved rounds.
for (let i = 0; i < 3; i++) {
  timeUs(CALLS, () => metered.execute(req));
  timeUs(CALLS, () => unmetered.execute(req));
  timeUs(CALLS, () => jsTransfer(alice, args, records));
}
const mt: number[] = [];
const ut: number[] = [];
const jt: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  mt.push(timeUs(CALLS, () => metered.execute(req)));
  ut.push(timeUs(CALLS, () => unmetered.execute(req)));
  jt.push(timeUs(CALLS, () => jsTransfer(alice, args, records)));
}
const ct: number[] = [];
for (let r = 0; r < 7; r++) {
  const t0 = process.hrtime.bigint();
  instantiate(compileOp(code), nodeHostCrypto);
  ct.push(Number(process.hrtime.bigint() - t0) / 1e6);
}

const round = (x: number, d = 3) => Number(x.toFixed(d));
const meteredUs = round(median(mt));
const unmeteredUs = round(median(ut));
const jsUs = round(median(jt));
const compileMs = round(median(ct));
console.log(machineLine());
console.log(
  `banking transfer (${code.length} bytes of wasm), ${ROUNDS} rounds × ${CALLS} calls, medians; gas per call ${m.gasUsed}`,
);
console.log(`  metered    ${meteredUs} µs/call   (rounds: ${mt.map((x) => x.toFixed(2)).join(" ")})`);
console.log(`  unmetered  ${unmeteredUs} µs/call   (rounds: ${ut.map((x) => x.toFixed(2)).join(" ")})`);
console.log(`  plain TS   ${jsUs} µs/call`);
console.log(
  `  metered / unmetered = ${(meteredUs / unmeteredUs).toFixed(2)}; validate + instrument + compile + instantiate ${compileMs} ms`,
);
console.log(
  `  targets: meteredUs <= 5 ${meteredUs <= 5 ? "met" : "MISSED"}; metered <= 2x unmetered ${meteredUs <= 2 * unmeteredUs ? "met" : "MISSED"}`,
);
console.log(JSON.stringify({ bench: "exec", meteredUs, unmeteredUs, jsUs, compileMs }));
