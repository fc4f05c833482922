// The consensus shell: drives the pure TobCore with real time, durable storage and the network.
// Steps run strictly one after another: step → write its persist batch to LevelDB (fsync) → only
// then release its sends and deliveries. Ticks come from a timer; messages from the authenticated
// peer transport; committed blocks go, in order and exactly once, to the application's callback,
// whose completion is reported back to the core as "applied".

import { Level } from "level";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { toHex } from "../common/bytes.js";
import { Reader, Writer } from "../common/codec.js";
import {
  TOB_DEDUP_WINDOW,
  TOB_FILL_WAIT_MS,
  TOB_MAX_INPUTS_PER_STEP,
  TOB_MAX_QUEUED_MESSAGE_BYTES,
  TOB_PRUNE_BATCH,
  TOB_BLOCK_RETENTION_BLOCKS,
  TOB_BLOCK_RETENTION_BYTES,
  TOB_DB_CACHE_BYTES,
  SYNC_REQUEST_PEER_INTERVAL_MS,
} from "../common/limits.js";
import { DiskCatchUp } from "./disk-catch-up.js";
import { RetainedBytes } from "./retained-bytes.js";
import {
  PRUNE_KEEP_BLOCKS,
  RESTORE_LEDGER_BLOCKS,
  TobCore,
  KIND_TAGS,
  encodeBlock,
  encodeEpochState,
  encodeEpochTail,
  decodeEpochTail,
  encodeSafety,
  restoredFrom,
  type CoreConfig,
  type Delivery,
  type Equivocation,
  type Input,
  type PersistBatch,
  type Restored,
  type Status,
} from "./core/index.js";

// Storage layout. Every block is written once, under its id, when it enters the tree of
// uncommitted blocks (before we vote for it); the tree and the delivered ledger only index it.
// (Earlier versions stored whole blocks under 'b' and 't'; restore still reads those.)
const SAFETY_KEY = new Uint8Array([0x73]); // 's'
const EPOCH_KEY = new Uint8Array([0x65]); // 'e'
const P_ID = 0x42; // 'B' + id → encoded block
const P_BLOCK = 0x62; // 'b' + height → id of the delivered block at that height
const P_TREE = 0x74; // 't' + height + id → empty: an uncommitted block we stored
const P_TAIL = 0x54; // 'T' + epoch → the epoch's tail (every epoch's, for catch-up from storage)
const P_FRESH = 0x66; // 'f' + height → the digests the delivered block at that height let through
const EMPTY = new Uint8Array(0);
const ID_BYTES = 32;

function blockKey(height: number): Uint8Array {
  return new Writer(9).u8(P_BLOCK).u64(BigInt(height)).finish();
}

function freshKey(height: number): Uint8Array {
  return new Writer(9).u8(P_FRESH).u64(BigInt(height)).finish();
}

function tailKey(epoch: number): Uint8Array {
  return new Writer(9).u8(P_TAIL).u64(BigInt(epoch)).finish();
}

function treeKey(height: number, id: Uint8Array): Uint8Array {
  return new Writer(41).u8(P_TREE).u64(BigInt(height)).raw(id).finish();
}

function blockByIdKey(id: Uint8Array): Uint8Array {
  const k = new Uint8Array(1 + ID_BYTES);
  k[0] = P_ID;
  k.set(id, 1);
  return k;
}

/** A stored uncommitted block: its tree key, and whether its bytes are under its id key. */
interface TreeEntry {
  readonly key: Uint8Array;
  readonly height: number;
  readonly id: Uint8Array;
  readonly underId: boolean;
  /** the block's encoded length */
  readonly bytes: number;
}

