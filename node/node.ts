// An Arbor node: wires the store, the executor, the ledger and the consensus into one process
// and serves the client API and the peer streams on one gRPC port. Committed blocks are applied
// in order; after each one the node commits its store with the block's receipts and its own
// header (one batch; the consensus log, fsync'd before delivery, is what makes the block durable),
// signs the header, and gathers the header's certificate from its
// peers — re-sending its signature and fetching missed certificates until every height it applied
// is certified here, across restarts.

import * as grpc from "@grpc/grpc-js";
import { Level } from "level";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import {
  Arbor,
  ExecuteAckSchema,
  GetReplySchema,
  GetRequestSchema,
  TaggedGetReplySchema,
  type GetReply,
  type TaggedGetRequest,
  type TaggedGetReply,
  HeadersReplySchema,
  SignedReceiptSchema,
  StatusReplySchema,
  GenesisReplySchema,
  EvidenceReplySchema,
  type ExecuteAck,
  type ExecuteRequest,
  type GetRequest,
  type HeadersRequest,
  type ReceiptQuery,
  type ReceiptSubscription,
  type SignedReceipt,
} from "../proto/gen/arbor/v1/client_pb.js";
import { CHANNEL_OPTIONS, grpcError, raiseServerHttp2Limits, serviceDefinition } from "../proto/grpc.js";
import { CHANNEL_CONSENSUS, CHANNEL_LEDGER, PeerNet } from "./net/peer-net.js";
import { bytesEqual, fromHex, toHex } from "./common/bytes.js";
import { ArborError } from "./common/errors.js";
import {
  ADMISSION_BATCH_REQUESTS,
  APPLY_SLICE_MS,
  APPLY_STEP_REQUESTS,
  MAX_DEFERRED_GETS,
  MAX_GET_HEIGHT_WAITERS,
  MAX_GET_WAIT_MS,
  MAX_STREAM_GETS,
  MAX_HEADER_WAIT_MS,
  MAX_RECEIPT_WAIT_MS,
  MAX_TOUCHED_KEYS,
  NODE_SHUTDOWN_GRACE_MS,
  CERT_PENDING_HEIGHTS,
  CERT_RESEND_HEIGHTS,
  CERT_SYNC_HEADERS,
  CERT_SYNC_INTERVAL_MS,
  MAX_LEDGER_FRAME_BYTES,
  STORE_SYNC_EVERY_BLOCKS,
  TOB_FILL_REQUESTS,
} from "./common/limits.js";
import { installNodeSha256 } from "./platform.js";
import { LevelStore } from "./store/level-store.js";
import { Partition } from "./store/core/partition.js";
import { keyPath } from "./store/core/path.js";
import { prove, ProveError } from "./store/core/proof.js";
import { decodeProof, encodeProof } from "./store/core/proof-codec.js";
import type { ProofNode } from "./store/core/proof.js";
import { sha256 } from "./common/hash.js";
import { createExecutor } from "./exec/index.js";
import { nodeSignatureVerifier as verifier } from "./exec/host-crypto.js";
import { Ledger, type BlockOutcome } from "./ledger/ledger.js";
import { receiptSigningMessage } from "./ledger/receipt.js";
import {
  decodeCertifiedHeader,
  encodeCertifiedHeader,
  headerSigningMessage,
  headerHash,
  validatorsHash,
  type Header,
} from "./ledger/header.js";
import { encodeValidators } from "./ledger/validators-codec.js";
import { Membership, SCHEDULE_EXTRA_KEY, decodeSchedule, encodeSchedule } from "./membership.js";
import { ROOT_STATEMENT_DIGEST, encodeStatement, statementSigningMessage } from "./ledger/statement.js";
import { chainId, genesisToJson, genesisRecords, type Genesis, type GenesisNode } from "./ledger/genesis.js";
import { signWith, type KeyPair } from "./keys.js";
import { ReceiptBook, type ServedReceipt } from "./receipts.js";
import { decidedIdsSlot, encodeDecidedIds } from "./ledger/decided-ids.js";
import { loadDecidedIds } from "./decided-ids-store.js";
import { codeRecords, loadModules } from "./code-book-store.js";
import { ReceiptStore } from "./receipt-store.js";
import { failpoint, failpointsArmed } from "./failpoints.js";
import {
  LEDGER_CERT_REPLY,
  LEDGER_CERT_REQUEST,
  LEDGER_HEADER_SIG,
  decodeCertReply,
  decodeCertRequest,
  encodeCertReply,
  encodeCertRequest,
} from "./cert-sync.js";
import { HeaderCertifier, decodeHeaderSig, encodeHeaderSig } from "./certifier.js";
import { TobShell } from "./tob/shell.js";
import { stubRecords, withDoubleVote, type Byzantine } from "./byzantine.js";
import { EvidenceBook } from "./evidence-book.js";
import { decodeMessage, reconfigHeight, type Delivery } from "./tob/core/index.js";
import type { Logger } from "./log.js";

