// Partition acquisition, the shell around node/store/core/graft.ts: when this node's member
// record names prefixes its tree does not hold in full (a repair gave it a leaver's prefixes, or a
// node starts with a record naming more than its store holds), it grows its store's partition at
// once and fetches what its tree lacks there from the prefixes' holders, chunk by chunk, over the
// client API's GetChunk. Each chunk is grafted between blocks (never inside one, never holding the
// pipeline up) and only when its label equals this tree's own at that position. A holder whose
// chunk fails that check at the same height, or fills nothing while the piece asked for is still
// missing, is avoided for a while and named in a warning; a chunk from another height is asked for
// again after a short wait, and a piece another chunk filled meanwhile is dropped. Progress is the number of missing
// pieces known (`remaining`, the arbor_sync_stubs_remaining metric); once none are left the node
// logs "partition acquired". It serves the chunks of prefixes it holds in full the same way.

import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { ChunkReplySchema, ChunkRequestSchema, type ChunkReply } from "../proto/gen/arbor/v1/client_pb.js";
import { grpcError, nodeFault } from "../proto/grpc.js";
import { ApiClients } from "./net/api-clients.js";
import { ArborError } from "./common/errors.js";
import {
  GRAFT_FETCH_IN_FLIGHT,
  GRAFT_FETCH_TIMEOUT_MS,
  GRAFT_SERVE_BYTES_PER_SECOND,
  GRAFT_SERVE_CONCURRENCY,
  GRAFT_SERVE_UNFINISHED,
  GRAFT_STALE_BACKOFF_MS,
} from "./common/limits.js";
import {
  chunkSources,
  decodeChunk,
  encodeChunk,
  extractChunk,
  formatPosition,
  graftChunk,
  GraftError,
  positionOf,
  prefixFor,
  needStands,
  treeNeeds,
  type Chunk,
  type ChunkSource,
  type Need,
} from "./store/core/graft.js";
import { formatPrefix, parsePrefix, type Prefix } from "./store/core/partition.js";
import { samePrefix } from "./store/core/path.js";
import { failpoint } from "./failpoints.js";
import type { LevelStore } from "./store/level-store.js";
import type { GenesisNode } from "./ledger/genesis.js";
import type { Logger } from "./log.js";

/** Most missing pieces queued at once; the rest are found by the next scan. */
const QUEUE_LIMIT = 4096;
/** How long a holder that served a bad chunk is avoided. */
const AVOID_MS = 60_000;
/** How long a holder that said it does not hold a prefix in full is asked for it after the others. */
const NOT_HELD_BACKOFF_MS = 10_000;
/** How often the node says, per prefix, that no member holds what it lacks there. */
const NO_HOLDER_WARN_MS = 60_000;

export interface PartitionSyncDeps {
  readonly store: LevelStore;
  readonly selfId: number;
  /** the current member records (who holds what) */
  readonly holders: () => readonly GenesisNode[];
  /** the height of the newest applied header (what a holder's reply height is compared with) */
  readonly height: () => bigint;
  /** runs `f` once no block is being applied (node/read-gate.ts) */
  readonly between: (f: () => void) => void;
  readonly credentials: grpc.ChannelCredentials;
  readonly log: Logger;
  /** GetChunk calls not finished (their reply not taken by the asker yet), in all and per address */
  readonly unfinished?: { readonly count: number; from(host: string): number };
  /** test-only: fetch chunks through this instead of gRPC */
  readonly fetch?: (holder: GenesisNode, at: string, within: string) => Promise<ChunkReply>;
}

export class PartitionSync {
  private queue: Need[] = [];
  /** ids of the needs queued, in flight or waiting to be asked again: each is worked on once */
  private readonly known = new Set<string>();
  private inFlight = 0;
  /** needs waiting out a backoff */
  private waiting = 0;
  /** prefixes being taken on: a chunk of these is not served */
  private pending: Prefix[] = [];
  private readonly avoid = new Map<number, number>();
  /** Per holder and prefix (`id:prefix`), until when it is asked after the others (it said not-held). */
  private readonly notHeldUntil = new Map<string, number>();
  /** Per prefix of ours, until when "no holder" is not said again. */
  private readonly quietUntil = new Map<string, number>();
  private turn = 0;
  private readonly clients: ApiClients;
  private running = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  /** chunks served right now */
  private serving = 0;
  /** Chunk bytes served in the second `servedSecond` (GRAFT_SERVE_BYTES_PER_SECOND). */
  private servedBytes = 0;
  private servedSecond = 0;

