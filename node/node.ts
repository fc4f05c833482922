// An Arbor node: wires the store, the executor, the ledger and the consensus into one process and
// serves the client API (node/client-api.ts) and the peer streams on one gRPC port. Committed
// blocks go through the block pipeline (node/block-pipeline.ts: apply, seal, commit, sign); own
// header signatures are gathered into certificates by node/certification.ts, across restarts.
// The client port also serves the standard gRPC health service; Prometheus metrics (node/metrics.ts)
// are on a port of their own when configured, and so is the browser API (node/web-api.ts).

import * as grpc from "@grpc/grpc-js";
import { Level } from "level";
import { join } from "node:path";
import { Arbor } from "../proto/gen/arbor/v1/client_pb.js";
import { HealthService } from "./health-service.js";
import { UnfinishedCalls } from "./net/unfinished-calls.js";
import { CHANNEL_OPTIONS, raiseServerHttp2Limits } from "../proto/grpc.js";
import { CHANNEL_CONSENSUS, CHANNEL_LEDGER, PeerNet } from "./net/peer-net.js";
import { peerCredentials, serverCredentials, type NodeTls } from "./net/tls.js";
import { refuseUndecodable, tolerantDefinition } from "./net/decode-guard.js";
import { bytesEqual, toHex } from "./common/bytes.js";
import { ArborError } from "./common/errors.js";
import {
  CERT_PENDING_HEIGHTS,
  EVIDENCE_LOG_LINES_PER_MINUTE,
  GOSSIP_CHECK_SLICE,
  NODE_SHUTDOWN_GRACE_MS,
  REPLY_TAKE_TIMEOUT_MS,
  TOB_FILL_REQUESTS,
  UNTAKEN_REPLY_BYTES,
  UNTAKEN_REPLY_BYTES_PER_HOST,
  TOB_MAX_SYNC_BLOCKS,
} from "./common/limits.js";
import { installNodeSha256 } from "./platform.js";
import { DATA_DATABASES, openDataDir } from "./data-format.js";
import { LevelStore } from "./store/level-store.js";
import { Partition } from "./store/core/partition.js";
import { createExecutor } from "./exec/index.js";
import { nodeSignatureVerifier as verifier } from "./exec/host-crypto.js";
import { Ledger } from "./ledger/ledger.js";
import { receiptSigningMessage } from "./ledger/receipt.js";
import { headerHash, type Header } from "./ledger/header.js";
import {
  MEMBERS_EXTRA_KEY,
  Membership,
  SCHEDULE_EXTRA_KEY,
  decodeMemberState,
  decodeSchedule,
} from "./membership.js";
import type { MemberOutcome } from "./ledger/member-apply.js";
import { chainId, genesisRecords, retentionOf, type Genesis, type GenesisNode } from "./ledger/genesis.js";
import { signWith, type KeyPair } from "./keys.js";
import { ReceiptBook } from "./receipts.js";
import { loadDecidedIds } from "./decided-ids-store.js";
import { loadCodeBook } from "./code-book-store.js";
import { HistoryReader, loadIndex } from "./index-store.js";
import { QueryApi } from "./query-api.js";
import { ReceiptStore } from "./receipt-store.js";
import { failpoint, failpointsArmed } from "./failpoints.js";
import { HeaderCertifier } from "./certifier.js";
import { Certification, resumeCertification } from "./certification.js";
import { BlockPipeline } from "./block-pipeline.js";
import { ClientApi } from "./client-api.js";
import { WebApi } from "./web-api.js";
import { ReadGate } from "./read-gate.js";
import { TobShell } from "./tob/shell.js";
import { withDoubleProposal, withDoubleVote, type Byzantine } from "./byzantine.js";
import { GossipGate } from "./gossip-gate.js";
import { LogBudget } from "./common/log-budget.js";
import { EvidenceBook } from "./evidence-book.js";
import { clusterHeightFloor, JoinGate, joined, nearCluster } from "./join-gate.js";
import { peerStatuses } from "./peer-status.js";
import { ApiClients } from "./net/api-clients.js";
import {
  JOIN_CHECK_MS,
  RESYNC_RETRY_MS,
  RESYNC_CHECK_MS,
  SNAPSHOT_INTERVAL_BLOCKS,
  TOB_BLOCK_RETENTION_BLOCKS,
  TOB_BLOCK_RETENTION_BYTES,
  META_DB_CACHE_BYTES,
  META_DB_WRITE_BUFFER_BYTES,
  TOB_PRUNE_BATCH,
} from "./common/limits.js";
import { decodeMessage } from "./tob/core/index.js";
import type { Logger } from "./log.js";
import { NO_METRICS, NodeMetrics, type MetricsHooks } from "./metrics.js";
import { PartitionSync } from "./partition-sync.js";
import { askOrder, HistoryBackfill } from "./history-backfill.js";
import { keyPath } from "./store/core/path.js";
import { SnapshotMaker } from "./snapshot/snapshot-maker.js";
import { abandonInstall, storeMissing, syncFromSnapshot } from "./snapshot/snapshot-sync.js";
import { beginResync, resyncPending, SNAPSHOTS_DIR } from "./snapshot/resync-marker.js";
import { ResyncWatch } from "./resync-watch.js";
import { vouchQuorum } from "./ledger/snapshot-statement.js";
import { GasWeigher } from "./gas-weigher.js";
import { leaderPackingFromEnv } from "./node-env.js";

