// The store's shell: persists a HistoryTree in LevelDB. A commit packs the terminals that
// appeared since the last one into a few chunk entries keyed by the commit's version (never by
// hash): a block's writes are appends. A newer stored terminal at, above or below a position
// supersedes an older one, so nothing is deleted terminal by terminal. Once superseded records
// outnumber live ones, a sweep writes the surviving older terminals again, a bounded number per
// commit, and whole chunks older than the sweep go when it completes: disk use stays within a
// small multiple of live state. One batch per committed block (fsync'd when the caller asks); a
// reopened store is exactly at a committed block.

import { Level } from "level";
import { Reader, Writer } from "../common/codec.js";
import { bytesToLatin1, toHex } from "../common/bytes.js";
import { ArborError } from "../common/errors.js";
import { HistoryTree, type HistoryEntry } from "./core/history.js";
import { decodeEntries, encodeEntries } from "./core/history-codec.js";
import { Journal } from "./core/journal.js";
import { MerkleTree, forEachTerminal } from "./core/tree.js";
import { Partition } from "./core/partition.js";
import { Sweep } from "./core/sweep.js";
import { EmptyNode, Kind, StubNode, type TerminalNode, type TreeNode } from "./core/node.js";
import { bitAt } from "./core/path.js";
import {
  buildFromStored,
  ChunkWriter,
  decodeChunk,
  decodeTerminal,
  type StoredTerminal,
} from "./core/terminal-codec.js";
import { STORE_BATCH_CHUNK_BYTES, STORE_SWEEP_MIN_TERMINALS } from "../common/limits.js";

/** Chunks of terminal records: 'c' ‖ u64 version ‖ u32 index. */
const P_CHUNK = 0x63; // 'c'
/** The layout before chunks: one entry per terminal, 't' ‖ u16 depth ‖ prefix ‖ u64 version (migrated on open). */
const P_TREE = 0x74; // 't'
const P_HISTORY = 0x68; // 'h'
const P_EXTRA = 0x78; // 'x'
/** Application records: 'a' ‖ the application's key (its first byte names its owner). */
const P_APP = 0x61; // 'a'
const META_KEY = new Uint8Array([0x6d]); // 'm'

export class StoreError extends ArborError {}

/** An application record written in a block's batch; a null value deletes the key. */
export interface AppRecord {
  readonly key: Uint8Array;
  readonly value: Uint8Array | null;
}

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

/** 'c' ‖ u64 version ‖ u32 index, built by hand. */
function chunkKey(version: number, index: number): Uint8Array {
  const k = new Uint8Array(13);
  k[0] = P_CHUNK;
  const hi = Math.floor(version / 0x100000000);
  const lo = version >>> 0;
  k[1] = hi >>> 24;
  k[2] = (hi >>> 16) & 0xff;
  k[3] = (hi >>> 8) & 0xff;
  k[4] = hi & 0xff;
  k[5] = lo >>> 24;
  k[6] = (lo >>> 16) & 0xff;
  k[7] = (lo >>> 8) & 0xff;
  k[8] = lo & 0xff;
  k[9] = index >>> 24;
  k[10] = (index >>> 16) & 0xff;
  k[11] = (index >>> 8) & 0xff;
  k[12] = index & 0xff;
  return k;
}

function chunkVersion(k: Uint8Array): number {
  if (k.length !== 13) throw new StoreError("store/corrupt", "a chunk key has the wrong length");
  return Number(new Reader(k.subarray(1, 9)).u64());
}

/** A legacy per-terminal entry: its position, version and terminal. */
function parseLegacyEntry(k: Uint8Array, v: Uint8Array): StoredTerminal {
  const depth = (k[1]! << 8) | k[2]!;
  const n = (depth + 7) >> 3;
  const prefix = new Uint8Array(32);
  prefix.set(k.subarray(3, 3 + n));
  const version = Number(new Reader(k.subarray(3 + n)).u64());
  const node = decodeTerminal(v);
  node.saved = version;
  return { prefix, depth, node, version };
}

