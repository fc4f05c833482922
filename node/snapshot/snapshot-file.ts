// A snapshot on disk: a 96-byte header (magic "ARBSNAP1", chain, u64 height, u64 common bytes,
// u64 payload bytes, SHA-256 of the common part), then the payload — the common part, then this
// node's tree part (snapshot-records.ts). Written to a temporary name, synced and renamed, so a
// snapshot file that exists is whole. Peers read the payload by offset (GetSnapshot).

import { createHash } from "node:crypto";
import { open, rename, rm, type FileHandle } from "node:fs/promises";
import { Reader, Writer } from "../common/codec.js";
import { bytesEqual, utf8 } from "../common/bytes.js";
import { ArborError } from "../common/errors.js";
import type { RawRecord, StoreView } from "../store/level-store.js";
import { COMMON_APP_KINDS, frameRecord } from "./snapshot-records.js";

const MAGIC = utf8("ARBSNAP1");
export const SNAPSHOT_HEADER_BYTES = 96;
/** Framed records are written out once this many bytes are buffered. */
const WRITE_BUFFER_BYTES = 4 * 1024 * 1024;

export interface SnapshotInfo {
  readonly chain: Uint8Array;
  readonly height: bigint;
  /** bytes of the common part, at the start of the payload */
  readonly commonBytes: bigint;
  /** bytes of the whole payload (common and tree parts) */
  readonly totalBytes: bigint;
  /** SHA-256 of the common part */
  readonly digest: Uint8Array;
}

/**
 * Writes the snapshot of `view` (the store after block `height`) to `path`, `tail` closing its
 * common part (the consensus records); returns its header. Gives up (snapshot/stopped, nothing
 * left behind) as soon as `stopped` says so.
 */
export async function writeSnapshotFile(
  path: string,
  chain: Uint8Array,
  height: bigint,
  view: StoreView,
  tail: readonly RawRecord[] = [],
  stopped: () => boolean = () => false,
): Promise<SnapshotInfo> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, "w");
  try {
    let pos = SNAPSHOT_HEADER_BYTES;
    let w = new Writer(WRITE_BUFFER_BYTES + 4096);
    const hash = createHash("sha256");
    const flush = async (hashed: boolean): Promise<void> => {
      const b = w.finish();
      if (hashed) hash.update(b);
      await writeAll(fh, b, pos);
      pos += b.length;
      w = new Writer(WRITE_BUFFER_BYTES + 4096);
    };
    const put = async (rows: readonly RawRecord[], hashed: boolean): Promise<void> => {
      if (stopped()) throw new ArborError("snapshot/stopped", "the node is stopping");
      for (const r of rows) frameRecord(w, r);
      if (w.length >= WRITE_BUFFER_BYTES) await flush(hashed);
    };
    // Kind by kind, ascending: the records in key order, as every node reads them.
    for (const kind of COMMON_APP_KINDS) for await (const rows of view.app(kind)) await put(rows, true);
    for await (const rows of view.state()) await put(rows, true);
    await put(tail, true);
    await flush(true);
    const commonBytes = BigInt(pos - SNAPSHOT_HEADER_BYTES);
    for await (const rows of view.tree()) await put(rows, false);
    await flush(false);
    const info: SnapshotInfo = {
      chain,
      height,
      commonBytes,
      totalBytes: BigInt(pos - SNAPSHOT_HEADER_BYTES),
      digest: new Uint8Array(hash.digest()),
    };
    const header = encodeHeader(info);
    await writeAll(fh, header, 0);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await rename(tmp, path);
  return readSnapshotInfo(path);
}

/**
 * Writes all of `bytes` at `position` (or at the end, for a file opened to append): a write may take
 * fewer bytes than asked (a disk filling up), and a snapshot file that exists must be whole — its
 * header promises a length and its owner signs a digest of what it meant to write.
 */
export async function writeAll(
  fh: FileHandle,
  bytes: Uint8Array,
  position: number | null = null,
): Promise<void> {
  for (let done = 0; done < bytes.length;) {
    const { bytesWritten } = await fh.write(
      bytes,
      done,
      bytes.length - done,
      position === null ? null : position + done,
    );
    if (bytesWritten <= 0)
      throw new ArborError(
        "snapshot/short-write",
        `wrote ${done} of ${bytes.length} bytes (is the disk full?)`,
      );
    done += bytesWritten;
  }
}

function encodeHeader(i: SnapshotInfo): Uint8Array {
  return new Writer(SNAPSHOT_HEADER_BYTES)
    .raw(MAGIC)
    .raw(i.chain)
    .u64(i.height)
    .u64(i.commonBytes)
    .u64(i.totalBytes)
    .raw(i.digest)
    .finish();
}

/** The header of a snapshot file; throws snapshot/bad-file when it is not one. */
export async function readSnapshotInfo(path: string): Promise<SnapshotInfo> {
  const fh = await open(path, "r");
  try {
    const b = new Uint8Array(SNAPSHOT_HEADER_BYTES);
    const { bytesRead } = await fh.read(b, 0, b.length, 0);
    const size = (await fh.stat()).size;
    if (bytesRead !== b.length || !bytesEqual(b.subarray(0, 8), MAGIC))
      throw new ArborError("snapshot/bad-file", `${path} is not a snapshot file`);
    const r = new Reader(b.subarray(8));
    const info: SnapshotInfo = {
      chain: r.copy(32),
      height: r.u64(),
      commonBytes: r.u64(),
      totalBytes: r.u64(),
      digest: r.copy(32),
    };
    if (BigInt(size - SNAPSHOT_HEADER_BYTES) !== info.totalBytes || info.commonBytes > info.totalBytes)
      throw new ArborError("snapshot/bad-file", `${path} does not have the length its header says`);
    return info;
  } finally {
    await fh.close();
  }
}

/** Up to `max` payload bytes from `offset` (fewer at the end, none past it). */
export async function readPayload(
  path: string,
  info: SnapshotInfo,
  offset: bigint,
  max: number,
): Promise<Uint8Array> {
  if (offset >= info.totalBytes) return new Uint8Array(0);
  const n = Number(info.totalBytes - offset < BigInt(max) ? info.totalBytes - offset : BigInt(max));
  const fh = await open(path, "r");
  try {
    const b = new Uint8Array(n);
    const { bytesRead } = await fh.read(b, 0, n, SNAPSHOT_HEADER_BYTES + Number(offset));
    return b.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
