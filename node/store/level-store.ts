// The store's shell: persists a HistoryTree in LevelDB. Tree entries are keyed by position and
// version (never by hash), so a block's writes are appends; entries that a block supersedes are
// deleted in the same atomic batch, so disk use stays proportional to live state. One batch and
// one fsync per committed block; a reopened store is exactly at its last committed block.

import { Level } from "level";
import { Reader, Writer } from "../common/codec.js";
import { toHex } from "../common/bytes.js";
import { ArborError } from "../common/errors.js";
import { HistoryTree, type HistoryEntry } from "./core/history.js";
import { Journal, type Position } from "./core/journal.js";
import { MerkleTree, forEachTerminal } from "./core/tree.js";
import { Partition } from "./core/partition.js";
import {
  buildFromTerminals,
  decodeTerminal,
  encodeTerminal,
  type PlacedTerminal,
} from "./core/terminal-codec.js";

const P_TREE = 0x74; // 't'
const P_HISTORY = 0x68; // 'h'
const META_KEY = new Uint8Array([0x6d]); // 'm'

export class StoreError extends ArborError {}

export interface StoreOptions {
  readonly partition: Partition;
  readonly T: number;
  /** records of a new store; ignored when the store already exists */
  readonly genesis?: Iterable<{ key: string; value: Uint8Array }>;
}

export interface StoreMeta {
  readonly height: bigint;
  readonly now: number;
  readonly root: Uint8Array;
}

function treeKey(pos: Position, version: number): Uint8Array {
  return new Writer(48)
    .u8(P_TREE)
    .u8(pos.depth >> 8)
    .u8(pos.depth & 0xff)
    .raw(pos.prefix.subarray(0, (pos.depth + 7) >> 3))
    .u64(BigInt(version))
    .finish();
}

function parseTreeKey(k: Uint8Array): { pos: Position; version: number } {
  const depth = (k[1]! << 8) | k[2]!;
  const n = (depth + 7) >> 3;
  const prefix = new Uint8Array(32);
  prefix.set(k.subarray(3, 3 + n));
  const version = Number(new Reader(k.subarray(3 + n)).u64());
  return { pos: { prefix, depth }, version };
}

function historyKey(ts: number): Uint8Array {
  return new Writer(9).u8(P_HISTORY).u64(BigInt(ts)).finish();
}

function encodeEntry(e: HistoryEntry): Uint8Array {
  const w = new Writer(64).varint(e.ts).raw(e.root).varint(e.paths.length);
  for (const p of e.paths) w.raw(p);
  return w.finish();
}

function decodeEntry(b: Uint8Array): HistoryEntry {
  const r = new Reader(b);
  const ts = r.varint();
  const root = r.copy(32);
  const n = r.varint(1 << 20);
  const paths: Uint8Array[] = [];
  for (let i = 0; i < n; i++) paths.push(r.copy(32));
  r.end("history entry");
  return { ts, root, paths };
}

function encodeMeta(m: StoreMeta, T: number, partition: Partition): Uint8Array {
  const w = new Writer(64)
    .u64(m.height)
    .varint(m.now)
    .raw(m.root)
    .varint(T)
    .varint(partition.prefixes.length);
  for (const p of partition.toStrings()) w.string(p);
  return w.finish();
}

function decodeMeta(b: Uint8Array): StoreMeta & { T: number; partition: string[] } {
  const r = new Reader(b);
  const height = r.u64();
  const now = r.varint();
  const root = r.copy(32);
  const T = r.varint();
  const n = r.varint(1 << 16);
  const partition: string[] = [];
  for (let i = 0; i < n; i++) partition.push(r.string(256));
  r.end("meta");
  return { height, now, root, T, partition };
}

export class LevelStore {
  private constructor(
    private readonly db: Level<Uint8Array, Uint8Array>,
    readonly history: HistoryTree,
    private _height: bigint,
  ) {}

  get height(): bigint {
    return this._height;
  }

  /** Opens the store in `dir`, creating it from `genesis` at height 0 if it is new. */
  static async open(dir: string, opts: StoreOptions): Promise<LevelStore> {
    const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
    await db.open();
    try {
      const metaBytes = await db.get(META_KEY);
      if (metaBytes === undefined) {
        const history = HistoryTree.genesis(opts.partition, opts.T, opts.genesis ?? []);
        const store = new LevelStore(db, history, 0n);
        const journal = new Journal();
        forEachTerminal(history.tree.root, new Uint8Array(32), 0, (t, pos) => journal.attach(t, pos));
        history.tree.journal = journal;
        await store.commit(0n);
        return store;
      }
      const meta = decodeMeta(metaBytes);
      if (meta.T !== opts.T || meta.partition.join(",") !== opts.partition.toStrings().join(","))
        throw new StoreError("store/config-mismatch", "the store was created with another T or partition");
      const terminals: PlacedTerminal[] = [];
      for await (const [k, v] of db.iterator({
        gte: new Uint8Array([P_TREE]),
        lt: new Uint8Array([P_TREE + 1]),
      })) {
        const { pos, version } = parseTreeKey(k);
        const node = decodeTerminal(v);
        node.saved = version;
        terminals.push({ ...pos, node });
      }
      const entries: HistoryEntry[] = [];
      for await (const v of db.values({
        gte: new Uint8Array([P_HISTORY]),
        lt: new Uint8Array([P_HISTORY + 1]),
      }))
        entries.push(decodeEntry(v));
      const tree = new MerkleTree(opts.partition, buildFromTerminals(terminals));
      if (toHex(tree.rootLabel) !== toHex(meta.root))
        throw new StoreError("store/corrupt", "stored tree does not hash to the committed root");
      tree.journal = new Journal();
      const history = HistoryTree.restore(opts.T, tree, entries);
      return new LevelStore(db, history, meta.height);
    } catch (e) {
      await db.close();
      throw e;
    }
  }

  /** Persists everything applied since the last commit as block `height`: one batch, one fsync. */
  async commit(height: bigint): Promise<void> {
    const tree = this.history.tree;
    const journal = tree.journal!;
    const version = Number(height);
    const { puts, dels } = journal.take(version);
    const ops: Array<{ type: "put"; key: Uint8Array; value: Uint8Array } | { type: "del"; key: Uint8Array }> =
      [];
    for (const d of dels) ops.push({ type: "del", key: treeKey(d, d.version) });
    for (const p of puts) ops.push({ type: "put", key: treeKey(p, version), value: encodeTerminal(p.node) });
    for (const e of this.history.takeNewEntries()) {
      ops.push({ type: "put", key: historyKey(e.ts), value: encodeEntry(e) });
      const old = e.ts - this.history.T;
      if (old >= 0) ops.push({ type: "del", key: historyKey(old) });
    }
    const meta: StoreMeta = { height, now: this.history.now, root: this.history.rootLabel };
    ops.push({ type: "put", key: META_KEY, value: encodeMeta(meta, this.history.T, this.history.partition) });
    await this.db.batch(ops, { sync: true });
    this._height = height;
  }

  /** Approximate bytes on disk for the tree entries (for the storage-per-node measurement). */
  async approximateSize(): Promise<number> {
    let n = 0;
    for await (const [k, v] of this.db.iterator()) n += k.length + v.length;
    return n;
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