  constructor(private readonly d: PartitionSyncDeps) {
    this.clients = new ApiClients(d.credentials);
  }

  /** Pieces still missing as far as known: queued plus in flight. */
  get remaining(): number {
    return this.queue.length + this.inFlight + this.waiting;
  }

  /** True while this node is taking on a prefix on `within`'s path (it does not serve it then). */
  acquiring(within: Prefix): boolean {
    return this.pending.some((p) => samePrefix(p.path, within.path, Math.min(p.bits, within.bits)));
  }

  /**
   * Makes the store hold `prefixes` in full: grows its partition now (so nothing there is
   * forgotten from here on) and fetches what the tree lacks there. Also at start, to resume.
   */
  want(prefixes: readonly string[]): void {
    if (this.stopped) return;
    if (this.d.store.widen(prefixes))
      this.d.log.info("taking on prefixes", { prefixes, partition: this.d.store.partition.toStrings() });
    this.d.between(() => this.scan());
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.clients.close();
  }

  /** Looks for what the tree lacks in its partition; starts fetching, or reports the end. */
  private scan(): void {
    if (this.stopped || this.remaining > 0) return;
    const needs = treeNeeds(this.d.store.history.tree, QUEUE_LIMIT);
    const part = this.d.store.partition;
    if (needs.length === 0) {
      if (this.running || this.pending.length > 0)
        this.d.log.info("partition acquired", { prefixes: part.toStrings() });
      this.running = false;
      this.pending = [];
      return;
    }
    this.pending = part.prefixes.filter((p) =>
      needs.some((n) => (n.keyHash ? samePrefix(n.keyHash, p.path, p.bits) : comparableTo(n, p))),
    );
    if (!this.running)
      this.d.log.info("acquiring partition", {
        prefixes: this.pending.map(formatPrefix),
        missing: needs.length,
      });
    this.running = true;
    for (const n of needs) this.enqueue(n);
    this.pump();
  }

  private enqueue(n: Need): void {
    const id = needId(n);
    if (this.known.has(id) || this.queue.length >= QUEUE_LIMIT) return;
    this.known.add(id);
    this.queue.push(n);
  }

  /** The need is dealt with (filled, or gone from the tree): the next scan finds what is left. */
  private done(n: Need): void {
    this.known.delete(needId(n));
  }

  /** Starts fetches up to the in-flight bound; rescans when everything known is done. */
  private pump(): void {
    if (this.stopped) return;
    while (this.inFlight < GRAFT_FETCH_IN_FLIGHT && this.queue.length > 0) this.fetchOne(this.queue.shift()!);
    if (this.remaining === 0) this.d.between(() => this.scan());
  }

  /**
   * The members to ask for `need` and the prefix to ask each for (graft.ts chunkSources), this
   * node left out, and avoided ones too unless no other is left; of those, the ones with the
   * widest prefix to ask for. A holder that just said it does not hold its prefix in full (it is
   * taking it on too) is asked after the others.
   */
  private sourcesOf(need: Need): ChunkSource<GenesisNode>[] {
    const all = chunkSources(
      this.d.store.partition,
      need,
      this.d
        .holders()
        .filter((n) => n.id !== this.d.selfId)
        .map((n) => ({ holder: n, prefixes: parsedPrefixes(n) })),
    );
    const now = Date.now();
    const trusted = all.filter((s) => (this.avoid.get(s.holder.id) ?? 0) < now);
    const pool = trusted.length > 0 ? trusted : all;
    const ready = pool.filter(
      (s) => (this.notHeldUntil.get(`${s.holder.id}:${formatPrefix(s.within)}`) ?? 0) < now,
    );
    const ask = ready.length > 0 ? ready : pool;
    return ask.filter((s) => s.within.bits === ask[0]!.within.bits);
  }

