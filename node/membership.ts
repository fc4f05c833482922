// The membership a node follows: every node that was ever a member (id, key, address, current
// prefixes), which of them have a record in the system domain, which were evicted, and the
// validator schedule — the genesis set from height 1, then one entry per eviction or membership
// change, effective from a height the consensus fixes (reconfigHeight). Persisted with the store
// in the same batch as the block that decided it, so a restarted node knows exactly what it knew.

import { Reader, Writer } from "./common/codec.js";
import { toHex } from "./common/bytes.js";
import { TOB_MAX_SCHEDULED_EPOCHS } from "./common/limits.js";
import { TOB_MAX_VALIDATORS } from "./common/limits.js";
import { decodeMember, encodeMember, type GenesisNode } from "./ledger/genesis.js";
import type { MemberOutcome } from "./ledger/member-apply.js";
import type { Validator } from "./ledger/header.js";

export interface ScheduleEntry {
  readonly fromHeight: bigint;
  /** the block that decided this set (0 for genesis) */
  readonly decidedAt: bigint;
  /** validator ids, ascending */
  readonly ids: readonly number[];
}

export const SCHEDULE_EXTRA_KEY = "validators";
/** The store's extra holding the member state (nodes, record ids, evicted ids) since changes began. */
export const MEMBERS_EXTRA_KEY = "members";

/** What the schedule alone does not say: added nodes, current prefixes, records and evictions. */
export interface MemberState {
  /** every node ever a member, ascending by id, with its current prefixes */
  readonly nodes: readonly GenesisNode[];
  /** ids with a record `.arbor/nodes/<id>`, ascending */
  readonly records: readonly number[];
  /** ids evicted by proven complaints, ascending */
  readonly evicted: readonly number[];
}

export function encodeMemberState(s: MemberState): Uint8Array {
  const w = new Writer(256).varint(s.nodes.length);
  for (const n of s.nodes) w.bytes(encodeMember(n));
  w.varint(s.records.length);
  for (const id of s.records) w.varint(id);
  w.varint(s.evicted.length);
  for (const id of s.evicted) w.varint(id);
  return w.finish();
}