export { NODE_VERSION } from "./client-api.js";
export type { Byzantine } from "./byzantine.js";

export interface NodeOptions {
  readonly genesis: Genesis;
  readonly id: number;
  readonly key: KeyPair;
  readonly dataDir: string;
  /** host:port to listen on (defaults to the genesis address) */
  readonly listen?: string;
  readonly tickMs?: number;
  readonly log: Logger;
  /** host:port of the Prometheus metrics HTTP server (port 0: any free one); none when absent */
  readonly metricsListen?: string;
  /** host:port of the browser API (node/web-api.ts; port 0: any free one); none when absent */
  readonly webListen?: string;
  /** origins whose pages may call the browser API */
  readonly webOrigins?: readonly string[];
  /**
   * For a node added after genesis (`arbor member add`): its address and prefixes as its MEMBER
   * request gave them. Until the node has applied that request's block it follows the chain
   * without voting. Ignored for a genesis member.
   */
  readonly member?: { readonly address: string; readonly prefixes: readonly string[] };
  /** TLS on the gRPC port, for clients and peers (node/net/tls.ts); plaintext when absent */
  readonly tls?: NodeTls;
  /** catch up before serving clients (`arbor node --join`, node/join-gate.ts) */
  readonly join?: boolean;
  /**
   * Called once when the node finds itself behind every peer's block retention (node/resync-watch.ts):
   * whoever runs it closes it, calls beginResync on its data directory and starts it again
   * (node/main.ts). Without it the node only logs the finding.
   */
  readonly onBehind?: () => void;
  /** Test-only misbehaviour (node/byzantine.ts). Never set in production. */
  readonly byzantine?: Byzantine;
}

/** A joining node logs how far it has come at most this often. */
const JOIN_LOG_MS = 5_000;

export class ArborNode {
  /** this node's member record: from the genesis, the stored membership, or `member` (a joiner) */
  me: GenesisNode;
  readonly chain: Uint8Array;
  port = 0;
  /** the metrics HTTP port once started (0 when metrics are off) */
  metricsPort = 0;
  /** the browser API's HTTP port once started (0 when it is off) */
  webPort = 0;
  private server: grpc.Server | null = null;
  private web: WebApi | null = null;
  private metrics: NodeMetrics | null = null;
  /** grpc.health.v1.Health: NOT_SERVING until the node serves, and again once it is closing */
  private readonly health = new HealthService({ "": "NOT_SERVING", [Arbor.typeName]: "NOT_SERVING" });
  /** GetChunk calls whose reply is not taken yet (PartitionSync's serving bound). */
  private readonly unfinishedChunks = new UnfinishedCalls(new Set([`/${Arbor.typeName}/GetChunk`]), {
    takeTimeoutMs: REPLY_TAKE_TIMEOUT_MS,
  });
  /** The other calls whose replies may be large, weighed while not taken (ClientApiDeps.replyRoom). */
  private readonly untakenReplies = new UnfinishedCalls(
    new Set(
      ["Get", "List", "History", "GetBlockReceipts", "GetSnapshot"].map((m) => `/${Arbor.typeName}/${m}`),
    ),
    { weigh: true, takeTimeoutMs: REPLY_TAKE_TIMEOUT_MS },
  );
  private net!: PeerNet;
  private tob!: TobShell;
  private store!: LevelStore;
  private meta!: Level<Uint8Array, Uint8Array>;
  private certifier!: HeaderCertifier;
  private certification!: Certification;
  private pipeline!: BlockPipeline;
  /** Consensus messages from peers; gossiped requests enter the pool only if well signed. */
  private gossip!: GossipGate;
  /** takes on prefixes this node's record names and its tree lacks; serves chunks of the others */
  private sync: PartitionSync | null = null;
  private snapshots!: SnapshotMaker;
  /** The pruning of old consensus blocks under way (pruneBlocks); close waits for it. */
  private blockPruning: Promise<void> | null = null;
  private receiptStore!: ReceiptStore;
  private readonly receipts = new ReceiptBook(
    (receipt) => signWith(this.opts.key, receiptSigningMessage(receipt)),
    // A request the ledger knows no block has carried yet has no stored receipt: the store is not
    // read (each wait for a fresh request cost the node a LevelDB miss).
    (id) => (this.awaitsBlock(id) ? Promise.resolve(undefined) : this.receiptStore.receipt(id)),
  );
  private awaitsBlock: (requestId: Uint8Array) => boolean = () => false;
  private readonly evidence = new EvidenceBook();
  /** Evidence warnings written per minute (a flood of equivocations would flood the log). */
  private readonly evidenceLog = new LogBudget(EVIDENCE_LOG_LINES_PER_MINUTE, 60_000);
  /** Weighs the requests our proposals carry, learning from applied blocks (node/gas-weigher.ts). */
  private readonly weigher = new GasWeigher((op) => this.moduleBytes(op));
  private moduleBytes: (opKey: string) => number | undefined = () => undefined;
  private readonly reads = new ReadGate(() => this.height);
  private closing = false;
  private closed: Promise<void> | null = null;
  private readonly joinGate: JoinGate;
  private joinTimer: NodeJS.Timeout | null = null;
  /** Channels to the peers' client API while joining (their Status), closed once it serves. */
  private joinPeers: ApiClients | null = null;
  private resyncWatch: ResyncWatch | null = null;
  private backfill: HistoryBackfill | null = null;
  /** Members that refused this node's peer streams as a non-member (refusedAsNonMember). */
  private readonly refusedBy = new Set<number>();
  /** The applied height when a refusal was last looked at, and since when it has not moved. */
  private refusedAt = { height: -1n, since: 0 };

