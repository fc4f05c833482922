// A seeded crash sweep on a real 4-node cluster under steady SDK load: each seed restarts one node
// with a failpoint (node/failpoints.ts) that SIGKILLs it the N-th time it reaches one point of the
// pipeline — admission, proposal, vote, mid-apply, after the commit, after signing the header,
// when serving a receipt — then restarts it clean and checks three invariants:
//   - certification resumes: every node certifies up to the height the cluster had reached;
//   - every decided request has its receipt on every node, byte-identical;
//   - no request applies twice: decided requests sent again are refused, and money is conserved.
// The seed picks the point (seed mod the number of points), the node and N. A failing seed is
// printed with the command that reruns it. Used by `npm run sweep:crash` and by a short test.

import assert from "node:assert/strict";
import { Cluster } from "./cluster.js";
import { Prng } from "../tob/sim/prng.js";
import { ArborClient, generateKey } from "../../client/index.js";
import { Bank, loadBankingOps } from "../../examples/banking/bank.js";
import { toHex } from "../../node/common/bytes.js";
import { decodeAnyRequest } from "../../node/ledger/any-request.js";
import { decodeReceipt } from "../../node/ledger/receipt.js";
import { FAILPOINTS, type Failpoint } from "../../node/failpoints.js";

/**
 * The points of the pipeline a seed may crash a node at: every failpoint a node has but `graft`
 * and `member-commit`, which a steady load of transfers never reaches (sync-crash.test.ts and
 * member-crash.test.ts crash nodes there).
 */
export type CrashPoint = Exclude<Failpoint, "graft" | "member-commit">;
export const CRASH_POINTS = FAILPOINTS.filter((p): p is CrashPoint => p !== "graft" && p !== "member-commit");

const ACCOUNTS = 8;
const MINTED = 1000n;
/** Concurrent transfer loops of the steady load. */
const LOADERS = 3;
/** Longest a failpoint may take to fire before the node is killed anyway. */
const FIRE_TIMEOUT_MS = 8_000;
/** Longest the invariants may take to hold after the restart. */
const SETTLE_TIMEOUT_MS = 30_000;
/** Old decided requests re-checked (receipts, replay) per seed, besides the new ones. */
const OLD_SAMPLE = 16;

export interface SeedPlan {
  readonly seed: number;
  readonly point: CrashPoint;
  readonly node: number;
  /** the failpoint fires the N-th time the point is reached */
  readonly nth: number;
}

export function planSeed(seed: number, nodes = 4): SeedPlan {
  const rng = new Prng(seed);
  return {
    seed,
    point: CRASH_POINTS[seed % CRASH_POINTS.length]!,
    node: rng.u32() % nodes,
    nth: 1 + (rng.u32() % 6),
  };
}

interface Decided {
  readonly request: Uint8Array;
  readonly id: Uint8Array;
  readonly receipt: Uint8Array;
  readonly accepted: boolean;
}

export interface SweepResult {
  readonly seeds: number;
  readonly fired: number;
  readonly failures: Array<{ seed: number; plan: SeedPlan; error: string }>;
  readonly decided: number;
}

