// Canonical wire encoding of every consensus message, built on the project codec. Decoding is
// strict (bounded counts and sizes, minimal varints, 0/1 booleans, no trailing bytes) and fails only
// with DecodeError. Decoding checks form, never meaning: signatures, membership and protocol rules
// are validated by the core afterwards. A block's id hashes its header part and a digest of its
// request list, both exactly as encoded, so a decoded block and its re-encoding always hash alike,
// and a proposal's signed header stays small enough to be evidence however large its block is.

import { Reader, Writer } from "../../common/codec.js";
import { DecodeError } from "../../common/errors.js";
import { sha256 } from "../../common/hash.js";
import { TOB_BLOCK_REQUESTS_TAG, TOB_BLOCK_TAG } from "../../common/tags.js";
import {
  TOB_MAX_BLOCK_BYTES,
  TOB_MAX_BLOCK_REQUESTS,
  TOB_MAX_GOSSIP_REQUESTS,
  TOB_MAX_REQUEST_BYTES,
  TOB_MAX_ROUND,
  TOB_MAX_SYNC_BLOCKS,
  TOB_MAX_VALIDATORS,
} from "../../common/limits.js";
import { DIGEST_BYTES, SIG_BYTES } from "./crypto.js";
import type { Block, Message, QC, TC, Timeout, Vote } from "./types.js";

/** First byte of every message; bumped on any incompatible change. */
export const WIRE_VERSION = 2;

/** A message's kind, its second byte (after the wire version). */
export const KIND_TAGS = {
  proposal: 1,
  vote: 2,
  timeout: 3,
  requests: 4,
  syncRequest: 5,
  syncResponse: 6,
} as const;

// ---- writers -------------------------------------------------------------------------------

function num(w: Writer, v: number): void {
  w.varint64(BigInt(v));
}

export function writeQC(w: Writer, qc: QC): void {
  num(w, qc.epoch);
  num(w, qc.round);
  w.raw(qc.blockId);
  w.varint(qc.votes.length);
  for (const v of qc.votes) {
    w.varint(v.signer);
    w.raw(v.sig);
  }
}

export function writeTC(w: Writer, tc: TC): void {
  num(w, tc.epoch);
  num(w, tc.round);
  w.varint(tc.entries.length);
  for (const e of tc.entries) {
    w.varint(e.signer);
    num(w, e.hqcRound);
    w.raw(e.sig);
  }
  writeQC(w, tc.highQC);
}

/**
 * An upper bound on a block's encoded length: room for its encoding (big blocks are written
 * without regrowing the buffer), and what catch-up answers are cut by (sync.ts).
 */
export function blockSizeBound(b: Pick<Block, "qc" | "requests">): number {
  let n = 1024 + 80 * b.qc.votes.length;
  for (const r of b.requests) n += r.length + 5;
  return n;
}

type BlockHeaderFields = Pick<Block, "epoch" | "round" | "height" | "parentId" | "qc" | "author">;
type BlockBodyFields = BlockHeaderFields & Pick<Block, "requests">;

/** A block's header part: everything its encoding holds before the request list. */
export function writeBlockHeader(w: Writer, b: BlockHeaderFields): void {
  num(w, b.epoch);
  num(w, b.round);
  num(w, b.height);
  w.raw(b.parentId);
  writeQC(w, b.qc);
  w.varint(b.author);
}

/** A block's request list as encoded: a count, then each request as `bytes`. */
export function writeRequestList(w: Writer, requests: readonly Uint8Array[]): void {
  w.varint(requests.length);
  for (const r of requests) w.bytes(r);
}

/** The part of a block its id covers (everything but the signature). */
export function writeBlockBody(w: Writer, b: BlockBodyFields): void {
  writeBlockHeader(w, b);
  writeRequestList(w, b.requests);
}

export function writeBlock(w: Writer, b: Block): void {
  writeBlockBody(w, b);
  w.raw(b.signature);
}

/** SHA-256 of the request list's exact encoding (`list`), under its own tag. */
export function requestsDigestOf(list: Uint8Array): Uint8Array {
  return sha256(new Writer(list.length + 40).string(TOB_BLOCK_REQUESTS_TAG).raw(list).finish());
}

/** A block's id from its header part's exact encoding and its requests digest. */
export function blockIdOf(header: Uint8Array, requestsDigest: Uint8Array): Uint8Array {
  return sha256(
    new Writer(header.length + 80).string(TOB_BLOCK_TAG).raw(header).raw(requestsDigest).finish(),
  );
}

/** The requests digest of a list of requests (encoded first, as a block holds them). */
export function requestsDigest(requests: readonly Uint8Array[]): Uint8Array {
  let n = 16;
  for (const r of requests) n += r.length + 5;
  const w = new Writer(n);
  writeRequestList(w, requests);
  return requestsDigestOf(w.finish());
}

function encodeHeader(b: BlockHeaderFields): Uint8Array {
  const w = new Writer(1024 + 80 * b.qc.votes.length);
  writeBlockHeader(w, b);
  return w.finish();
}