export const NODE_VERSION = "0.1.0";

export interface NodeOptions {
  readonly genesis: Genesis;
  readonly id: number;
  readonly key: KeyPair;
  readonly dataDir: string;
  /** host:port to listen on (defaults to the genesis address) */
  readonly listen?: string;
  readonly tickMs?: number;
  readonly log: Logger;
  /** Test-only misbehaviour (see Byzantine). Never set in production. */
  readonly byzantine?: Byzantine;
}

/** Test-only: the same proof with its first value altered, and the root that proof now has. */
function forgeProof(bytes: Uint8Array): { proof: Uint8Array; root: Uint8Array } {
  const alter = (n: ProofNode): ProofNode => {
    if (n.t === "internal") {
      const l = alter(n.left);
      return l !== n.left
        ? { t: "internal", left: l, right: n.right }
        : { t: "internal", left: n.left, right: alter(n.right) };
    }
    if (n.t === "leaf" && n.value !== null) {
      const value = new Uint8Array([...n.value, 0x66]);
      return { t: "leaf", keyHash: n.keyHash, valueHash: sha256(value), key: n.key, value };
    }
    return n;
  };
  const forged = encodeProof(alter(decodeProof(bytes).root));
  return { proof: forged, root: decodeProof(forged).rootLabel };
}

export class ArborNode {
  readonly me: GenesisNode;
  readonly chain: Uint8Array;
  private server: grpc.Server | null = null;
  private net!: PeerNet;
  private tob!: TobShell;
  private store!: LevelStore;
  private ledger!: Ledger;
  private meta!: Level<Uint8Array, Uint8Array>;
  private certifier!: HeaderCertifier;
  private receiptStore!: ReceiptStore;
  private readonly receipts = new ReceiptBook(
    (receipt) => signWith(this.opts.key, receiptSigningMessage(receipt)),
    (id) => this.receiptStore.receipt(id),
  );
  /** The background prune of old receipts and headers; the next commit waits for it. */
  private pruning: Promise<void> = Promise.resolve();
  private syncTimer: NodeJS.Timeout | null = null;
  /** Heights whose own signature was pending at the last sync tick, and the gap then. */
  private staleSigs = new Set<bigint>();
  private lastMissing = -1n;
  private syncTurn = 0;
  private readonly evidence = new EvidenceBook();
  private appliedHeight = 0n;
  private membership!: Membership;
  private lastHeaderHash: Uint8Array = new Uint8Array(32);
  private closing = false;
  /**
   * The state clients are served: the root and timestamp after the last applied block, and the
   * height of the newest header (an empty block has none and changes neither root nor timestamp,
   * so statements keep naming the height before it: every height a client is shown is certified).
   */
  private view: { root: Uint8Array; timestamp: bigint; height: bigint } = {
    root: new Uint8Array(32),
    timestamp: 0n,
    height: 0n,
  };
  /** A block is being applied (in slices): the tree is inside it, GETs wait for its end. */
  private applying = false;
  /** GETs that arrived while a block was being applied, answered when it ends. */
  private readonly deferredGets: Array<() => void> = [];
  /** The signed root statement of the current height (signedStatement). */
  private rootStatement: { height: bigint; statement: Uint8Array; signature: Uint8Array } | null = null;
  /** GETs among them waiting for a min_height (MAX_GET_HEIGHT_WAITERS). */
  private getHeightWaiters = 0;
  /** Requests admitted in this event-loop turn, submitted to the consensus together at its end. */
  private admitted: Uint8Array[] = [];
  private admittedFlush: NodeJS.Immediate | null = null;
  port = 0;

  constructor(readonly opts: NodeOptions) {
    const me = opts.genesis.nodes.find((n) => n.id === opts.id);
    if (!me) throw new ArborError("node/unknown-id", `node ${opts.id} is not in the genesis`);
    if (!bytesEqual(me.publicKey, opts.key.publicKey))
      throw new ArborError("node/wrong-key", `the key does not belong to node ${opts.id}`);
    this.me = me;
    this.chain = chainId(opts.genesis);
  }

  /**
   * The height the tree in memory is at: that of the newest applied block with a header. It moves
   * with the tree, synchronously, before the block is on disk: a GET answered while the commit is
   * being written must pair the new root with the new height (the block is deterministic: if the
   * node crashes, it re-applies to the same root).
   */
  get height(): bigint {
    return this.view.height;
  }

