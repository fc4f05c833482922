// Stored terminal nodes: their canonical encoding, packed into chunks (the values of the store's
// chunk entries in LevelDB), and the rebuilding of a tree from every terminal ever stored.
//
// A chunk is a sequence of records, each `u16 depth ‖ prefix (⌈depth/8⌉ bytes, bits past depth
// zero) ‖ terminal`, where a terminal is `kind u8 ‖ varint ts ‖ body` (empty: nothing; leaf:
// key and value, each varint length ‖ bytes; summary: key hash ‖ value hash; stub: label).
// Records carry no deletions: every chunk has a version (the commit that wrote it), and a stored
// terminal is superseded exactly when a record of a newer version lies at its position, above it
// or below it. The live terminals tile the key space at every commit, so one that left the tree
// was replaced, in that same commit or later, by newer terminals covering its region.

import { DecodeError, invariant, InvariantError } from "../../common/errors.js";
import { MAX_KEY_BYTES, MAX_TREE_DEPTH, MAX_VALUE_BYTES } from "../../common/limits.js";
import { Reader } from "../../common/codec.js";
import { bytesToLatin1 } from "../../common/bytes.js";
import { sha256Latin1 } from "../../common/hash.js";
import {
  EmptyNode,
  InternalNode,
  isInternalLabel,
  Kind,
  LeafNode,
  StubNode,
  type TerminalNode,
  type TreeNode,
} from "./node.js";
import { bitAt, keyPathLatin1 } from "./path.js";
import type { Position } from "./journal.js";

const K_EMPTY = 0;
const K_LEAF = 1;
const K_SUMMARY = 2;
const K_STUB = 3;

/** Room a record needs besides its key and value: depth, prefix, kind, ts, two lengths, two hashes. */
const RECORD_OVERHEAD_BYTES = 2 + 32 + 1 + 10 + 10 + 10 + 64;

const encoder = new TextEncoder();

/** Packs terminal records into one growing buffer, reused from chunk to chunk. */
export class ChunkWriter {
  private buf: Uint8Array;
  private pos = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = new Uint8Array(initialBytes);
  }

  /** Bytes held so far. */
  get size(): number {
    return this.pos;
  }

  /**
   * Adds the terminal at the position a journal entry names: the first `depth` bits of `path`
   * (latin1), or for a negative depth the sibling position (bit −depth−1 flipped).
   */
  put(node: TerminalNode, path: string, depth: number): void {
    const sibling = depth < 0;
    const d = sibling ? -depth : depth;
    this.reserve(node);
    const b = this.buf;
    let p = this.pos;
    b[p++] = d >> 8;
    b[p++] = d & 0xff;
    const n = (d + 7) >> 3;
    for (let i = 0; i < n; i++) b[p + i] = path.charCodeAt(i);
    if (d & 7) b[p + n - 1]! &= 0xff << (8 - (d & 7));
    if (sibling) b[p + ((d - 1) >> 3)]! ^= 1 << (7 - ((d - 1) & 7));
    this.pos = p + n;
    this.terminal(node);
  }

  /** Adds the terminal at a position given as a prefix. */
  putAt(node: TerminalNode, pos: Position): void {
    this.reserve(node);
    const b = this.buf;
    const d = pos.depth;
    b[this.pos++] = d >> 8;
    b[this.pos++] = d & 0xff;
    const n = (d + 7) >> 3;
    b.set(pos.prefix.subarray(0, n), this.pos);
    this.pos += n;
    this.terminal(node);
  }

  /** The chunk so far as a new array; the writer starts afresh. */
  take(): Uint8Array {
    const out = this.buf.slice(0, this.pos);
    this.pos = 0;
    return out;
  }

  /**
   * The chunk so far as a view of the writer's own buffer, valid until the next `put`; the writer
   * starts afresh. For a consumer that copies at once (a LevelDB batch copies a value when it is
   * added): the buffer is reused from chunk to chunk instead of a copy per chunk.
   */
  takeView(): Uint8Array {
    const out = this.buf.subarray(0, this.pos);
    this.pos = 0;
    return out;
  }

  private reserve(node: TerminalNode): void {
    let need = RECORD_OVERHEAD_BYTES;
    if (node.kind === Kind.Leaf && node.key !== null && node.value !== null)
      need += 3 * node.key.length + node.value.length;
    if (this.pos + need <= this.buf.length) return;
    const next = new Uint8Array(Math.max(2 * this.buf.length, this.pos + need));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  private terminal(n: TerminalNode): void {
    switch (n.kind) {
      case Kind.Empty:
        this.buf[this.pos++] = K_EMPTY;
        this.varint(n.ts);
        return;
      case Kind.Stub:
        this.buf[this.pos++] = K_STUB;
        this.varint(n.ts);
        this.latin1(n.digest);
        return;
      case Kind.Leaf:
        if (n.key !== null && n.value !== null) {
          this.buf[this.pos++] = K_LEAF;
          this.varint(n.ts);
          // The key's UTF-8 length is known only once written: encode past a maximal length
          // field, then move the bytes down if the length took fewer bytes. ASCII keys are
          // copied code unit by code unit (no encoder call, no view).
          const at = this.pos;
          const key = n.key;
          const b = this.buf;
          let written = 0;
          while (written < key.length) {
            const c = key.charCodeAt(written);
            if (c >= 0x80) break;
            b[at + 2 + written++] = c;
          }
          if (written < key.length) written = encoder.encodeInto(key, b.subarray(at + 2)).written;
          if (written < 0x80) {
            this.buf[at] = written;
            this.buf.copyWithin(at + 1, at + 2, at + 2 + written);
            this.pos = at + 1 + written;
          } else {
            invariant(written < 0x4000, "stored key too long");
            this.buf[at] = (written & 0x7f) | 0x80;
            this.buf[at + 1] = written >> 7;
            this.pos = at + 2 + written;
          }
          this.varint(n.value.length);
          this.buf.set(n.value, this.pos);
          this.pos += n.value.length;
        } else {
          this.buf[this.pos++] = K_SUMMARY;
          this.varint(n.ts);
          this.latin1(n.keyHash);
          this.latin1(n.valueHash);
        }
        return;
    }
  }

  private latin1(s: string): void {
    for (let i = 0; i < 32; i++) this.buf[this.pos + i] = s.charCodeAt(i);
    this.pos += 32;
  }

  private varint(v: number): void {
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }
}

