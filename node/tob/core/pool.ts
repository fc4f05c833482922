// Requests waiting to be ordered, in arrival order, keyed by digest (so a request gossiped by every
// node is held once). Every node holds every request it has heard of until it is delivered, which
// is what lets any correct leader propose it: with rotating leaders, censorship cannot last.

import { LimitError } from "../../common/errors.js";
import { sha256 } from "../../common/hash.js";
import { Writer } from "../../common/codec.js";
import { TOB_REQUEST_TAG } from "../../common/tags.js";
import {
  TOB_MAX_PENDING_BYTES,
  TOB_MAX_PENDING_HEAVY_BYTES,
  TOB_MAX_PENDING_HEAVY_REQUESTS,
  TOB_MAX_PENDING_REQUESTS,
  TOB_MAX_REQUEST_BYTES,
} from "../../common/limits.js";
import { key } from "./reject.js";
import type { Block } from "./types.js";
import { WEIGHTLESS, type RequestWeigher, type RequestWeight } from "./packing.js";

/** The domain tag as the codec writes a string (length prefix, UTF-8), encoded once. */
const REQUEST_TAG = new Writer(24).string(TOB_REQUEST_TAG).finish();

/**
 * The request's identity for duplicate filtering: SHA-256 over a domain tag and the bytes. On the
 * hot path (twice per request per node), so one buffer and no codec objects.
 */
export function requestDigest(req: Uint8Array): Uint8Array {
  const buf = new Uint8Array(REQUEST_TAG.length + req.length);
  buf.set(REQUEST_TAG);
  buf.set(req, REQUEST_TAG.length);
  return sha256(buf);
}

export interface Pending {
  readonly req: Uint8Array;
  readonly digest: string;
  /** Tick it arrived; locally submitted requests are re-gossiped while they wait. */
  readonly since: number;
  readonly local: boolean;
  readonly weight: RequestWeight;
}

/**
 * Pending requests in two classes, each oldest first: light and heavy, as the weigher judged them
 * when they arrived (packing.ts). A proposal scans the light ones first, so however many heavy ones
 * wait, a light request is found without walking past them. Heavy ones may hold at most
 * TOB_MAX_PENDING_HEAVY_BYTES and TOB_MAX_PENDING_HEAVY_REQUESTS of the pool: a burst of large
 * requests, or a flood of looping ones, is refused before it fills the pool, so light ones still
 * find room.
 */
export class RequestPool {
  private readonly light = new Map<string, Pending>();
  private readonly heavy = new Map<string, Pending>();
  private bytes = 0;
  private heavyBytes = 0;

  constructor(private readonly weigher: RequestWeigher = WEIGHTLESS) {}

  get size(): number {
    return this.light.size + this.heavy.size;
  }

  has(digest: string): boolean {
    return this.light.has(digest) || this.heavy.has(digest);
  }

  /** Adds a request; returns its digest key, or null if it was already pending. Throws LimitError when full. */
  add(req: Uint8Array, now: number, local: boolean, digest = key(requestDigest(req))): string | null {
    if (req.length === 0 || req.length > TOB_MAX_REQUEST_BYTES)
      throw new LimitError(
        "tob/request-size",
        `request of ${req.length} bytes (1..${TOB_MAX_REQUEST_BYTES})`,
      );
    if (this.has(digest)) return null;
    if (this.size >= TOB_MAX_PENDING_REQUESTS || this.bytes + req.length > TOB_MAX_PENDING_BYTES)
      throw new LimitError("tob/pool-full", "pending request pool is full");
    const weight = this.weigher.weigh(req);
    const heavy = this.weigher.heavy(weight);
    if (
      heavy &&
      (this.heavy.size >= TOB_MAX_PENDING_HEAVY_REQUESTS ||
        this.heavyBytes + req.length > TOB_MAX_PENDING_HEAVY_BYTES)
    )
      throw new LimitError(
        "tob/pool-full",
        "heavy requests (large, or of an operation that loops) fill their share of the pool",
      );
    (heavy ? this.heavy : this.light).set(digest, { req, digest, since: now, local, weight });
    this.bytes += req.length;
    if (heavy) this.heavyBytes += req.length;
    return digest;
  }

  /** A client submitted it here too: we now re-gossip it while it waits. */
  markLocal(digest: string): void {
    for (const cls of [this.light, this.heavy]) {
      const p = cls.get(digest);
      if (p && !p.local) cls.set(digest, { ...p, local: true }); // keeps its place
    }
  }

  remove(digest: string): void {
    for (const cls of [this.light, this.heavy]) {
      const p = cls.get(digest);
      if (!p) continue;
      cls.delete(digest);
      this.bytes -= p.req.length;
      if (cls === this.heavy) this.heavyBytes -= p.req.length;
    }
  }

  /** The light requests, oldest first. */
  lightValues(): IterableIterator<Pending> {
    return this.light.values();
  }

  /** The heavy requests, oldest first. */
  heavyValues(): IterableIterator<Pending> {
    return this.heavy.values();
  }
}

const digestCache = new WeakMap<Block, readonly string[]>();

/** Digest keys of a block's requests, computed once per decoded block. */
export function blockDigests(b: Block): readonly string[] {
  let d = digestCache.get(b);
  if (!d) {
    d = b.requests.map((r) => key(requestDigest(r)));
    digestCache.set(b, d);
  }
  return d;
}