  /** The root after the last applied block (never a state inside a block being applied). */
  get root(): Uint8Array {
    return this.view.root;
  }

  async start(): Promise<void> {
    installNodeSha256();
    const g = this.opts.genesis;
    const log = this.opts.log;
    mkdirSync(this.opts.dataDir, { recursive: true });
    const genesis = genesisRecords(g);
    this.store = await LevelStore.open(join(this.opts.dataDir, "store"), {
      partition: new Partition(this.me.prefixes),
      T: g.T,
      genesis,
    });
    const stored = await this.store.extra(SCHEDULE_EXTRA_KEY);
    this.membership = new Membership(g.nodes, stored ? decodeSchedule(stored) : undefined);
    const m = this.membership;
    const start = {
      height: this.store.height,
      decided: await loadDecidedIds(this.store),
      modules: await loadModules(this.store, genesis),
    };
    this.ledger = new Ledger(
      this.store.history,
      createExecutor(),
      verifier,
      {
        chain: this.chain,
        members: m.members(),
        validatorsAt: (h) => m.validatorsAt(h),
        epochValidators: (e) => m.epochKeys(e),
        refuseEviction: (h, ids) => m.refuseEviction(h, ids),
        verifier,
      },
      start,
    );
    this.meta = new Level<Uint8Array, Uint8Array>(join(this.opts.dataDir, "node"), {
      keyEncoding: "view",
      valueEncoding: "view",
    });
    await this.meta.open();
    this.receiptStore = new ReceiptStore(this.store);
    this.certifier = new HeaderCertifier(this.meta, this.me.id, (h) => m.validatorsAt(h), verifier);
    await this.certifier.load(this.receiptStore.floor(this.store.height), this.store.height);
    this.appliedHeight = this.store.height;
    // The hash chain goes on from the node's own newest header, stored with its block (a store
    // written before headers were stored has only the certificate, if any).
    const own = await this.newestHeader(this.store.height);
    const prev = own ?? (await this.certifier.get(this.store.height))?.header;
    if (prev) this.lastHeaderHash = headerHash(prev);
    this.view = {
      root: this.store.history.rootLabel,
      timestamp: BigInt(this.store.history.now),
      height: prev?.height ?? this.store.height,
    };
    // Heights without a certificate here and without an own header had empty blocks: nothing to
    // certify there.
    const gap = this.certifier.missingFrom;
    if (gap <= this.store.height) {
      const headed = new Set((await this.receiptStore.headers(gap, this.store.height)).map((h) => h.height));
      for (let h = gap; h <= this.store.height; h++)
        if (!headed.has(h) && !this.certifier.isCertified(h)) this.certifier.headerless(h);
    }
    // Heights applied before the restart whose certificate is missing: sign them again (Ed25519 is
    // deterministic: the same signature as before) and gather their signatures anew.
    const resignFrom = this.store.height - BigInt(CERT_PENDING_HEIGHTS) + 1n;
    const resign = await this.receiptStore.headers(
      this.certifier.missingFrom > resignFrom ? this.certifier.missingFrom : resignFrom,
      this.store.height,
    );
    for (const h of resign)
      if (!this.certifier.isCertified(h.height))
        this.certifier.own(h, this.me.id, signWith(this.opts.key, headerSigningMessage(h)));

    this.net = new PeerNet({
      chain: this.chain,
      self: this.opts.key,
      peers: g.nodes.filter((n) => n.id !== this.me.id),
      isAllowed: (hex) => m.allows(hex),
      onFrame: (from, channel, payload) => this.onFrame(from, channel, payload),
      log: (m, f) => log.debug(m, f),
    });
    this.tob = await TobShell.open({
      dir: join(this.opts.dataDir, "consensus"),
      core: {
        networkId: this.chain,
        signer: { publicKey: this.opts.key.publicKey, sign: (m) => signWith(this.opts.key, m) },
        verifier,
        genesisValidators: [...g.nodes].sort((a, b) => a.id - b.id).map((n) => n.publicKey),
        fillRequests: TOB_FILL_REQUESTS,
      },
      tickMs: this.opts.tickMs ?? 50,
      appliedHeight: Number(this.store.height),
      send: (to, bytes) => {
        if (failpointsArmed) {
          const kind = decodeMessage(bytes).kind;
          if (kind === "proposal" || kind === "vote") failpoint(kind);
        }
        const out =
          this.opts.byzantine === "double-vote"
            ? withDoubleVote(bytes, this.chain, (m) => signWith(this.opts.key, m))
            : [bytes];
        for (const b of out) for (const p of to) this.net.send(p, CHANNEL_CONSENSUS, b);
      },
      deliver: (d) => this.apply(d),
      onEvidence: (e) => {
        const kept = this.evidence.add(e, (hex) => m.idOfKey(hex));
        log.warn("consensus evidence", { kind: e.kind, signer: e.signer, round: e.round, kept });
      },
      log: (m, f) => log.warn(m, f),
    });
    // The store and the consensus persist a validator-set change separately (the store with the
    // block that decided it, the consensus on its next step): re-announce every change the store
    // knows, so one lost to a crash in between is scheduled again; the others are no-ops.
    for (const e of m.schedule.slice(1)) this.tob.setValidators(Number(e.fromHeight), m.epochKeysOf(e), true);

    const server = new grpc.Server(CHANNEL_OPTIONS);
    raiseServerHttp2Limits(server);
    server.addService(serviceDefinition(Arbor), this.clientApi());
    const peer = this.net.service();
    server.addService(peer.definition, peer.implementation);
    const listen = this.opts.listen ?? this.me.address;
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(listen, grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );
    this.server = server;
    this.net.start();
    for (const s of this.certifier.uncertified(CERT_PENDING_HEIGHTS)) this.sendSignature(s);
    this.syncTimer = setInterval(() => this.syncCertificates(), CERT_SYNC_INTERVAL_MS);
    this.tob.start((e) => {
      log.error("consensus storage failed; stopping", { error: String(e) });
      void this.close().finally(() => process.exit(70));
    });
    log.info("node started", {
      id: this.me.id,
      listen,
      height: this.height,
      root: toHex(this.root),
      prefixes: this.me.prefixes,
    });
  }

