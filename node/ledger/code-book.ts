// The code book: every operation module the ledger has ever seen written, by SHA-256, held whole
// by every node whatever its partition. A request names its operation by key; its proof shows
// the operation's record (whose leaf commits to the module's hash) with only the value hash, and
// the node takes the module from here. So a request carries hundreds of bytes, not the module.
//
// Determinism (Theorem 1): a module enters the book when a write of the ledger stores it in a
// record (or it is a genesis record), and never leaves. Every correct node executes every
// request and sees every write, so every node's book holds the same modules at the same point
// of the order, and a lookup miss is the same verdict everywhere. The book is bounded
// (MAX_CODE_BOOK_BYTES): a write that would overfill it is refused, deterministically too.

import { sha256 } from "../common/hash.js";
import { MAX_CODE_BOOK_BYTES } from "../common/limits.js";
import { bytesToLatin1 } from "../common/bytes.js";

/** A Wasm binary starts with "\0asm" and version 1 (little-endian u32). */
const WASM_HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00] as const;

/** True when a value is (or claims to be) a WebAssembly module: such values go into the book. */
export function isModuleValue(v: Uint8Array): boolean {
  if (v.length < WASM_HEADER.length) return false;
  for (let i = 0; i < WASM_HEADER.length; i++) if (v[i] !== WASM_HEADER[i]) return false;
  return true;
}

export interface BookEntry {
  readonly hash: Uint8Array;
  readonly code: Uint8Array;
}

/** A hash as a cheap, exact map key (its bytes as a latin1 string). */
function hashKey(h: Uint8Array): string {
  return bytesToLatin1(h);
}

export class CodeBook {
  private readonly byHash = new Map<string, Uint8Array>();
  private total = 0;

  /** `modules`: the genesis modules and those stored with earlier blocks. */
  constructor(modules: Iterable<Uint8Array> = []) {
    for (const m of modules) this.put(sha256(m), m);
  }

  /** Bytes of all modules held. */
  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.byHash.size;
  }

  /** Every module held (what a restarted ledger would be given). */
  modules(): IterableIterator<Uint8Array> {
    return this.byHash.values();
  }

  get(hash: Uint8Array): Uint8Array | undefined {
    return this.byHash.get(hashKey(hash));
  }

  /**
   * The modules among `values` the book does not hold yet (each once), or null when adding them
   * would take the book past MAX_CODE_BOOK_BYTES. Changes nothing: see `add`.
   */
  newModules(values: Iterable<Uint8Array>): BookEntry[] | null {
    const out: BookEntry[] = [];
    let extra = 0;
    for (const v of values) {
      if (!isModuleValue(v)) continue;
      const hash = sha256(v);
      const k = hashKey(hash);
      if (this.byHash.has(k) || out.some((e) => hashKey(e.hash) === k)) continue;
      extra += v.length;
      out.push({ hash, code: v });
    }
    return this.total + extra > MAX_CODE_BOOK_BYTES ? null : out;
  }

  /** Adds entries from `newModules` (copies: a value may be a view into a larger buffer). */
  add(entries: readonly BookEntry[]): void {
    for (const e of entries) this.put(e.hash, e.code.slice());
  }

  private put(hash: Uint8Array, code: Uint8Array): void {
    const k = hashKey(hash);
    if (this.byHash.has(k)) return;
    this.byHash.set(k, code);
    this.total += code.length;
  }
}