  constructor(readonly opts: NodeOptions) {
    const me =
      opts.genesis.nodes.find((n) => n.id === opts.id) ??
      (opts.member && { id: opts.id, publicKey: opts.key.publicKey, ...opts.member });
    if (!me)
      throw new ArborError(
        "node/unknown-id",
        `node ${opts.id} is not in the genesis (a node added later needs "member" in its config)`,
      );
    if (!bytesEqual(me.publicKey, opts.key.publicKey))
      throw new ArborError("node/wrong-key", `the key does not belong to node ${opts.id}`);
    this.me = me;
    this.chain = chainId(opts.genesis);
    // A node re-syncing (stopped before it installed a snapshot) holds clients off as a joiner does.
    this.joinGate = new JoinGate(opts.join === true || resyncPending(opts.dataDir));
  }

  /**
   * The height the tree in memory is at: that of the newest applied block with a header. It moves
   * with the tree, synchronously, before the block is on disk: a GET answered while the commit is
   * being written must pair the new root with the new height (the block is deterministic: if the
   * node crashes, it re-applies to the same root).
   */
  get height(): bigint {
    return this.pipeline?.view.height ?? 0n;
  }

  /** The root after the last applied block (never a state inside a block being applied). */
  get root(): Uint8Array {
    return this.pipeline?.view.root ?? new Uint8Array(32);
  }

  async start(): Promise<void> {
    installNodeSha256();
    // Before any database is opened: a directory of another format or chain is refused untouched.
    if (openDataDir(this.opts.dataDir, this.chain) === "created")
      this.opts.log.info("new data directory", { dir: this.opts.dataDir });
    this.metrics = this.openMetrics();
    if (resyncPending(this.opts.dataDir)) await this.resync();
    else if (this.joinGate.isJoining && storeMissing(this.opts.dataDir)) await this.syncSnapshot();
    // Killed while installing a snapshot and restarted without --join: the half-written databases
    // go, and the node starts from the genesis.
    else await abandonInstall(this.opts.dataDir);
    if (this.closing) return;
    const { ledger, m, took } = await this.openState();
    this.awaitsBlock = (id) => ledger.awaitsBlock(id);
    this.moduleBytes = (op) => ledger.moduleBytes(op);
    this.opts.log.info("state loaded", { height: this.store.height, ...took });
    this.snapshots = await SnapshotMaker.open({
      dir: join(this.opts.dataDir, SNAPSHOTS_DIR),
      chain: this.chain,
      signer: this.me.id,
      sign: (msg) => signWith(this.opts.key, msg),
      interval: snapshotIntervalFromEnv(),
      view: () => this.store.view(),
      consensus: {
        epoch: (e) => this.tob.snapshotEpoch(e),
        blocks: (from, to) => this.tob.blocks(from, to),
        fresh: (from, to) => this.tob.freshDigests(from, to),
      },
      written: (oldest) => this.pruneBlocks(oldest),
      log: this.opts.log,
    });
    this.gossip = new GossipGate(
      (r) => ledger.signedAlright(r),
      (from, bytes) => this.tob.message(from, bytes),
      GOSSIP_CHECK_SLICE,
      (reason) => this.hooks.peerRefused(reason),
    );
    const prev = await this.openCertifier(m);
    this.net = new PeerNet({
      chain: this.chain,
      self: this.opts.key,
      peers: m.holders().filter((n) => n.id !== this.me.id),
      credentials: peerCredentials(this.opts.tls),
      isAllowed: (hex) => m.allows(hex),
      onNotMember: (hex) => this.refusedAsNonMember(hex, m),
      onFrame: (from, channel, payload) => this.onFrame(from, channel, payload),
      log: (msg, f) => this.opts.log.debug(msg, f),
      onRefused: (reason) => this.hooks.peerRefused(reason),
    });
    this.certification = new Certification({
      me: this.me,
      idOfKey: (hex) => m.idOfKey(hex),
      net: this.net,
      certifier: this.certifier,
      receiptStore: this.receiptStore,
      appliedHeight: () => this.pipeline.appliedHeight,
      log: this.opts.log,
    });
    this.pipeline = this.openPipeline(ledger, m, prev);
    this.sync = new PartitionSync({
      store: this.store,
      selfId: this.me.id,
      holders: () => m.holders(),
      height: () => this.height,
      between: (f) => this.between(f),
      credentials: peerCredentials(this.opts.tls),
      log: this.opts.log,
      unfinished: this.unfinishedChunks,
    });
    this.backfill = new HistoryBackfill({
      store: this.store,
      index: () => ledger.index,
      unsaved: () => this.pipeline.unsavedChanges,
      holds: (k) => this.store.history.partition.holdsKey(keyPath(k)),
      holders: askOrder(() => m.holders(), this.me.id),
      partition: () => this.store.history.partition.prefixes.map((p) => `${p.bits}:${toHex(p.path)}`).join(),
      genesisKeys: new Set(genesisRecords(this.opts.genesis).map((r) => r.key)),
      syncedHeight: () => this.receiptStore.syncedHeight,
      credentials: peerCredentials(this.opts.tls),
      log: this.opts.log,
    });
    await this.openConsensus(m);
    const listen = await this.serve(ledger, m);
    if (this.metrics && this.opts.metricsListen)
      this.metricsPort = await this.metrics.listen(this.opts.metricsListen);
    this.net.start();
    this.certification.start();
    this.tob.start((e) => {
      this.opts.log.error("consensus storage failed; stopping", { error: String(e) });
      void this.close().finally(() => process.exit(70));
    });
    if (this.joinGate.isJoining) this.watchJoin(m);
    else this.serving();
    if (m.left(this.me.id))
      this.leave("this node left the membership before this start (removed or evicted)");
    this.watchRetention(m);
    // A record naming more than the store holds (a repair before a restart, a store reopened
    // mid-acquisition): take it on. A no-op when the tree lacks nothing.
    this.sync.want(this.me.prefixes);
    this.opts.log.info(
      this.joinGate.isJoining ? "node started; catching up before serving" : "node started",
      {
        id: this.me.id,
        listen,
        ...(this.metricsPort > 0
          ? { metrics: this.opts.metricsListen!.replace(/\d+$/, String(this.metricsPort)) }
          : {}),
        ...(this.webPort > 0 ? { web: this.opts.webListen!.replace(/\d+$/, String(this.webPort)) } : {}),
        height: this.height,
        root: toHex(this.root),
        prefixes: this.me.prefixes,
      },
    );
  }

