// Node-to-node transport: one authenticated gRPC bidirectional stream from every node to every
// other. The dialer proves its identity by signing the server's fresh challenge (bound to the
// chain id and the server's key); frames from an unauthenticated stream, an unknown key or an
// evicted one are refused. A frame is a channel byte and a payload (channel 0: consensus, 1: the
// ledger's header signatures). Outbound frames wait in bounded per-peer queues while a stream
// is down or slow; consensus tolerates the loss of what overflows. What a turn of the event loop
// queues for a peer leaves at the turn's end as one batch (node/net/peer-batch.ts), one write.
// Frames come in two classes: bulk (gossiped requests, catch-up answers, certificate replies:
// megabytes when requests are large) and control (proposals, votes, timeouts, header signatures,
// small requests for more). Control frames leave first, and at most MAX_PEER_INFLIGHT_BYTES are
// handed to the stream and not yet taken by it, so a vote waits behind at most that much of a
// burst of large requests, not behind everything the burst queued.

import * as grpc from "@grpc/grpc-js";
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { PeerFrameSchema, Peer, type PeerFrame } from "../../proto/gen/arbor/v1/peer_pb.js";
import { CHANNEL_OPTIONS, grpcError, serviceDefinition } from "../../proto/grpc.js";
import { Reader, Writer } from "../common/codec.js";
import { bytesEqual, concatBytes, toHex, utf8 } from "../common/bytes.js";
import {
  MAX_PEER_BATCH_BYTES,
  MAX_PEER_BATCH_FRAMES,
  MAX_PEER_BULK_QUEUE_BYTES,
  MAX_PEER_INFLIGHT_BYTES,
  MAX_PEER_QUEUE_BYTES,
  MAX_PEER_QUEUE_FRAMES,
  PEER_HELLO_TIMEOUT_MS,
} from "../common/limits.js";
import { PEER_TAG } from "../common/tags.js";
import { decodePeerBatch, encodePeerBatch } from "./peer-batch.js";
import { nodeEd25519Verify } from "../exec/host-crypto.js";
import { signWith, type KeyPair } from "../keys.js";
import { isUndecodable, tolerantDefinition, undecodableError } from "./decode-guard.js";

const HELLO_TAG = utf8(PEER_TAG);
const NONCE_BYTES = 32;

export const CHANNEL_CONSENSUS = 0;
export const CHANNEL_LEDGER = 1;

export interface PeerInfo {
  readonly publicKey: Uint8Array;
  readonly address: string;
}

export interface PeerNetOptions {
  readonly chain: Uint8Array;
  readonly self: KeyPair;
  readonly peers: readonly PeerInfo[];
  /** how peers are dialed (node/net/tls.ts: TLS against the cluster CA, or plaintext) */
  readonly credentials?: grpc.ChannelCredentials;
  /** A frame from an authenticated peer (hex of its public key). */
  onFrame(from: string, channel: number, payload: Uint8Array): void;
  /** Whether a peer's key may talk to us now (membership; evicted nodes are refused). */
  isAllowed(keyHex: string): boolean;
  /**
   * A peer refused our stream because, by its state, we are not a member (removed or evicted, or
   * not added yet): hex of that peer's key.
   */
  onNotMember?(peerHex: string): void;
  log?(msg: string, fields?: Record<string, unknown>): void;
  /** A peer's frames were refused (malformed batch, refused stream), with a reason code. */
  onRefused?(reason: string): void;
}

/** What a dialer signs: the tag, the chain id, the server's key and the server's fresh challenge. */
export function helloMessage(chain: Uint8Array, serverKey: Uint8Array, nonce: Uint8Array): Uint8Array {
  return concatBytes(HELLO_TAG, chain, serverKey, nonce);
}

/** The reason a peer refuses a stream from a key that is not a member now. */
const NOT_MEMBER = "peer/not-a-member";

function frame(payload: Uint8Array): PeerFrame {
  return create(PeerFrameSchema, { payload });
}

/** Frames of one class waiting for a peer, oldest first, bounded in count and bytes. */
class FrameQueue {
  private frames: Uint8Array[] = [];
  private head = 0;
  bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get length(): number {
    return this.frames.length - this.head;
  }

  /** Queues `b` unless the queue is full; false when it was dropped. */
  push(b: Uint8Array): boolean {
    if (this.length >= MAX_PEER_QUEUE_FRAMES || this.bytes + b.length > this.maxBytes) return false;
    this.frames.push(b);
    this.bytes += b.length;
    return true;
  }

  peek(): Uint8Array | undefined {
    return this.frames[this.head];
  }

  shift(): Uint8Array {
    const b = this.frames[this.head++]!;
    this.bytes -= b.length;
    if (this.head === this.frames.length) {
      this.frames = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
    return b;
  }
}

class Outbound {
  private readonly control = new FrameQueue(MAX_PEER_QUEUE_BYTES);
  private readonly bulk = new FrameQueue(MAX_PEER_BULK_QUEUE_BYTES);
  private call: grpc.ClientDuplexStream<PeerFrame, PeerFrame> | null = null;
  private ready = false;
  private writable = true;
  /** Bytes of batches written to the current stream whose write has not completed yet. */
  private inflight = 0;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;
  /** The end-of-turn flush, once something was queued in this turn. */
  private turn: NodeJS.Immediate | null = null;
  dropped = 0;

