// Exactly once, forever: the ids of the requests applied (accepted) whose lifetime has not ended.
// A request signs the last height at which it may apply (validUntil); every block refuses a
// request past it (`expired`) or already in this set (`replay`). An id stays here until the block
// at its validUntil is sealed, so a second application at any height ≤ validUntil finds it, and
// any later one is expired: no request applies twice, however the state comes back around.
// Memory: the ids accepted in the last MAX_REQUEST_LIFETIME_BLOCKS blocks (checkLifetime bounds
// validUntil to that distance from the block that applies it).

import { Reader, Writer } from "../common/codec.js";
import { invariant } from "../common/errors.js";
import { MAX_REQUEST_LIFETIME_BLOCKS, TOB_MAX_BLOCK_REQUESTS } from "../common/limits.js";

export interface AppliedId {
  readonly id: Uint8Array;
  readonly validUntil: bigint;
}

export class AppliedIds {
  /** id (as a latin1 string) → validUntil */
  private readonly ids = new Map<string, bigint>();
  /** validUntil → ids that expire there */
  private readonly byExpiry = new Map<bigint, string[]>();
  /** every block up to this height is sealed: ids with validUntil ≤ it are forgotten */
  private sealed: bigint;

  /** `height`: the last sealed block; `applied`: the ids kept for it (older ones are ignored). */
  constructor(height: bigint, applied: Iterable<AppliedId> = []) {
    this.sealed = height;
    for (const a of applied) if (a.validUntil > height) this.add(a.id, a.validUntil);
  }

  has(id: Uint8Array): boolean {
    return this.ids.has(idKey(id));
  }

  add(id: Uint8Array, validUntil: bigint): void {
    invariant(validUntil > this.sealed, "an applied request outlives its block");
    const k = idKey(id);
    invariant(!this.ids.has(k), "a request id applied twice");
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

function idKey(id: Uint8Array): string {
  return String.fromCharCode.apply(null, id as unknown as number[]);
}

/**
 * One block's applied ids as stored with the block (docs/protocol.md §5):
 * `u64 height ‖ varint n ‖ n × (32-byte id ‖ varint validUntil)`.
 */
export function encodeAppliedIds(height: bigint, applied: readonly AppliedId[]): Uint8Array {
  const w = new Writer(16 + applied.length * 42).u64(height).varint(applied.length);
  for (const a of applied) w.raw(a.id).varint64(a.validUntil);
  return w.finish();
}

export function decodeAppliedIds(bytes: Uint8Array): { height: bigint; applied: AppliedId[] } {
  const r = new Reader(bytes);
  const height = r.u64();
  const n = r.varint(TOB_MAX_BLOCK_REQUESTS, "applied ids");
  const applied: AppliedId[] = [];
  for (let i = 0; i < n; i++)
    applied.push({ id: r.copy(32, "request id"), validUntil: r.varint64("valid until") });
  r.end("applied ids");
  return { height, applied };
}

/**
 * Where a block's applied ids are kept: one slot per height modulo the lifetime bound, so the
 * store holds at most MAX_REQUEST_LIFETIME_BLOCKS records and never needs deleting. A slot last
 * written more than that many blocks ago holds only expired ids, which loading ignores.
 */
export function appliedIdsSlot(height: bigint): string {
  return `.applied-ids/${height % BigInt(MAX_REQUEST_LIFETIME_BLOCKS)}`;
}
