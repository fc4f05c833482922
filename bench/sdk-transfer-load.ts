// A steady open-loop load of banking transfers through the SDK (Bank.transfer →
// ArborClient.transact) for the cluster benches that measure what a user sees: transfers between
// random accounts `a0…a{n-1}` offered at a fixed rate until stopped, an account never in two
// transfers at once, each transfer's start and end kept, so any window's rate and latency can be
// counted afterwards.
import { RequestRejected } from "../client/errors.js";
import { ArborClient } from "../client/index.js";
import type { Bank } from "../examples/banking/bank.js";
import type { Genesis } from "../node/ledger/genesis.js";
import { generateKeyPair } from "../node/keys.js";
import { openBankAccounts } from "./bank-accounts.js";

export const accountName = (i: number): string => `a${i}`;
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A refusal's reason code: the receipt's, the SDK's, or gRPC's status. */
export function reasonOf(e: unknown): string {
  if (e instanceof RequestRejected) return e.code;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string") return code;
  if (typeof code === "number") return `grpc-${code}`;
  return e instanceof Error ? e.message.slice(0, 60) : String(e);
}

export interface Done {
  readonly start: number;
  readonly end: number;
}

export interface Window {
  readonly name: string;
  readonly from: number;
  readonly to: number;
}

export interface LoadFigures {
  /** transfers completed inside the window, per second */
  readonly transfersPerSec: number;
  /** latency of the transfers started in the window (call → trusted receipt) */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly started: number;
  readonly refusals: Record<string, number>;
}

export class SdkTransferLoad {
  readonly done: Done[] = [];
  readonly refused: { at: number; why: string }[] = [];
  private readonly busy: Uint8Array;
  private readonly inflight = new Set<Promise<void>>();
  private stopped = false;
  private loop: Promise<void> | null = null;

  /** Account i is moved by `banks[i % banks.length]`; `tickMs`: how often the offer catches up. */
  constructor(
    private readonly banks: readonly Bank[],
    private readonly o: { readonly accounts: number; readonly rate: number; readonly tickMs: number },
  ) {
    this.busy = new Uint8Array(o.accounts);
  }

  start(): void {
    const t0 = performance.now();
    let issued = 0;
    this.loop = (async () => {
      while (!this.stopped) {
        const due = Math.floor(((performance.now() - t0) / 1000) * this.o.rate);
        for (; issued < due; issued++) this.issue();
        await sleep(this.o.tickMs);
      }
    })();
  }

  private issue(): void {
    const n = this.o.accounts;
    let a = -1;
    let b = -1;
    for (let t = 0; t < 16 && a < 0; t++) {
      const x = Math.floor(Math.random() * n);
      const y = Math.floor(Math.random() * n);
      if (x !== y && !this.busy[x] && !this.busy[y]) [a, b] = [x, y];
    }
    const start = performance.now();
    if (a < 0) return void this.refused.push({ at: start, why: "no-idle-account" });
    this.busy[a] = this.busy[b] = 1;
    const p = this.banks[a % this.banks.length]!.transfer(accountName(a), accountName(b), 1n)
      .then(
        () => void this.done.push({ start, end: performance.now() }),
        (e) => void this.refused.push({ at: start, why: reasonOf(e) }),
      )
      .finally(() => {
        this.busy[a] = this.busy[b] = 0;
        this.inflight.delete(p);
      });
    this.inflight.add(p);
  }

  /** Stops offering and waits (bounded) for the transfers in flight; returns how many are left. */
  async stop(drainMs: number): Promise<number> {
    this.stopped = true;
    await this.loop;
    const end = Date.now() + drainMs;
    while (this.inflight.size > 0 && Date.now() < end)
      await Promise.race([Promise.race(this.inflight), sleep(1000)]);
    return this.inflight.size;
  }

  figures(w: Window): LoadFigures {
    const secs = (w.to - w.from) / 1000;
    const completed = this.done.filter((d) => d.end >= w.from && d.end < w.to).length;
    const lat = this.done
      .filter((d) => d.start >= w.from && d.start < w.to)
      .map((d) => d.end - d.start)
      .sort((x, y) => x - y);
    const q = (x: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(x * lat.length))]! : NaN);
    const refusals: Record<string, number> = {};
    for (const r of this.refused)
      if (r.at >= w.from && r.at < w.to) refusals[r.why] = (refusals[r.why] ?? 0) + 1;
    const started = lat.length + Object.values(refusals).reduce((s, x) => s + x, 0);
    return { transfersPerSec: completed / secs, p50Ms: q(0.5), p99Ms: q(0.99), started, refusals };
  }
}

/**
 * Opens `accounts` accounts `bank/accounts/a{i}` (1,000,000 each) owned by `clients` new users, and
 * connects one client per user: account i belongs to client i % clients, as SdkTransferLoad moves it.
 */
export async function transferClients(
  genesis: Genesis,
  clients: number,
  accounts: number,
): Promise<ArborClient[]> {
  const users = Array.from({ length: clients }, () => generateKeyPair());
  await openBankAccounts({
    genesis,
    nodes: genesis.nodes.length,
    owner: generateKeyPair(),
    users,
    accounts,
    account: (i) => `bank/accounts/${accountName(i)}`,
    amount: 1_000_000,
  });
  return Promise.all(users.map((key) => ArborClient.connect({ genesis, key })));
}
