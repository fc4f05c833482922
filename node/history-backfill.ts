// Key histories a node lacks, read back from the keys' other holders (docs/protocol.md §15). A key's
// history is kept by its holders, and a node stores a change only when it holds the key as the
// change is made: one installed from a snapshot, or one that took on a prefix, has its keys'
// changes only from then on. Left so, a key's past would be lost once every node that saw it made
// had been re-synced or replaced. So, once the node serves, a pass walks its index: for each key it
// holds whose stored changes do not reach back to the first, it asks another holder for the older
// ones (History pages, newest first), checks that they chain to the head before the oldest change
// it stores (or to its own index entry's head, when it stores none), and stores them. Its own index
// is what it trusts: it applied every block since its certified snapshot. A holder whose page does
// not chain is named in a warning and the next one asked. A pass that left keys without their
// history, or a partition that changed since, brings another pass later.

import type * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { HistoryRequestSchema, type HistoryReply } from "../proto/gen/arbor/v1/client_pb.js";
import { bytesEqual } from "./common/bytes.js";
import { ArborError } from "./common/errors.js";
import {
  HISTORY_BACKFILL_CHECK_MS,
  HISTORY_BACKFILL_KEYS_IN_FLIGHT,
  HISTORY_BACKFILL_MAX_RETRY_MS,
  HISTORY_BACKFILL_PAGE,
  HISTORY_BACKFILL_RETRY_MS,
  HISTORY_BACKFILL_SCAN_KEYS,
  HISTORY_BACKFILL_TIMEOUT_MS,
} from "./common/limits.js";
import type { GenesisNode } from "./ledger/genesis.js";
import type { Logger } from "./log.js";
import { ApiClients } from "./net/api-clients.js";
import type { AppRecord, LevelStore } from "./store/level-store.js";
import { valueHash } from "./store/core/label.js";
import { Partition } from "./store/core/partition.js";
import { keyPath } from "./store/core/path.js";
import { decodeChange, nextHead, verifyHistoryPage, type HistoryCursor } from "./store/core/key-history.js";
import type { IndexEntry } from "./store/core/ordered-index.js";
import type { IndexedChange } from "./ledger/key-index.js";
import {
  changeRecord,
  lowestStoredChange,
  storedChange,
  storesChanges,
  valuesPrunedThrough,
  lateValueRecord,
} from "./index-store.js";

export interface HistoryBackfillDeps {
  readonly store: LevelStore;
  /** the node's ordered index as it is now (read synchronously: a consistent view) */
  index(): { entries(): Iterable<IndexEntry>; get(key: string): IndexEntry | undefined };
  /** the changes of blocks whose batch is still being written (BlockPipeline.unsavedChanges) */
  unsaved(): readonly IndexedChange[];
  /** whether this node's partition holds the key now */
  holds(key: string): boolean;
  /** the other members to ask, those whose partitions hold the key first */
  holders(key: string): readonly GenesisNode[];
  /** a name for the partition, to notice it changed */
  partition(): string;
  /** keys whose first change is a genesis record (it comes from the genesis document) */
  readonly genesisKeys: ReadonlySet<string>;
  /** the height the store was installed from a snapshot at (0: never): no change lists at or below it */
  syncedHeight(): bigint;
  readonly credentials: grpc.ChannelCredentials;
  readonly log: Logger;
}

/** A key whose older changes are missing: `top` down to `floor`, chaining to `head`. */
interface Gap {
  readonly key: string;
  readonly top: bigint;
  readonly floor: bigint;
  /** the head after change `top` */
  readonly head: Uint8Array;
  /** the height of change `top + 1` (null: `top` is the key's newest change) */
  readonly above: bigint | null;
}

/** What one pass did. */
export interface BackfillPass {
  readonly keys: number;
  readonly changes: number;
  /** keys no holder gave a verified history for */
  readonly left: number;
}

/** A gap as found: `head` is the head after change `top` when `top` is the newest stored change. */
export interface FoundGap {
  readonly key: string;
  readonly top: bigint;
  readonly floor: bigint;
  /** the key's change count on disk (without the changes of a batch still being written) */
  readonly changes: bigint;
  readonly head: Uint8Array;
}

/**
 * The keys this node holds whose stored changes do not reach their first (pure, for tests).
 * `unsaved`: the first change of each key in blocks whose batch is still being written, whose
 * changes are not on disk yet: the key is taken as it was before them.
 */
export function historyGaps(
  entries: Iterable<IndexEntry>,
  /** the lowest change number stored of each key (absent: none) */
  floors: ReadonlyMap<string, bigint>,
  holds: (key: string) => boolean,
  genesisKeys: ReadonlySet<string>,
  unsaved: ReadonlyMap<string, { number: bigint; headBefore: Uint8Array }> = new Map(),
): FoundGap[] {
  const out: FoundGap[] = [];
  for (const e of entries) {
    if (!holds(e.key)) continue;
    const u = unsaved.get(e.key);
    const changes = u ? u.number - 1n : e.changes;
    // A genesis record's change comes from the genesis document, never from the store.
    const floor = genesisKeys.has(e.key) ? 2n : 1n;
    if (changes < floor) continue;
    const stored = floors.get(e.key);
    const lowest = stored !== undefined && stored <= changes ? stored : changes + 1n;
    if (lowest > floor)
      out.push({ key: e.key, top: lowest - 1n, floor, changes, head: u ? u.headBefore : e.head });
  }
  return out;
}

