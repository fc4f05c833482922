// Snapshots this node makes and serves (docs/state-sync.md). After the first block with a header
// in every run of `interval` heights — the same block on every node — the store is read as it is
// at that moment (a LevelDB snapshot taken before the next block is written) into a snapshot file,
// in the background: blocks go on meanwhile. The newest SNAPSHOT_KEEP files are kept and offered
// to joining nodes with this node's signed statement about their common part; GetSnapshot serves
// their payload by pages, at most SNAPSHOT_SERVE_CONCURRENCY at once.

import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import {
  SnapshotOfferSchema,
  SnapshotReplySchema,
  type SnapshotOffer,
  type SnapshotReply,
  type SnapshotRequest,
} from "../../proto/gen/arbor/v1/client_pb.js";
import { grpcError } from "../../proto/grpc.js";
import {
  SNAPSHOT_CONSENSUS_BLOCKS,
  SNAPSHOT_KEEP,
  SNAPSHOT_PAGE_BYTES,
  SNAPSHOT_SERVE_CONCURRENCY,
  TOB_DEDUP_WINDOW,
} from "../common/limits.js";
import { bytesEqual } from "../common/bytes.js";
import { snapshotSigningBytes } from "../ledger/snapshot-statement.js";
import type { RawRecord, StoreView } from "../store/level-store.js";
import { consensusBlockRecord, consensusEpochRecord, consensusFreshRecord } from "./snapshot-records.js";
import type { Logger } from "../log.js";
import { readPayload, readSnapshotInfo, writeSnapshotFile, type SnapshotInfo } from "./snapshot-file.js";

export interface SnapshotMakerDeps {
  /** the directory the snapshot files live in */
  readonly dir: string;
  readonly chain: Uint8Array;
  readonly signer: number;
  readonly sign: (message: Uint8Array) => Uint8Array;
  /** SNAPSHOT_INTERVAL_BLOCKS unless configured otherwise */
  readonly interval: bigint;
  /** the store as it is now (LevelStore.view) */
  readonly view: () => StoreView;
  /**
   * the consensus: its current epoch if it is `epoch` (TobShell.snapshotEpoch), delivered blocks,
   * and the digests they delivered (TobShell.freshDigests)
   */
  readonly consensus: {
    epoch(epoch: number): Uint8Array | null;
    blocks(from: number, to: number): Promise<Array<{ height: number; bytes: Uint8Array }>>;
    fresh(from: number, to: number): Promise<Array<{ height: number; digests: Uint8Array }>>;
  };
  /** after a snapshot was written: the height of the oldest one kept */
  readonly written?: (oldest: bigint) => void;
  readonly log: Logger;
}

interface Kept {
  readonly info: SnapshotInfo;
  readonly path: string;
  readonly offer: SnapshotOffer;
}

const SUFFIX = ".snap";

export class SnapshotMaker {
  /** newest first */
  private kept: Kept[] = [];
  private making = false;
  /** the height of the snapshot being written (0n: none) */
  private makingHeight = 0n;
  private closed = false;
  /** The snapshot being written, if any (settled waits for it). */
  private writing: Promise<void> = Promise.resolve();
  private serving = 0;

  private constructor(private readonly d: SnapshotMakerDeps) {}

  /** Opens the directory: whole snapshot files are offered again, unfinished ones deleted. */
  static async open(d: SnapshotMakerDeps): Promise<SnapshotMaker> {
    const m = new SnapshotMaker(d);
    await mkdir(d.dir, { recursive: true });
    for (const name of await readdir(d.dir)) {
      const path = join(d.dir, name);
      if (!name.endsWith(SUFFIX)) {
        await rm(path, { force: true });
        continue;
      }
      try {
        const info = await readSnapshotInfo(path);
        if (!bytesEqual(info.chain, d.chain)) throw new Error("of another chain");
        m.kept.push(m.keep(path, info));
      } catch (e) {
        d.log.warn("snapshot file unreadable; deleted", { file: name, error: String(e) });
        await rm(path, { force: true });
      }
    }
    m.kept.sort((a, b) => (a.info.height > b.info.height ? -1 : 1));
    await m.dropOld();
    return m;
  }