export interface TobShellOptions {
  readonly dir: string;
  readonly core: CoreConfig;
  /** Milliseconds per tick. */
  readonly tickMs: number;
  /** Height the application has durably applied (its store's height). */
  readonly appliedHeight: number;
  /**
   * Sends consensus bytes to peers (hex public keys). `bulk`: gossip or a catch-up answer, which
   * may wait behind the messages consensus's progress waits for (node/net/peer-net.ts).
   */
  send(to: readonly string[], bytes: Uint8Array, bulk: boolean): void;
  /** Applies a committed block durably; resolves when done. Called in height order, once per height. */
  deliver(d: Delivery): Promise<void>;
  onEvidence?(e: Equivocation): void;
  /** A peer's message was refused by the core (its reason code: docs/consensus.md). */
  onRefused?(code: string): void;
  log?(msg: string, fields?: Record<string, unknown>): void;
  /** Bytes of the newest delivered blocks the retention keeps (retainedFloor); default TOB_BLOCK_RETENTION_BYTES. */
  readonly retentionBytes?: number;
}

export class TobShell {
  private readonly inputs: Input[] = [];
  /** Bytes of the peer messages in `inputs` (at most TOB_MAX_QUEUED_MESSAGE_BYTES). */
  private messageBytes = 0;
  /** Peer messages dropped because the queue was full (diagnostics). */
  droppedMessages = 0;
  private running = false;
  /** The end-of-turn start of `run`, once an input came in while it was idle. */
  private turn: NodeJS.Immediate | null = null;
  /** Ends the core's fill wait (a proposal held for more requests) TOB_FILL_WAIT_MS after it began. */
  private fillTimer: NodeJS.Timeout | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private deliverChain: Promise<void> = Promise.resolve();
  private fatal: ((e: unknown) => void) | null = null;
  /** Stored uncommitted blocks by id (hex), so a tree floor deletes them in the same batch. */
  private readonly tree = new Map<string, TreeEntry>();
  /** Ids (hex) of delivered blocks the tree floor has not passed yet: their bytes stay. */
  private readonly deliveredIds = new Map<number, string>();

  /** Answers catch-up below the core's memory from storage. */
  private readonly disk: DiskCatchUp;
  /**
   * Per peer, when its last catch-up request went to the core and the one held for later (peers
   * are members: one entry each).
   */
  private readonly syncPace = new Map<string, { last: number; held: Uint8Array | null }>();
  /** The lowest height of a delivered block still stored (1 until pruning begins; Status reports it). */
  private oldestStored = 1;
  /** Sizes of the newest delivered blocks, for the retention in bytes. */
  private readonly retained: RetainedBytes;

  private constructor(
    private readonly db: Level<Uint8Array, Uint8Array>,
    private readonly core: TobCore,
    private readonly opts: TobShellOptions,
  ) {
    this.disk = new DiskCatchUp(
      core,
      (h) => this.block(h),
      async (e) => {
        const v = await this.db.get(tailKey(e));
        return v === undefined ? undefined : decodeEpochTail(v);
      },
      (to, bytes) => opts.send(to, bytes, true),
    );
    this.retained = new RetainedBytes(
      opts.retentionBytes ?? TOB_BLOCK_RETENTION_BYTES,
      TOB_BLOCK_RETENTION_BLOCKS,
    );
  }

  static async open(opts: TobShellOptions): Promise<TobShell> {
    const db = new Level<Uint8Array, Uint8Array>(opts.dir, {
      keyEncoding: "view",
      valueEncoding: "view",
      cacheSize: TOB_DB_CACHE_BYTES,
    });
    await db.open();
    const tree = new Map<string, TreeEntry>();
    const sizes: Array<{ height: number; bytes: number }> = [];
    const restored = await TobShell.restore(db, opts.appliedHeight, tree, sizes);
    const shell = new TobShell(db, new TobCore(opts.core, restored), opts);
    for (const [k, v] of tree) shell.tree.set(k, v);
    for (const s of sizes) shell.retained.add(s.height, s.bytes);
    for await (const k of db.keys({ gte: blockKey(0), lt: new Uint8Array([P_BLOCK + 1]), limit: 1 }))
      shell.oldestStored = Math.max(1, Number(new Reader(k.subarray(1)).u64()));
    return shell;
  }