  private onFrame(from: string, channel: number, payload: Uint8Array): void {
    if (channel === CHANNEL_CONSENSUS) this.tob.message(from, payload);
    else if (channel === CHANNEL_LEDGER) {
      try {
        if (payload.length > MAX_LEDGER_FRAME_BYTES) throw new RangeError("ledger frame too large");
        const kind = payload[0];
        if (kind === LEDGER_HEADER_SIG) {
          const m = decodeHeaderSig(payload);
          const signer = this.opts.genesis.nodes.find((n) => toHex(n.publicKey) === from);
          if (signer && signer.id === m.signer) this.certifier.add(m);
        } else if (kind === LEDGER_CERT_REQUEST) {
          const q = decodeCertRequest(payload);
          void this.certifier.range(q.from, q.count).then(
            (certs) => this.net.send(from, CHANNEL_LEDGER, encodeCertReply(certs)),
            () => undefined,
          );
        } else if (kind === LEDGER_CERT_REPLY) void this.adoptCertificates(from, decodeCertReply(payload));
        else throw new RangeError("unknown ledger frame kind");
      } catch {
        this.opts.log.debug("malformed ledger frame", { from });
      }
    }
  }

  private sendSignature(s: { height: bigint; hash: Uint8Array; signature: Uint8Array }): void {
    this.net.broadcast(
      CHANNEL_LEDGER,
      encodeHeaderSig({ height: s.height, hash: s.hash, signer: this.me.id, signature: s.signature }),
    );
  }

  /**
   * Every CERT_SYNC_INTERVAL_MS: own signatures of heights still uncertified since the last tick
   * are sent again (a peer may have lost them in a crash), and when the lowest height without a
   * certificate has not moved since the last tick, one peer (in turn) is asked for certificates.
   */
  private syncCertificates(): void {
    const pending = this.certifier.uncertified(CERT_RESEND_HEIGHTS);
    for (const s of pending) if (this.staleSigs.has(s.height)) this.sendSignature(s);
    this.staleSigs = new Set(pending.map((s) => s.height));
    const from = this.certifier.missingFrom;
    if (from <= this.appliedHeight && from === this.lastMissing) this.askCertificates(from);
    this.lastMissing = from;
  }

  private askCertificates(from: bigint, peer?: string): void {
    const peers = this.net.connectedPeers();
    const to = peer ?? peers[this.syncTurn++ % Math.max(1, peers.length)];
    if (to !== undefined)
      this.net.send(to, CHANNEL_LEDGER, encodeCertRequest({ from, count: CERT_SYNC_HEADERS }));
  }