export class HistoryBackfill {
  private readonly clients: ApiClients;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private closed = false;
  /** the partition the last complete pass covered ("" before one) */
  private coveredPartition = "";
  /** when to try again after a pass that left keys without their history */
  private retryAt = 0;
  /** doubles after each such pass (holders that lack the history too are not asked every minute) */
  private retryMs = HISTORY_BACKFILL_RETRY_MS;

  constructor(private readonly d: HistoryBackfillDeps) {
    this.clients = new ApiClients(d.credentials);
  }

  /**
   * Runs a pass now, and another when the partition changed since the last pass that left nothing
   * (after a pass that did, not before its doubling retry delay).
   */
  start(): void {
    this.kick();
    this.timer = setInterval(() => {
      if (this.coveredPartition !== this.d.partition() && Date.now() >= this.retryAt) this.kick();
    }, HISTORY_BACKFILL_CHECK_MS);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.clients.close(); // calls in flight end now; the pass stops at its next step
    await this.running?.catch(() => undefined);
    this.clients.close();
  }

  private kick(): void {
    if (this.running !== null || this.closed) return;
    const partition = this.d.partition();
    this.running = this.pass()
      .then((p) => {
        if (p.left === 0) {
          this.coveredPartition = partition;
          this.retryMs = HISTORY_BACKFILL_RETRY_MS;
        } else {
          this.retryAt = Date.now() + this.retryMs;
          this.retryMs = Math.min(this.retryMs * 2, HISTORY_BACKFILL_MAX_RETRY_MS);
        }
        if (p.keys > 0 || p.left > 0)
          (p.left > 0 ? this.d.log.warn : this.d.log.info).call(this.d.log, "key histories back-filled", {
            keys: p.keys,
            changes: p.changes,
            left: p.left,
          });
      })
      .catch((e) => {
        if (!this.closed) this.d.log.warn("back-filling key histories failed", { error: String(e) });
      })
      .finally(() => (this.running = null));
  }

