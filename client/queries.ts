// Listings and key histories, verified (docs/protocol.md §15). A page is checked against the index
// root of the certified header at the height the node answered at (the genesis index at height 0):
// a listing that leaves a key out, or a history that leaves a change out, fails like a forged value.
// A node whose answer fails is left out of this client's reads and the page is asked of the next.

import * as grpc from "@grpc/grpc-js";
import { ArborError } from "../node/common/errors.js";
import { isWellFormedString, utf8 } from "../node/common/bytes.js";
import { MAX_HISTORY_PAGE, MAX_KEY_BYTES, MAX_LIST_PAGE, MAX_VALUE_BYTES } from "../node/common/limits.js";
import { entryRange, listingRange, verifyRange } from "../node/store/core/index-proof.js";
import { verifyHistoryPage, type HistoryCursor, type KeyChange } from "../node/store/core/key-history.js";
import { valueHash } from "../node/store/core/label.js";
import { bytesEqual } from "../node/common/bytes.js";
import type { IndexEntry } from "../node/store/core/ordered-index.js";
import type { HistoryReply, ListReply } from "../proto/gen/arbor/v1/client_pb.js";
import { saysLeft, UnavailableError, VerificationError } from "./errors.js";
import type { Deadline } from "./deadline.js";
import { genesisIndexRoot } from "./genesis-root.js";
import type { Headers } from "./headers.js";
import type { Session } from "./session.js";
import { errorText } from "./verify.js";
import { retentionOf } from "../node/ledger/genesis.js";
import { QUERY_ATTEMPT_MIN_MS } from "./limits.js";

/** One key of a listing. */
export interface ListedKey {
  readonly key: string;
  /** SHA-256 of its value; null when the key has been removed (removed keys keep their history) */
  readonly valueHash: Uint8Array | null;
  /** how many changes it has had */
  readonly changes: bigint;
  /** the height of its last change */
  readonly height: bigint;
}

export interface ListPage {
  readonly entries: readonly ListedKey[];
  /** the height whose certified index root the page was checked against */
  readonly height: bigint;
  /** no key under the prefix comes after this page */
  readonly done: boolean;
  /** pass as `after` for the next page (null when done) */
  readonly next: string | null;
}

/** One change of a key, verified. */
export interface KeyVersion extends KeyChange {
  /** its position in the key's history (1 = first) */
  readonly number: bigint;
  /** the value it set, when the node that answered keeps it (checked against `valueHash`) */
  readonly value?: Uint8Array;
}

export interface HistoryPage {
  readonly key: string;
  /** newest first */
  readonly changes: readonly KeyVersion[];
  /** the height the history was proven at (its newest change is at or below it) */
  readonly height: bigint;
  /** where the next (older) page starts; null when this page reached the key's first change */
  readonly next: HistoryCursor | null;
}

function checkText(s: string, what: string): void {
  if (!isWellFormedString(s) || utf8(s).length > MAX_KEY_BYTES)
    throw new ArborError(
      "client/bad-query",
      `${what} must be well-formed UTF-8 of at most ${MAX_KEY_BYTES} bytes`,
    );
}

function checkLimit(limit: number, max: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > max)
    throw new ArborError("client/bad-limit", `limit must be 1..${max}, not ${limit}`);
}

/** A node's refusal of a query: its code is the node's (list/…, history/…). */
function refusal(e: unknown): ArborError | null {
  const code = (e as { code?: unknown } | null)?.code;
  if (code !== grpc.status.INVALID_ARGUMENT && code !== grpc.status.NOT_FOUND) return null;
  const text = errorText(e);
  const m = /^([a-z-]+\/[a-z-]+): /.exec(text);
  return new ArborError(m ? m[1]! : "client/refused", text);
}

export class Queries {
  constructor(
    private readonly s: Session,
    private readonly headers: Headers,
  ) {}

  /** The index root at `height`, certified (the genesis index at height 0). */
  private async indexRoot(height: bigint, from: number, dl: Deadline): Promise<Uint8Array> {
    if (height === 0n) return genesisIndexRoot(this.s.genesis);
    return (await this.headers.certifiedWithin(height, from, dl)).header.indexRoot;
  }