  /**
   * A joining node without a store: its store from a snapshot its peers vouch for
   * (node/snapshot/), or, when there is none, from the genesis (every block is then replayed).
   */
  private async syncSnapshot(otherwise = "replaying every block instead"): Promise<void> {
    const log = this.opts.log;
    const t0 = Date.now();
    try {
      const out = await syncFromSnapshot({
        dataDir: this.opts.dataDir,
        chain: this.chain,
        genesis: this.opts.genesis,
        peers: this.opts.genesis.nodes.filter((n) => n.id !== this.me.id),
        credentials: peerCredentials(this.opts.tls),
        partition: new Partition(this.me.prefixes),
        verifier,
        log,
      });
      if (out.synced)
        log.info("store installed from a snapshot", { height: out.height, ms: Date.now() - t0 });
      else log.warn(`no snapshot to sync from; ${otherwise}`, { reason: out.reason });
    } catch (e) {
      await abandonInstall(this.opts.dataDir);
      log.warn(`snapshot sync failed; ${otherwise}`, { error: String(e) });
    }
  }

  /**
   * A node behind its peers' block retention: nothing but a snapshot brings it back (its peers no
   * longer hold the blocks a replay needs), so it tries until one is installed or it is closed.
   */
  private async resync(): Promise<void> {
    for (;;) {
      await beginResync(this.opts.dataDir);
      await this.syncSnapshot(`re-syncing: trying again in ${RESYNC_RETRY_MS} ms`);
      if (!resyncPending(this.opts.dataDir) || this.closing) return;
      await new Promise((r) => setTimeout(r, RESYNC_RETRY_MS));
      if (this.closing) return;
    }
  }

  /** Watches for the node falling behind every peer's block retention (node/resync-watch.ts). */
  private watchRetention(m: Membership): void {
    this.resyncWatch = new ResyncWatch({
      peers: () => m.holders().filter((n) => n.id !== this.me.id),
      needed: () => this.peersNeeded(m),
      applied: () => this.pipeline.appliedHeight,
      credentials: peerCredentials(this.opts.tls),
      log: this.opts.log,
      onBehind: () => this.opts.onBehind?.(),
    });
    this.resyncWatch.start();
  }

  /**
   * Deletes consensus blocks older than the retention once a snapshot below the cut exists (with
   * the blocks it carries): a node that lost its disk syncs from the snapshot, a peer behind by less
   * than the retention still catches up block by block. In the background, a batch at a time.
   */
  private pruneBlocks(oldestSnapshot: bigint): void {
    if (this.blockPruning !== null || this.closing) return;
    // Kept: the newest blocks within both retentions, the one in heights and the one in bytes.
    const byHeights = this.pipeline.appliedHeight - blockRetentionFromEnv();
    const byBytes = BigInt(this.tob.retainedFloor);
    const byRetention = byBytes > byHeights ? byBytes : byHeights;
    // The blocks after the oldest kept snapshot stay: a node that installs it catches up from
    // there. Its consensus position (the blocks and delivered digests below its height) is in the
    // snapshot file, written before this is called, so the log need not keep it.
    const bySnapshot = oldestSnapshot + 1n;
    const floor = byRetention < bySnapshot ? byRetention : bySnapshot;
    if (floor <= 1n) return;
    this.blockPruning = (async () => {
      let pruned = 0;
      for (let n = TOB_PRUNE_BATCH; n === TOB_PRUNE_BATCH && !this.closing; pruned += n)
        n = await this.tob.pruneBelow(Number(floor));
      if (pruned > 0) this.opts.log.info("old consensus blocks pruned", { below: floor, blocks: pruned });
    })()
      .catch((e) => this.opts.log.warn("pruning consensus blocks failed", { error: String(e) }))
      .finally(() => (this.blockPruning = null));
  }