  /** A certificate-sync reply: each certificate is checked against our own header before it is kept. */
  private async adoptCertificates(from: string, certs: readonly Uint8Array[]): Promise<void> {
    try {
      for (const bytes of certs) {
        const c = decodeCertifiedHeader(bytes);
        const h = c.header.height;
        if (this.certifier.isCertified(h) || h > this.certifier.ownHeightNow) continue;
        const refused = this.certifier.adopt(c, await this.receiptStore.header(h));
        if (refused) this.opts.log.debug("synced certificate refused", { from, height: h, refused });
      }
    } catch (e) {
      // A hostile or garbled answer: the rest of it is dropped, the node goes on.
      this.opts.log.debug("malformed certificate reply", { from, error: String(e) });
      return;
    }
    // A full answer: there may be more to fetch from the same peer right away.
    const next = this.certifier.missingFrom;
    if (certs.length === CERT_SYNC_HEADERS && next <= this.appliedHeight) this.askCertificates(next, from);
  }

  /**
   * The node's own newest header at or below `height`, looking back at most CERT_PENDING_HEIGHTS
   * heights (runs of empty blocks are a few heights long: an idle cluster grows no chain).
   */
  private async newestHeader(height: bigint): Promise<Header | undefined> {
    const floor = this.receiptStore.floor(height);
    const oldest =
      height - BigInt(CERT_PENDING_HEIGHTS) > floor ? height - BigInt(CERT_PENDING_HEIGHTS) : floor;
    for (let to = height; to >= oldest && to > 0n; to -= 64n) {
      const hs = await this.receiptStore.headers(to - 63n > oldest ? to - 63n : oldest, to);
      if (hs.length > 0) return hs[hs.length - 1];
    }
    return undefined;
  }

  /**
   * Applies one committed block, commits the store, signs receipts and the header. A block
   * without requests changes nothing a header commits to but the height: it gets no header, no
   * signature and no certification round (docs/protocol.md §7). The block is
   * applied in slices of at most APPLY_SLICE_MS, yielding to the event loop in between so that
   * consensus messages, admissions and the network keep flowing while a large block runs; the
   * order and the results are those of one synchronous pass. GETs wait for the block's end.
   */
  private async apply(d: Delivery): Promise<void> {
    const height = BigInt(d.height);
    if (height <= this.store.height) return; // already applied before a restart
    const run = this.ledger.startBlock(height, d.requests);
    this.applying = true;
    let out: BlockOutcome;
    try {
      for (let slice = 0; ; slice++) {
        const t0 = performance.now();
        do run.step(APPLY_STEP_REQUESTS);
        while (!run.done && performance.now() - t0 < APPLY_SLICE_MS);
        if (slice === 0) failpoint("apply");
        if (run.done) break;
        await new Promise<void>((r) => setImmediate(r));
      }
      out = run.finish();
    } catch (e) {
      this.applying = false;
      this.deferredGets.length = 0; // the node is stopping (a failed block is fatal)
      throw e;
    }
    this.appliedHeight = height;
    const empty = d.requests.length === 0;
    this.view = {
      root: out.root,
      timestamp: BigInt(out.timestamp),
      height: empty ? this.view.height : height,
    };
    this.applying = false;
    for (const answer of this.deferredGets.splice(0)) answer();
    // Not fsync'd but every STORE_SYNC_EVERY_BLOCKS: the consensus log synced this block before
    // delivering it, and a restarted node replays from there whatever its store lost.
    const sync = height % BigInt(STORE_SYNC_EVERY_BLOCKS) === 0n;
    if (empty) {
      // No header: the store only moves to this height, and the certifier passes over it.
      await this.pruning;
      await this.store.commit(height, [], [], sync);
      failpoint("after-commit");
      this.certifier.headerless(height);
      return;
    }
    const extras: Array<{ key: string; value: Uint8Array }> = [];
    // Exactly-once survives restarts: the ids this block applied are as durable as the block.
    if (out.decided.length > 0)
      extras.push({ key: decidedIdsSlot(height), value: encodeDecidedIds(height, out.decided) });
    let change: { fromHeight: bigint; ids: readonly number[] } | null = null;
    if (out.evicted.length > 0) {
      // Proven misbehaviour: the consensus drops the evicted from a height no node has reached.
      change = this.membership.evict(out.evicted, BigInt(reconfigHeight(d.height)), height);
      extras.push({ key: SCHEDULE_EXTRA_KEY, value: encodeSchedule(this.membership.schedule) });
    }
    const header: Header = {
      chain: this.chain,
      height,
      timestamp: BigInt(out.timestamp),
      root: out.root,
      receiptsRoot: out.receiptTree.root,
      validatorsHash: validatorsHash(this.membership.validatorsAt(height)),
      previous: this.lastHeaderHash,
      nextValidatorsHash: change
        ? validatorsHash(this.membership.validatorsAt(change.fromHeight))
        : new Uint8Array(32),
      nextFromHeight: change ? change.fromHeight : 0n,
    };
    // Receipts and the own header go into the block's batch: a crash never leaves one without the other.
    await this.pruning;
    const { records, kept } = await this.receiptStore.prepare(
      out.receipts,
      out.encodedReceipts,
      out.receiptTree,
      (id) => this.receipts.peek(id),
      new Set(out.decided.map((x) => toHex(x.id))),
    );
    records.push(this.receiptStore.headerRecord(header));
    // Modules are as durable as the block that wrote them: the code book must never lag the tree.
    records.push(...codeRecords(out.modules));
    await this.store.commit(height, extras, records, sync);
    failpoint("after-commit");
    if (change) {
      const keys = change.ids.map((id) => this.membership.node(id)!.publicKey);
      this.tob.setValidators(Number(change.fromHeight), keys);
      this.opts.log.warn("nodes evicted", {
        evicted: out.evicted,
        fromHeight: change.fromHeight,
        validators: change.ids,
      });
    }
    this.lastHeaderHash = headerHash(header);
    const sig = signWith(this.opts.key, headerSigningMessage(header));
    this.certifier.own(header, this.me.id, sig);
    this.certifier.forgetBelow(this.receiptStore.floor(height));
    failpoint("after-sign");
    this.sendSignature({ height, hash: this.lastHeaderHash, signature: sig });
    // Served with their inclusion paths; signed only for a client that asks for the early answer.
    for (const k of kept) this.receipts.add(k.id, k.proven);
    this.pruning = this.receiptStore
      .prune(height)
      .catch((e) => this.opts.log.warn("receipt pruning failed", { error: String(e) }));
    if (out.receipts.length > 0)
      this.opts.log.debug("block applied", { height, requests: out.receipts.length, root: toHex(out.root) });
  }

