// The indexer: resumes from what the SQL index holds (its height and every key's entry rebuild
// the follower), takes verified blocks from the nodes and writes each, with the new height, in one
// transaction. Values no node gave are read with a verified GET, used only when the key's current
// value is still the one the change set; otherwise the record keeps the value hash alone.
import { bytesEqual, toHex } from "../../common/bytes.js";
import { ArborError } from "../../common/errors.js";
import { genesisRecords, chainId } from "../../ledger/genesis.js";
import { genesisEntries } from "../../ledger/key-index.js";
import { valueHash } from "../../store/core/label.js";
import type { IndexEntry } from "../../store/core/ordered-index.js";
import type { ArborClient } from "../../../client/client.js";
import { ChangeFollower, type VerifiedChange } from "../../../client/change-follower.js";
import { BlockSource, type Refusal, type VerifiedBlock } from "./block-source.js";
import { IndexDb, type RecordRow, type SearchHit, type SearchQuery } from "./index-db.js";
import type { SqlEngine } from "./sql-engine.js";
import { FEED_WAIT_MS, MISSING_VALUE_READ_KEYS, RETRY_PAUSE_MS } from "./limits.js";

/** Rounds in a row that end stalled before `catchUp` gives up (a block that cannot be verified). */
const MAX_STALLED_ROUNDS = 20;

export class Indexer {
  private stopping = false;
  private wake: (() => void) | null = null;
  /** blocks written since the indexer started */
  written = 0;

  private constructor(
    private readonly client: ArborClient,
    readonly db: IndexDb,
    private readonly source: BlockSource,
    private readonly log: (line: string) => void,
  ) {}

  /** Opens (or creates) the index in `engine` for the client's chain and rebuilds the follower from it. */
  static async open(
    client: ArborClient,
    engine: SqlEngine,
    log: (line: string) => void = () => undefined,
  ): Promise<Indexer> {
    const records = genesisRecords(client.genesis);
    const db = await IndexDb.open(
      engine,
      toHex(chainId(client.genesis)),
      { entries: genesisEntries(records), records },
      log,
    );
    const entries: IndexEntry[] = [];
    for await (const e of db.entries()) entries.push(e);
    const follower = new ChangeFollower(entries, await db.height());
    return new Indexer(client, db, new BlockSource(client, follower, log), log);
  }

  /** The last height verified and written. */
  get height(): bigint {
    return this.source.follower.height;
  }

  get refusals(): readonly Refusal[] {
    return this.source.refusals;
  }

  search(q: SearchQuery): Promise<{ hits: SearchHit[]; height: bigint }> {
    return this.db.search(q);
  }

  /** Takes blocks without waiting for new ones until the nodes have none after the index's height. */
  async catchUp(): Promise<void> {
    for (let stalled = 0; !this.stopping;) {
      const r = await this.source.round(0, (b) => this.write(b));
      if (r.stalled || r.answered === 0) {
        if (++stalled >= MAX_STALLED_ROUNDS)
          throw r.answered === 0
            ? new ArborError("index/no-nodes", "no node answered the change feed")
            : new ArborError(
                "index/stalled",
                `block ${this.height + 1n} or after could not be verified from any node`,
              );
        await this.pause(RETRY_PAUSE_MS);
      } else if (r.applied === 0) return;
      else stalled = 0;
    }
  }

  /** Follows the chain until `stop` is called, waiting on the nodes for each new block. */
  async run(): Promise<void> {
    while (!this.stopping) {
      try {
        const r = await this.source.round(FEED_WAIT_MS, (b) => this.write(b));
        // Nodes that did not answer, or blocks not verifiable yet: wait before asking again.
        if (r.stalled || r.answered === 0) await this.pause(RETRY_PAUSE_MS);
      } catch (e) {
        // A failed SQL write leaves the follower ahead of the database: rebuild it from there.
        this.log(`indexing paused: ${e instanceof Error ? e.message : String(e)}`);
        await this.resync();
        await this.pause(RETRY_PAUSE_MS);
      }
    }
  }

  /** Ends `run`/`catchUp` after the block being written (a write in flight always completes or rolls back). */
  stop(): void {
    this.stopping = true;
    this.wake?.();
  }

  private async pause(ms: number): Promise<void> {
    if (ms <= 0 || this.stopping) return;
    await new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      this.wake = () => {
        clearTimeout(t);
        r();
      };
    });
    this.wake = null;
  }

  private async resync(): Promise<void> {
    const entries: IndexEntry[] = [];
    for await (const e of this.db.entries()) entries.push(e);
    this.source.follower = new ChangeFollower(entries, await this.db.height());
  }

  private async write(b: VerifiedBlock): Promise<void> {
    // The last change of each key in the block is the one its record shows.
    const last = new Map<string, VerifiedChange>();
    for (const c of b.changes) last.set(c.key, c);
    const missing = [...last.values()].filter((c) => c.change.valueHash && c.value === undefined);
    const fetched = await this.fetchMissing(missing);
    const records: RecordRow[] = [];
    const removed: string[] = [];
    for (const c of last.values()) {
      if (!c.change.valueHash) {
        removed.push(c.key);
        continue;
      }
      records.push({
        key: c.key,
        height: b.height,
        writer: c.change.signer,
        requestId: c.change.requestId,
        valueHash: c.change.valueHash,
        value: c.value ?? fetched.get(c.key) ?? null,
      });
    }
    await this.db.writeBlock({
      height: b.height,
      entries: [...last.values()].map((c) => c.entry),
      records,
      removed,
    });
    this.written++;
  }

  /** Values no node gave, read verified; kept only when the current value is the one the change set. */
  private async fetchMissing(changes: readonly VerifiedChange[]): Promise<Map<string, Uint8Array>> {
    const out = new Map<string, Uint8Array>();
    for (let i = 0; i < changes.length; i += MISSING_VALUE_READ_KEYS) {
      const part = changes.slice(i, i + MISSING_VALUE_READ_KEYS);
      let got: Map<string, Uint8Array | null>;
      try {
        got = await this.client.get(part.map((c) => c.key));
      } catch (e) {
        this.log(`values of ${part.length} keys could not be read (${String(e)}): kept as hashes`);
        continue;
      }
      for (const c of part) {
        const v = got.get(c.key);
        if (v && bytesEqual(valueHash(v), c.change.valueHash!)) out.set(c.key, v);
        else
          this.log(
            `no node gave the value of ${c.key} at ${c.change.height}, and it has changed since: kept as its hash`,
          );
      }
    }
    return out;
  }
}