  /**
   * One pass over the index, HISTORY_BACKFILL_SCAN_KEYS held keys at a time: each batch's gaps
   * found, then filled from other holders where one answers.
   */
  async pass(): Promise<BackfillPass> {
    // The held keys in index order: references to the index's own strings.
    const held: string[] = [];
    for (const e of this.d.index().entries()) if (this.d.holds(e.key)) held.push(e.key);
    const total = { keys: 0, changes: 0, left: 0 };
    for (let i = 0; i < held.length && !this.closed; i += HISTORY_BACKFILL_SCAN_KEYS) {
      const gaps = await this.gapsOf(held.slice(i, i + HISTORY_BACKFILL_SCAN_KEYS));
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < gaps.length && !this.closed) {
          const n = await this.fill(gaps[next++]!);
          if (n === null) total.left++;
          else {
            total.keys++;
            total.changes += n;
          }
        }
      };
      await Promise.all(Array.from({ length: HISTORY_BACKFILL_KEYS_IN_FLIGHT }, worker));
      total.left += gaps.length - next;
    }
    return total;
  }

  /** The gaps of these keys' histories (keys whose stored changes reach their first are skipped). */
  private async gapsOf(keys: readonly string[]): Promise<Gap[]> {
    const floorOf = (k: string): bigint => (this.d.genesisKeys.has(k) ? 2n : 1n);
    const whole = await storesChanges(
      this.d.store,
      keys.map((key) => ({ key, number: floorOf(key) })),
    );
    const open = keys.filter((_, i) => !whole[i]);
    if (open.length === 0) return [];
    const lowest = new Map<string, bigint>();
    for (const k of open) {
      const n = await lowestStoredChange(this.d.store, k);
      if (n !== undefined) lowest.set(k, n);
    }
    // Taken together, synchronously: the entries and the changes not on disk yet.
    const index = this.d.index();
    const entries = open.map((k) => index.get(k)).filter((e): e is IndexEntry => e !== undefined);
    const unsaved = new Map<string, IndexedChange>();
    for (const c of this.d.unsaved()) if (!unsaved.has(c.key)) unsaved.set(c.key, c);
    const found = historyGaps(entries, lowest, (k) => this.d.holds(k), this.d.genesisKeys, unsaved);
    const gaps: Gap[] = [];
    for (const g of found) {
      // Stored since the change records were read (a block's batch landed): not a gap.
      if ((await storedChange(this.d.store, g.key, g.top)) !== undefined) continue;
      // The head after change `top` is the head before the oldest stored one, or the entry's.
      const oldest = g.top < g.changes ? await storedChange(this.d.store, g.key, g.top + 1n) : undefined;
      if (g.top < g.changes && oldest === undefined) continue; // gone meanwhile: the next pass
      gaps.push({
        key: g.key,
        top: g.top,
        floor: g.floor,
        head: oldest ? oldest.headBefore : g.head,
        above: oldest ? decodeChange(oldest.change).height : unsavedHeight(unsaved.get(g.key)),
      });
    }
    return gaps;
  }

  /** Fills one key's gap, page by page; the changes stored, or null when no holder gave them. */
  private async fill(gap: Gap): Promise<number | null> {
    let cursor: HistoryCursor = { number: gap.top, head: gap.head };
    let above = gap.above;
    let stored = 0;
    const holders = this.d.holders(gap.key);
    while (cursor.number >= gap.floor && !this.closed) {
      const limit = Number(
        cursor.number - gap.floor + 1n < BigInt(HISTORY_BACKFILL_PAGE)
          ? cursor.number - gap.floor + 1n
          : BigInt(HISTORY_BACKFILL_PAGE),
      );
      const page = await this.page(gap.key, cursor, limit, holders);
      if (page === null) return null;
      const mark = await valuesPrunedThrough(this.d.store);
      const records: AppRecord[] = [];
      let head = page.reply.headBefore;
      // Oldest first, so that each change's head before it is the one just computed.
      for (let i = page.reply.changes.length - 1; i >= 0; i--) {
        const c = page.reply.changes[i]!;
        const number = cursor.number - BigInt(i);
        const newer = i > 0 ? page.heights[i - 1]! : above;
        // A value superseded at a height the pruning has passed is not kept (pruneValues).
        const keep = c.value !== undefined && (newer === null || newer > mark) ? c.value : null;
        records.push(changeRecord(gap.key, number, head, c.change, keep));
        // Superseded at a height whose change list this node lacks (it was synced after it): the
        // pruning would never find it there, so it is listed to be dropped in its time.
        if (keep !== null && newer !== null && newer <= this.d.syncedHeight())
          records.push(lateValueRecord(newer, gap.key, number));
        head = nextHead(head, c.change);
      }
      await this.d.store.appWrite(records);
      stored += records.length;
      above = page.heights[page.heights.length - 1]!;
      cursor = { number: cursor.number - BigInt(records.length), head: page.reply.headBefore };
    }
    return stored;
  }

  /** One verified page from the first holder that gives one. */
  private async page(
    key: string,
    cursor: HistoryCursor,
    limit: number,
    holders: readonly GenesisNode[],
  ): Promise<{ reply: HistoryReply; heights: bigint[] } | null> {
    for (const h of holders) {
      if (this.closed) return null;
      let reply: HistoryReply;
      try {
        reply = await this.clients.call<unknown, HistoryReply>(
          h.address,
          "history",
          create(HistoryRequestSchema, { key, number: cursor.number, limit, minHeight: 0n }),
          HISTORY_BACKFILL_TIMEOUT_MS,
        );
      } catch {
        continue; // unreachable, joining, or without the history itself: the next holder
      }
      try {
        const v = verifyHistoryPage(
          cursor,
          reply.changes.map((c) => c.change),
          reply.headBefore,
          limit,
        );
        if (v.changes.length !== limit) throw new ArborError("history/short-page", "a page ends early");
        reply.changes.forEach((c, i) => {
          if (
            c.value !== undefined &&
            !bytesEqual(valueHash(c.value), v.changes[i]!.valueHash ?? new Uint8Array())
          )
            throw new ArborError(
              "history/bad-value",
              `the value of change ${cursor.number - BigInt(i)} is not the one it set`,
            );
        });
        return { reply, heights: v.changes.map((c) => c.height) };
      } catch (e) {
        this.d.log.warn("a holder's history page does not verify; asking another", {
          peer: h.id,
          key,
          error: String(e),
        });
      }
    }
    return null;
  }
}

/**
 * Whom to ask for a key's history: the other members whose partitions hold it, then the rest (a
 * node that held the key before a reassignment may keep its older changes).
 */
export function askOrder(
  members: () => readonly GenesisNode[],
  self: number,
): (key: string) => GenesisNode[] {
  const partitions = new Map<string, Partition>();
  const partitionOf = (n: GenesisNode): Partition => {
    const name = n.prefixes.join(",");
    let p = partitions.get(name);
    if (!p) partitions.set(name, (p = new Partition(n.prefixes)));
    return p;
  };
  return (key) => {
    const path = keyPath(key);
    const others = members().filter((n) => n.id !== self);
    const holding = others.filter((n) => partitionOf(n).holdsKey(path));
    return [...holding, ...others.filter((n) => !holding.includes(n))];
  };
}

/** The height of a change not on disk yet (null: none). */
function unsavedHeight(c: IndexedChange | undefined): bigint | null {
  return c ? decodeChange(c.change).height : null;
}
