// Durable receipts: every receipt a node keeps is written in the batch of its block (so no crash
// can leave a block applied with its receipts missing), found by request id after a restart, and
// pruned in the background once its block is RECEIPT_RETENTION_BLOCKS old, through a height index.
// Also the node's own header of each height (hash chain and certificate checks after a restart).
//
// Also, per height that kept a receipt, the leaf hashes of the block's receipt tree: a receipt read
// back after a restart gets the same inclusion path as before, for 32 bytes per receipt of the block.
//
// Application keys (under the store's application prefix): 'r' ‖ request id → receipt bytes;
// 'i' ‖ u64 height ‖ request id → empty (the height index); 'H' ‖ u64 height → own header;
// 'L' ‖ u64 height → n × 32-byte leaf hash (the block's receipts in order);
// 'B' ‖ u64 height ‖ u64 index → receipt bytes, for each receipt of the block not kept under 'r'
// (refused copies, and a receipt later replaced by its request's acceptance): with the kept ones,
// every receipt of a block, so a client can recompute the block's receipt root (blockReceipts).

import { Reader, Writer } from "./common/codec.js";
import { toHex } from "./common/bytes.js";
import { MAX_RECEIPT_LEAVES, RECEIPT_PRUNE_BATCH, RECEIPT_RETENTION_BLOCKS } from "./common/limits.js";
import { ArborError, DecodeError } from "./common/errors.js";
import { decodeHeader, encodeHeader, type Header } from "./ledger/header.js";
import { decodeReceipt, type Receipt } from "./ledger/receipt.js";
import { ReceiptTree, type ProvenReceipt } from "./ledger/receipts-root.js";
import type { AppRecord, LevelStore } from "./store/level-store.js";

const K_RECEIPT = 0x72; // 'r'
const K_INDEX = 0x69; // 'i'
const K_HEADER = 0x48; // 'H'
const K_LEAVES = 0x4c; // 'L'
const K_OTHER = 0x42; // 'B'
/** 'S' → u64 h: the store was installed from a snapshot after block h (node/snapshot/). */
const K_SYNCED = 0x53; // 'S'
const EMPTY = new Uint8Array(0);

function receiptKey(id: Uint8Array): Uint8Array {
  return new Writer(33).u8(K_RECEIPT).raw(id).finish();
}

function indexKey(height: bigint, id: Uint8Array): Uint8Array {
  return new Writer(41).u8(K_INDEX).u64(height).raw(id).finish();
}

function indexFloor(height: bigint): Uint8Array {
  return new Writer(9).u8(K_INDEX).u64(height).finish();
}

function headerKey(height: bigint): Uint8Array {
  return new Writer(9).u8(K_HEADER).u64(height).finish();
}

function leavesKey(height: bigint): Uint8Array {
  return new Writer(9).u8(K_LEAVES).u64(height).finish();
}

function otherKey(height: bigint, index: number): Uint8Array {
  return new Writer(17).u8(K_OTHER).u64(height).u64(BigInt(index)).finish();
}

function otherFloor(height: bigint): Uint8Array {
  return new Writer(9).u8(K_OTHER).u64(height).finish();
}

function encodeLeaves(tree: ReceiptTree): Uint8Array {
  const w = new Writer(32 * tree.count);
  for (const h of tree.leafHashes) w.raw(h);
  return w.finish();
}

function decodeLeaves(b: Uint8Array): Uint8Array[] {
  if (b.length % 32 !== 0 || b.length / 32 > MAX_RECEIPT_LEAVES)
    throw new DecodeError("receipts/bad-leaves", `a leaf list of ${b.length} bytes`);
  const out: Uint8Array[] = [];
  for (let o = 0; o < b.length; o += 32) out.push(b.slice(o, o + 32));
  return out;
}

/** What a block's receipts change: the records to commit, and the receipts now kept (to cache and serve). */
export interface ReceiptWrites {
  readonly records: AppRecord[];
  readonly kept: Array<{ id: Uint8Array; proven: ProvenReceipt }>;
}

export class ReceiptStore {
  /** Heights below this have been pruned (receipts and headers). */
  private prunedBelow = 0n;
  /** The store began at a snapshot of this height: nothing below it was ever kept here. */
  private syncedAt = 0n;

  constructor(
    private readonly store: LevelStore,
    private readonly retention: bigint = BigInt(RECEIPT_RETENTION_BLOCKS),
  ) {}