function extraKey(key: string): Uint8Array {
  return new Writer(key.length + 2).u8(P_EXTRA).string(key).finish();
}

function appKey(key: Uint8Array): Uint8Array {
  const k = new Uint8Array(1 + key.length);
  k[0] = P_APP;
  k.set(key, 1);
  return k;
}

/** The bound just past every application key (the end of the 'a' range). */
const APP_END = new Uint8Array([P_APP + 1]);

function historyKey(ts: number): Uint8Array {
  return new Writer(9).u8(P_HISTORY).u64(BigInt(ts)).finish();
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

/** A record as the database holds it (the key begins with the store's prefix byte). */
export interface RawRecord {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/** The store at one moment (LevelStore.view), read in batches of records in key order. */
export interface StoreView {
  /** the application records of one kind (their key's first byte after the application prefix) */
  app(kind: number): AsyncIterable<RawRecord[]>;
  /** history entries, then extras */
  state(): AsyncIterable<RawRecord[]>;
  /** the tree's chunk records */
  tree(): AsyncIterable<RawRecord[]>;
  close(): Promise<void>;
}

/** Records one read of a store view returns. */
const VIEW_BATCH_RECORDS = 16_384;

/** A terminal with another timestamp (what it stands for unchanged). */
function withTimestamp(t: TerminalNode, ts: number): TerminalNode {
  switch (t.kind) {
    case Kind.Leaf:
      return t.at(ts);
    case Kind.Stub:
      return new StubNode(t.digest, ts);
    default:
      return new EmptyNode(ts);
  }
}

/** The first byte of an application record's key in the database. */
export const APP_RECORD_PREFIX = P_APP;

/** Bytes written per batch when a snapshot is installed. */
const STORE_INSTALL_BATCH_BYTES = 4 * 1024 * 1024;

/** The chunks one commit wrote: their version, how many, and how many terminal records they hold. */
interface StoredChunks {
  readonly version: number;
  readonly count: number;
  readonly records: number;
}

export class LevelStore {
  /** Packs a commit's terminals; its buffer is reused from commit to commit. */
  private readonly writer = new ChunkWriter();

  private constructor(
    private readonly db: Level<Uint8Array, Uint8Array>,
    readonly history: HistoryTree,
    private _height: bigint,
    /** first and last timestamp of each stored history record, oldest first */
    private readonly stored: Array<{ first: number; last: number }>,
    /** the chunks on disk, oldest first */
    private readonly chunks: StoredChunks[],
    /** the version of the last commit's chunks (-1 before the first) */
    private version: number,
    /** terminal records in the chunks on disk */
    private records: number,
    /** terminals in the tree (each has exactly one live record on disk) */
    private live: number,
  ) {}

  /** What the last commit's batch wrote: entries put and their bytes (keys and values). */
  lastBatch = { puts: 0, bytes: 0 };

  /** The sweep under way, if superseded records grew to outnumber live ones. */
  private sweep: Sweep | null = null;

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
        const store = new LevelStore(db, history, 0n, [], [], -1, 0, 0);
        const journal = new Journal();
        forEachTerminal(history.tree.root, new Uint8Array(32), 0, (t, pos) =>
          journal.attach(t, bytesToLatin1(pos.prefix), pos.depth, false),
        );
        history.tree.journal = journal;
        await store.commit(0n);
        return store;
      }
      const meta = decodeMeta(metaBytes);
      if (meta.T !== opts.T)
        throw new StoreError("store/config-mismatch", "the store was created with another T");
      // The stored partition wins over the caller's: it may have grown since the store was created
      // (a node taking on prefixes: `widen`), and what it holds is what the terminals say. A caller
      // that wants more widens it after opening.
      const partition = new Partition(meta.partition);
      const terminals: StoredTerminal[] = [];
      const chunks: StoredChunks[] = [];
      for await (const [k, v] of db.iterator({
        gte: new Uint8Array([P_CHUNK]),
        lt: new Uint8Array([P_CHUNK + 1]),
      })) {
        const version = chunkVersion(k);
        const before = terminals.length;
        decodeChunk(v, version, terminals);
        const records = terminals.length - before;
        const last = chunks[chunks.length - 1];
        if (last !== undefined && last.version === version)
          chunks[chunks.length - 1] = { version, count: last.count + 1, records: last.records + records };
        else chunks.push({ version, count: 1, records });
      }
      // Entries of the layout before chunks: read as terminals, rewritten as chunks below.
      const legacy: Uint8Array[] = [];
      for await (const [k, v] of db.iterator({
        gte: new Uint8Array([P_TREE]),
        lt: new Uint8Array([P_TREE + 1]),
      })) {
        terminals.push(parseLegacyEntry(k, v));
        legacy.push(k);
      }
      const entries: HistoryEntry[] = [];
      const stored: Array<{ first: number; last: number }> = [];
      for await (const v of db.values({
        gte: new Uint8Array([P_HISTORY]),
        lt: new Uint8Array([P_HISTORY + 1]),
      })) {
        const es = decodeEntries(v);
        if (es.length === 0) continue;
        stored.push({ first: es[0]!.ts, last: es[es.length - 1]!.ts });
        entries.push(...es);
      }
      let root;
      try {
        root = buildFromStored(terminals);
      } catch (e) {
        throw new StoreError("store/corrupt", `stored terminals do not form a tree: ${(e as Error).message}`);
      }
      const tree = new MerkleTree(partition, root);
      if (toHex(tree.rootLabel) !== toHex(meta.root))
        throw new StoreError("store/corrupt", "stored tree does not hash to the committed root");
      tree.journal = new Journal();
      const history = HistoryTree.restore(opts.T, tree, entries);
      let version = -1;
      for (const t of terminals) if (t.version > version) version = t.version;
      let live = 0;
      forEachTerminal(tree.root, new Uint8Array(32), 0, () => live++);
      const store = new LevelStore(
        db,
        history,
        meta.height,
        stored,
        chunks,
        version,
        terminals.length - legacy.length,
        live,
      );
      if (legacy.length > 0) await store.migrate(legacy);
      return store;
    } catch (e) {
      await db.close();
      throw e;
    }
  }

  /**
   * Rewrites a store of the per-terminal layout as chunks, in one atomic batch: every live
   * terminal into chunks of a new version, every old entry deleted.
   */
  private async migrate(legacy: readonly Uint8Array[]): Promise<void> {
    const version = this.version + 1;
    const batch = this.db.batch();
    let count = 0;
    forEachTerminal(this.history.tree.root, new Uint8Array(32), 0, (t, pos) => {
      this.writer.putAt(t, pos);
      t.saved = version;
      if (this.writer.size >= STORE_BATCH_CHUNK_BYTES)
        batch.put(chunkKey(version, count++), this.writer.takeView());
    });
    if (this.writer.size > 0) batch.put(chunkKey(version, count++), this.writer.takeView());
    for (const k of legacy) batch.del(k);
    await batch.write({ sync: true });
    this.chunks.push({ version, count, records: this.live });
    this.records += this.live;
    this.version = version;
  }

  /**
   * Seals the block and persists everything applied since the last commit as block `height`: one
   * atomic batch, fsync'd unless `sync` is false (the caller can replay unsynced blocks from a log
   * of its own after a machine crash; a process crash loses nothing either way).
   */
  async commit(
    height: bigint,
    extras: ReadonlyArray<{ key: string; value: Uint8Array | null }> = [],
    app: readonly AppRecord[] = [],
    sync = true,
  ): Promise<void> {
    this.history.seal();
    const tree = this.history.tree;
    const version = this.version + 1;
    // A chained batch: several times faster than an array of operations in classic-level.
    const batch = this.db.batch();
    let puts = 0;
    let bytes = 0;
    const put = (k: Uint8Array, v: Uint8Array): void => {
      batch.put(k, v);
      puts++;
      bytes += k.length + v.length;
    };
    const w = this.writer;
    let count = 0;
    const { nodes, paths, depths, superseded } = tree.journal!.take(version);
    const live = this.live + nodes.length - superseded;
    let written = nodes.length;
    for (let i = 0; i < nodes.length; i++) {
      w.put(nodes[i]!, paths[i]!, depths[i]!);
      if (w.size >= STORE_BATCH_CHUNK_BYTES) put(chunkKey(version, count++), w.takeView());
    }
    // Superseded records outnumber live ones: sweep, writing terminals saved before this commit
    // again, at least twice as many per commit as the commit wrote (so the sweep outpaces new garbage).
    let sweep = this.sweep;
    if (sweep === null && this.records + written - live > live + STORE_SWEEP_MIN_TERMINALS)
      sweep = new Sweep(version);
    let swept = false;
    if (sweep !== null)
      swept = sweep.step(tree.root, Math.max(STORE_SWEEP_MIN_TERMINALS, 2 * nodes.length), (t, pos) => {
        w.putAt(t, pos);
        t.saved = version;
        written++;
        if (w.size >= STORE_BATCH_CHUNK_BYTES) put(chunkKey(version, count++), w.takeView());
      });
    if (w.size > 0) put(chunkKey(version, count++), w.takeView());
    // Once the sweep is through, every live terminal is in a chunk at least as new as its start.
    let dropped = 0;
    let droppedRecords = 0;
    if (swept) {
      for (const c of this.chunks) {
        if (c.version >= sweep!.start) break;
        for (let i = 0; i < c.count; i++) batch.del(chunkKey(c.version, i));
        dropped++;
        droppedRecords += c.records;
      }
    }
    const fresh = this.history.takeNewEntries();
    if (fresh.length > 0) {
      put(historyKey(fresh[0]!.ts), encodeEntries(fresh));
      this.stored.push({ first: fresh[0]!.ts, last: fresh[fresh.length - 1]!.ts });
    }
    // A record is dropped once all its entries have left the window (timestamps now-T+1 .. now).
    while (this.stored.length > 0 && this.stored[0]!.last <= this.history.now - this.history.T)
      batch.del(historyKey(this.stored.shift()!.first));
    const meta: StoreMeta = { height, now: this.history.now, root: this.history.rootLabel };
    put(META_KEY, encodeMeta(meta, this.history.T, this.history.partition));
    // The application's own state that must be exactly as durable as the block (e.g. validator schedules).
    // A null value deletes the extra.
    for (const x of extras) {
      if (x.value === null) batch.del(extraKey(x.key));
      else put(extraKey(x.key), x.value);
    }
    // Application records that must never be out of step with the block (receipts, own headers).
    for (const a of app) {
      if (a.key.length === 0) throw new StoreError("store/empty-app-key", "an application key is empty");
      if (a.value === null) batch.del(appKey(a.key));
      else put(appKey(a.key), a.value);
    }
    await batch.write({ sync });
    this._height = height;
    this.version = version;
    this.live = live;
    this.records += written - droppedRecords;
    if (count > 0) this.chunks.push({ version, count, records: written });
    this.chunks.splice(0, dropped);
    this.sweep = swept ? null : sweep;
    this.lastBatch = { puts, bytes };
  }

  /** The key-hash prefixes this store holds (or is taking on: see `widen`). */
  get partition(): Partition {
    return this.history.partition;
  }

  /**
   * Grows the partition by `prefixes` at once (docs/store.md "Taking on a prefix"): nothing inside
   * them is forgotten from now on, and records written there are kept in full. The records the
   * tree lacks there are grafted later (store/core/graft.ts); grafts and the grown partition are
   * written with the next commit's batch, so a reopened store is at a committed state and still
   * knows what it lacks. Returns false when the partition held them already.
   */
  widen(prefixes: readonly string[]): boolean {
    const now = this.history.partition;
    const grown = now.widen(prefixes);
    if (grown.toStrings().join(",") === now.toStrings().join(",")) return false;
    this.history.widen(grown);
    return true;
  }

  /** A value the application stored with `commit(…, extras)`. */
  async extra(key: string): Promise<Uint8Array | undefined> {
    return this.db.get(extraKey(key));
  }

  /** An application record written with `commit(…, app)`. */
  async appGet(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.db.get(appKey(key));
  }

  /** Several application records at once (undefined where absent). */
  async appGetMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    return keys.length === 0 ? [] : this.db.getMany(keys.map(appKey));
  }

  /**
   * Application records with keys in [gte, lt) (application keys, without the store's prefix),
   * ascending, at most `limit` of them.
   */
  async appRange(
    gte: Uint8Array,
    lt: Uint8Array,
    limit = -1,
  ): Promise<Array<{ key: Uint8Array; value: Uint8Array }>> {
    const end = lt.length === 0 ? APP_END : appKey(lt);
    // Read in one call (the iterator fetches in batches), not one await per record: a starting
    // node reads every index entry this way.
    const rows = await this.db.iterator({ gte: appKey(gte), lt: end, limit }).all();
    return rows.map(([k, v]) => ({ key: k.subarray(1), value: v }));
  }

  /** Deletes application records outside any block's batch (pruning). Not synced: a pruning lost to a crash is redone. */
  async appDelete(keys: readonly Uint8Array[]): Promise<void> {
    if (keys.length === 0) return;
    const batch = this.db.batch();
    for (const k of keys) batch.del(appKey(k));
    await batch.write();
  }

  /** Writes application records outside any block's batch (a null value deletes); not synced, as appDelete. */
  async appWrite(records: readonly AppRecord[]): Promise<void> {
    if (records.length === 0) return;
    const batch = this.db.batch();
    for (const r of records) r.value === null ? batch.del(appKey(r.key)) : batch.put(appKey(r.key), r.value);
    await batch.write();
  }

  /** Deletes every application record with a key in [gte, lt) (not synced, as appDelete). */
  async appClear(gte: Uint8Array, lt: Uint8Array): Promise<void> {
    await this.db.clear({ gte: appKey(gte), lt: lt.length === 0 ? APP_END : appKey(lt) });
  }

  /**
   * Reads of the store exactly as it is now, whatever commits follow (one LevelDB snapshot, taken
   * before this returns), for a snapshot file (node/snapshot/). Keys are the database's own.
   */
  view(): StoreView {
    const snapshot = this.db.snapshot();
    // Read in batches: one await per VIEW_BATCH_RECORDS records, not per record (a snapshot is
    // written while the node applies blocks, and every await waits for the event loop).
    const range = (
      lo: Uint8Array,
      hi: Uint8Array,
      keep = (_p: number) => true,
    ): AsyncIterable<RawRecord[]> => {
      const it = this.db.iterator({ gte: lo, lt: hi, snapshot });
      return (async function* () {
        try {
          for (;;) {
            const rows = await it.nextv(VIEW_BATCH_RECORDS);
            if (rows.length === 0) return;
            const out: RawRecord[] = [];
            for (const [key, value] of rows) if (keep(key[0]!)) out.push({ key, value });
            yield out;
          }
        } finally {
          await it.close();
        }
      })();
    };
    return {
      app: (kind) => range(Uint8Array.of(P_APP, kind), Uint8Array.of(P_APP, kind + 1)),
      // Not the meta record (it names this node's partition) nor the layout before chunks.
      state: () =>
        range(Uint8Array.of(P_HISTORY), Uint8Array.of(P_EXTRA + 1), (p) => p === P_HISTORY || p === P_EXTRA),
      tree: () => range(Uint8Array.of(P_CHUNK), Uint8Array.of(P_CHUNK + 1)),
      close: () => snapshot.close(),
    };
  }

  /**
   * Creates a store in `dir` (which must hold none) from a snapshot's records: application
   * records, history entries, extras and chunk records as `view` gave them, then the meta record
   * saying which block they are the state after, written last and synced. A crash before the
   * meta leaves records without it: the caller deletes the directory and starts over.
   */
  static async install(
    dir: string,
    records: AsyncIterable<RawRecord>,
    meta: StoreMeta,
    T: number,
    partition: Partition,
  ): Promise<void> {
    const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
    await db.open();
    try {
      if ((await db.get(META_KEY)) !== undefined)
        throw new StoreError("store/exists", "a snapshot is installed only into an empty store");
      let batch = db.batch();
      let bytes = 0;
      for await (const r of records) {
        const p = r.key[0];
        if (p !== P_APP && p !== P_HISTORY && p !== P_EXTRA && p !== P_CHUNK)
          throw new StoreError("store/bad-snapshot", `a snapshot record with an unknown key prefix ${p}`);
        batch.put(r.key, r.value);
        bytes += r.key.length + r.value.length;
        if (bytes >= STORE_INSTALL_BATCH_BYTES) {
          await batch.write();
          batch = db.batch();
          bytes = 0;
        }
      }
      batch.put(META_KEY, encodeMeta(meta, T, partition));
      await batch.write({ sync: true });
    } finally {
      await db.close();
    }
  }

  /**
   * The tree a snapshot's tree part stores (chunk records as `view` gave them), checked and made
   * safe to age: its root label, and its terminals as chunk records of version 0 (superseded
   * records dropped). A terminal's timestamp is not covered by any label, so the holder's word
   * for it is not trusted where it matters: every terminal on a path that an operation of the
   * snapshot's history window touched gets at least that operation's timestamp (the window comes
   * from the vouched common part). A later timestamp only keeps knowledge longer; an earlier one
   * elsewhere is harmless, since nothing off the window's paths changed within T operations.
   * Throws StoreError store/bad-snapshot when a record is not a chunk record or the terminals do
   * not form a tree.
   */
  static snapshotTree(
    tree: Iterable<RawRecord>,
    common: Iterable<RawRecord>,
  ): { root: Uint8Array; records: RawRecord[] } {
    const terminals: StoredTerminal[] = [];
    let root: TreeNode;
    try {
      for (const r of tree) {
        if (r.key[0] !== P_CHUNK || r.key.length !== 13)
          throw new Error("a record of the tree part is not a chunk record");
        decodeChunk(r.value, chunkVersion(r.key), terminals);
      }
      root = buildFromStored(terminals);
    } catch (e) {
      throw new StoreError("store/bad-snapshot", `the tree part: ${(e as Error).message}`);
    }
    const raised = new Map<TreeNode, number>();
    for (const r of common) {
      if (r.key[0] !== P_HISTORY) continue;
      for (const e of decodeEntries(r.value))
        for (const path of e.paths) {
          let n = root;
          for (let d = 0; n.kind === Kind.Internal; d++) n = n.child(bitAt(path, d));
          if (n.ts < e.ts && (raised.get(n) ?? 0) < e.ts) raised.set(n, e.ts);
        }
    }
    const w = new ChunkWriter();
    const records: RawRecord[] = [];
    forEachTerminal(root, new Uint8Array(32), 0, (t, pos) => {
      const ts = raised.get(t);
      w.putAt(ts === undefined ? t : withTimestamp(t, ts), pos);
      if (w.size >= STORE_BATCH_CHUNK_BYTES)
        records.push({ key: chunkKey(0, records.length), value: w.takeView().slice() });
    });
    if (w.size > 0) records.push({ key: chunkKey(0, records.length), value: w.takeView().slice() });
    return { root: new MerkleTree(new Partition([""]), root).rootLabel, records };
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