/** A terminal read back from disk, with its position and the version of the chunk that held it. */
export interface StoredTerminal extends Position {
  readonly node: TerminalNode;
  readonly version: number;
}

/** Decodes one terminal (kind, timestamp, body) from `r`. */
export function readTerminal(r: Reader): TerminalNode {
  const k = r.u8();
  const ts = r.varint();
  if (k === K_EMPTY) return new EmptyNode(ts);
  if (k === K_STUB) {
    const label = bytesToLatin1(r.raw(32, "stub label"));
    if (!isInternalLabel(label))
      throw new DecodeError("store/bad-terminal", "a stub's label is not internal");
    return new StubNode(label, ts);
  }
  if (k === K_LEAF) {
    const key = r.string(MAX_KEY_BYTES);
    const value = r.bytes(MAX_VALUE_BYTES);
    return new LeafNode(keyPathLatin1(key), sha256Latin1(value), key, value, ts);
  }
  if (k === K_SUMMARY)
    return new LeafNode(bytesToLatin1(r.raw(32)), bytesToLatin1(r.raw(32)), null, null, ts);
  throw new DecodeError("store/bad-terminal", `unknown terminal kind ${k}`);
}

/** Decodes a terminal stored alone (an entry of the per-terminal layout that chunks replaced). */
export function decodeTerminal(b: Uint8Array): TerminalNode {
  const r = new Reader(b);
  const n = readTerminal(r);
  r.end("terminal");
  return n;
}

/** Decodes the records of a chunk written at `version`, appending them to `out`. */
export function decodeChunk(b: Uint8Array, version: number, out: StoredTerminal[]): void {
  const r = new Reader(b);
  while (r.remaining > 0) {
    const depth = (r.u8() << 8) | r.u8();
    if (depth > MAX_TREE_DEPTH) throw new DecodeError("store/bad-terminal", `depth ${depth} out of range`);
    const n = (depth + 7) >> 3;
    const prefix = new Uint8Array(32);
    prefix.set(r.raw(n, "prefix"));
    const node = readTerminal(r);
    node.saved = version;
    out.push({ prefix, depth, node, version });
  }
}

/**
 * Rebuilds the tree from stored terminals, dropping every one that a newer record at, above or
 * below its position supersedes. Throws if what is left does not tile the key space.
 */
export function buildFromStored(items: StoredTerminal[]): TreeNode {
  if (items.length === 0) return new EmptyNode(0);
  return build(items, 0, -1);
}

function build(list: StoredTerminal[], depth: number, newerAbove: number): TreeNode {
  let here: StoredTerminal | null = null;
  let deeperNewest = -1;
  const deeper: StoredTerminal[] = [];
  for (const t of list) {
    if (t.version < newerAbove) continue;
    if (t.version === newerAbove)
      throw new InvariantError(`stored terminals of one version overlap at depth ${depth}`);
    if (t.depth === depth) {
      if (here !== null && here.version === t.version)
        throw new InvariantError(`two stored terminals at depth ${depth}`);
      if (here === null || t.version > here.version) here = t;
    } else {
      deeper.push(t);
      if (t.version > deeperNewest) deeperNewest = t.version;
    }
  }
  if (here !== null && here.version > deeperNewest) return here.node;
  const above = here === null ? newerAbove : Math.max(newerAbove, here.version);
  const l: StoredTerminal[] = [];
  const r: StoredTerminal[] = [];
  for (const t of deeper) if (t.version >= above) (bitAt(t.prefix, depth) ? r : l).push(t);
  if (l.length === 0 || r.length === 0)
    throw new InvariantError(`stored terminals leave a gap at depth ${depth + 1}`);
  return new InternalNode(build(l, depth + 1, above), build(r, depth + 1, above));
}