export async function crashSweep(o: {
  from: number;
  count: number;
  log?: (line: string) => void;
}): Promise<SweepResult> {
  const log = o.log ?? (() => undefined);
  const c = await Cluster.create({ n: 4, k: 2, T: 64 });
  const clients: ArborClient[] = [];
  const decided: Decided[] = [];
  let stop = false;
  const failures: SweepResult["failures"] = [];
  let fired = 0;
  try {
    c.startAll();
    await c.ready();
    const owner = await ArborClient.connect({ genesis: c.genesis, key: generateKey(), timeoutMs: 20_000 });
    clients.push(owner);
    const bank = new Bank(owner);
    await bank.setup(loadBankingOps());
    const names = Array.from({ length: ACCOUNTS }, (_, i) => `u${i}`);
    for (const n of names) await bank.openAccount(n);
    for (const n of names) await bank.mint(n, MINTED);

    // Steady load: transfers between random accounts, signed and submitted by hand so the
    // request bytes are kept (to send them again later).
    const loaders = Array.from({ length: LOADERS }, async (_, li) => {
      const rng = new Prng(1_000_003 * (li + 1));
      while (!stop) {
        const a = names[rng.u32() % ACCOUNTS]!;
        let b = names[rng.u32() % ACCOUNTS]!;
        if (a === b) b = names[(names.indexOf(a) + 1) % ACCOUNTS]!;
        try {
          const request = await owner.prepare({
            op: bank.op("transfer"),
            touched: [bank.account(a), bank.account(b)],
            args: bank.transferArgs(a, b, 1n),
          });
          const r = await owner.submit(request);
          decided.push({
            request,
            id: decodeAnyRequest(request).id,
            receipt: r.bytes,
            accepted: r.receipt.status === "accepted",
          });
        } catch {
          await new Promise((r) => setTimeout(r, 50)); // a node down or restarting: go on
        }
      }
    });

    for (let seed = o.from; seed < o.from + o.count; seed++) {
      const plan = planSeed(seed);
      const before = decided.length;
      try {
        const didFire = await crashOnce(c, plan);
        if (didFire) fired++;
        await checkInvariants(c, bank, names, decided, before);
        log(
          `seed ${seed}: ${plan.point}#${plan.nth} on node ${plan.node} ${didFire ? "fired" : "not reached (killed)"}; ok (${decided.length} decided)`,
        );
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e);
        failures.push({ seed, plan, error });
        log(`seed ${seed} FAILED: ${plan.point}#${plan.nth} on node ${plan.node}: ${error}`);
        for (let i = 0; i < c.procs.length; i++) {
          const p = c.procs[i];
          const state = !p
            ? "not running"
            : p.exitCode !== null || p.signalCode !== null
              ? `exited (${p.exitCode ?? p.signalCode})`
              : "running";
          log(
            `  node ${i}: ${state}; last log lines:\n${c.logsOf(i).trim().split("\n").slice(-4).join("\n")}`,
          );
        }
        log(`  rerun: npm run sweep:crash -- --from ${seed} --count 1`);
        // Bring the cluster back whole before the next seed: restart nodes that are down.
        for (let i = 0; i < c.procs.length; i++) {
          const p = c.procs[i];
          if (!p || p.exitCode !== null || p.signalCode !== null) {
            await c.kill(i);
            c.start(i);
          }
        }
        await c.ready().catch(() => undefined);
      }
    }
    stop = true;
    await Promise.all(loaders);
    return { seeds: o.count, fired, failures, decided: decided.length };
  } finally {
    stop = true;
    for (const cl of clients) cl.close();
    await c.stop();
  }
}

/** Restarts the planned node with its failpoint, waits until it fires (or kills it), restarts it clean. */
async function crashOnce(c: Cluster, plan: SeedPlan): Promise<boolean> {
  await c.kill(plan.node, "SIGKILL");
  c.start(plan.node, { ARBOR_FAILPOINT: `${plan.point}:${plan.nth}` });
  const p = c.procs[plan.node]!;
  const fired = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), FIRE_TIMEOUT_MS);
    p.once("exit", (_code, signal) => {
      clearTimeout(timer);
      resolve(signal === "SIGKILL");
    });
  });
  await c.kill(plan.node, "SIGKILL");
  c.start(plan.node);
  await c.ready();
  return fired;
}

async function checkInvariants(
  c: Cluster,
  bank: Bank,
  names: string[],
  decided: Decided[],
  since: number,
): Promise<void> {
  // Certification resumes: every node certifies at least up to the height reached now.
  const statuses = await Promise.all(c.clients.map((x) => x.status()));
  const target = statuses.reduce((m, s) => (s.height > m ? s.height : m), 0n);
  await c.waitFor(
    async () =>
      (await Promise.all(c.clients.map((x) => x.status()))).every((s) => s.certifiedHeight >= target),
    SETTLE_TIMEOUT_MS,
    `every node certified up to height ${target}`,
  );

  // Every decided request has its receipt on every node, as the client got it.
  const fresh = decided.slice(since);
  const old = decided.slice(0, since);
  const sample = [...fresh];
  for (let i = 0; i < Math.min(OLD_SAMPLE, old.length); i++)
    sample.push(old[(i * 7919 + since) % old.length]!);
  for (const d of sample)
    for (let id = 0; id < c.clients.length; id++) {
      const got = await c.clients[id]!.waitReceipt(d.id, 5_000).catch((e: Error) => {
        throw new Error(`node ${id} has no receipt for ${toHex(d.id).slice(0, 16)}…: ${e.message}`);
      });
      assert.equal(
        toHex(got.receipt),
        toHex(d.receipt),
        `node ${id}: receipt of ${toHex(d.id).slice(0, 16)}… differs from the one f+1 nodes signed`,
      );
    }

  // No request applies twice: decided ones sent again are refused at the door, and the books balance.
  for (const d of sample.slice(-OLD_SAMPLE)) {
    const via = d.id[0]! % c.clients.length;
    const ack = await c.clients[via]!.execute(d.request);
    assert.ok(
      !ack.accepted && (ack.reason === "replay" || ack.reason === "expired"),
      `node ${via} admitted a decided request again (${ack.reason || "accepted"})`,
    );
    const r = decodeReceipt(d.receipt);
    assert.equal(r.status === "accepted", d.accepted);
  }
  const books = await bank.balances(names);
  let total = 0n;
  for (const a of books.accounts.values()) total += a?.balance ?? 0n;
  assert.equal(total, MINTED * BigInt(names.length), "money is not conserved");
}