export function decodeMemberState(b: Uint8Array): MemberState {
  const r = new Reader(b);
  const nodes: GenesisNode[] = [];
  for (let i = r.varint(1 << 16); i > 0; i--) nodes.push(decodeMember(r.bytes(1 << 16, "member")));
  const records: number[] = [];
  for (let i = r.varint(1 << 16); i > 0; i--) records.push(r.varint(1 << 30));
  const evicted: number[] = [];
  for (let i = r.varint(1 << 16); i > 0; i--) evicted.push(r.varint(1 << 30));
  r.end("member state");
  return { nodes, records, evicted };
}

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
  private readonly records: Set<number>;
  private readonly evictedIds: Set<number>;
  /** The keys `allows` admits, for the schedule length they were computed at (it only grows). */
  private allowed: { entries: number; keys: Set<string> } | null = null;

  constructor(nodes: readonly GenesisNode[], schedule?: readonly ScheduleEntry[], state?: MemberState) {
    this.byId = new Map((state?.nodes ?? nodes).map((n) => [n.id, n]));
    this.schedule = schedule
      ? [...schedule]
      : [{ fromHeight: 1n, decidedAt: 0n, ids: nodes.map((n) => n.id).sort((a, b) => a - b) }];
    this.records = new Set(state?.records ?? nodes.map((n) => n.id));
    // Before membership changes, every id the schedule dropped was evicted.
    this.evictedIds = new Set(
      state?.evicted ?? this.schedule[0]!.ids.filter((id) => !this.latestIds().includes(id)),
    );
  }

  /** The state to persist with a block that changed the membership. */
  state(): MemberState {
    const asc = (a: number, b: number) => a - b;
    return {
      nodes: [...this.byId.values()].sort((a, b) => a.id - b.id),
      records: [...this.records].sort(asc),
      evicted: [...this.evictedIds].sort(asc),
    };
  }

  /** Ids with a member record now, ascending (the ledger's membership context). */
  recordIds(): number[] {
    return [...this.records].sort((a, b) => a - b);
  }

  /** Whether `id` was a member and is one no longer: its record removed, or evicted. */
  left(id: number): boolean {
    return this.byId.has(id) && (!this.records.has(id) || this.evictedIds.has(id));
  }

  /** Whether an id or a key (hex) was ever a member's. */
  everUsed(id: number, keyHex: string): boolean {
    return this.byId.has(id) || this.idOfKey(keyHex) !== undefined;
  }

  /** The members with a record and not evicted, with their current prefixes: who holds what. */
  holders(): GenesisNode[] {
    return this.recordIds()
      .filter((id) => !this.evictedIds.has(id))
      .map((id) => this.byId.get(id)!);
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
    return new Set(this.evictedIds);
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
      const keys = new Set<string>();
      for (const id of this.latestIds()) keys.add(toHex(this.byId.get(id)!.publicKey));
      this.allowed = { entries: this.schedule.length, keys };
    }
    return this.allowed.keys.has(hex);
  }

  /**
   * Why evicting `ids` in block `height` cannot be carried out (see TrustContext), or null: each
   * must be in the latest validator set, and the consensus takes at most TOB_MAX_SCHEDULED_EPOCHS
   * pending changes and needs one validator.
   */
  refuseEviction(height: bigint, ids: readonly number[]): string | null {
    const latest = this.latestIds();
    // A node a MEMBER request removed: evicting it would decide a "change" to the set in force.
    const gone = ids.find((id) => !latest.includes(id));
    if (gone !== undefined) return `node ${gone} is not in the latest validator set: nothing to evict`;
    if (latest.every((id) => ids.includes(id))) return "it would leave no validator";
    const pending = this.schedule.filter((e) => e.fromHeight > height);
    if (pending.length >= TOB_MAX_SCHEDULED_EPOCHS)
      return `${pending.length} validator-set changes are pending; complain again after height ${pending[0]!.fromHeight}`;
    return null;
  }

  /**
   * Why a membership change adding `add` and removing `remove` in block `height` cannot be carried
   * out now, or null (the ledger's membership context, like refuseEviction).
   */
  refuseChange(height: bigint, add: readonly GenesisNode[], remove: readonly number[]): string | null {
    if (add.length === 0 && remove.length === 0) return null;
    const next = this.latestIds().filter((id) => !remove.includes(id)).length + add.length;
    if (next === 0) return "it would leave no validator";
    if (next > TOB_MAX_VALIDATORS) return `at most ${TOB_MAX_VALIDATORS} validators`;
    const pending = this.schedule.filter((e) => e.fromHeight > height);
    if (pending.length >= TOB_MAX_SCHEDULED_EPOCHS)
      return `${pending.length} validator-set changes are pending; submit again after height ${pending[0]!.fromHeight}`;
    return null;
  }

  /** Records an eviction decided in a block; returns the new entry. */
  evict(ids: readonly number[], fromHeight: bigint, decidedAt: bigint): ScheduleEntry {
    for (const id of ids) this.evictedIds.add(id);
    const next = { fromHeight, decidedAt, ids: this.latestIds().filter((id) => !ids.includes(id)) };
    this.schedule.push(next);
    return next;
  }

  /**
   * Records a membership change decided in a block: new and rewritten records, records gone, and
   * (when validators come or go) a new schedule entry, which it returns; a repair returns null.
   */
  change(o: MemberOutcome, fromHeight: bigint, decidedAt: bigint): ScheduleEntry | null {
    for (const n of o.records) this.byId.set(n.id, n);
    for (const n of o.added) this.records.add(n.id);
    for (const id of o.removed) this.records.delete(id);
    if (o.kind === "repair") return null;
    const ids = this.latestIds()
      .filter((id) => !o.removed.includes(id))
      .concat(o.added.map((n) => n.id))
      .sort((a, b) => a - b);
    const next = { fromHeight, decidedAt, ids };
    this.schedule.push(next);
    return next;
  }
}