  private static async restore(
    db: Level<Uint8Array, Uint8Array>,
    appliedHeight: number,
    tree: Map<string, TreeEntry>,
    sizes: Array<{ height: number; bytes: number }>,
  ): Promise<Restored | undefined> {
    const safety = await db.get(SAFETY_KEY);
    const epoch = await db.get(EPOCH_KEY);
    if (safety === undefined || epoch === undefined) return undefined;
    const indexed: Uint8Array[] = [];
    const heights: number[] = [];
    for await (const [k, v] of db.iterator({
      gte: blockKey(0),
      lt: new Uint8Array([P_BLOCK + 1]),
      reverse: true,
      limit: RESTORE_LEDGER_BLOCKS,
    })) {
      heights.push(Number(new Reader(k.subarray(1)).u64()));
      indexed.push(v);
    }
    indexed.reverse();
    heights.reverse();
    const top = heights.length > 0 ? heights[heights.length - 1]! : 0;
    const ledger = await TobShell.resolve(db, indexed);
    ledger.forEach((b, i) => sizes.push({ height: heights[i]!, bytes: b.length }));
    const fresh: { height: number; digests: Uint8Array }[] = [];
    for await (const [k, v] of db.iterator({
      gte: freshKey(Math.max(1, top - TOB_DEDUP_WINDOW + 1)),
      lt: freshKey(top + 1),
    }))
      fresh.push({ height: Number(new Reader(k.subarray(1)).u64()), digests: v });
    const entries: Omit<TreeEntry, "bytes">[] = [];
    const values: Uint8Array[] = [];
    for await (const [k, v] of db.iterator({
      gte: new Uint8Array([P_TREE]),
      lt: new Uint8Array([P_TREE + 1]),
    })) {
      const id = k.slice(9, 9 + ID_BYTES);
      const height = Number(new DataView(k.buffer, k.byteOffset + 1, 8).getBigUint64(0));
      entries.push({ key: k, height, id, underId: v.length === 0 });
      values.push(v.length === 0 ? id : v);
    }
    const treeBlocks = await TobShell.resolve(db, values);
    entries.forEach((e, i) => tree.set(toHex(e.id), { ...e, bytes: treeBlocks[i]!.length }));
    return restoredFrom({ safety, epoch, ledger, appliedHeight, tree: treeBlocks, fresh });
  }

  /** Encoded blocks from index values: an id (32 bytes) names a block under its id key; else it is one (old layout). */
  private static async resolve(
    db: Level<Uint8Array, Uint8Array>,
    vals: readonly Uint8Array[],
  ): Promise<Uint8Array[]> {
    const ids = vals.filter((v) => v.length === ID_BYTES);
    const found = await db.getMany(ids.map(blockByIdKey));
    const byId = new Map(ids.map((id, i) => [toHex(id), found[i]]));
    return vals.map((v) => {
      const bytes = v.length === ID_BYTES ? byId.get(toHex(v)) : v;
      if (!bytes) throw new Error(`consensus storage: block ${toHex(v).slice(0, 16)} is missing`);
      return bytes;
    });
  }

  /** Starts ticking. `onFatal` hears of storage failures (the node must stop: it cannot vote safely). */
  start(onFatal: (e: unknown) => void): void {
    this.fatal = onFatal;
    this.timer = setInterval(() => this.push({ type: "tick" }), this.opts.tickMs);
    this.push({ type: "tick" });
  }

  submit(requests: readonly Uint8Array[]): void {
    if (requests.length > 0) this.push({ type: "propose", requests });
  }

  message(from: string, bytes: Uint8Array): void {
    if (this.stopped) return;
    if (this.messageBytes + bytes.length > TOB_MAX_QUEUED_MESSAGE_BYTES) {
      this.droppedMessages++;
      this.opts.onRefused?.("tob/queue-full");
      return;
    }
    if (this.disk.take(from, bytes)) return;
    if (bytes[1] === KIND_TAGS.syncRequest && !this.paceSyncRequest(from, bytes)) return;
    this.messageBytes += bytes.length;
    this.push({ type: "message", from, bytes });
  }

