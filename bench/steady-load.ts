// A steady transfer load for the cluster benches over the node API (bench/load.ts): banking
// transfers between random accounts (seeded, so every cluster of a run gets the same kind of
// load) offered at a fixed rate, open loop up to a cap of transfers in flight, an account never in
// two transfers at once. Each accepted transfer's completion time is kept, so a bench can count
// the transfers completed in any window afterwards. Also: the guard that kills a bench's node
// processes when the bench process ends, however it ends.
import { rmSync } from "node:fs";
import type { Cluster } from "../test/cluster/cluster.js";
import type { KeyPair } from "../node/keys.js";
import { Writer } from "../node/common/codec.js";
import { sha256 } from "../node/common/hash.js";
import type { Job, LoadClient } from "./load.js";
import { seeded } from "./machine.js";

/** A transfer without a receipt by then counts as refused (its node went down with it). */
const RECEIPT_TIMEOUT_MS = 60_000;

/** Clusters running now: their node processes are killed if this process ends first. */
const running = new Set<Cluster>();
let guarded = false;

/** Kills `c`'s node processes (and removes its directory) if this process exits before `release`. */
export function guard(c: Cluster): void {
  running.add(c);
  if (guarded) return;
  guarded = true;
  process.on("exit", () => {
    for (const x of running) {
      for (const p of x.procs) p?.kill("SIGKILL");
      rmSync(x.dir, { recursive: true, force: true });
    }
  });
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => process.exit(130));
}

/** Stops `c` (its nodes, its directory) and forgets it. */
export async function release(c: Cluster): Promise<void> {
  try {
    await c.stop();
  } finally {
    running.delete(c);
  }
}

export interface SteadyLoadOptions {
  readonly load: LoadClient;
  readonly accounts: number;
  readonly account: (i: number) => string;
  /** account i belongs to users[i % users.length] (as openBankAccounts opens them) */
  readonly users: readonly KeyPair[];
  /** transfers offered per second */
  readonly rate: number;
  /** arrivals while this many transfers are unanswered are shed (counted, not sent) */
  readonly maxInflight: number;
  /** stop offering after this many transfers have been sent (default: until stop()) */
  readonly total?: number;
  /** the nodes to submit to now (asked at every tick: a bench can take a node out) */
  readonly vias: () => readonly number[];
  readonly seed?: number;
}

export class SteadyLoad {
  sent = 0;
  accepted = 0;
  rejected = 0;
  /** arrivals not sent: no two idle accounts found, or maxInflight unanswered */
  shed = 0;
  readonly reasons = new Map<string, number>();
  /** performance.now() at which each accepted transfer's receipt came, in order of arrival */
  readonly doneAt: number[] = [];
  private inflight = 0;
  private stopped = false;
  private readonly pending = new Set<Promise<void>>();
  private readonly loop: Promise<void>;

  constructor(private readonly o: SteadyLoadOptions) {
    this.loop = this.run();
  }

  /** Transfers completed (accepted) in [from, to) (performance.now() times), per second. */
  rateIn(from: number, to: number): number {
    let n = 0;
    for (const t of this.doneAt) if (t >= from && t < to) n++;
    return to > from ? (n * 1000) / (to - from) : NaN;
  }

  /** Resolves once `total` transfers have been sent and answered (or when stopped). */
  async finished(): Promise<void> {
    await this.loop;
    await Promise.all(this.pending);
  }

  /** Stops offering; waits up to `drainMs` for the transfers in flight. Returns how many are left. */
  async stop(drainMs = 60_000): Promise<number> {
    this.stopped = true;
    await this.loop;
    const end = Date.now() + drainMs;
    while (this.pending.size > 0 && Date.now() < end)
      await Promise.race([Promise.race(this.pending), new Promise((r) => setTimeout(r, 500))]);
    return this.pending.size;
  }

  private refuse(why: string, n = 1): void {
    this.rejected += n;
    this.reasons.set(why, (this.reasons.get(why) ?? 0) + n);
  }

  private async run(): Promise<void> {
    const o = this.o;
    const rnd = seeded(o.seed ?? 1);
    const busy = new Uint8Array(o.accounts);
    const total = o.total ?? Infinity;
    let last = performance.now();
    let debt = 0;
    let rr = 0;
    while (!this.stopped && this.sent < total) {
      // Arrivals follow the clock, not the loop: a late timer must not lower the offered rate.
      const now = performance.now();
      debt += (o.rate * (now - last)) / 1000;
      last = now;
      const jobs: Job[] = [];
      const pairs: Array<[number, number]> = [];
      for (; debt >= 1 && this.sent + jobs.length < total; debt--) {
        if (this.inflight + jobs.length >= o.maxInflight) {
          this.shed++;
          continue;
        }
        let a = -1;
        let b = -1;
        for (let t = 0; t < 16; t++) {
          const x = Math.floor(rnd() * o.accounts);
          const y = Math.floor(rnd() * o.accounts);
          if (x !== y && !busy[x] && !busy[y]) {
            a = x;
            b = y;
            break;
          }
        }
        if (a < 0) {
          this.shed++;
          continue;
        }
        busy[a] = busy[b] = 1;
        pairs.push([a, b]);
        jobs.push({
          op: "bank/transfer",
          touched: [o.account(a), o.account(b)],
          args: new Writer().string(o.account(a)).string(o.account(b)).varint(1).finish(),
          signer: o.users[a % o.users.length]!,
        });
      }
      if (jobs.length > 0) {
        this.sent += jobs.length;
        this.inflight += jobs.length;
        const vias = o.vias();
        const p = this.batch(jobs, vias, rr).finally(() => {
          for (const [a, b] of pairs) busy[a] = busy[b] = 0;
          this.inflight -= jobs.length;
          this.pending.delete(p);
        });
        rr += jobs.length;
        this.pending.add(p);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private async batch(jobs: Job[], vias: readonly number[], rr: number): Promise<void> {
    const load = this.o.load;
    let signed: Uint8Array[];
    try {
      signed = load.sign(jobs, await load.proofForJobs(jobs));
    } catch (e) {
      this.refuse(`proof: ${e instanceof Error ? e.message.slice(0, 60) : String(e)}`, jobs.length);
      return;
    }
    await Promise.all(
      signed.map(async (s, k) => {
        try {
          let timer: NodeJS.Timeout | undefined;
          const late = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error("no receipt within 60 s")), RECEIPT_TIMEOUT_MS);
          });
          const r = await Promise.race([
            load.submit(s, sha256(s), vias[(rr + k) % vias.length]!),
            late,
          ]).finally(() => clearTimeout(timer));
          if (r.status === "accepted") {
            this.accepted++;
            this.doneAt.push(performance.now());
          } else this.refuse(r.reason);
        } catch (e) {
          this.refuse(e instanceof Error ? e.message.slice(0, 60) : String(e));
        }
      }),
    );
  }
}