  /**
   * The records for one block's receipts, by the rule for several receipts with one request id:
   * an accepted receipt is never replaced, and a rejected one never replaces an existing receipt
   * (a duplicate re-included by the broadcast is rejected as a replay: the first answer stands).
   * `known` looks an id up in memory first; the rest are read from disk in one call.
   *
   * `decided` (hex ids): the requests this block gave their verdict (Ledger, exactly once). Such a
   * verdict is the first receipt its id can have that is worth keeping — every earlier receipt of
   * the same bytes was a refusal that cannot precede a verdict (malformed, bad signature and
   * expired are final; `bad-lifetime` and `replay` receipts are never kept) — so it is written
   * without looking anything up. Only the other refusals are looked up, and kept if new.
   */
  async prepare(
    receipts: readonly Receipt[],
    encoded: readonly Uint8Array[],
    tree: ReceiptTree,
    known: (id: Uint8Array) => Uint8Array | undefined,
    decided?: ReadonlySet<string>,
  ): Promise<ReceiptWrites> {
    const existing = new Map<string, Uint8Array | undefined>();
    const ask: Uint8Array[] = [];
    const fast = (r: Receipt, hex: string): boolean | "skip" => {
      if (decided === undefined) return false;
      if (decided.has(hex)) return true;
      return r.status === "rejected" && (r.reason === "replay" || r.reason === "bad-lifetime")
        ? "skip"
        : false;
    };
    for (const r of receipts) {
      const hex = toHex(r.requestId);
      if (existing.has(hex) || fast(r, hex) !== false) continue;
      const mem = known(r.requestId);
      existing.set(hex, mem);
      if (mem === undefined) ask.push(r.requestId);
    }
    const found = await this.store.appGetMany(ask.map(receiptKey));
    for (let i = 0; i < ask.length; i++) if (found[i] !== undefined) existing.set(toHex(ask[i]!), found[i]);
    const records: AppRecord[] = [];
    const kept: ReceiptWrites["kept"] = [];
    const keep = (r: Receipt, i: number): void => {
      const proven: ProvenReceipt = { receipt: encoded[i]!, count: tree.count, path: tree.path(i) };
      records.push({ key: receiptKey(r.requestId), value: encoded[i]! });
      records.push({ key: indexKey(r.height, r.requestId), value: EMPTY });
      kept.push({ id: r.requestId, proven });
    };
    for (let i = 0; i < receipts.length; i++) {
      const r = receipts[i]!;
      const hex = toHex(r.requestId);
      const path = fast(r, hex);
      if (path === "skip") {
        records.push({ key: otherKey(r.height, i), value: encoded[i]! });
        continue;
      }
      if (path === true) {
        keep(r, i);
        continue;
      }
      const before = existing.get(hex);
      if (before !== undefined) {
        const old = decodeReceipt(before);
        if (r.status === "rejected" || old.status === "accepted") {
          records.push({ key: otherKey(r.height, i), value: encoded[i]! });
          continue;
        }
        // Replaced under 'r': the old receipt stays one of its own block's receipts.
        records.push({ key: indexKey(old.height, r.requestId), value: null });
        records.push({ key: otherKey(old.height, old.index), value: before });
      }
      keep(r, i);
      existing.set(hex, encoded[i]!);
    }
    if (receipts.length > 0) records.push({ key: leavesKey(receipts[0]!.height), value: encodeLeaves(tree) });
    return { records, kept };
  }

  /** The record that keeps this node's own header of its height. */
  headerRecord(h: Header): AppRecord {
    return ReceiptStore.ownHeaderRecord(h);
  }

  /** The record of the node's own header of a height (written with its block, or with a snapshot). */
  static ownHeaderRecord(h: Header): AppRecord {
    return { key: headerKey(h.height), value: encodeHeader(h) };
  }

  /**
   * The kept receipt of a request, with its inclusion path (rebuilt from its block's leaf hashes:
   * one SHA-256 per receipt of the block). Undefined when there is none, or it is being pruned.
   */
  async receipt(id: Uint8Array): Promise<ProvenReceipt | undefined> {
    const b = await this.store.appGet(receiptKey(id));
    if (b === undefined) return undefined;
    const r = decodeReceipt(b);
    const leaves = await this.store.appGet(leavesKey(r.height));
    if (leaves === undefined) return undefined;
    const tree = ReceiptTree.fromLeafHashes(decodeLeaves(leaves));
    if (r.index >= tree.count)
      throw new DecodeError("receipts/bad-leaves", `receipt ${r.index} of a block of ${tree.count}`);
    return { receipt: b, count: tree.count, path: tree.path(r.index) };
  }