  // --- client API -------------------------------------------------------------------------

  private receiptReply(r: ServedReceipt): SignedReceipt {
    return create(SignedReceiptSchema, {
      receipt: r.receipt,
      node: this.me.id,
      signature: r.signature,
      leafCount: r.count,
      path: [...r.path],
    });
  }

  private clientApi(): grpc.UntypedServiceImplementation {
    return {
      get: (call: grpc.ServerUnaryCall<GetRequest, unknown>, cb: grpc.sendUnaryData<unknown>) =>
        this.serveGet(call.request, cb),
      getStream: (call: grpc.ServerDuplexStream<TaggedGetRequest, TaggedGetReply>) => {
        // Each read is served as the unary Get would be and answered with its tag when ready;
        // at most MAX_STREAM_GETS in flight per stream (beyond: that read is refused).
        let inFlight = 0;
        let open = true;
        const reply = (tag: bigint, e: grpc.ServiceError | null, r?: GetReply) => {
          inFlight--;
          if (!open) return;
          call.write(
            create(TaggedGetReplySchema, e ? { tag, code: e.code, message: e.details } : { tag, reply: r }),
          );
        };
        call.on("data", (t: TaggedGetRequest) => {
          inFlight++;
          if (inFlight > MAX_STREAM_GETS)
            return reply(
              t.tag,
              grpcError(grpc.status.RESOURCE_EXHAUSTED, "too many reads in flight on this stream"),
            );
          this.serveGet(t.request ?? create(GetRequestSchema, {}), (e, r) => reply(t.tag, e, r));
        });
        const close = () => {
          open = false;
        };
        call.on("end", () => {
          close();
          call.end();
        });
        call.on("error", close);
        call.on("cancelled", close);
      },
      execute: (call: grpc.ServerUnaryCall<ExecuteRequest, unknown>, cb: grpc.sendUnaryData<unknown>) =>
        cb(null, this.admit(call.request.request)),
      executeStream: (call: grpc.ServerDuplexStream<ExecuteRequest, ExecuteAck>) => {
        call.on("data", (r: ExecuteRequest) => call.write(this.admit(r.request)));
        call.on("end", () => call.end());
        call.on("error", () => undefined);
      },
      waitReceipt: (call: grpc.ServerUnaryCall<ReceiptQuery, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        const id = call.request.requestId;
        if (id.length !== 32)
          return cb(grpcError(grpc.status.INVALID_ARGUMENT, "request id must be 32 bytes"));
        const ms = Math.min(call.request.timeoutMs || 10_000, MAX_RECEIPT_WAIT_MS);
        void this.receipts
          .wait(id, ms, call.request.signed)
          .then((r) =>
            r
              ? cb(null, this.receiptReply(r))
              : cb(grpcError(grpc.status.DEADLINE_EXCEEDED, "no receipt yet")),
          );
      },
      subscribeReceipts: (call: grpc.ServerWritableStream<ReceiptSubscription, SignedReceipt>) => {
        const unsubscribe = this.receipts.subscribe(call.request.requestIds, call.request.signed, (r) =>
          call.write(this.receiptReply(r)),
        );
        if (!unsubscribe)
          return call.destroy(grpcError(grpc.status.RESOURCE_EXHAUSTED, "too many subscriptions"));
        call.on("cancelled", unsubscribe);
        call.on("close", unsubscribe);
      },
      getHeaders: (call: grpc.ServerUnaryCall<HeadersRequest, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        if (call.request.transitionsOnly) {
          void this.transitions(call.request.fromHeight, call.request.untilHeight).then(
            (r) => cb(null, create(HeadersReplySchema, r)),
            (e) => cb(grpcError(grpc.status.INTERNAL, String(e))),
          );
          return;
        }
        const { fromHeight, maxCount, waitMs } = call.request;
        void this.certifier
          .whenCertified(fromHeight, Math.min(waitMs, MAX_HEADER_WAIT_MS))
          .then(() => this.certifier.range(fromHeight, maxCount || 64))
          .then(
            (headers) => cb(null, create(HeadersReplySchema, { headers })),
            (e) => cb(grpcError(grpc.status.INTERNAL, String(e))),
          );
      },
      getEvidence: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => {
        cb(null, create(EvidenceReplySchema, { items: this.evidence.list() }));
      },
      genesis: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => {
        cb(
          null,
          create(GenesisReplySchema, { genesisJson: genesisToJson(this.opts.genesis), chainId: this.chain }),
        );
      },
      status: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => {
        const census = this.store.history.tree.census();
        cb(
          null,
          create(StatusReplySchema, {
            node: this.me.id,
            publicKey: this.opts.key.publicKey,
            height: this.height,
            timestamp: this.view.timestamp,
            root: this.root,
            prefixes: [...this.me.prefixes],
            peersConnected: this.net.connectedPeers().length,
            version: NODE_VERSION,
            fullRecords: BigInt(census.fullLeaves),
            summaries: BigInt(census.summaries),
            stubs: BigInt(census.stubs),
            treeNodes: BigInt(census.nodes),
            outsideNodes: BigInt(census.outside),
            certifiedHeight: this.certifier.latestCertified < 0n ? 0n : this.certifier.latestCertified,
            ...this.signedStatement(this.root),
            ...this.consensusView(),
          }),
        );
      },
    };
  }

