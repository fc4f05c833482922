// Load-generation helpers shared by the node and end-to-end benchmarks: a lean client over the
// raw node API (node:crypto signing, one combined proof per batch, receipts by subscription).
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import {
  Arbor,
  ExecuteRequestSchema,
  ReceiptSubscriptionSchema,
  type ExecuteAck,
  type ExecuteRequest,
  type SignedReceipt,
} from "../proto/gen/arbor/v1/client_pb.js";
import { CHANNEL_OPTIONS, serviceDefinition } from "../proto/grpc.js";
import { NodeConnection } from "../client/transport.js";
import { joinAnswers, pruneProof } from "../client/proofs.js";
import { chainId, type Genesis } from "../node/ledger/genesis.js";
import { Partition } from "../node/store/core/partition.js";
import { keyPath } from "../node/store/core/path.js";
import { decodeProof, encodeProof } from "../node/store/core/proof-codec.js";
import { decodeStatement } from "../node/ledger/statement.js";
import {
  assembleSignedRequest,
  encodeRequestBody,
  requestSigningMessage,
  sortKeys,
} from "../node/ledger/request.js";
import { decodeReceipt, type Receipt } from "../node/ledger/receipt.js";
import { signWith, type KeyPair } from "../node/keys.js";
import { toHex } from "../node/common/bytes.js";
import { MAX_REQUEST_LIFETIME_BLOCKS, MAX_TOUCHED_KEYS } from "../node/common/limits.js";

export interface Job {
  readonly op: string;
  readonly touched: readonly string[];
  readonly args: Uint8Array;
  readonly signer: KeyPair;
}

/** Blocks a request's lifetime stays under the longest one (see sign). */
const LIFETIME_SLACK_BLOCKS = 64;

type Raw = grpc.Client & Record<string, (...a: unknown[]) => unknown>;

/** One ExecuteStream to a node: the node acknowledges requests in the order it receives them. */
interface Submitter {
  readonly call: grpc.ClientDuplexStream<ExecuteRequest, ExecuteAck>;
  readonly acks: Array<(e: Error | null, ack?: ExecuteAck) => void>;
}

export class LoadClient {
  readonly conns: NodeConnection[];
  private readonly raws: Raw[];
  private readonly parts: Partition[];
  private readonly waiting = new Map<string, (r: Receipt) => void>();
  private readonly subs: grpc.ClientReadableStream<SignedReceipt>[] = [];
  private readonly submitters: (Submitter | null)[];
  private nonce = 1n;
  /** highest height a proof was read at: requests live from there (validUntil) */
  private height = 0n;

  /** the chain id requests are signed for */
  private readonly chain: Uint8Array;

  constructor(readonly genesis: Genesis) {
    this.chain = chainId(genesis);
    this.conns = genesis.nodes.map((n) => new NodeConnection(n.address, 30_000));
    const C = grpc.makeGenericClientConstructor(serviceDefinition(Arbor), "Arbor");
    this.raws = genesis.nodes.map(
      (n) => new C(n.address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS) as unknown as Raw,
    );
    this.parts = genesis.nodes.map((n) => new Partition(n.prefixes));
    this.submitters = genesis.nodes.map(() => null);
  }

  /**
   * The ExecuteStream to node `via`, opened on first use: one gRPC call per request would cost
   * the node and this process more than the request itself (a load generator, not a client model).
   */
  private submitter(via: number): Submitter {
    const have = this.submitters[via];
    if (have) return have;
    const raw = this.raws[via]!;
    const call = (raw.executeStream as () => grpc.ClientDuplexStream<ExecuteRequest, ExecuteAck>).call(raw);
    const s: Submitter = { call, acks: [] };
    call.on("data", (ack: ExecuteAck) => s.acks.shift()?.(null, ack));
    const fail = (e: Error) => {
      if (this.submitters[via] === s) this.submitters[via] = null;
      for (const a of s.acks.splice(0)) a(e);
    };
    call.on("error", fail);
    call.on("end", () => fail(new Error("execute stream ended")));
    this.submitters[via] = s;
    return s;
  }

  /** Subscribes to the receipts of node `id` (completions are taken from there). */
  subscribe(id: number): void {
    const s = (
      this.raws[id]!.subscribeReceipts as (req: unknown) => grpc.ClientReadableStream<SignedReceipt>
    ).call(this.raws[id], create(ReceiptSubscriptionSchema, {}));
    s.on("data", (r: SignedReceipt) => {
      const rec = decodeReceipt(r.receipt);
      const k = toHex(rec.requestId);
      const w = this.waiting.get(k);
      if (w) {
        this.waiting.delete(k);
        w(rec);
      }
    });
    s.on("error", () => undefined);
    this.subs.push(s);
  }