export function computeBlockId(b: BlockBodyFields): Uint8Array {
  return blockIdOf(encodeHeader(b), requestsDigest(b.requests));
}

/**
 * A proposal's signed header: the block's header part, its requests digest and the author's
 * signature, which covers the id they give. What double-proposal evidence holds of each proposal.
 */
export interface SignedHeader extends BlockHeaderFields {
  readonly requestsDigest: Uint8Array;
  readonly id: Uint8Array;
  readonly signature: Uint8Array;
}

/** `header ‖ 32-byte requestsDigest ‖ 64-byte signature` of a block. */
export function encodeSignedHeader(b: Block): Uint8Array {
  const w = new Writer(1024 + 80 * b.qc.votes.length);
  writeBlockHeader(w, b);
  return w.raw(requestsDigest(b.requests)).raw(b.signature).finish();
}

function writeVote(w: Writer, v: Vote): void {
  num(w, v.epoch);
  num(w, v.round);
  w.raw(v.blockId);
  w.varint(v.signer);
  w.raw(v.sig);
}

function writeTimeout(w: Writer, t: Timeout): void {
  num(w, t.epoch);
  num(w, t.round);
  writeQC(w, t.highQC);
  w.u8(t.lastTC ? 1 : 0);
  if (t.lastTC) writeTC(w, t.lastTC);
  w.varint(t.signer);
  w.raw(t.sig);
}

export function encodeMessage(m: Message): Uint8Array {
  let hint = 256;
  if (m.kind === "proposal") hint = blockSizeBound(m.block) + 4096;
  else if (m.kind === "syncResponse") for (const b of m.blocks) hint += blockSizeBound(b);
  else if (m.kind === "requests") for (const r of m.requests) hint += r.length + 5;
  const w = new Writer(hint);
  w.u8(WIRE_VERSION).u8(KIND_TAGS[m.kind]);
  switch (m.kind) {
    case "proposal":
      writeBlock(w, m.block);
      w.u8(m.tc ? 1 : 0);
      if (m.tc) writeTC(w, m.tc);
      break;
    case "vote":
      writeVote(w, m.vote);
      break;
    case "timeout":
      writeTimeout(w, m.timeout);
      break;
    case "requests":
      w.varint(m.requests.length);
      for (const r of m.requests) w.bytes(r);
      break;
    case "syncRequest":
      num(w, m.epoch);
      num(w, m.fromHeight);
      break;
    case "syncResponse":
      num(w, m.epoch);
      w.varint(m.blocks.length);
      for (const b of m.blocks) writeBlock(w, b);
      w.u8(m.qc ? 1 : 0);
      if (m.qc) writeQC(w, m.qc);
      w.u8(m.more ? 1 : 0);
      break;
  }
  return w.finish();
}

// ---- readers -------------------------------------------------------------------------------

function rnum(r: Reader, what: string): number {
  return r.varint(TOB_MAX_ROUND, what);
}

function rbool(r: Reader, what: string): boolean {
  const b = r.u8();
  if (b > 1) throw new DecodeError("decode/non-canonical", `${what} flag is ${b}`);
  return b === 1;
}

export function readQC(r: Reader): QC {
  const epoch = rnum(r, "qc epoch");
  const round = rnum(r, "qc round");
  const blockId = r.raw(DIGEST_BYTES, "qc block id").slice();
  const count = r.varint(TOB_MAX_VALIDATORS, "qc vote count");
  const votes = [];
  for (let i = 0; i < count; i++) {
    const signer = r.varint(TOB_MAX_VALIDATORS - 1, "qc signer");
    const sig = r.raw(SIG_BYTES, "qc signature").slice();
    votes.push({ signer, sig });
  }
  return { epoch, round, blockId, votes };
}

export function readTC(r: Reader): TC {
  const epoch = rnum(r, "tc epoch");
  const round = rnum(r, "tc round");
  const count = r.varint(TOB_MAX_VALIDATORS, "tc entry count");
  const entries = [];
  for (let i = 0; i < count; i++) {
    const signer = r.varint(TOB_MAX_VALIDATORS - 1, "tc signer");
    const hqcRound = rnum(r, "tc hqc round");
    const sig = r.raw(SIG_BYTES, "tc signature").slice();
    entries.push({ signer, hqcRound, sig });
  }
  const highQC = readQC(r);
  return { epoch, round, entries, highQC };
}

function readBlockHeader(r: Reader): BlockHeaderFields {
  const epoch = rnum(r, "block epoch");
  const round = rnum(r, "block round");
  const height = rnum(r, "block height");
  const parentId = r.raw(DIGEST_BYTES, "parent id").slice();
  const qc = readQC(r);
  const author = r.varint(TOB_MAX_VALIDATORS - 1, "block author");
  return { epoch, round, height, parentId, qc, author };
}