  /** The consensus epoch and round this node is in, and the leader it follows for that round. */
  private consensusView(): { consensusEpoch: bigint; consensusRound: bigint; leaderKey: Uint8Array } {
    const s = this.tob.status();
    return {
      consensusEpoch: BigInt(s.epoch),
      consensusRound: BigInt(s.round),
      leaderKey: s.leader === null ? new Uint8Array(0) : fromHex(s.leader),
    };
  }

  /**
   * Serves one read (Get and GetStream): answered once no block is being applied (the tree is
   * inside it meanwhile) and this node has applied min_height, or — still outside a block — when
   * MAX_GET_WAIT_MS has passed.
   */
  private serveGet(request: GetRequest, cb: (e: grpc.ServiceError | null, r?: GetReply) => void): void {
    const answer = () => {
      try {
        cb(null, this.get(request));
      } catch (e) {
        cb(
          e instanceof ArborError
            ? grpcError(
                e instanceof ProveError ? grpc.status.FAILED_PRECONDITION : grpc.status.INVALID_ARGUMENT,
                e.message,
              )
            : grpcError(grpc.status.INTERNAL, String(e)),
        );
      }
    };
    const waits = request.minHeight > this.height && this.getHeightWaiters < MAX_GET_HEIGHT_WAITERS;
    let timedOut = !waits;
    let answered = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (reply: () => void) => {
      answered = true;
      if (timer) {
        clearTimeout(timer);
        this.getHeightWaiters--;
      }
      reply();
    };
    const attempt = () => {
      if (answered) return;
      if (!this.applying && (timedOut || this.height >= request.minHeight)) return finish(answer);
      if (this.deferredGets.length >= MAX_DEFERRED_GETS)
        return finish(() => cb(grpcError(grpc.status.RESOURCE_EXHAUSTED, "too many reads waiting; retry")));
      this.deferredGets.push(attempt);
    };
    if (waits) {
      this.getHeightWaiters++;
      timer = setTimeout(() => {
        timedOut = true;
        const i = this.deferredGets.indexOf(attempt);
        if (i >= 0) this.deferredGets.splice(i, 1);
        attempt();
      }, MAX_GET_WAIT_MS);
    }
    attempt();
  }