  /**
   * How long to wait before asking for `need` again: 0 while a holder of it is not avoided, else
   * until the first one is trusted again (at least the stale backoff), so a sole holder that lies
   * is asked once per AVOID_MS, not in a loop.
   */
  private untilTrusted(need: Need): number {
    const now = Date.now();
    let soonest = now + AVOID_MS;
    for (const s of this.sourcesOf(need)) soonest = Math.min(soonest, this.avoid.get(s.holder.id) ?? 0);
    return soonest < now ? 0 : Math.max(GRAFT_STALE_BACKOFF_MS, soonest - now);
  }

  private fetchOne(need: Need): void {
    const mine = prefixFor(this.d.store.partition, need);
    if (mine === null) return this.done(need);
    const sources = this.sourcesOf(need);
    if (sources.length === 0) {
      // Said once a minute per prefix: the need is retried every few seconds, one per missing piece.
      const key = formatPrefix(mine);
      if ((this.quietUntil.get(key) ?? 0) < Date.now()) {
        this.quietUntil.set(key, Date.now() + NO_HOLDER_WARN_MS);
        this.d.log.warn("no holder to take a prefix from; retrying", { within: key });
      }
      return this.later(need, 10 * GRAFT_STALE_BACKOFF_MS);
    }
    const { holder, within } = sources[this.turn++ % sources.length]!;
    const at = formatPosition(need);
    this.inFlight++;
    this.request(holder, at, formatPrefix(within)).then(
      (reply) =>
        this.d.between(() => {
          this.inFlight--;
          this.graft(need, holder, reply);
          this.pump();
        }),
      (e: unknown) => {
        this.inFlight--;
        const code = (e as { code?: number }).code;
        const details = (e as { details?: string }).details ?? "";
        // A holder still taking that prefix on: the other sources first for a while.
        if (code === grpc.status.FAILED_PRECONDITION && details.startsWith("graft/not-held"))
          this.notHeldUntil.set(`${holder.id}:${formatPrefix(within)}`, Date.now() + NOT_HELD_BACKOFF_MS);
        // A holder without the chunk now (another height) or busy: ask again shortly, round-robin.
        if (code !== grpc.status.FAILED_PRECONDITION && code !== grpc.status.RESOURCE_EXHAUSTED)
          this.d.log.debug("chunk fetch failed", { holder: holder.id, error: String(e) });
        this.later(need, GRAFT_STALE_BACKOFF_MS);
        this.pump();
      },
    );
  }

  /** Grafts one reply (between blocks); decides what to do with the need and the holder. */
  private graft(need: Need, holder: GenesisNode, reply: ChunkReply): void {
    if (this.stopped) return;
    let chunk: Chunk;
    try {
      chunk = decodeChunk(reply.chunk);
      if (chunk.at.depth !== need.depth || formatPosition(chunk.at) !== formatPosition(need))
        throw new GraftError("label-mismatch", "the chunk is for another position");
      const r = graftChunk(this.d.store.history.tree, chunk);
      failpoint("graft");
      this.done(need);
      for (const n of r.needs) this.enqueue(n);
      return;
    } catch (e) {
      if (!(e instanceof ArborError)) throw e;
      const sameHeight = reply.height === this.d.height();
      const refusal = e instanceof GraftError ? e.refusal : "undecodable";
      // Filled meanwhile by another chunk's graft: an honest chunk for it has nothing left to give.
      if (refusal === "no-progress" && !needStands(this.d.store.history.tree, need)) return this.done(need);
      // At one height every correct node has the same tree: a chunk that is not part of it is a
      // lie, and so is one that fills nothing (an honest holder of the prefix has what is missing).
      if (
        refusal === "undecodable" ||
        (sameHeight && (refusal === "label-mismatch" || refusal === "no-progress"))
      ) {
        const now = Date.now();
        // Said once per holder and avoidance: a liar asked again (no other holder left) is not news.
        if ((this.avoid.get(holder.id) ?? 0) < now)
          this.d.log.warn("a holder served a bad chunk; asking another", {
            holder: holder.id,
            at: formatPosition(need),
            height: reply.height,
            error: e.message,
          });
        this.avoid.set(holder.id, now + AVOID_MS);
        // Another holder at once; when every holder is avoided, once the first is trusted again.
        this.later(need, this.untilTrusted(need));
      } else if (refusal === "label-mismatch") this.later(need, GRAFT_STALE_BACKOFF_MS);
      // position-absent or no-progress: the tree changed here since; the next scan finds what is left.
      else this.done(need);
    }
  }

