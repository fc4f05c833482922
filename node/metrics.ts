// The Prometheus metrics a node serves on its own HTTP port (config `metricsListen`,
// docs/operations.md "Monitoring"), through prom-client. Events are counted where they happen
// through the small MetricsHooks interface (an increment or an observation, nothing more); values
// the node already holds (height, round, peers) are read only when Prometheus scrapes.
import { createServer, type Server } from "node:http";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Receipt } from "./ledger/receipt.js";
import { shareConnections } from "./net/connection-share.js";

/** The store size is measured (a walk of the data directory) at most this often, on a scrape. */
export const STORE_SIZE_EVERY_MS = 15_000;
/** At most this many files are measured per walk: a bound on the work a scrape can cause. */
export const STORE_SIZE_MAX_FILES = 100_000;

/**
 * Most connections the metrics port keeps open (Prometheus needs one or two); past it a new one is
 * closed at once, so a flood of unfinished requests cannot take the node's file descriptors.
 */
export const METRICS_MAX_CONNECTIONS = 16;
/**
 * Of them, from one address (a scraper needs one): past it a new one is closed at once, and when
 * all are taken a newcomer from a less busy address takes the busiest one's oldest place
 * (node/net/connection-share.ts), so one host cannot shut a node's scraper out.
 */
export const METRICS_MAX_CONNECTIONS_PER_HOST = 4;
/** Longest a client may take to send a request's headers, and the whole request, before it is cut off. */
export const METRICS_HEADERS_TIMEOUT_MS = 5_000;
export const METRICS_REQUEST_TIMEOUT_MS = 10_000;
/** A connection on which no byte moves for this long is closed (a scrape answers at once). */
export const METRICS_IDLE_TIMEOUT_MS = 30_000;
/** How often the server looks for connections past their header or request timeout. */
const METRICS_CONNECTION_CHECK_MS = 1_000;

/** What the node counts as it goes; a no-op object when metrics are off. */
export interface MetricsHooks {
  /** An Execute was answered: admitted (reason null) or refused with a reason code. */
  admission(reason: string | null): void;
  /** A GET (unary or streamed) was answered with a reply. */
  getServed(): void;
  /** A block with requests was applied and committed (see the histograms for the times). */
  blockCommitted(b: BlockTimes, receipts: readonly Receipt[]): void;
  /** A peer's consensus message (or frame batch) was refused, with its reason code. */
  peerRefused(reason: string): void;
}

export interface BlockTimes {
  /** seconds executing the block's requests */
  readonly applySeconds: number;
  /** seconds from the block's delivery by the consensus to its store commit */
  readonly commitSeconds: number;
}

export const NO_METRICS: MetricsHooks = {
  admission() {},
  getServed() {},
  blockCommitted() {},
  peerRefused() {},
};

/** Values read at scrape time. */
export interface MetricsSources {
  readonly appliedHeight: () => bigint;
  readonly consensusRound: () => number;
  readonly peersConnected: () => number;
  /** frames dropped at this node because a peer's send queues were full */
  readonly peerFramesDropped: () => number;
  /** pieces (stubs, summary records) the node still lacks inside prefixes it is taking on */
  readonly syncStubsRemaining: () => number;
  /** the newest snapshot this node offers: its height and payload bytes (0 and 0 when none) */
  readonly newestSnapshot: () => { height: bigint; bytes: bigint };
  readonly dataDir: string;
}

const LEGACY_DEFAULT_GAUGES = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];
const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const REQUEST_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

export class NodeMetrics implements MetricsHooks {
  readonly registry = new Registry();
  private server: Server | null = null;
  private storeBytes = { at: -Infinity, bytes: 0 };
  private readonly admitted: Counter;
  private readonly refused: Counter<"reason">;
  private readonly accepted: Counter;
  private readonly rejected: Counter<"reason">;
  private readonly gets: Counter;
  private readonly peerRefusals: Counter<"reason">;
  private readonly blockRequests: Histogram;
  private readonly applyTime: Histogram;
  private readonly commitLatency: Histogram;