  /**
   * One catch-up answer costs up to TOB_MAX_SYNC_BLOCKS blocks for a few bytes asked: a peer's
   * requests reach the core at most once per SYNC_REQUEST_PEER_INTERVAL_MS. One that comes sooner
   * is held until the interval is up (a newer one replaces it, the one it replaces is counted as
   * refused), so a node catching up page by page goes on at that pace and a flood gets no more.
   * True when the request may go to the core now.
   */
  private paceSyncRequest(from: string, bytes: Uint8Array): boolean {
    const now = Date.now();
    const p = this.syncPace.get(from);
    if (p === undefined || (p.held === null && now - p.last >= SYNC_REQUEST_PEER_INTERVAL_MS)) {
      this.syncPace.set(from, { last: now, held: null });
      return true;
    }
    if (p.held !== null) {
      this.droppedMessages++;
      this.opts.onRefused?.("tob/sync-too-often");
      p.held = bytes;
      return false;
    }
    p.held = bytes;
    setTimeout(
      () => {
        const held = p.held;
        p.held = null;
        p.last = Date.now();
        if (held === null || this.stopped) return;
        this.messageBytes += held.length;
        this.push({ type: "message", from, bytes: held });
      },
      SYNC_REQUEST_PEER_INTERVAL_MS - (now - p.last),
    ).unref?.();
    return false;
  }

  /** Bytes of peer messages waiting for the core. */
  get queuedMessageBytes(): number {
    return this.messageBytes;
  }

  /** A validator-set change; `restore` when re-announcing persisted changes after a restart. */
  setValidators(fromHeight: number, validators: readonly Uint8Array[], restore = false): void {
    this.push({ type: "setValidators", fromHeight, validators, restore });
  }

  status(): Status {
    return this.core.status();
  }

  validators(): readonly Uint8Array[] {
    return this.core.validators();
  }

  /** A committed block by height, from storage (for catch-up of the application and for peers). */
  /**
   * The current epoch for a snapshot after a block of epoch `epoch` (TobCore.epochBase, encoded),
   * or null when the core is in another epoch by now.
   */
  snapshotEpoch(epoch: number): Uint8Array | null {
    const es = this.core.epochBase();
    return es.epoch === epoch ? encodeEpochState(es) : null;
  }

  /**
   * Writes what a restart reads into an empty consensus database (a node installed from a
   * snapshot): the epoch state, the safety state, and the newest delivered blocks (ascending).
   */
  static async install(
    dir: string,
    s: {
      epoch: Uint8Array;
      safety: Uint8Array;
      blocks: ReadonlyArray<{ height: number; id: Uint8Array; bytes: Uint8Array }>;
      fresh: ReadonlyArray<{ height: number; digests: Uint8Array }>;
    },
  ): Promise<void> {
    const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
    await db.open();
    try {
      const batch = db.batch();
      for (const b of s.blocks) {
        batch.put(blockByIdKey(b.id), b.bytes);
        batch.put(blockKey(b.height), b.id);
      }
      for (const f of s.fresh) batch.put(freshKey(f.height), f.digests);
      batch.put(EPOCH_KEY, s.epoch);
      batch.put(SAFETY_KEY, s.safety);
      await batch.write({ sync: true });
    } finally {
      await db.close();
    }
  }