  /** Queues `need` (still known) again after `ms`. */
  private later(need: Need, ms: number): void {
    if (ms === 0) return void this.queue.push(need);
    this.waiting++;
    const t = setTimeout(() => {
      this.waiting--;
      this.queue.push(need);
      this.pump();
    }, ms);
    t.unref();
  }

  private request(holder: GenesisNode, at: string, within: string): Promise<ChunkReply> {
    if (this.d.fetch) return this.d.fetch(holder, at, within);
    return this.clients.call(
      holder.address,
      "getChunk",
      create(ChunkRequestSchema, { at, within }),
      GRAFT_FETCH_TIMEOUT_MS,
    );
  }

  /**
   * Serves GetChunk: the subtree at `at` toward `within`, from the tree as it is between blocks,
   * when this node holds `within` in full (inside its partition, not being taken on). At most
   * GRAFT_SERVE_CONCURRENCY at once.
   */
  serve(
    req: { at: string; within: string },
    cb: (e: grpc.ServiceError | null, r?: ChunkReply) => void,
    alter?: (c: Chunk) => Chunk,
    host = "",
  ): void {
    let at, within: Prefix;
    try {
      at = positionOf(req.at);
      within = parsePrefix(req.within);
    } catch (e) {
      // The underlying code (partition/…, decode/…) is kept in the message, after ours.
      const why = e instanceof Error ? e.message.replace(/^graft\/bad-position: /, "") : String(e);
      return cb(grpcError(grpc.status.INVALID_ARGUMENT, `graft/bad-position: ${why}`));
    }
    const notHeld = () =>
      cb(
        grpcError(
          grpc.status.FAILED_PRECONDITION,
          "graft/not-held: this node does not hold that prefix in full",
        ),
      );
    if (!this.d.store.partition.covers(within)) return notHeld();
    // Taking on a prefix around `within`, this node may still hold `within` itself in full (a
    // member dealt a coarser prefix than its own): the chunk says whether it lacks anything there.
    const acquiring = this.acquiring(within);
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.servedSecond) {
      this.servedSecond = second;
      this.servedBytes = 0;
    }
    // Replies not taken yet, this call's included: askers that do not read hold their places.
    const u = this.d.unfinished;
    const held =
      u !== undefined && (u.count > GRAFT_SERVE_UNFINISHED || u.from(host) > GRAFT_SERVE_CONCURRENCY);
    if (held || this.serving >= GRAFT_SERVE_CONCURRENCY || this.servedBytes >= GRAFT_SERVE_BYTES_PER_SECOND)
      return cb(grpcError(grpc.status.RESOURCE_EXHAUSTED, "graft/busy: too many chunks being served; retry"));
    this.serving++;
    this.d.between(() => {
      try {
        const cut = extractChunk(this.d.store.history.tree, at, within);
        if (acquiring && cut.lacking) return notHeld();
        let chunk: Chunk = { at: cut.at, root: cut.root };
        if (alter) chunk = alter(chunk);
        const bytes = encodeChunk(chunk);
        this.servedBytes += bytes.length;
        cb(null, create(ChunkReplySchema, { height: this.d.height(), chunk: bytes }));
      } catch (e) {
        cb(e instanceof GraftError ? grpcError(grpc.status.FAILED_PRECONDITION, e.message) : nodeFault(e));
      } finally {
        // Held past this turn: calls arriving with this one find the node busy, not served at once.
        setImmediate(() => this.serving--);
      }
    });
  }
}

/** Member records' prefixes, parsed once per record (asked for every piece fetched). */
const parsed = new WeakMap<GenesisNode, Prefix[]>();
function parsedPrefixes(n: GenesisNode): Prefix[] {
  let p = parsed.get(n);
  if (p === undefined) parsed.set(n, (p = n.prefixes.map(parsePrefix)));
  return p;
}

function needId(n: Need): string {
  return `${n.depth}:${formatPosition(n)}`;
}

function comparableTo(n: Need, p: Prefix): boolean {
  return samePrefix(n.prefix, p.path, Math.min(n.depth, p.bits));
}