  constructor(private readonly src: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    // prom-client also serves these three gauges under counter-style `_total` names, which
    // Prometheus' lint rejects; the same values are served as nodejs_active_{handles,requests,resources}.
    for (const legacy of LEGACY_DEFAULT_GAUGES) this.registry.removeSingleMetric(legacy);
    this.admitted = new Counter({
      name: "arbor_requests_admitted_total",
      help: "Requests admitted to the consensus (Execute acknowledged)",
      registers,
    });
    this.refused = new Counter({
      name: "arbor_requests_refused_total",
      help: "Requests refused at admission, by reason code",
      labelNames: ["reason"],
      registers,
    });
    this.accepted = new Counter({
      name: "arbor_requests_accepted_total",
      help: "Requests applied with an accepted receipt",
      registers,
    });
    this.rejected = new Counter({
      name: "arbor_requests_rejected_total",
      help: "Requests applied with a rejected receipt, by reason code",
      labelNames: ["reason"],
      registers,
    });
    this.gets = new Counter({
      name: "arbor_get_replies_total",
      help: "GET replies served (unary and streamed)",
      registers,
    });
    this.peerRefusals = new Counter({
      name: "arbor_peer_messages_refused_total",
      help: "Consensus messages (and frame batches) from peers refused, by reason code",
      labelNames: ["reason"],
      registers,
    });
    this.blockRequests = new Histogram({
      name: "arbor_block_requests",
      help: "Requests per applied block (blocks with requests)",
      buckets: REQUEST_BUCKETS,
      registers,
    });
    this.applyTime = new Histogram({
      name: "arbor_block_apply_seconds",
      help: "Time executing a block's requests",
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.commitLatency = new Histogram({
      name: "arbor_commit_latency_seconds",
      help: "Time from a block's delivery by the consensus to its store commit",
      buckets: SECONDS_BUCKETS,
      registers,
    });
    new Counter({
      name: "arbor_peer_frames_dropped_total",
      help: "Frames this node dropped before sending because a peer's send queues were full",
      registers,
      collect() {
        this.reset();
        this.inc(src.peerFramesDropped());
      },
    });
    this.scrapedGauges(registers);
  }

  private scrapedGauges(registers: Registry[]): void {
    const src = this.src;
    const gauge = (name: string, help: string, read: () => number | Promise<number>) =>
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          this.set(await read());
        },
      });
    gauge("arbor_applied_height", "Newest block height applied (empty blocks included)", () =>
      Number(src.appliedHeight()),
    );
    gauge("arbor_consensus_round", "Consensus round the node is in", () => src.consensusRound());
    gauge("arbor_peers_connected", "Peers with an open outgoing stream", () => src.peersConnected());
    gauge(
      "arbor_sync_stubs_remaining",
      "Pieces of the tree (stubs, summary records) still to fetch inside prefixes this node is taking on; 0 once acquired",
      () => src.syncStubsRemaining(),
    );
    gauge(
      "arbor_snapshot_height",
      "Height of the newest snapshot this node offers to joining nodes (0: none yet)",
      () => Number(src.newestSnapshot().height),
    );
    gauge(
      "arbor_snapshot_bytes",
      "Payload bytes of the newest snapshot this node offers (common and tree parts)",
      () => Number(src.newestSnapshot().bytes),
    );
    gauge(
      "arbor_store_bytes",
      `Bytes in the data directory (measured at most every ${STORE_SIZE_EVERY_MS / 1000} s)`,
      () => this.storeSize(),
    );
  }

  admission(reason: string | null): void {
    if (reason === null) this.admitted.inc();
    else this.refused.inc({ reason });
  }

  peerRefused(reason: string): void {
    this.peerRefusals.inc({ reason });
  }

  getServed(): void {
    this.gets.inc();
  }

  blockCommitted(b: BlockTimes, receipts: readonly Receipt[]): void {
    this.blockRequests.observe(receipts.length);
    this.applyTime.observe(b.applySeconds);
    this.commitLatency.observe(b.commitSeconds);
    let accepted = 0;
    for (const r of receipts)
      if (r.status === "accepted") accepted++;
      else this.rejected.inc({ reason: r.reason });
    if (accepted > 0) this.accepted.inc(accepted);
  }

  /** Serves GET /metrics on `listen` (host:port); returns the port bound. */
  async listen(listen: string): Promise<number> {
    const i = listen.lastIndexOf(":");
    const timeouts = {
      headersTimeout: METRICS_HEADERS_TIMEOUT_MS,
      requestTimeout: METRICS_REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: METRICS_CONNECTION_CHECK_MS,
    };
    const server = createServer(timeouts, (req, res) => {
      if (req.method !== "GET" || req.url?.split("?")[0] !== "/metrics") {
        res.writeHead(404).end("not found: metrics are at /metrics\n");
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": this.registry.contentType }).end(text),
        (e) => res.writeHead(500).end(String(e)),
      );
    });
    shareConnections(server, METRICS_MAX_CONNECTIONS, METRICS_MAX_CONNECTIONS_PER_HOST);
    server.setTimeout(METRICS_IDLE_TIMEOUT_MS);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(Number(listen.slice(i + 1)), listen.slice(0, i).replace(/^\[|\]$/g, ""), resolve);
    });
    this.server = server;
    return (server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s)
      await new Promise<void>((r) => {
        s.close(() => r());
        s.closeAllConnections();
      });
    this.registry.clear();
  }

  /** The data directory's size, re-measured when the last measure is older than STORE_SIZE_EVERY_MS. */
  private async storeSize(): Promise<number> {
    const now = performance.now();
    if (now - this.storeBytes.at < STORE_SIZE_EVERY_MS) return this.storeBytes.bytes;
    this.storeBytes.at = now;
    let bytes = 0;
    const files = (await readdir(this.src.dataDir, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .slice(0, STORE_SIZE_MAX_FILES);
    for (const f of files)
      bytes += await stat(join(f.parentPath ?? f.path, f.name)).then(
        (s) => s.size,
        () => 0,
      );
    this.storeBytes.bytes = bytes;
    return bytes;
  }
}
