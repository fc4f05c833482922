// What a node must persist, and its canonical encoding. Two small records are rewritten in place —
// the safety state (what makes our votes and timeouts safe after a crash) and the epoch state (which
// validator set is in force and which changes are scheduled) — and delivered blocks are appended to
// the ledger. A core restored from these never signs anything that contradicts what it signed before.

import { Reader, Writer } from "../../common/codec.js";
import {
  TOB_MAX_ROUND,
  TOB_MAX_SCHEDULED_EPOCHS,
  TOB_MAX_TREE_BLOCKS,
  TOB_MAX_UNDELIVERED,
  TOB_MAX_VALIDATORS,
  TOB_RETAINED_EPOCH_TAILS,
} from "../../common/limits.js";
import { DIGEST_BYTES, KEY_BYTES } from "./crypto.js";
import { readBlock, readQC, readTC, writeBlock, writeQC, writeTC } from "./wire.js";
import type { Block, QC, TC } from "./types.js";

/**
 * Safety rules state of the current epoch. `lastVotedRound` covers votes and timeouts (after timing
 * out in round r a node never votes in r); `highQC` is the highest certificate observed, which every
 * later timeout must report (it is the Jolteon lock: 1-chain).
 */
export interface SafetyState {
  readonly epoch: number;
  readonly lastVotedRound: number;
  readonly highQC: QC;
  /**
   * The highest TC seen. Not needed for safety but for liveness: a restarted node must be able to
   * justify the round it is in to the others, or a round could be stranded.
   */
  readonly highTC: TC | null;
}

/** A validator-set change: the new set signs every block from `fromHeight` on. */
export interface Schedule {
  readonly fromHeight: number;
  readonly validators: readonly Uint8Array[];
}

/**
 * The closing blocks of a past epoch: committed blocks above its last delivered height plus the
 * child whose QC committed them. A laggard still in that epoch needs them to prove the epoch's
 * last block committed.
 */
export interface EpochTail {
  readonly epoch: number;
  readonly lastHeight: number;
  readonly blocks: readonly Block[];
  readonly qc: QC;
}

export interface EpochState {
  readonly epoch: number;
  readonly validators: readonly Uint8Array[];
  /** The committed block the epoch builds on (the genesis block for epoch 0). */
  readonly genesisId: Uint8Array;
  readonly genesisHeight: number;
  /** Pending changes, ascending by fromHeight. */
  readonly schedules: readonly Schedule[];
  /** Newest last. */
  readonly tails: readonly EpochTail[];
}

function writeKeys(w: Writer, keys: readonly Uint8Array[]): void {
  w.varint(keys.length);
  for (const k of keys) w.raw(k);
}

function readKeys(r: Reader): Uint8Array[] {
  const n = r.varint(TOB_MAX_VALIDATORS, "validator count");
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(r.raw(KEY_BYTES, "validator key").slice());
  return out;
}

export function encodeSafety(s: SafetyState): Uint8Array {
  const w = new Writer(256).u8(1).varint64(BigInt(s.epoch)).varint64(BigInt(s.lastVotedRound));
  writeQC(w, s.highQC);
  w.u8(s.highTC ? 1 : 0);
  if (s.highTC) writeTC(w, s.highTC);
  return w.finish();
}

export function decodeSafety(buf: Uint8Array): SafetyState {
  const r = new Reader(buf);
  if (r.u8() !== 1) throw new RangeError("unknown safety state version");
  const epoch = r.varint(TOB_MAX_ROUND, "epoch");
  const lastVotedRound = r.varint(TOB_MAX_ROUND, "last voted round");
  const highQC = readQC(r);
  const highTC = r.u8() === 1 ? readTC(r) : null;
  r.end("safety state");
  return { epoch, lastVotedRound, highQC, highTC };
}

export function encodeEpochState(e: EpochState): Uint8Array {
  const w = new Writer(1024).u8(1).varint64(BigInt(e.epoch));
  writeKeys(w, e.validators);
  w.raw(e.genesisId).varint64(BigInt(e.genesisHeight));
  w.varint(e.schedules.length);
  for (const s of e.schedules) {
    w.varint64(BigInt(s.fromHeight));
    writeKeys(w, s.validators);
  }
  w.varint(e.tails.length);
  for (const t of e.tails) writeTail(w, t);
  return w.finish();
}

function writeTail(w: Writer, t: EpochTail): void {
  w.varint64(BigInt(t.epoch)).varint64(BigInt(t.lastHeight)).varint(t.blocks.length);
  for (const b of t.blocks) writeBlock(w, b);
  writeQC(w, t.qc);
}

function readTail(r: Reader, buf: Uint8Array): EpochTail {
  const epoch = r.varint(TOB_MAX_ROUND, "tail epoch");
  const lastHeight = r.varint(TOB_MAX_ROUND, "tail height");
  const nb = r.varint(TOB_MAX_TREE_BLOCKS + TOB_MAX_UNDELIVERED + 1, "tail blocks");
  const blocks: Block[] = [];
  for (let j = 0; j < nb; j++) blocks.push(readBlock(r, buf));
  return { epoch, lastHeight, blocks, qc: readQC(r) };
}

/** One epoch's tail alone: the shell keeps every epoch's, to answer catch-up from any epoch. */
export function encodeEpochTail(t: EpochTail): Uint8Array {
  const w = new Writer(1024).u8(1);
  writeTail(w, t);
  return w.finish();
}

export function decodeEpochTail(buf: Uint8Array): EpochTail {
  const r = new Reader(buf);
  if (r.u8() !== 1) throw new RangeError("unknown epoch tail version");
  const t = readTail(r, buf);
  r.end("epoch tail");
  return t;
}

export function decodeEpochState(buf: Uint8Array): EpochState {
  const r = new Reader(buf);
  if (r.u8() !== 1) throw new RangeError("unknown epoch state version");
  const epoch = r.varint(TOB_MAX_ROUND, "epoch");
  const validators = readKeys(r);
  const genesisId = r.raw(DIGEST_BYTES, "genesis id").slice();
  const genesisHeight = r.varint(TOB_MAX_ROUND, "genesis height");
  const schedules: Schedule[] = [];
  const ns = r.varint(TOB_MAX_SCHEDULED_EPOCHS, "schedule count");
  for (let i = 0; i < ns; i++)
    schedules.push({ fromHeight: r.varint(TOB_MAX_ROUND, "height"), validators: readKeys(r) });
  const tails: EpochTail[] = [];
  const nt = r.varint(TOB_RETAINED_EPOCH_TAILS, "tail count");
  for (let i = 0; i < nt; i++) tails.push(readTail(r, buf));
  r.end("epoch state");
  return { epoch, validators, genesisId, genesisHeight, schedules, tails };
}