  /** How many peers' word a decision taken from them needs: f+1 of the validators in force next. */
  private peersNeeded(m: Membership): number {
    return vouchQuorum(m.validatorsAt(this.pipeline.appliedHeight + 1n).length);
  }

  /**
   * A peer refused this node's stream as a non-member. A node removed or evicted while it was down
   * never applies the block that says so (its peers no longer talk to it); once f+1 current
   * members by its own state have refused it — one of them correct — and it has applied nothing
   * for RESYNC_CHECK_MS, it knows it left. (A member whose peers lag behind the block that added
   * it is refused too, but it goes on applying blocks from the others.) Refusals come again with
   * every redial, so the condition is looked at again until it holds.
   */
  private refusedAsNonMember(hex: string, m: Membership): void {
    if (this.joinGate.hasLeft || m.node(this.me.id) === undefined || m.left(this.me.id)) return;
    const id = m.idOfKey(hex);
    if (id === undefined || m.left(id)) return;
    this.refusedBy.add(id);
    const applied = this.pipeline.appliedHeight;
    if (applied !== this.refusedAt.height) this.refusedAt = { height: applied, since: Date.now() };
    if (this.refusedBy.size >= this.peersNeeded(m) && Date.now() - this.refusedAt.since >= RESYNC_CHECK_MS)
      this.leave(
        `members ${[...this.refusedBy].sort((a, b) => a - b).join(", ")} refuse this node's peer streams ` +
          "as a non-member: it was removed or evicted while it was down",
      );
  }

  /**
   * No longer a member (node/join-gate.ts): its peers refuse it, so it answers clients nothing but
   * Status and Genesis from now on rather than an ever older state. The process keeps running for
   * its operator to see why in Status and the log.
   */
  private leave(because: string): void {
    this.joinGate.leave(because);
    this.setHealth("NOT_SERVING");
    void this.backfill?.close();
    // Nothing it lacks is its to hold any more: stop taking prefixes on.
    this.sync?.stop();
    this.opts.log.warn(`${because}: its peers refuse it and it serves no client; stop it`, {
      id: this.me.id,
    });
  }

  /** Serving: healthy, and the key histories it lacks are read back from other holders. */
  private serving(): void {
    if (this.joinGate.hasLeft) return;
    this.setHealth("SERVING");
    this.backfill?.start();
  }

  /** Until the node has caught up, clients are refused (JoinGate); then it serves. */
  private watchJoin(m: Membership): void {
    let lastLog = Date.now();
    let asking = false;
    const peers = new ApiClients(peerCredentials(this.opts.tls));
    this.joinPeers = peers;
    // Caught up by its consensus, the node also asks its peers how high the cluster is (the
    // consensus's flag can come early: node/join-gate.ts, clusterHeightFloor).
    const nearPeers = async (): Promise<boolean> => {
      const others = m.holders().filter((n) => n.id !== this.me.id);
      if (others.length === 0) return true; // alone: nobody to be behind
      const replies = await peerStatuses(peers, others);
      const floor = clusterHeightFloor(
        replies.filter((r) => r !== null).map((r) => r!.height),
        this.peersNeeded(m),
      );
      return nearCluster(this.height, floor);
    };
    this.joinTimer = setInterval(() => {
      if (asking) return;
      const s = this.tob.status();
      const p = {
        caughtUp: s.caughtUp,
        committedHeight: BigInt(s.committedHeight),
        appliedHeight: this.pipeline.appliedHeight,
      };
      if (joined(p)) {
        asking = true;
        void nearPeers()
          .then((near) => {
            if (!near || this.joinTimer === null) return;
            clearInterval(this.joinTimer);
            this.joinTimer = null;
            peers.close();
            this.joinPeers = null;
            this.joinGate.open();
            this.serving();
            this.opts.log.info("caught up; serving clients", { height: this.height });
          })
          .catch(() => undefined)
          .finally(() => (asking = false));
      } else if (Date.now() - lastLog >= JOIN_LOG_MS) {
        lastLog = Date.now();
        this.opts.log.info("catching up", {
          applied: String(p.appliedHeight),
          committed: String(p.committedHeight),
          caughtUp: p.caughtUp,
        });
      }
    }, JOIN_CHECK_MS);
  }

  private get hooks(): MetricsHooks {
    return this.metrics ?? NO_METRICS;
  }