  /**
   * Deletes delivered blocks below `floor` with their delivered digests, at most TOB_PRUNE_BATCH of
   * each, oldest first, never one of the newest PRUNE_KEEP_BLOCKS heights (what a restart needs to
   * filter duplicates and choose leaders as its peers do); returns how many records of the more
   * numerous kind went (TOB_PRUNE_BATCH: call again). Digests without their block (those a
   * snapshot's position carried below its blocks) go too. Not synced: a pass lost to a crash is
   * done again.
   */
  async pruneBelow(floor: number): Promise<number> {
    const top = this.core.status().deliveredHeight - PRUNE_KEEP_BLOCKS + 1;
    const end = Math.min(floor, top);
    if (end <= 1) return 0;
    const batch = this.db.batch();
    let n = 0;
    let next = this.oldestStored;
    for await (const [k, v] of this.db.iterator({
      gte: blockKey(0),
      lt: blockKey(end),
      limit: TOB_PRUNE_BATCH,
    })) {
      batch.del(k);
      if (v.length === ID_BYTES) batch.del(blockByIdKey(v));
      next = Number(new Reader(k.subarray(1)).u64()) + 1;
      n++;
    }
    let digests = 0;
    for await (const k of this.db.keys({ gte: freshKey(0), lt: freshKey(end), limit: TOB_PRUNE_BATCH })) {
      batch.del(k);
      digests++;
    }
    if (n + digests > 0) await batch.write();
    this.oldestStored = Math.max(this.oldestStored, n < TOB_PRUNE_BATCH ? end : next);
    return Math.max(n, digests);
  }

  /**
   * The lowest height the byte retention keeps (TOB_BLOCK_RETENTION_BYTES of the newest delivered
   * blocks); 0 while the blocks this node tracks do not fill it.
   */
  get retainedFloor(): number {
    return this.retained.floor();
  }

  /** The lowest height of a delivered block this node can still send a peer catching up. */
  get oldestBlock(): number {
    return this.oldestStored;
  }

  /** The safety state stored in the consensus database at `dir` (undefined: none, or no database). */
  static async storedSafety(dir: string): Promise<Uint8Array | undefined> {
    if (!existsSync(join(dir, "CURRENT"))) return undefined;
    const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
    await db.open();
    try {
      return await db.get(SAFETY_KEY);
    } finally {
      await db.close();
    }
  }

  /** The delivered digests of heights from..to (ascending; a height without them is left out). */
  async freshDigests(from: number, to: number): Promise<Array<{ height: number; digests: Uint8Array }>> {
    const rows = await this.db.iterator({ gte: freshKey(from), lt: freshKey(to + 1) }).all();
    return rows.map(([k, v]) => ({ height: Number(new Reader(k.subarray(1)).u64()), digests: v }));
  }

  /** The delivered blocks of heights from..to (ascending; a height not stored is left out), in two reads. */
  async blocks(from: number, to: number): Promise<Array<{ height: number; bytes: Uint8Array }>> {
    const rows = await this.db.iterator({ gte: blockKey(from), lt: blockKey(to + 1) }).all();
    const ids = rows.filter(([, v]) => v.length === ID_BYTES).map(([, v]) => blockByIdKey(v));
    const found = ids.length > 0 ? await this.db.getMany(ids) : [];
    let j = 0;
    const out: Array<{ height: number; bytes: Uint8Array }> = [];
    for (const [k, v] of rows) {
      const bytes = v.length === ID_BYTES ? found[j++] : v;
      if (bytes !== undefined) out.push({ height: Number(new Reader(k.subarray(1)).u64()), bytes });
    }
    return out;
  }

  async block(height: number): Promise<Uint8Array | undefined> {
    const v = await this.db.get(blockKey(height));
    return v !== undefined && v.length === ID_BYTES ? this.db.get(blockByIdKey(v)) : v;
  }

  private push(i: Input): void {
    if (this.stopped) return;
    this.inputs.push(i);
    // Stepped at the end of this event-loop turn, with everything else the turn brings (a peer
    // batch's messages, admissions, the ack of a block): one step, one fsync, one batch of sends.
    if (!this.running && this.turn === null)
      this.turn = setImmediate(() => {
        this.turn = null;
        if (!this.running) void this.run();
      });
  }

