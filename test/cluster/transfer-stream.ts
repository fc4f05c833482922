// A steady stream of bank transfers for cluster tests, with an exact account of what happened to
// each one: a transfer is signed once and its bytes are submitted again after a failed call (exactly
// once makes that safe) until a receipt says accepted or rejected. What is still unknown when the
// stream stops is settled from the nodes' receipts, so the expected balances are exact and a lost
// accepted transfer (or an applied one the client was never told of) shows as a wrong balance.
import { RequestRejected, type ArborClient } from "../../client/index.js";
import { Bank, loadBankingOps } from "../../examples/banking/bank.js";
import assert from "node:assert/strict";
import { sha256 } from "../../node/common/hash.js";

/** Submissions of one signed transfer before its outcome is left for `settle`. */
const SUBMIT_ATTEMPTS = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class TransferStream {
  /** balance change per account name, from accepted transfers only */
  readonly delta = new Map<string, bigint>();
  /** accepted transfers per phase label */
  readonly acceptedIn = new Map<string, number>();
  rejected = 0;
  private phase = "start";
  private unknown: Array<{ id: Uint8Array; from: string; to: string }> = [];
  private stopped = false;
  private paused = false;
  private busy = 0;
  private workers: Promise<void>[] = [];
  private seed = 1;

  constructor(
    private readonly client: ArborClient,
    private readonly bank: Bank,
    private readonly names: readonly string[],
  ) {}

  start(workers: number): void {
    for (let i = 0; i < workers; i++) this.workers.push(this.work());
  }

  /** Names the phase that later accepted transfers count for. */
  enter(phase: string): void {
    this.phase = phase;
  }

  accepted(phase: string): number {
    return this.acceptedIn.get(phase) ?? 0;
  }

  /** Holds new transfers and waits until none is in flight. */
  async pause(): Promise<void> {
    this.paused = true;
    while (this.busy > 0) await sleep(20);
  }

  resume(): void {
    this.paused = false;
  }

  /** Stops the stream: no new transfer, and the ones in flight end. */
  async halt(): Promise<void> {
    this.stopped = true;
    this.paused = false;
    await Promise.all(this.workers);
  }

  /** Stops the stream and settles every transfer whose outcome is not known yet. */
  async stop(): Promise<void> {
    await this.halt();
    for (const u of this.unknown) {
      const r = await this.client.receipt(u.id, 20_000).catch(() => null);
      if (r?.receipt.status === "accepted") this.count(u.from, u.to);
    }
    this.unknown = [];
  }

  private pick(): [string, string] {
    // A small LCG: the pairs differ per run only by timing, not by Math.random.
    this.seed = (this.seed * 1103515245 + 12345) % 2 ** 31;
    const a = this.seed % this.names.length;
    const b =
      (a + 1 + (Math.floor(this.seed / this.names.length) % (this.names.length - 1))) % this.names.length;
    return [this.names[a]!, this.names[b]!];
  }

  private count(from: string, to: string): void {
    this.delta.set(from, (this.delta.get(from) ?? 0n) - 1n);
    this.delta.set(to, (this.delta.get(to) ?? 0n) + 1n);
    this.acceptedIn.set(this.phase, this.accepted(this.phase) + 1);
  }

  private async work(): Promise<void> {
    while (!this.stopped) {
      if (this.paused) {
        await sleep(20);
        continue;
      }
      this.busy++;
      try {
        await this.one();
      } finally {
        this.busy--;
      }
    }
  }

  private async one(): Promise<void> {
    const [from, to] = this.pick();
    let bytes: Uint8Array;
    try {
      bytes = await this.client.prepare({ ...this.bank.calls.transfer(from, to, 1n) });
    } catch {
      await sleep(100); // no proof now (a node down, a membership change): nothing was signed
      return;
    }
    for (let i = 0; i < SUBMIT_ATTEMPTS; i++) {
      try {
        const r = await this.client.submit(bytes, 15_000);
        if (r.receipt.status === "accepted") this.count(from, to);
        else this.rejected++;
        return;
      } catch (e) {
        // After a failed call, "expired" may mean applied long ago and forgotten: settle it.
        if (e instanceof RequestRejected && !(i > 0 && e.code === "expired")) {
          this.rejected++;
          return;
        }
        if (e instanceof RequestRejected) break;
        await sleep(200);
      }
    }
    this.unknown.push({ id: sha256(bytes), from, to });
  }
}

/** The banking domain set up by `client`, and `names` opened and minted `minted` each. */
export async function bankWithAccounts(
  client: ArborClient,
  names: readonly string[],
  minted: bigint,
): Promise<Bank> {
  const bank = new Bank(client);
  await bank.setup(loadBankingOps());
  for (const n of names) {
    await bank.openAccount(n);
    await bank.mint(n, minted);
  }
  return bank;
}

/**
 * The books after `streams` ran on `names` (each minted `minted`): every balance is exactly what the
 * accepted transfers imply, and the money adds up.
 */
export async function assertBooks(
  bank: Bank,
  names: readonly string[],
  minted: bigint,
  streams: readonly TransferStream[],
): Promise<void> {
  const b = await bank.balances([...names]);
  let total = 0n;
  for (const n of names) {
    const balance = b.accounts.get(n)!.balance;
    const expected = streams.reduce((sum, s) => sum + (s.delta.get(n) ?? 0n), minted);
    assert.equal(balance, expected, `balance of ${n}`);
    total += balance;
  }
  assert.equal(total, minted * BigInt(names.length), "money is conserved");
}