export function decodeSignedHeader(buf: Uint8Array): SignedHeader {
  const r = new Reader(buf);
  const header = readBlockHeader(r);
  const end = r.offset;
  const digest = r.raw(DIGEST_BYTES, "requests digest").slice();
  const signature = r.raw(SIG_BYTES, "block signature").slice();
  r.end("signed header");
  return { ...header, requestsDigest: digest, id: blockIdOf(buf.subarray(0, end), digest), signature };
}

/** Reads a block from `r`, whose underlying bytes are `buf` (needed to hash the exact encoding). */
export function readBlock(r: Reader, buf: Uint8Array): Block {
  const start = r.offset;
  const header = readBlockHeader(r);
  const listStart = r.offset;
  const count = r.varint(TOB_MAX_BLOCK_REQUESTS, "block request count");
  const requests: Uint8Array[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const req = r.bytes(TOB_MAX_REQUEST_BYTES, "request");
    total += req.length;
    if (total > TOB_MAX_BLOCK_BYTES)
      throw new DecodeError("decode/too-large", `block payload exceeds ${TOB_MAX_BLOCK_BYTES} bytes`);
    requests.push(req);
  }
  const digest = requestsDigestOf(buf.subarray(listStart, r.offset));
  const id = blockIdOf(buf.subarray(start, listStart), digest);
  const signature = r.raw(SIG_BYTES, "block signature").slice();
  return { ...header, requests, id, signature };
}

function readVote(r: Reader): Vote {
  const epoch = rnum(r, "vote epoch");
  const round = rnum(r, "vote round");
  const blockId = r.raw(DIGEST_BYTES, "vote block id").slice();
  const signer = r.varint(TOB_MAX_VALIDATORS - 1, "vote signer");
  const sig = r.raw(SIG_BYTES, "vote signature").slice();
  return { epoch, round, blockId, signer, sig };
}

function readTimeout(r: Reader): Timeout {
  const epoch = rnum(r, "timeout epoch");
  const round = rnum(r, "timeout round");
  const highQC = readQC(r);
  const lastTC = rbool(r, "last tc") ? readTC(r) : null;
  const signer = r.varint(TOB_MAX_VALIDATORS - 1, "timeout signer");
  const sig = r.raw(SIG_BYTES, "timeout signature").slice();
  return { epoch, round, highQC, lastTC, signer, sig };
}

/** Decodes one message; throws DecodeError (only) on malformed bytes. */
export function decodeMessage(buf: Uint8Array): Message {
  const r = new Reader(buf);
  const version = r.u8();
  if (version !== WIRE_VERSION) throw new DecodeError("decode/bad-version", `wire version ${version}`);
  const tag = r.u8();
  let m: Message;
  switch (tag) {
    case KIND_TAGS.proposal: {
      const block = readBlock(r, buf);
      const tc = rbool(r, "tc") ? readTC(r) : null;
      m = { kind: "proposal", block, tc };
      break;
    }
    case KIND_TAGS.vote:
      m = { kind: "vote", vote: readVote(r) };
      break;
    case KIND_TAGS.timeout:
      m = { kind: "timeout", timeout: readTimeout(r) };
      break;
    case KIND_TAGS.requests: {
      const count = r.varint(TOB_MAX_GOSSIP_REQUESTS, "gossip request count");
      const requests: Uint8Array[] = [];
      for (let i = 0; i < count; i++) requests.push(r.bytes(TOB_MAX_REQUEST_BYTES, "request"));
      m = { kind: "requests", requests };
      break;
    }
    case KIND_TAGS.syncRequest:
      m = { kind: "syncRequest", epoch: rnum(r, "sync epoch"), fromHeight: rnum(r, "sync height") };
      break;
    case KIND_TAGS.syncResponse: {
      const epoch = rnum(r, "sync epoch");
      const count = r.varint(TOB_MAX_SYNC_BLOCKS, "sync block count");
      const blocks: Block[] = [];
      for (let i = 0; i < count; i++) blocks.push(readBlock(r, buf));
      const qc = rbool(r, "sync qc") ? readQC(r) : null;
      const more = rbool(r, "sync more");
      m = { kind: "syncResponse", epoch, blocks, qc, more };
      break;
    }
    default:
      throw new DecodeError("decode/bad-kind", `message kind ${tag}`);
  }
  r.end("consensus message");
  return m;
}

/**
 * Standalone block encoding (persistence: a block is stored once, under its id). Not kept with
 * the block: delivered blocks stay in memory for catch-up long after they were stored, and an
 * encoding kept beside each would double what they cost.
 */
export function encodeBlock(b: Block): Uint8Array {
  const w = new Writer(blockSizeBound(b));
  writeBlock(w, b);
  return w.finish();
}

export function decodeBlock(buf: Uint8Array): Block {
  const r = new Reader(buf);
  const b = readBlock(r, buf);
  r.end("block");
  return b;
}

export function encodeQC(qc: QC): Uint8Array {
  const w = new Writer(256);
  writeQC(w, qc);
  return w.finish();
}

export function decodeQC(buf: Uint8Array): QC {
  const r = new Reader(buf);
  const qc = readQC(r);
  r.end("qc");
  return qc;
}
