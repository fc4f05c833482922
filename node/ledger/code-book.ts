// The code book: every operation module the ledger has ever seen written, by SHA-256, held whole
// by every node whatever its partition, and which key holds which module now (the operation
// table). A request names its operation by key; its proof need not show the operation's record
// at all (the table names the module the record holds), or shows it with only its value hash (a
// pinned version), and the node takes the module from here. So a request carries its touched
// records' proof and nothing of its operation.
//
// Determinism (Theorem 1): a module enters the book when a write of the ledger stores it in a
// record (or it is a genesis record), and never leaves; a key's table entry follows every write
// to that key. Every correct node executes every request and sees every write, so every node's
// book and table are the same at every point of the order, and a lookup miss is the same verdict
// everywhere. Book and table together are bounded (MAX_CODE_BOOK_BYTES): a write that would
// overfill them is refused, deterministically too.

import { sha256 } from "../common/hash.js";
import { MAX_CODE_BOOK_BYTES } from "../common/limits.js";
import { bytesToLatin1, utf8 } from "../common/bytes.js";
import type { Write } from "../common/record-write.js";

/** A Wasm binary starts with "\0asm" and version 1 (little-endian u32). */
const WASM_HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00] as const;

/** What one operation-table entry counts against MAX_CODE_BOOK_BYTES besides its key's bytes. */
export const OPERATION_ENTRY_BYTES = 32;

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

/** A key's operation-table state after a write: the module it holds, or null (it holds none). */
export interface OperationEntry {
  readonly key: string;
  readonly hash: Uint8Array | null;
}

/** What one request's writes change in the book: new modules, then table entries in write order. */
export interface BookChange {
  readonly modules: readonly BookEntry[];
  readonly operations: readonly OperationEntry[];
}

/** The code book a chain starts with: its genesis records that are modules, under their keys. */
export function genesisBook(records: ReadonlyArray<{ key: string; value: Uint8Array }>): {
  modules: Uint8Array[];
  operations: OperationEntry[];
} {
  const initial = records.filter((r) => isModuleValue(r.value));
  return {
    modules: initial.map((r) => r.value),
    operations: initial.map((r) => ({ key: r.key, hash: sha256(r.value) })),
  };
}

/** A hash as a cheap, exact map key (its bytes as a latin1 string). */
function hashKey(h: Uint8Array): string {
  return bytesToLatin1(h);
}

function entryBytes(key: string): number {
  return utf8(key).length + OPERATION_ENTRY_BYTES;
}

export class CodeBook {
  private readonly byHash = new Map<string, Uint8Array>();
  /** key → hash of the module the key's record holds (only keys that hold one) */
  private readonly byKey = new Map<string, Uint8Array>();
  private total = 0;

  /**
   * `modules`: the genesis modules and those stored with earlier blocks; `operations`: the
   * genesis records' entries, then the stored ones in any order (one per key: the latest).
   */
  constructor(modules: Iterable<Uint8Array> = [], operations: Iterable<OperationEntry> = []) {
    for (const m of modules) this.put(sha256(m), m);
    for (const e of operations) this.setOperation(e);
  }

  /** Bytes of all modules held and of the table's entries. */
  get bytes(): number {
    return this.total;
  }

  /** Modules held. */
  get size(): number {
    return this.byHash.size;
  }

  /** Keys whose record holds a module. */
  get operations(): number {
    return this.byKey.size;
  }

  /** Every module held (what a restarted ledger would be given). */
  modules(): IterableIterator<Uint8Array> {
    return this.byHash.values();
  }

  /** Every operation-table entry (with `modules()`, what a restarted ledger would be given). */
  *operationEntries(): IterableIterator<OperationEntry> {
    for (const [key, hash] of this.byKey) yield { key, hash };
  }

  get(hash: Uint8Array): Uint8Array | undefined {
    return this.byHash.get(hashKey(hash));
  }

  /** The hash of the module `key`'s record holds now, or undefined when it holds none. */
  operation(key: string): Uint8Array | undefined {
    return this.byKey.get(key);
  }

  /**
   * What `writes` (one request's, in order) change: the modules the book does not hold yet (each
   * once) and every table entry they set or clear; or null when the result would take the book
   * past MAX_CODE_BOOK_BYTES. Changes nothing: see `apply`.
   */
  plan(writes: readonly Write[]): BookChange | null {
    const modules: BookEntry[] = [];
    const operations: OperationEntry[] = [];
    const entries = new Map<string, boolean>(); // key → holds a module after the writes so far
    let total = this.total;
    for (const w of writes) {
      const had = entries.get(w.key) ?? this.byKey.has(w.key);
      if (w.value === null || !isModuleValue(w.value)) {
        if (!had) continue;
        entries.set(w.key, false);
        operations.push({ key: w.key, hash: null });
        total -= entryBytes(w.key);
        continue;
      }
      const hash = sha256(w.value);
      const k = hashKey(hash);
      if (!this.byHash.has(k) && !modules.some((e) => hashKey(e.hash) === k)) {
        modules.push({ hash, code: w.value });
        total += w.value.length;
      }
      if (!had) total += entryBytes(w.key);
      entries.set(w.key, true);
      operations.push({ key: w.key, hash });
    }
    return total > MAX_CODE_BOOK_BYTES ? null : { modules, operations };
  }

  /** Carries out a `plan` (module bytes are copied: a value may be a view into a larger buffer). */
  apply(change: BookChange): void {
    for (const e of change.modules) this.put(e.hash, e.code.slice());
    for (const e of change.operations) this.setOperation(e);
  }

  /** Clears `key`'s entry (a write the book does not plan: a complaint's record); the change, or null if it had none. */
  clear(key: string): OperationEntry | null {
    if (!this.byKey.has(key)) return null;
    const e = { key, hash: null };
    this.setOperation(e);
    return e;
  }

  private put(hash: Uint8Array, code: Uint8Array): void {
    const k = hashKey(hash);
    if (this.byHash.has(k)) return;
    this.byHash.set(k, code);
    this.total += code.length;
  }

  private setOperation(e: OperationEntry): void {
    const had = this.byKey.has(e.key);
    if (e.hash === null) {
      if (had) this.total -= entryBytes(e.key);
      this.byKey.delete(e.key);
      return;
    }
    if (!had) this.total += entryBytes(e.key);
    this.byKey.set(e.key, e.hash);
  }
}
