// The validator schedule a node follows: the genesis set from height 1, then one entry per
// eviction, effective from a height the consensus fixes (reconfigHeight). Persisted with the store
// in the same batch as the block that decided it, so a restarted node knows exactly what it knew.

import { Reader, Writer } from "./common/codec.js";
import { toHex } from "./common/bytes.js";
import { TOB_MAX_SCHEDULED_EPOCHS } from "./common/limits.js";
import type { GenesisNode } from "./ledger/genesis.js";
import type { Validator } from "./ledger/header.js";

export interface ScheduleEntry {
  readonly fromHeight: bigint;
  /** the block that decided this set (0 for genesis) */
  readonly decidedAt: bigint;
  /** validator ids, ascending */
  readonly ids: readonly number[];
}

export const SCHEDULE_EXTRA_KEY = "validators";

export function encodeSchedule(s: readonly ScheduleEntry[]): Uint8Array {
  const w = new Writer(64).varint(s.length);
  for (const e of s) {
    w.u64(e.fromHeight).u64(e.decidedAt).varint(e.ids.length);
    for (const id of e.ids) w.varint(id);
  }
  return w.finish();
}

export function decodeSchedule(b: Uint8Array): ScheduleEntry[] {
  const r = new Reader(b);
  const n = r.varint(1 << 16);
  const out: ScheduleEntry[] = [];
  for (let i = 0; i < n; i++) {
    const fromHeight = r.u64();
    const decidedAt = r.u64();
    const k = r.varint(1 << 16);
    const ids: number[] = [];
    for (let j = 0; j < k; j++) ids.push(r.varint(1 << 30));
    out.push({ fromHeight, decidedAt, ids });
  }
  r.end("schedule");
  return out;
}

export class Membership {
  private readonly byId: Map<number, GenesisNode>;
  readonly schedule: ScheduleEntry[];
  /** The keys `allows` admits, for the schedule length they were computed at (it only grows). */
  private allowed: { entries: number; keys: Set<string> } | null = null;

  constructor(nodes: readonly GenesisNode[], schedule?: readonly ScheduleEntry[]) {
    this.byId = new Map(nodes.map((n) => [n.id, n]));
    this.schedule = schedule
      ? [...schedule]
      : [{ fromHeight: 1n, decidedAt: 0n, ids: [...this.byId.keys()].sort((a, b) => a - b) }];
  }

  node(id: number): GenesisNode | undefined {
    return this.byId.get(id);
  }

  /** Every node that was ever a member, by id (old statements of evicted nodes stay checkable). */
  members(): Map<number, Uint8Array> {
    return new Map([...this.byId].map(([id, n]) => [id, n.publicKey]));
  }

  private entryAt(height: bigint): ScheduleEntry {
    let e = this.schedule[0]!;
    for (const x of this.schedule) if (x.fromHeight <= height) e = x;
    return e;
  }

  validatorsAt(height: bigint): Validator[] {
    return this.entryAt(height).ids.map((id) => ({ id, publicKey: this.byId.get(id)!.publicKey }));
  }

  /** Keys of consensus epoch `e` (epoch e is the e-th schedule entry), in the consensus order. */
  epochKeys(e: number): Uint8Array[] | undefined {
    const entry = this.schedule[e];
    return entry && this.epochKeysOf(entry);
  }

  /** The consensus-ordered keys of one schedule entry. */
  epochKeysOf(entry: ScheduleEntry): Uint8Array[] {
    return entry.ids.map((id) => this.byId.get(id)!.publicKey);
  }

  /** The newest set, whatever its start height. */
  latestIds(): readonly number[] {
    return this.schedule[this.schedule.length - 1]!.ids;
  }

  /** Ids removed by any eviction so far (decided, even if not yet in effect). */
  evicted(): Set<number> {
    const all = new Set(this.schedule[0]!.ids);
    for (const id of this.latestIds()) all.delete(id);
    return all;
  }

  /** The id of the member with this (hex) key, evicted or not. */
  idOfKey(hex: string): number | undefined {
    for (const [id, n] of this.byId) if (toHex(n.publicKey) === hex) return id;
    return undefined;
  }

  /** Whether a peer (hex key) may still talk to us. */
  allows(hex: string): boolean {
    // Asked for every peer frame sent and received: the answer changes only with the schedule.
    if (this.allowed === null || this.allowed.entries !== this.schedule.length) {
      const ev = this.evicted();
      const keys = new Set<string>();
      for (const [id, n] of this.byId) if (!ev.has(id)) keys.add(toHex(n.publicKey));
      this.allowed = { entries: this.schedule.length, keys };
    }
    return this.allowed.keys.has(hex);
  }

  /**
   * Why evicting `ids` in block `height` cannot be carried out (see TrustContext), or null: the
   * consensus takes at most TOB_MAX_SCHEDULED_EPOCHS pending changes and needs one validator.
   */
  refuseEviction(height: bigint, ids: readonly number[]): string | null {
    if (this.latestIds().every((id) => ids.includes(id))) return "it would leave no validator";
    const pending = this.schedule.filter((e) => e.fromHeight > height);
    if (pending.length >= TOB_MAX_SCHEDULED_EPOCHS)
      return `${pending.length} validator-set changes are pending; complain again after height ${pending[0]!.fromHeight}`;
    return null;
  }

  /** Records an eviction decided in a block; returns the new entry. */
  evict(ids: readonly number[], fromHeight: bigint, decidedAt: bigint): ScheduleEntry {
    const next = { fromHeight, decidedAt, ids: this.latestIds().filter((id) => !ids.includes(id)) };
    this.schedule.push(next);
    return next;
  }
}