  /**
   * After block `height` (with a header) was committed, before the next one is written:
   * `previous` is the height of the header before it. Starts a snapshot when the block is the
   * first with a header in its run of `interval` heights and none is being written.
   */
  committed(height: bigint, previous: bigint, epoch: number): void {
    if (height / this.d.interval === previous / this.d.interval) return;
    if (this.closed) return;
    if (this.making) {
      this.d.log.warn("snapshot skipped: the previous one is still being written", { height });
      return;
    }
    const epochState = this.d.consensus.epoch(epoch);
    if (epochState === null) {
      this.d.log.info("snapshot skipped: the consensus has entered a later epoch", { height });
      return;
    }
    this.making = true;
    this.makingHeight = height;
    const view = this.d.view(); // taken now: the next block is not written yet
    const path = join(this.d.dir, `${height}${SUFFIX}`);
    const t0 = Date.now();
    this.writing = this.consensusTail(height, epochState)
      .then((tail) => writeSnapshotFile(path, this.d.chain, height, view, tail, () => this.closed))
      .then(async (info) => {
        this.kept.unshift(this.keep(path, info));
        await this.dropOld();
        this.d.written?.(this.kept[this.kept.length - 1]!.info.height);
        this.d.log.info("snapshot written", {
          height,
          bytes: Number(info.totalBytes),
          commonBytes: Number(info.commonBytes),
          ms: Date.now() - t0,
        });
      })
      .catch((e) => {
        if (!this.closed) this.d.log.warn("snapshot failed", { height, error: String(e) });
      })
      .finally(async () => {
        this.making = false;
        this.makingHeight = 0n;
        await view.close().catch(() => undefined);
      });
  }

  /** The consensus records that close the common part (snapshot-records.ts). */
  private async consensusTail(height: bigint, epochState: Uint8Array): Promise<RawRecord[]> {
    const out = [consensusEpochRecord(epochState)];
    const top = Number(height);
    const from = Math.max(1, top - SNAPSHOT_CONSENSUS_BLOCKS + 1);
    const blocks = await this.d.consensus.blocks(from, top);
    if (blocks.length !== top - from + 1)
      throw new Error(`delivered blocks ${from}..${top} are not all stored`);
    for (const b of blocks) out.push(consensusBlockRecord(b.height, b.bytes));
    const first = Math.max(1, top - TOB_DEDUP_WINDOW + 1);
    const fresh = await this.d.consensus.fresh(first, top);
    // A store written before blocks' delivered digests were kept has them for the newest only.
    if (fresh.length !== top - first + 1)
      throw new Error(`the delivered digests of heights ${first}..${top} are not all kept yet`);
    for (const f of fresh) out.push(consensusFreshRecord(f.height, f.digests));
    return out;
  }

  /** Stops a snapshot being written (it is left unfinished and deleted) and waits for it. */
  async close(): Promise<void> {
    this.closed = true;
    await this.writing;
  }

  /** What GetSnapshot offers with height 0: every kept snapshot, newest first. */
  get offers(): SnapshotOffer[] {
    return this.kept.map((k) => k.offer);
  }

  /** Serves GetSnapshot (see proto/arbor/v1/client.proto); `alter` is a test's forgery of each page. */
  serve(
    req: SnapshotRequest,
    cb: (e: grpc.ServiceError | null, r?: SnapshotReply) => void,
    alter?: (page: Uint8Array) => Uint8Array,
  ): void {
    if (req.height === 0n)
      return cb(null, create(SnapshotReplySchema, { offers: this.offers, writing: this.makingHeight }));
    const k = this.kept.find((x) => x.info.height === req.height);
    if (!k)
      return cb(
        grpcError(grpc.status.NOT_FOUND, `snapshot/not-kept: no snapshot at height ${req.height} here`),
      );
    if (this.serving >= SNAPSHOT_SERVE_CONCURRENCY)
      return cb(
        grpcError(grpc.status.RESOURCE_EXHAUSTED, "snapshot/busy: snapshot pages being served; retry"),
      );
    this.serving++;
    readPayload(k.path, k.info, req.offset, SNAPSHOT_PAGE_BYTES)
      .then((data) =>
        cb(null, create(SnapshotReplySchema, { offers: [k.offer], data: alter ? alter(data) : data })),
      )
      // A file dropped while being read (a newer snapshot replaced it) is no longer kept.
      .catch((e) => cb(grpcError(grpc.status.NOT_FOUND, `snapshot/not-kept: ${String(e)}`)))
      .finally(() => this.serving--);
  }

  private keep(path: string, info: SnapshotInfo): Kept {
    const signature = this.d.sign(snapshotSigningBytes(info));
    const offer = create(SnapshotOfferSchema, {
      height: info.height,
      commonBytes: info.commonBytes,
      totalBytes: info.totalBytes,
      digest: info.digest,
      signer: this.d.signer,
      signature,
    });
    return { info, path, offer };
  }

  private async dropOld(): Promise<void> {
    while (this.kept.length > SNAPSHOT_KEEP) await rm(this.kept.pop()!.path, { force: true });
  }
}
