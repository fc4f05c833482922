// The stored form of a block's history entries (one LevelDB record per block, docs/protocol.md
// §13): `varint count`, then per entry `varint ts ‖ u8 has-root ‖ [32-byte root] ‖ varint n ‖
// n × 32-byte path ‖ varint tag length ‖ tag`. Encoded in one pass into an array of the exact
// size: a block of a thousand operations writes a thousand entries.

import { Reader } from "../../common/codec.js";
import { DecodeError } from "../../common/errors.js";
import type { HistoryEntry } from "./history.js";

const NO_TAG = new Uint8Array(0);

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

/** Encodes one block's entries (oldest first). */
export function encodeEntries(es: readonly HistoryEntry[]): Uint8Array {
  let size = varintSize(es.length);
  for (const e of es) {
    const tag = e.tag ?? NO_TAG;
    size += varintSize(e.ts) + 1 + (e.root === null ? 0 : 32);
    size += varintSize(e.paths.length) + 32 * e.paths.length;
    size += varintSize(tag.length) + tag.length;
  }
  const out = new Uint8Array(size);
  let p = 0;
  const varint = (v: number): void => {
    while (v >= 0x80) {
      out[p++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    out[p++] = v;
  };
  const raw = (b: Uint8Array): void => {
    for (let i = 0; i < b.length; i++) out[p + i] = b[i]!;
    p += b.length;
  };
  varint(es.length);
  for (const e of es) {
    varint(e.ts);
    if (e.root === null) out[p++] = 0;
    else {
      out[p++] = 1;
      raw(e.root);
    }
    varint(e.paths.length);
    for (const path of e.paths) raw(path);
    const tag = e.tag ?? NO_TAG;
    varint(tag.length);
    raw(tag);
  }
  return out;
}

/** Decodes what `encodeEntries` wrote. Throws a DecodeError on malformed bytes. */
export function decodeEntries(b: Uint8Array): HistoryEntry[] {
  const r = new Reader(b);
  const out: HistoryEntry[] = [];
  const count = r.varint(1 << 24);
  for (let i = 0; i < count; i++) {
    const ts = r.varint();
    const hasRoot = r.u8();
    if (hasRoot > 1) throw new DecodeError("decode/non-canonical", `history has-root byte ${hasRoot}`);
    const root = hasRoot === 1 ? r.copy(32) : null;
    const n = r.varint(1 << 20);
    const paths: Uint8Array[] = [];
    for (let j = 0; j < n; j++) paths.push(r.copy(32));
    const tag = r.bytes(1024, "history tag");
    out.push({ ts, root, paths, tag: tag.length > 0 ? tag : undefined });
  }
  r.end("history entries");
  return out;
}