  /** The metrics, when configured; their gauges read the parts below at scrape time. */
  private openMetrics(): NodeMetrics | null {
    if (this.opts.metricsListen === undefined) return null;
    return new NodeMetrics({
      appliedHeight: () => this.pipeline?.appliedHeight ?? 0n,
      consensusRound: () => this.tob?.status().round ?? 0,
      peersConnected: () => this.net?.connectedPeers().length ?? 0,
      peerFramesDropped: () => this.net?.droppedFrames() ?? 0,
      syncStubsRemaining: () => this.sync?.remaining ?? 0,
      newestSnapshot: () => {
        const o = this.snapshots?.offers[0];
        return { height: o?.height ?? 0n, bytes: o?.totalBytes ?? 0n };
      },
      dataDir: this.opts.dataDir,
    });
  }

  private setHealth(status: "SERVING" | "NOT_SERVING"): void {
    this.health.setStatus("", status);
    this.health.setStatus(Arbor.typeName, status);
  }

  /** The store, the validator schedule it holds, and the ledger over them. */
  private async openState(): Promise<{ ledger: Ledger; m: Membership; took: Record<string, number> }> {
    const g = this.opts.genesis;
    const genesis = genesisRecords(g);
    const t0 = Date.now();
    this.store = await LevelStore.open(join(this.opts.dataDir, DATA_DATABASES.store), {
      partition: new Partition(this.me.prefixes),
      T: g.T,
      genesis,
    });
    const t1 = Date.now();
    const decided = await loadDecidedIds(this.store);
    const code = await loadCodeBook(this.store, genesis);
    const t2 = Date.now();
    const index = await loadIndex(this.store, genesis);
    const t3 = Date.now();
    const stored = await this.store.extra(SCHEDULE_EXTRA_KEY);
    const state = await this.store.extra(MEMBERS_EXTRA_KEY);
    const m = new Membership(
      g.nodes,
      stored ? decodeSchedule(stored) : undefined,
      state ? decodeMemberState(state) : undefined,
    );
    this.adoptRecord(m);
    const ledger = new Ledger(
      this.store.history,
      createExecutor(),
      verifier,
      {
        chain: this.chain,
        get members() {
          return m.members();
        },
        validatorsAt: (h) => m.validatorsAt(h),
        epochValidators: (e) => m.epochKeys(e),
        refuseEviction: (h, ids) => m.refuseEviction(h, ids),
        verifier,
        membership: {
          recordIds: () => m.recordIds(),
          evictedIds: () => m.evicted(),
          everUsed: (id, hex) => m.everUsed(id, hex),
          replication: g.replication,
          ...(g.governance ? { governance: g.governance } : {}),
          refuseChange: (h, add, remove) => m.refuseChange(h, add, remove),
        },
      },
      { chain: this.chain, height: this.store.height, decided, ...code, index },
    );
    // Where a start's time goes (a node synced at 100,000 records took seconds here).
    const took = { storeMs: t1 - t0, decidedAndCodeMs: t2 - t1, indexMs: t3 - t2, ledgerMs: Date.now() - t3 };
    return { ledger, m, took };
  }

  /**
   * Takes this node's record from the membership when it has one (its prefixes may have grown by
   * a repair; a joiner's record is there once its MEMBER request applied).
   */
  private adoptRecord(m: Membership): void {
    const rec = m.node(this.me.id);
    if (!rec) return;
    if (!bytesEqual(rec.publicKey, this.opts.key.publicKey))
      throw new ArborError("node/wrong-key", `the key does not belong to node ${this.me.id}`);
    this.me = rec;
  }

  /** After a block that changed the membership: dial added members, take on new prefixes. */
  private membershipChanged(o: MemberOutcome): void {
    for (const n of o.added) if (n.id !== this.me.id) this.net.addPeer(n);
    const mine = o.records.find((n) => n.id === this.me.id);
    if (mine) {
      const held = this.store.partition.toStrings();
      if (!o.added.some((n) => n.id === this.me.id))
        this.opts.log.info("this node's prefixes changed", { prefixes: mine.prefixes });
      else if (held.join(",") !== mine.prefixes.join(","))
        this.opts.log.warn("this node's record names other prefixes than its config: taking them on", {
          record: mine.prefixes,
          held,
        });
      this.me = mine;
      // New prefixes (a repair, or a record naming more than the store holds): fetched from their
      // holders between blocks (node/partition-sync.ts).
      this.sync?.want(mine.prefixes);
    }
  }

  /** The certifier and receipt store, resumed; returns the newest header the chain goes on from. */
  private async openCertifier(m: Membership): Promise<Header | undefined> {
    this.meta = new Level<Uint8Array, Uint8Array>(join(this.opts.dataDir, DATA_DATABASES.meta), {
      keyEncoding: "view",
      valueEncoding: "view",
      cacheSize: META_DB_CACHE_BYTES,
      writeBufferSize: META_DB_WRITE_BUFFER_BYTES,
    });
    await this.meta.open();
    this.receiptStore = new ReceiptStore(this.store);
    await this.receiptStore.load();
    this.certifier = new HeaderCertifier(this.meta, this.me.id, (h) => m.validatorsAt(h), verifier);
    await this.certifier.load(this.receiptStore.floor(this.store.height), this.store.height);
    // The hash chain goes on from the node's own newest header, stored with its block (a store
    // written before headers were stored has only the certificate, if any).
    const own = await this.receiptStore.newestHeader(this.store.height, CERT_PENDING_HEIGHTS);
    const prev = own ?? (await this.certifier.get(this.store.height))?.header;
    await resumeCertification(this.certifier, this.receiptStore, this.store.height, {
      id: this.me.id,
      key: this.opts.key,
    });
    return prev;
  }