  constructor(
    private readonly net: PeerNet,
    readonly info: PeerInfo,
    private readonly client: grpc.Client,
  ) {}

  get connected(): boolean {
    return this.ready;
  }

  send(payload: Uint8Array, bulk: boolean): void {
    if (!(bulk ? this.bulk : this.control).push(payload)) {
      this.dropped++;
      return;
    }
    this.turn ??= setImmediate(() => {
      this.turn = null;
      this.flush();
    });
  }

  /**
   * Writes the queues as batches of at most MAX_PEER_BATCH_FRAMES / MAX_PEER_BATCH_BYTES each,
   * control frames first, while less than MAX_PEER_INFLIGHT_BYTES wait in the stream.
   */
  private flush(): void {
    while (
      this.ready &&
      this.writable &&
      this.call &&
      this.inflight < MAX_PEER_INFLIGHT_BYTES &&
      this.control.length + this.bulk.length > 0
    ) {
      const batch: Uint8Array[] = [];
      let bytes = 0;
      for (const q of [this.control, this.bulk])
        for (let next = q.peek(); next !== undefined; next = q.peek()) {
          if (batch.length >= MAX_PEER_BATCH_FRAMES) break;
          if (batch.length > 0 && bytes + next.length > MAX_PEER_BATCH_BYTES) break;
          batch.push(q.shift());
          bytes += next.length;
        }
      const call = this.call;
      this.inflight += bytes;
      this.writable = call.write(frame(encodePeerBatch(batch)), () => {
        if (this.call !== call) return; // a stream since replaced: its count went with it
        this.inflight -= bytes;
        this.flush();
      });
    }
  }

  connect(): void {
    if (this.closed) return;
    const call = (
      this.client as unknown as { connect(): grpc.ClientDuplexStream<PeerFrame, PeerFrame> }
    ).connect();
    this.call = call;
    this.ready = false;
    this.writable = true;
    this.inflight = 0;
    let greeted = false;
    // A server that never sends its challenge would hold this dial (and every frame for it) for ever.
    const silent = setTimeout(() => greeted || call.cancel(), PEER_HELLO_TIMEOUT_MS);
    silent.unref();
    call.on("data", (f: PeerFrame) => {
      if (greeted) return; // the server only ever sends its challenge
      greeted = true;
      clearTimeout(silent);
      if (f.payload.length !== NONCE_BYTES) return call.cancel();
      const sig = signWith(
        this.net.opts.self,
        helloMessage(this.net.opts.chain, this.info.publicKey, f.payload),
      );
      call.write(frame(new Writer(100).raw(this.net.opts.self.publicKey).raw(sig).finish()));
      this.ready = true;
      this.flush();
    });
    call.on("drain", () => {
      this.writable = true;
      this.flush();
    });
    const down = () => {
      clearTimeout(silent);
      if (this.call !== call) return;
      this.call = null;
      this.ready = false;
      if (!this.closed && this.retry === null)
        this.retry = setTimeout(() => {
          this.retry = null;
          this.connect();
        }, 300);
    };
    call.on("error", (e: grpc.ServiceError) => {
      if (e.code === grpc.status.PERMISSION_DENIED && e.details?.startsWith(NOT_MEMBER))
        this.net.opts.onNotMember?.(toHex(this.info.publicKey));
      down();
    });
    call.on("end", down);
    call.on("close", down);
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    if (this.turn) clearImmediate(this.turn);
    this.call?.cancel();
    this.client.close();
  }
}

export class PeerNet {
  private readonly out = new Map<string, Outbound>();
  private readonly inbound = new Set<grpc.ServerDuplexStream<PeerFrame, PeerFrame>>();
  /** The accepted stream of each peer (by key): a newer one from the same key replaces it. */
  private readonly inboundOf = new Map<string, grpc.ServerDuplexStream<PeerFrame, PeerFrame>>();
  readonly selfHex: string;

  constructor(readonly opts: PeerNetOptions) {
    this.selfHex = toHex(opts.self.publicKey);
  }

  /** The Peer service to add to the node's gRPC server. */
  service(): { definition: grpc.ServiceDefinition; implementation: grpc.UntypedServiceImplementation } {
    return {
      definition: tolerantDefinition(Peer),
      implementation: { connect: (call: grpc.ServerDuplexStream<PeerFrame, PeerFrame>) => this.accept(call) },
    };
  }

