// The banking transfer run on etcd, as bench:e2e's peer: accounts are keys holding a balance;
// a transfer reads both accounts (linearizable reads) and commits one transaction that compares
// each account's mod revision with the one read and puts both new balances. A transaction whose
// compare failed is re-read and retried; only committed transfers count, like Arbor's accepted
// ones. Closed loop with a fixed number in flight, an account never in two transfers at once.
import type { Etcd3 } from "etcd3";
import { processCpuMs } from "./machine.js";

/** Puts per setup transaction (etcd's default --max-txn-ops is 128). */
const SETUP_PUTS_PER_TXN = 100;
/** Reads and compares of one transfer before it gives up (never reached without contention). */
const MAX_ATTEMPTS = 100;

export interface EtcdLoad {
  readonly accounts: number;
  readonly account: (i: number) => string;
}

export interface EtcdPhase {
  /** committed transfers completed inside the measured window, per second */
  readonly txnPerSec: number;
  /** CPU-ms (etcd members + this process) per committed transfer over the window */
  readonly cpuMsPerTxn: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** transactions whose compare failed and were retried */
  readonly retries: number;
  /** transfers that failed with an error (not counted) */
  readonly errors: number;
}

/** Writes `amount` into every account, SETUP_PUTS_PER_TXN keys per transaction. */
export async function openEtcdAccounts(client: Etcd3, l: EtcdLoad, amount: number): Promise<void> {
  for (let i = 0; i < l.accounts; i += SETUP_PUTS_PER_TXN) {
    const puts = [];
    for (let j = i; j < Math.min(l.accounts, i + SETUP_PUTS_PER_TXN); j++)
      puts.push(client.put(l.account(j)).value(String(amount)));
    // Guarded on the batch's first key being new: a cluster that is not fresh is an error here.
    const r = await client
      .if(l.account(i), "Version", "==", 0)
      .then(...puts)
      .commit();
    if (!r.succeeded) throw new Error(`etcd: ${l.account(i)} exists already`);
  }
}

/** One transfer of 1 from `a` to `b`; resolves with the number of failed compares before it committed. */
async function transfer(client: Etcd3, a: string, b: string): Promise<number> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const [ra, rb] = await Promise.all([client.get(a).exec(), client.get(b).exec()]);
    const ka = ra.kvs[0];
    const kb = rb.kvs[0];
    if (!ka || !kb) throw new Error(`etcd: account ${ka ? b : a} missing`);
    const balA = BigInt(ka.value.toString());
    const balB = BigInt(kb.value.toString());
    if (balA < 1n) throw new Error(`etcd: ${a} has no funds`);
    const r = await client
      .if(a, "Mod", "==", ka.mod_revision)
      .and(b, "Mod", "==", kb.mod_revision)
      .then(client.put(a).value(String(balA - 1n)), client.put(b).value(String(balB + 1n)))
      .commit();
    if (r.succeeded) return attempt;
  }
  throw new Error(`etcd: transfer ${a} → ${b} still conflicting after ${MAX_ATTEMPTS} attempts`);
}

/**
 * Runs transfers with `inflight` workers for `phaseS` seconds, measuring over the part after
 * `warmS`: completions in the window, latency of the transfers started in it (read + commit),
 * and the CPU of `pids` (the members) and this process over the window.
 */
export async function etcdPhase(
  client: Etcd3,
  l: EtcdLoad,
  o: { inflight: number; phaseS: number; warmS: number; pids: readonly number[] },
): Promise<EtcdPhase> {
  // Each worker holds two accounts: fewer than this and a worker would search forever for two idle ones.
  if (l.accounts < 2 * o.inflight + 2)
    throw new RangeError(`etcd: ${o.inflight} in flight need at least ${2 * o.inflight + 2} accounts`);
  const busy = new Uint8Array(l.accounts);
  const lat: number[] = [];
  const t0 = performance.now();
  const from = t0 + o.warmS * 1000;
  const until = t0 + o.phaseS * 1000;
  let done = 0;
  let retries = 0;
  let errors = 0;
  let cpu0: { members: number; self: NodeJS.CpuUsage } | null = null;
  const snapshot = () => o.pids.reduce((s, pid) => s + processCpuMs(pid), 0);
  const warm = setTimeout(() => (cpu0 = { members: snapshot(), self: process.cpuUsage() }), o.warmS * 1000);

  const worker = async () => {
    while (performance.now() < until) {
      let a = -1;
      let b = -1;
      while (a < 0) {
        const x = Math.floor(Math.random() * l.accounts);
        const y = Math.floor(Math.random() * l.accounts);
        if (x !== y && !busy[x] && !busy[y]) [a, b] = [x, y];
      }
      busy[a] = busy[b] = 1;
      const start = performance.now();
      try {
        retries += await transfer(client, l.account(a), l.account(b));
        const end = performance.now();
        if (start >= from && start < until) lat.push(end - start);
        if (end >= from && end < until) done++;
      } catch {
        errors++;
      } finally {
        busy[a] = busy[b] = 0;
      }
    }
  };
  const workers = Array.from({ length: o.inflight }, worker);
  // CPU is read when the window closes, not after the drain.
  const cpu1 = await new Promise<{ members: number; self: NodeJS.CpuUsage }>((resolve) =>
    setTimeout(() => resolve({ members: snapshot(), self: process.cpuUsage() }), o.phaseS * 1000),
  );
  await Promise.all(workers);
  clearTimeout(warm);
  const windowS = o.phaseS - o.warmS;
  const c0 = cpu0 as { members: number; self: NodeJS.CpuUsage } | null;
  const selfMs = c0 ? (cpu1.self.user - c0.self.user + cpu1.self.system - c0.self.system) / 1000 : NaN;
  const cpuMs = c0 ? cpu1.members - c0.members + selfMs : NaN;
  lat.sort((x, y) => x - y);
  const q = (x: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(x * lat.length))]! : NaN);
  return {
    txnPerSec: done / windowS,
    cpuMsPerTxn: done > 0 ? cpuMs / done : NaN,
    p50Ms: q(0.5),
    p99Ms: q(0.99),
    retries,
    errors,
  };
}