  /**
   * Steps the core with everything queued (bounded), writes the one persist batch (fsync), then
   * releases its sends and deliveries. Inputs that arrive during the write wait for the next
   * round: under load one fsync and one event-loop turn cover many messages.
   */
  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.inputs.length > 0 && !this.stopped) {
        const batch = this.inputs.splice(0, TOB_MAX_INPUTS_PER_STEP);
        for (const i of batch) if (i.type === "message") this.messageBytes -= i.bytes.length;
        const step = this.core.stepAll(batch);
        // A refused local input (not a peer's message) is a bug or a misconfiguration: say so.
        for (const r of step.rejected)
          if (r.from === null)
            this.opts.log?.("consensus refused a local input", { code: r.code, message: r.message });
          else this.opts.onRefused?.(r.code);
        if (step.persist) await this.persist(step.persist);
        const fx = step.persisted();
        for (const s of fx.sends)
          this.opts.send(s.to, s.bytes, s.kind === "requests" || s.kind === "syncResponse");
        for (const e of fx.evidence) this.opts.onEvidence?.(e);
        for (const d of fx.deliveries) this.enqueueDelivery(d);
        if (this.core.filling && this.fillTimer === null)
          this.fillTimer = setTimeout(() => {
            this.fillTimer = null;
            this.push({ type: "fill" });
          }, TOB_FILL_WAIT_MS);
      }
    } catch (e) {
      this.stopped = true;
      this.fatal?.(e);
    } finally {
      this.running = false;
    }
  }

  private enqueueDelivery(d: Delivery): void {
    this.deliverChain = this.deliverChain.then(async () => {
      if (this.stopped) return;
      try {
        await this.opts.deliver(d);
      } catch (e) {
        this.stopped = true;
        this.fatal?.(e);
        return;
      }
      this.push({ type: "applied", height: d.height });
    });
  }

  private async persist(p: PersistBatch): Promise<void> {
    const batch = this.db.batch();
    if (p.safety) batch.put(SAFETY_KEY, encodeSafety(p.safety));
    if (p.epoch) {
      batch.put(EPOCH_KEY, encodeEpochState(p.epoch));
      // The state keeps the last few tails; storage keeps them all (rewriting one is harmless).
      for (const t of p.epoch.tails) batch.put(tailKey(t.epoch), encodeEpochTail(t));
    }
    for (const b of p.tree) {
      const k = toHex(b.id);
      if (this.tree.get(k)?.underId) continue;
      const key = treeKey(b.height, b.id);
      const bytes = encodeBlock(b);
      batch.put(key, EMPTY);
      batch.put(blockByIdKey(b.id), bytes);
      this.tree.set(k, { key, height: b.height, id: b.id, underId: true, bytes: bytes.length });
    }
    p.blocks.forEach((b, i) => {
      const k = toHex(b.id);
      // Delivered blocks normally went through the tree (stored already); write the rest.
      const stored = this.tree.get(k);
      let size = stored?.bytes ?? 0;
      if (!stored?.underId) {
        const bytes = encodeBlock(b);
        batch.put(blockByIdKey(b.id), bytes);
        size = bytes.length;
      }
      this.retained.add(b.height, size);
      batch.put(blockKey(b.height), b.id);
      // Kept as long as the block (pruneBelow): a snapshot being written reads them for its height
      // while the consensus goes on.
      batch.put(freshKey(b.height), p.fresh[i]!);
      this.deliveredIds.set(b.height, k);
    });
    const floor = p.treeFloor;
    if (floor !== null) {
      for (const [k, e] of this.tree)
        if (e.height <= floor) {
          batch.del(e.key);
          // A block that lost (never delivered) goes entirely; a delivered one keeps its bytes.
          if (e.underId && this.deliveredIds.get(e.height) !== k) batch.del(blockByIdKey(e.id));
          this.tree.delete(k);
        }
      for (const h of this.deliveredIds.keys()) if (h <= floor) this.deliveredIds.delete(h);
    }
    await batch.write({ sync: true });
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.turn) clearImmediate(this.turn);
    if (this.fillTimer) clearTimeout(this.fillTimer);
    await this.deliverChain.catch(() => undefined);
    while (this.running) await new Promise((r) => setTimeout(r, 5));
    await this.db.close();
  }
}
