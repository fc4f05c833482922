// Exactly once, forever: the ids of the requests a block decided (accepted, or rejected after its
// signature and lifetime checked out) whose lifetime has not ended. A request signs the last
// height at which it may apply (validUntil); every block refuses a request past it (`expired`) or
// already in this set (`replay`). An id stays here until the block at its validUntil is sealed, so
// a second verdict at any height ≤ validUntil finds it, and any later one is expired: no request
// applies twice, and its first verdict is final, however the state comes back around.
// Memory: the ids decided in the last MAX_REQUEST_LIFETIME_BLOCKS blocks (checkLifetime bounds
// validUntil to that distance from the block that decides it).

import { Reader, Writer } from "../common/codec.js";
import { invariant } from "../common/errors.js";
import { MAX_REQUEST_LIFETIME_BLOCKS, TOB_MAX_BLOCK_REQUESTS } from "../common/limits.js";
import { bytesToLatin1 } from "../common/bytes.js";

export interface DecidedId {
  readonly id: Uint8Array;
  readonly validUntil: bigint;
}

export class DecidedIds {
  /** id (as a latin1 string) → validUntil */
  private readonly ids = new Map<string, bigint>();
  /** validUntil → ids that expire there */
  private readonly byExpiry = new Map<bigint, string[]>();
  /** every block up to this height is sealed: ids with validUntil ≤ it are forgotten */
  private sealed: bigint;

  /** `height`: the last sealed block; `decided`: the ids kept for it (older ones are ignored). */
  constructor(height: bigint, decided: Iterable<DecidedId> = []) {
    this.sealed = height;
    for (const a of decided) if (a.validUntil > height) this.add(a.id, a.validUntil);
  }

  has(id: Uint8Array): boolean {
    return this.ids.has(bytesToLatin1(id));
  }

  add(id: Uint8Array, validUntil: bigint): void {
    invariant(validUntil > this.sealed, "a decided request outlives its block");
    const k = bytesToLatin1(id);
    invariant(!this.ids.has(k), "a request id decided twice");
    this.ids.set(k, validUntil);
    const list = this.byExpiry.get(validUntil);
    if (list) list.push(k);
    else this.byExpiry.set(validUntil, [k]);
  }

  /** Block `height` is sealed: forgets the ids whose lifetime ends with it. */
  seal(height: bigint): void {
    invariant(height >= this.sealed, "blocks are sealed in order");
    for (let h = this.sealed + 1n; h <= height; h++) {
      for (const k of this.byExpiry.get(h) ?? []) this.ids.delete(k);
      this.byExpiry.delete(h);
    }
    this.sealed = height;
  }

  get size(): number {
    return this.ids.size;
  }
}

/**
 * One block's decided ids as stored with the block (docs/protocol.md §5):
 * `u64 height ‖ varint n ‖ n × (32-byte id ‖ varint validUntil)`.
 */
export function encodeDecidedIds(height: bigint, decided: readonly DecidedId[]): Uint8Array {
  const w = new Writer(16 + decided.length * 42).u64(height).varint(decided.length);
  for (const a of decided) w.raw(a.id).varint64(a.validUntil);
  return w.finish();
}

export function decodeDecidedIds(bytes: Uint8Array): { height: bigint; decided: DecidedId[] } {
  const r = new Reader(bytes);
  const height = r.u64();
  const n = r.varint(TOB_MAX_BLOCK_REQUESTS, "decided ids");
  const decided: DecidedId[] = [];
  for (let i = 0; i < n; i++)
    decided.push({ id: r.copy(32, "request id"), validUntil: r.varint64("valid until") });
  r.end("decided ids");
  return { height, decided };
}

/**
 * Where a block's decided ids are kept: one slot per height modulo the lifetime bound, so the
 * store holds at most MAX_REQUEST_LIFETIME_BLOCKS records. Each block writes its slot, or clears
 * it when it decided nothing: what a slot held from MAX_REQUEST_LIFETIME_BLOCKS heights before has
 * expired by then (checkLifetime).
 */
export function decidedIdsSlot(height: bigint): string {
  return `.decided-ids/${height % BigInt(MAX_REQUEST_LIFETIME_BLOCKS)}`;
}