  private accept(call: grpc.ServerDuplexStream<PeerFrame, PeerFrame>): void {
    const nonce = new Uint8Array(randomBytes(NONCE_BYTES));
    let peer: string | null = null;
    let refused = false;
    this.inbound.add(call);
    // A dialer that never says hello would hold a stream (and a connection's place) for ever.
    const silent = setTimeout(
      () => peer === null && !refused && drop("no hello in time"),
      PEER_HELLO_TIMEOUT_MS,
    );
    silent.unref();
    const drop = (why: string, notMember = false) => {
      clearTimeout(silent);
      refused = true;
      this.opts.onRefused?.(notMember ? "peer/not-a-member" : "peer/bad-hello");
      this.opts.log?.("peer stream refused", { why, peer });
      // Said with a status so that a node removed while it was down learns it (Outbound).
      if (notMember) call.emit("error", grpcError(grpc.status.PERMISSION_DENIED, `${NOT_MEMBER}: ${why}`));
      else call.end();
    };
    call.on("data", (f: PeerFrame) => {
      // Frames the dialer queued behind its hello still arrive after a refusal: ignore them.
      if (refused) return;
      if (isUndecodable(f)) {
        refused = true;
        this.opts.log?.("peer stream refused", { why: f.reason, peer });
        return void call.emit("error", undecodableError(f));
      }
      const p = f.payload;
      if (peer === null) {
        try {
          const r = new Reader(p);
          const key = r.copy(32);
          const sig = r.copy(64);
          r.end("hello");
          const hex = toHex(key);
          if (hex === this.selfHex) return drop("our own key");
          if (!this.opts.isAllowed(hex)) return drop("not a member (unknown, removed or evicted key)", true);
          if (!nodeEd25519Verify(key, helloMessage(this.opts.chain, this.opts.self.publicKey, nonce), sig))
            return drop("bad hello signature");
          peer = hex;
          clearTimeout(silent);
          // One stream per peer: the dialer redials when its stream dies, and the old one may
          // linger here half-open; a member opening many would otherwise have each one read.
          const before = this.inboundOf.get(hex);
          this.inboundOf.set(hex, call);
          if (before !== undefined && before !== call) before.end();
        } catch {
          return drop("malformed hello");
        }
        return;
      }
      if (!this.opts.isAllowed(peer)) return drop("no longer a member (removed or evicted)", true);
      let batch;
      try {
        batch = decodePeerBatch(p);
      } catch {
        this.opts.onRefused?.("peer/malformed-batch");
        return this.opts.log?.("malformed peer batch", { peer });
      }
      for (const m of batch) this.opts.onFrame(peer, m.channel, m.payload);
    });
    const gone = () => {
      clearTimeout(silent);
      this.inbound.delete(call);
      if (peer !== null && this.inboundOf.get(peer) === call) this.inboundOf.delete(peer);
    };
    call.on("end", () => {
      gone();
      call.end();
    });
    call.on("error", gone);
    call.on("close", gone);
    call.write(frame(nonce));
  }

  private started = false;

  start(): void {
    this.started = true;
    for (const p of this.opts.peers) this.addPeer(p);
  }

  /** Dials a peer (a member added after genesis); a known key or our own is ignored. */
  addPeer(p: PeerInfo): void {
    const hex = toHex(p.publicKey);
    if (!this.started || hex === this.selfHex || this.out.has(hex)) return;
    const Client = grpc.makeGenericClientConstructor(serviceDefinition(Peer), "Peer");
    const client = new Client(
      p.address,
      this.opts.credentials ?? grpc.credentials.createInsecure(),
      CHANNEL_OPTIONS,
    );
    const o = new Outbound(this, p, client);
    this.out.set(hex, o);
    o.connect();
  }

  /**
   * Queues a frame for a peer. `bulk`: a frame that may be large and is not on consensus's critical
   * path (gossip, catch-up answers, certificate replies); it leaves after the control frames.
   */
  send(to: string, channel: number, payload: Uint8Array, bulk = false): void {
    const o = this.out.get(to);
    if (!o || !this.opts.isAllowed(to)) return;
    const b = new Uint8Array(payload.length + 1);
    b[0] = channel;
    b.set(payload, 1);
    o.send(b, bulk);
  }

  broadcast(channel: number, payload: Uint8Array, bulk = false): void {
    for (const hex of this.out.keys()) this.send(hex, channel, payload, bulk);
  }

  /** Frames this node could not queue for a peer (its queues full), since it started. */
  droppedFrames(): number {
    let n = 0;
    for (const o of this.out.values()) n += o.dropped;
    return n;
  }

  /** Current members whose outbound stream is up (one that left may still answer; it is not counted). */
  connectedPeers(): string[] {
    return [...this.out.entries()].filter(([k, o]) => o.connected && this.opts.isAllowed(k)).map(([k]) => k);
  }

  isPeer(key: Uint8Array): boolean {
    return [...this.out.values()].some((o) => bytesEqual(o.info.publicKey, key));
  }

  close(): void {
    for (const o of this.out.values()) o.close();
    for (const c of this.inbound) c.end();
    this.out.clear();
    this.inbound.clear();
    this.inboundOf.clear();
  }
}