  private openPipeline(ledger: Ledger, m: Membership, prev: Header | undefined): BlockPipeline {
    return new BlockPipeline(
      {
        chain: this.chain,
        me: this.me,
        key: this.opts.key,
        store: this.store,
        ledger,
        membership: m,
        certifier: this.certifier,
        receiptStore: this.receiptStore,
        receipts: this.receipts,
        reads: this.reads,
        setValidators: (fromHeight, keys) => this.tob.setValidators(fromHeight, keys),
        membershipChanged: (o) => this.membershipChanged(o),
        signed: (s) => this.certification.send(s),
        log: this.opts.log,
        metrics: this.hooks,
        gasSeen: (requests, receipts) => this.weigher.learn(requests, receipts),
        retention: retentionOf(this.opts.genesis),
        committed: (height, previous, epoch) => {
          this.snapshots.committed(height, previous, epoch);
          if (!this.joinGate.hasLeft && m.left(this.me.id))
            this.leave(`this node left the membership at height ${height} (removed or evicted)`);
        },
      },
      {
        view: {
          root: this.store.history.rootLabel,
          timestamp: BigInt(this.store.history.now),
          height: prev?.height ?? this.store.height,
        },
        lastHeaderHash: prev ? headerHash(prev) : new Uint8Array(32),
      },
    );
  }

  private async openConsensus(m: Membership): Promise<void> {
    const g = this.opts.genesis;
    const log = this.opts.log;
    this.tob = await TobShell.open({
      dir: join(this.opts.dataDir, DATA_DATABASES.consensus),
      core: {
        networkId: this.chain,
        signer: { publicKey: this.opts.key.publicKey, sign: (msg) => signWith(this.opts.key, msg) },
        verifier,
        genesisValidators: [...g.nodes].sort((a, b) => a.id - b.id).map((n) => n.publicKey),
        fillRequests: TOB_FILL_REQUESTS,
        ...(leaderPackingFromEnv() === "weighed" ? { weigher: this.weigher } : {}),
        ...retainedBlocksFromEnv(),
      },
      tickMs: this.opts.tickMs ?? 50,
      retentionBytes: Number(positiveFromEnv("ARBOR_BLOCK_RETENTION_BYTES", TOB_BLOCK_RETENTION_BYTES)),
      appliedHeight: Number(this.store.height),
      send: (to, bytes, bulk) => this.sendConsensus(to, bytes, bulk),
      deliver: (d) => this.pipeline.apply(d),
      onEvidence: (e) => {
        const kept = this.evidence.add(e, (hex) => m.idOfKey(hex));
        this.hooks.peerRefused(`evidence/${e.kind}`);
        // A flood of equivocations would flood the log: the first few per minute are written.
        if (this.evidenceLog.allow(Date.now()))
          log.warn("consensus evidence", {
            kind: e.kind,
            signer: e.signer,
            round: e.round,
            kept,
            suppressed: this.evidenceLog.takeSuppressed(),
          });
      },
      onRefused: (code) => this.hooks.peerRefused(code),
      log: (msg, f) => log.warn(msg, f),
    });
    // The store and the consensus persist a validator-set change separately (the store with the
    // block that decided it, the consensus on its next step): re-announce every change the store
    // knows, so one lost to a crash in between is scheduled again; the others are no-ops.
    for (const e of m.schedule.slice(1)) this.tob.setValidators(Number(e.fromHeight), m.epochKeysOf(e), true);
  }

  /** Binds the client API and the peer service; returns the address listened on. */
  private async serve(ledger: Ledger, m: Membership): Promise<string> {
    const api = new ClientApi({
      genesis: this.opts.genesis,
      chain: this.chain,
      me: () => this.me,
      key: this.opts.key,
      store: this.store,
      ledger,
      tob: this.tob,
      net: this.net,
      certifier: this.certifier,
      receipts: this.receipts,
      receiptStore: this.receiptStore,
      evidence: this.evidence,
      membership: m,
      reads: this.reads,
      view: () => this.pipeline.view,
      closing: () => this.closing,
      joining: () => this.joinGate.isJoining,
      left: () => this.joinGate.hasLeft,
      byzantine: this.opts.byzantine,
      metrics: this.hooks,
      chunks: this.sync!,
      snapshots: this.snapshots,
      replyRoom: (host) => this.untakenReplies.room(host, UNTAKEN_REPLY_BYTES, UNTAKEN_REPLY_BYTES_PER_HOST),
      queries: new QueryApi({
        ledger,
        reads: this.reads,
        view: () => this.pipeline.view,
        history: new HistoryReader(this.store, genesisRecords(this.opts.genesis)),
        store: this.store,
        changesFrom: () => this.receiptStore.syncedHeight + 1n,
        unsaved: () => this.pipeline.unsavedChanges,
        byzantine: this.opts.byzantine,
      }),
    });
    const server = new grpc.Server({
      ...CHANNEL_OPTIONS,
      interceptors: [this.unfinishedChunks.interceptor(), this.untakenReplies.interceptor()],
    });
    raiseServerHttp2Limits(server);
    const handlers = this.joinGate.wrap(api.service());
    const arbor = tolerantDefinition(Arbor);
    server.addService(arbor, refuseUndecodable(arbor, handlers));
    this.health.addToServer(server);
    const peer = this.net.service();
    server.addService(peer.definition, peer.implementation);
    const listen = this.opts.listen ?? this.me.address;
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(listen, serverCredentials(this.opts.tls), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );
    this.server = server;
    if (this.opts.webListen !== undefined) {
      this.web = new WebApi({ handlers, origins: this.opts.webOrigins ?? [] });
      this.webPort = await this.web.listen(this.opts.webListen);
    }
    return listen;
  }