  /**
   * Every receipt of the block at `height`, in block order (canonical bytes): the kept ones through
   * the height index, the others under 'B'. Empty for a block without requests. The caller refuses
   * heights outside the retention (floor). Throws receipts/incomplete when the store lacks one (a
   * prune under way, or a store from before the 'B' records).
   */
  async blockReceipts(height: bigint): Promise<Uint8Array[]> {
    const leaves = await this.store.appGet(leavesKey(height));
    if (leaves === undefined) return [];
    const count = decodeLeaves(leaves).length;
    const out: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(count);
    const rows = await this.store.appRange(indexFloor(height), indexFloor(height + 1n), count);
    const kept = await this.store.appGetMany(rows.map((row) => receiptKey(row.key.subarray(9))));
    for (const b of kept) {
      if (b === undefined) continue;
      const r = decodeReceipt(b);
      if (r.height === height && r.index < count) out[r.index] = b;
    }
    const others = await this.store.appRange(otherFloor(height), otherFloor(height + 1n), count);
    for (const row of others) {
      const index = Number(new Reader(row.key.subarray(9)).u64());
      if (index < count) out[index] = row.value;
    }
    const missing = out.findIndex((b) => b === undefined);
    if (out.length !== count || missing >= 0)
      throw new ArborError("receipts/incomplete", `receipt ${missing} of block ${height} is not kept`);
    return out as Uint8Array[];
  }

  async header(height: bigint): Promise<Header | undefined> {
    const b = await this.store.appGet(headerKey(height));
    return b === undefined ? undefined : decodeHeader(new Reader(b));
  }

  /** Own headers of heights in [from, to], ascending. */
  async headers(from: bigint, to: bigint): Promise<Header[]> {
    const rows = await this.store.appRange(headerKey(from), headerKey(to + 1n));
    return rows.map((r) => decodeHeader(new Reader(r.value)));
  }

  /**
   * The node's own newest header at or below `height`, looking back at most `lookback` heights
   * (runs of empty blocks are a few heights long: an idle cluster grows no chain).
   */
  async newestHeader(height: bigint, lookback: number): Promise<Header | undefined> {
    const floor = this.floor(height);
    const oldest = height - BigInt(lookback) > floor ? height - BigInt(lookback) : floor;
    for (let to = height; to >= oldest && to > 0n; to -= 64n) {
      const hs = await this.headers(to - 63n > oldest ? to - 63n : oldest, to);
      if (hs.length > 0) return hs[hs.length - 1];
    }
    return undefined;
  }

  /** Reads what the store says about where its receipts begin (call once, after opening). */
  async load(): Promise<void> {
    const b = await this.store.appGet(Uint8Array.of(K_SYNCED));
    if (b !== undefined) this.syncedAt = new Reader(b).u64();
  }

  /** The height the store was installed from a snapshot after (0: it was not). */
  get syncedHeight(): bigint {
    return this.syncedAt;
  }

  /** The record saying the store was installed from a snapshot after block `height`. */
  static syncedRecord(height: bigint): AppRecord {
    return { key: Uint8Array.of(K_SYNCED), value: new Writer(8).u64(height).finish() };
  }

  /**
   * The lowest height whose receipts and header are still kept, when the node is at `height`
   * (for a store installed from a snapshot at h, never below h: only h's own header is there).
   */
  floor(height: bigint): bigint {
    const f = height - this.retention + 1n;
    const kept = f > 1n ? f : 1n;
    return kept > this.syncedAt ? kept : this.syncedAt;
  }

  /**
   * One background pass: deletes the receipts and headers of heights below floor(height), at most
   * RECEIPT_PRUNE_BATCH receipts (the rest on the next pass). Must not overlap a commit.
   */
  async prune(height: bigint): Promise<void> {
    const cut = this.floor(height);
    if (cut <= this.prunedBelow) return;
    const rows = await this.store.appRange(indexFloor(0n), indexFloor(cut), RECEIPT_PRUNE_BATCH);
    const dels: Uint8Array[] = [];
    for (const row of rows) dels.push(row.key, receiptKey(row.key.subarray(9)));
    await this.store.appDelete(dels);
    await this.store.appClear(headerKey(0n), headerKey(cut));
    await this.store.appClear(leavesKey(0n), leavesKey(cut));
    await this.store.appClear(otherFloor(0n), otherFloor(cut));
    if (rows.length < RECEIPT_PRUNE_BATCH) this.prunedBelow = cut;
  }
}