  /**
   * Asks `node`, or each node not caught lying in turn (nodes avoided for now last), until one
   * answer verifies. Each node gets its share of the time left (at least QUERY_ATTEMPT_MIN_MS):
   * one that stays silent is avoided for a while and the next asked, so a hanging node cannot use
   * up the call. A node's refusal of the query itself (bad limit, bad key) is its unsigned word:
   * the call ends with it once f+1 nodes refused alike (every correct node would), and otherwise
   * the next node is asked.
   */
  private async ask<T>(
    node: number | undefined,
    dl: Deadline,
    one: (id: number) => Promise<T>,
    first: readonly number[] = [],
  ): Promise<T> {
    const live = this.s.liveOrder();
    const p = this.s.penalties;
    const ids =
      node !== undefined ? [node] : [...p.order(first), ...p.order(live.filter((id) => !first.includes(id)))];
    const refusals = new Map<string, { error: ArborError; nodes: number[] }>();
    let last: unknown = null;
    const refusedBy = () =>
      [...refusals.values()]
        .map((r) => `node${r.nodes.length > 1 ? "s" : ""} ${r.nodes.join(", ")}: ${r.error.message}`)
        .join("; ");
    // If time runs out, the call ends saying what the nodes asked so far answered.
    const waiting = () =>
      `no node answered the query` +
      (refusals.size > 0
        ? `; refused by ${refusedBy()} (a refusal counts once f+1 = ${this.s.f + 1} nodes give it alike)`
        : last !== null
          ? `: ${errorText(last)}`
          : "");
    dl.waitingFor("client/no-valid-answer", waiting);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const rest = ids.length - i;
      const share = rest > 1 ? Math.max(QUERY_ATTEMPT_MIN_MS, Math.floor(dl.left / rest)) : dl.left;
      try {
        return await this.within(one(id), share, id);
      } catch (e) {
        const refused = refusal(e);
        if (refused) {
          if (node !== undefined) throw refused;
          const r = refusals.get(refused.code) ?? { error: refused, nodes: [] };
          r.nodes.push(id);
          refusals.set(refused.code, r);
          if (r.nodes.length >= this.s.f + 1) throw refused;
          last = refused;
          continue;
        }
        if (
          e instanceof ArborError &&
          !(e instanceof UnavailableError) &&
          !(e instanceof VerificationError)
        ) {
          // The answer did not verify: a lie (or a broken node). Stop asking it.
          last = new VerificationError(e.code, `node ${id}: ${e.message}`, id);
          if (node === undefined) this.s.excluded.add(id);
        } else last = e;
        if (saysLeft(e)) this.s.excluded.add(id);
        if (node !== undefined || dl.expired) break;
      }
    }
    if (refusals.size > 0) throw new UnavailableError("client/no-valid-answer", waiting());
    // Every node asked failed verification (or was unreachable): the call has no valid answer, as
    // a read without one; the nodes' own faults are in the message. Every node behind the floor
    // stays client/stale, and one node asked by name keeps that node's error.
    if (node === undefined && last instanceof VerificationError && last.code !== "client/stale")
      throw new UnavailableError(
        "client/no-valid-answer",
        `no node answered the query verifiably: ${last.message}`,
      );
    if (last instanceof ArborError) throw last;
    throw new UnavailableError("client/no-valid-answer", `no node answered the query: ${errorText(last)}`);
  }

  /** `work`, or client/slow-node once `ms` pass first (the node is avoided for a while; `work` is left to settle). */
  private within<T>(work: Promise<T>, ms: number, id: number): Promise<T> {
    work.catch(() => undefined);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const slow = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.s.penalties.avoid(id);
        reject(new UnavailableError("client/slow-node", `node ${id} did not answer within ${ms} ms`));
      }, ms);
    });
    return Promise.race([work, slow]).finally(() => clearTimeout(timer));
  }

  /**
   * The lowest height an answer may be at: the caller's, and never below the height of the newest
   * receipt or certified read of this client (a listing or a history must show the client's own
   * writes, and nothing older than what it has seen).
   */
  private floor(minHeight: bigint | undefined): bigint {
    const m = minHeight ?? 0n;
    const f = this.s.floorHeight;
    return m > f ? m : f;
  }

  async list(
    prefix: string,
    o: { after?: string | undefined; limit: number; node?: number | undefined; minHeight?: bigint },
    dl: Deadline,
  ): Promise<ListPage> {
    checkText(prefix, "prefix");
    if (o.after !== undefined) checkText(o.after, "after");
    checkLimit(o.limit, MAX_LIST_PAGE);
    const range = listingRange(prefix, o.after ?? null);
    const minHeight = this.floor(o.minHeight);
    return this.ask(o.node, dl, async (id) => {
      const r: ListReply = await this.s
        .node(id)
        .list(prefix, { after: o.after, limit: o.limit, minHeight }, dl.cap(this.s.timeoutMs));
      stale(r.height, minHeight, id);
      const root = await this.indexRoot(r.height, id, dl);
      const entries = verifyRange(r.proof, root, range, o.limit, r.done).map(listed);
      this.s.sawCertified(r.height);
      return {
        entries,
        height: r.height,
        done: r.done,
        next: r.done ? null : entries[entries.length - 1]!.key,
      };
    });
  }

  /**
   * The values `keys` had at block `height`: for each key, its history from a holder, newest
   * first, down to the last change at or below `height` (verified like any history page, so a
   * holder cannot give a value from another height). Heights before the retention window are
   * refused (query/height-pruned); a holder that fails verification is left out and the next asked.
   */
  async valuesAt(
    keys: readonly string[],
    height: bigint,
    dl: Deadline,
  ): Promise<Map<string, Uint8Array | null>> {
    const out = new Map<string, Uint8Array | null>();
    await Promise.all(keys.map(async (k) => out.set(k, await this.valueAt(k, height, dl))));
    return out;
  }

  private async valueAt(key: string, height: bigint, dl: Deadline): Promise<Uint8Array | null> {
    checkText(key, "key");
    let last: unknown = null;
    for (const node of this.s.penalties.order(this.s.holders(key))) {
      try {
        return await this.valueFrom(node, key, height, dl);
      } catch (e) {
        if (e instanceof ArborError && e.code === "query/height-pruned") throw e;
        if (e instanceof VerificationError) this.s.excluded.add(node);
        last = e;
        if (dl.expired) break;
      }
    }
    if (last instanceof ArborError) throw last;
    throw new UnavailableError("client/no-valid-answer", `no holder of ${key} answered: ${errorText(last)}`);
  }

  private async valueFrom(
    node: number,
    key: string,
    height: bigint,
    dl: Deadline,
  ): Promise<Uint8Array | null> {
    const retention = BigInt(retentionOf(this.s.genesis));
    let cursor: HistoryCursor | undefined;
    for (;;) {
      const page = await this.history(key, { cursor, limit: PAST_READ_PAGE, node, minHeight: height }, dl);
      if (retention > 0n && height < page.height - retention)
        throw new ArborError(
          "query/height-pruned",
          `height ${height} is more than ${retention} blocks below ${page.height}: past values are kept for the last ${retention} blocks`,
        );
      for (const c of page.changes) {
        if (c.height > height) continue;
        if (c.valueHash === null) return null;
        if (c.value === undefined)
          throw new UnavailableError(
            "query/value-unavailable",
            `node ${node} no longer keeps ${key} at ${height}`,
          );
        return c.value;
      }
      if (!page.next) return null;
      cursor = page.next;
    }
  }

  async history(
    key: string,
    o: { cursor?: HistoryCursor | undefined; limit: number; node?: number | undefined; minHeight?: bigint },
    dl: Deadline,
  ): Promise<HistoryPage> {
    checkText(key, "key");
    checkLimit(o.limit, MAX_HISTORY_PAGE);
    // A key's history is kept by its holders (a node that held it once may keep older changes).
    const holders = this.s.penalties.order(this.s.holders(key));
    const minHeight = this.floor(o.minHeight);
    return this.ask(
      o.node,
      dl,
      async (id) => {
        const r: HistoryReply = await this.s
          .node(id)
          .history(
            key,
            { number: o.cursor?.number ?? 0n, limit: o.limit, minHeight },
            dl.cap(this.s.timeoutMs),
          );
        stale(r.height, minHeight, id);
        let from = o.cursor;
        if (!from) {
          const root = await this.indexRoot(r.height, id, dl);
          const [entry] = verifyRange(r.entryProof, root, entryRange(key), 1, true);
          this.s.sawCertified(r.height);
          if (!entry) {
            if (r.changes.length > 0)
              throw new VerificationError(
                "client/bad-history",
                `node ${id} gave changes of a key never written`,
                id,
              );
            return { key, changes: [], height: r.height, next: null };
          }
          from = { number: entry.changes, head: entry.head };
        }
        const v = verifyHistoryPage(
          from,
          r.changes.map((c) => c.change),
          r.headBefore,
          o.limit,
        );
        const changes = v.changes.map((c, i) => version(c, from.number - BigInt(i), r.changes[i]!.value, id));
        return { key, changes, height: r.height, next: v.next };
      },
      holders,
    );
  }
}

/** Changes asked per history page while looking for a key's value at a past height. */
export const PAST_READ_PAGE = 64;

/**
 * A node that has not reached the asked height answers at its own after a bounded wait: not an
 * answer this call can use (pages of one listing never go back in height); the next node is asked.
 */
function stale(height: bigint, minHeight: bigint, node: number): void {
  if (height < minHeight)
    throw new UnavailableError("client/stale", `node ${node} is at height ${height}, below ${minHeight}`);
}

function listed(e: IndexEntry): ListedKey {
  return { key: e.key, valueHash: e.valueHash, changes: e.changes, height: e.height };
}

function version(c: KeyChange, number: bigint, value: Uint8Array | undefined, node: number): KeyVersion {
  if (value === undefined) return { ...c, number };
  if (value.length > MAX_VALUE_BYTES || c.valueHash === null || !bytesEqual(valueHash(value), c.valueHash))
    throw new VerificationError(
      "client/bad-history",
      `node ${node} gave a value its change does not commit to`,
      node,
    );
  return { ...c, number, value };
}