  /** Runs `f` once no block is being applied (the tree is between blocks), soon after. */
  private between(f: () => void): void {
    this.reads.admit(0n, f, () => setTimeout(() => this.between(f), 50).unref());
  }

  private sendConsensus(to: readonly string[], bytes: Uint8Array, bulk: boolean): void {
    if (failpointsArmed) {
      const kind = decodeMessage(bytes).kind;
      if (kind === "proposal" || kind === "vote") failpoint(kind);
    }
    const sign = (msg: Uint8Array) => signWith(this.opts.key, msg);
    // Test-only equivocation: every peer gets the honest message first, then the conflicting one.
    const out =
      this.opts.byzantine === "double-vote"
        ? withDoubleVote(bytes, this.chain, sign)
        : this.opts.byzantine === "double-propose"
          ? withDoubleProposal(bytes, this.chain, sign)
          : [bytes];
    for (const b of out) for (const p of to) this.net.send(p, CHANNEL_CONSENSUS, b, bulk);
  }

  private onFrame(from: string, channel: number, payload: Uint8Array): void {
    if (channel === CHANNEL_CONSENSUS) this.gossip.take(from, payload);
    else if (channel === CHANNEL_LEDGER) this.certification.onFrame(from, payload);
  }

  /** Closes the node; a second call waits for the first to finish. */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    if (this.joinTimer) clearInterval(this.joinTimer);
    this.joinTimer = null;
    this.joinPeers?.close();
    this.resyncWatch?.close();
    this.setHealth("NOT_SERVING");
    // A graceful gRPC shutdown waits for every open call, and some never end on their own: the
    // peers' streams (they redial), receipt waits (up to a minute), subscriptions, health watches
    // (told NOT_SERVING first). Close those
    // first, give in-flight calls a short bounded grace, then cut what is left. Consensus and the
    // store close after: the block being applied is committed before they do.
    this.certification?.stop();
    this.sync?.stop();
    this.net?.close();
    this.gossip?.close();
    await this.metrics?.close();
    await this.web?.close();
    this.receipts.close();
    this.certifier?.releaseWaiters();
    const server = this.server;
    if (server) {
      let timer: NodeJS.Timeout | undefined;
      const graceful = await Promise.race([
        new Promise<boolean>((r) => server.tryShutdown(() => r(true))),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), NODE_SHUTDOWN_GRACE_MS))),
      ]);
      clearTimeout(timer);
      if (!graceful) server.forceShutdown();
    }
    await this.blockPruning;
    await this.backfill?.close();
    await this.snapshots?.close();
    await this.tob?.close();
    await this.pipeline?.settled();
    await this.certifier?.flushed();
    await this.store?.close();
    await this.meta?.close();
    this.opts.log.info("node stopped", { id: this.me.id });
  }
}

/** SNAPSHOT_INTERVAL_BLOCKS, or ARBOR_SNAPSHOT_INTERVAL when set (tests snapshot more often). */
function snapshotIntervalFromEnv(): bigint {
  return positiveFromEnv("ARBOR_SNAPSHOT_INTERVAL", SNAPSHOT_INTERVAL_BLOCKS);
}

/** TOB_BLOCK_RETENTION_BLOCKS, or ARBOR_BLOCK_RETENTION when set (tests prune sooner). */
function blockRetentionFromEnv(): bigint {
  return positiveFromEnv("ARBOR_BLOCK_RETENTION", TOB_BLOCK_RETENTION_BLOCKS);
}

function positiveFromEnv(name: string, otherwise: number): bigint {
  const v = process.env[name];
  if (v === undefined || v === "") return BigInt(otherwise);
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new ArborError("node/bad-env", `${name} must be a positive integer`);
  return BigInt(n);
}

/**
 * A test knob: ARBOR_TOB_RETAINED_BLOCKS lowers the delivered blocks the consensus keeps in memory
 * (docs/consensus.md), so a test reaches catch-up from storage without committing a thousand blocks.
 */
function retainedBlocksFromEnv(): { retainedBlocks?: number } {
  const v = process.env["ARBOR_TOB_RETAINED_BLOCKS"];
  if (v === undefined || v === "") return {};
  const n = Number(v);
  if (!Number.isInteger(n) || n < TOB_MAX_SYNC_BLOCKS)
    throw new ArborError(
      "node/bad-env",
      `ARBOR_TOB_RETAINED_BLOCKS must be an integer ≥ ${TOB_MAX_SYNC_BLOCKS}`,
    );
  return { retainedBlocks: n };
}