  private get(req: GetRequest) {
    if (req.keys.length === 0 || req.keys.length > MAX_TOUCHED_KEYS)
      throw new ArborError("get/bad-keys", `ask for 1..${MAX_TOUCHED_KEYS} keys`);
    if (req.hashKeys.length > req.keys.length || req.hashKeys.some((k) => !req.keys.includes(k)))
      throw new ArborError("get/bad-keys", "every key in hash_keys must also be in keys");
    const paths = req.keys.map(keyPath);
    let tree = prove(this.store.history.tree, paths, {
      values: !req.hashesOnly,
      leafSiblings: req.forExecute,
      hashOnly: req.hashKeys.map(keyPath),
    });
    if (this.opts.byzantine === "stub-records") tree = stubRecords(tree, paths);
    let proof = encodeProof(tree);
    let root = this.root;
    if (this.opts.byzantine === "forge-get-root") ({ proof, root } = forgeProof(proof));
    return create(GetReplySchema, { ...this.signedStatement(root), proof });
  }

  /**
   * This node's root statement: its height, timestamp and `root`, signed. For its own root it is
   * signed once per height and shared by every GET reply and Status at that height (a signature
   * costs more than the rest of a GET); a reply's proof is against the root it states.
   */
  private signedStatement(root: Uint8Array): { statement: Uint8Array; signature: Uint8Array } {
    const own = bytesEqual(root, this.root);
    const kept = this.rootStatement;
    // One root per height: the kept statement is current while the height is.
    if (own && kept && kept.height === this.height) return kept;
    const statement = encodeStatement({
      chain: this.chain,
      node: this.me.id,
      height: this.height,
      timestamp: this.view.timestamp,
      root,
      proofDigest: ROOT_STATEMENT_DIGEST,
    });
    const signed = { statement, signature: signWith(this.opts.key, statementSigningMessage(statement)) };
    if (own) this.rootStatement = { height: this.height, ...signed };
    return signed;
  }

  /** The certified headers that decided validator-set changes in (after, until], with the new sets. */
  private async transitions(
    after: bigint,
    until: bigint,
  ): Promise<{ headers: Uint8Array[]; nextValidators: Uint8Array[] }> {
    const headers: Uint8Array[] = [];
    const nextValidators: Uint8Array[] = [];
    for (const e of this.membership.schedule.slice(1)) {
      // Every change decided in (after, until], even one that takes effect later: a client that
      // trusts `until` must know the set that follows it.
      if (e.decidedAt <= after || e.decidedAt > until) continue;
      const c = await this.certifier.get(e.decidedAt);
      if (!c) break; // not certified yet: the light client asks again later
      headers.push(encodeCertifiedHeader(c));
      nextValidators.push(encodeValidators(this.membership.validatorsAt(e.fromHeight)));
    }
    return { headers, nextValidators };
  }

  private admit(bytes: Uint8Array): ExecuteAck {
    if (this.closing)
      return create(ExecuteAckSchema, {
        accepted: false,
        reason: "node/closing",
        message: "the node is shutting down",
      });
    const a = this.ledger.admit(bytes);
    if (a.ok) failpoint("admission");
    if (!a.ok)
      return create(ExecuteAckSchema, {
        requestId: a.id,
        accepted: false,
        reason: a.reason,
        message: a.message,
      });
    // Handed to the consensus at the end of this event-loop turn, with the others admitted in it:
    // one consensus step and one gossip message for the lot, instead of one per request.
    if (this.opts.byzantine === "drop-requests")
      return create(ExecuteAckSchema, { requestId: a.request.id, accepted: true });
    this.admitted.push(bytes);
    if (this.admitted.length >= ADMISSION_BATCH_REQUESTS) this.submitAdmitted();
    else this.admittedFlush ??= setImmediate(() => this.submitAdmitted());
    return create(ExecuteAckSchema, { requestId: a.request.id, accepted: true });
  }

  private submitAdmitted(): void {
    if (this.admittedFlush) clearImmediate(this.admittedFlush);
    this.admittedFlush = null;
    const batch = this.admitted;
    this.admitted = [];
    if (batch.length > 0) this.tob.submit(batch);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    // A graceful gRPC shutdown waits for every open call, and some never end on their own: the
    // peers' streams (they redial), receipt waits (up to a minute), subscriptions. Close those
    // first, give in-flight calls a short bounded grace, then cut what is left. Consensus and the
    // store close after: the block being applied is committed before they do.
    if (this.syncTimer) clearInterval(this.syncTimer);
    this.net?.close();
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
    await this.tob?.close();
    await this.pruning;
    await this.certifier?.flushed();
    await this.store?.close();
    await this.meta?.close();
    this.opts.log.info("node stopped", { id: this.me.id });
  }
}