  /** Nodes not asked for proofs (down, or still catching up) while another holder can answer. */
  readonly avoid = new Set<number>();

  holderOf(key: string, salt = 0): number {
    const p = keyPath(key);
    const all = this.genesis.nodes.map((_, i) => i).filter((i) => this.parts[i]!.holdsKey(p));
    const up = all.filter((i) => !this.avoid.has(i));
    const hs = up.length > 0 ? up : all;
    return hs[salt % hs.length]!;
  }

  /** One combined execute-grade proof for many keys (chunks of MAX_TOUCHED_KEYS per holder). */
  /**
   * One joined proof for a batch of jobs: their touched records with values, and their operations'
   * records by value hash only (nodes take the modules from their code books).
   */
  proofForJobs(jobs: readonly Job[]): Promise<ReturnType<typeof decodeProof>["root"]> {
    const touched = new Set(jobs.flatMap((j) => j.touched));
    const ops = [...new Set(jobs.map((j) => j.op))].filter((op) => !touched.has(op));
    return this.proofFor([...touched, ...ops], ops);
  }

  async proofFor(
    keys: readonly string[],
    hashKeys: readonly string[] = [],
  ): Promise<ReturnType<typeof decodeProof>["root"]> {
    for (let attempt = 0; ; attempt++) {
      const groups = new Map<number, string[]>();
      for (const k of sortKeys(keys)) {
        const h = this.holderOf(k, attempt);
        groups.set(h, [...(groups.get(h) ?? []), k]);
      }
      const reqs: Array<
        Promise<{ timestamp: bigint; root: ReturnType<typeof decodeProof>["root"]; paths: Uint8Array[] }>
      > = [];
      for (const [h, ks] of groups)
        for (let i = 0; i < ks.length; i += MAX_TOUCHED_KEYS) {
          const chunk = ks.slice(i, i + MAX_TOUCHED_KEYS);
          reqs.push(
            this.conns[h]!.get(chunk, {
              forExecute: true,
              hashKeys: hashKeys.filter((k) => chunk.includes(k)),
            }).then((r) => {
              const s = decodeStatement(r.statement);
              if (s.height > this.height) this.height = s.height;
              return {
                timestamp: s.timestamp,
                root: decodeProof(r.proof).root,
                paths: chunk.map(keyPath),
              };
            }),
          );
        }
      const joined = joinAnswers(await Promise.all(reqs));
      if (joined) return joined;
      if (attempt > 50) throw new Error("could not join proofs");
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Signs each job against its pruned share of `proof`. */
  sign(jobs: readonly Job[], proof: ReturnType<typeof decodeProof>["root"]): Uint8Array[] {
    return jobs.map((j) => {
      const touched = sortKeys(j.touched);
      const byHash = touched.includes(j.op) ? [] : [keyPath(j.op)];
      const p = encodeProof(pruneProof(proof, sortKeys([j.op, ...touched]).map(keyPath), 0, byHash));
      const body = encodeRequestBody({
        op: j.op,
        touched,
        proof: p,
        args: j.args,
        gasLimit: 1_000_000n,
        caller: j.signer.publicKey,
        nonce: this.nonce++,
        // Slack below the longest lifetime: the node a request is submitted to may be a few
        // blocks behind the one that answered the proof, and would refuse it (bad-lifetime).
        validUntil: this.height + BigInt(MAX_REQUEST_LIFETIME_BLOCKS - 1 - LIFETIME_SLACK_BLOCKS),
      });
      return assembleSignedRequest(body, signWith(j.signer, requestSigningMessage(this.chain, body)));
    });
  }

  /** Submits one signed request to `via`; resolves with its receipt (as seen by the subscribed node). */
  submit(request: Uint8Array, id: Uint8Array, via: number): Promise<Receipt> {
    return new Promise((resolve, reject) => {
      this.waiting.set(toHex(id), resolve);
      const s = this.submitter(via);
      s.acks.push((e, ack) => {
        if (e) {
          this.waiting.delete(toHex(id));
          reject(e);
        } else if (!ack!.accepted) {
          this.waiting.delete(toHex(id));
          reject(new Error(`refused: ${ack!.reason}`));
        }
      });
      s.call.write(create(ExecuteRequestSchema, { request }));
    });
  }

  close(): void {
    for (const s of this.submitters) s?.call.end();
    for (const s of this.subs) s.cancel();
    for (const r of this.raws) r.close();
    for (const c of this.conns) c.close();
  }
}
