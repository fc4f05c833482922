// The calls a joining node makes to its peers' client API for snapshot sync: GetSnapshot (offers
// and payload pages) and GetHeaders (validator-set transitions and one certified header), each
// with a deadline. One channel per peer, closed when the sync ends.

import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import {
  Arbor,
  HeadersRequestSchema,
  SnapshotRequestSchema,
  type HeadersReply,
  type SnapshotReply,
} from "../../proto/gen/arbor/v1/client_pb.js";
import { CHANNEL_OPTIONS, serviceDefinition } from "../../proto/grpc.js";
import { SNAPSHOT_FETCH_TIMEOUT_MS } from "../common/limits.js";
import type { GenesisNode } from "../ledger/genesis.js";

type Unary<Q, R> = (q: Q, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: R) => void) => void;

export class SnapshotPeers {
  private readonly clients = new Map<number, grpc.Client & Record<string, unknown>>();

  constructor(
    readonly peers: readonly GenesisNode[],
    private readonly credentials: grpc.ChannelCredentials,
  ) {}

  /** GetSnapshot: offers with height 0, else a page of that snapshot's payload from `offset`. */
  snapshot(peer: number, height: bigint, offset: bigint): Promise<SnapshotReply> {
    return this.call(peer, "getSnapshot", create(SnapshotRequestSchema, { height, offset }));
  }

  /** The certificates of validator-set transitions decided in (after, until]. */
  transitions(peer: number, after: bigint, until: bigint): Promise<HeadersReply> {
    const q = create(HeadersRequestSchema, { fromHeight: after, untilHeight: until, transitionsOnly: true });
    return this.call(peer, "getHeaders", q);
  }

  /** The certificate of the header at `height` (waiting a little for it to form). */
  header(peer: number, height: bigint): Promise<HeadersReply> {
    const q = create(HeadersRequestSchema, { fromHeight: height, maxCount: 1, waitMs: 2000 });
    return this.call(peer, "getHeaders", q);
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  private call<Q, R>(peer: number, method: string, q: Q): Promise<R> {
    const node = this.peers.find((p) => p.id === peer);
    if (!node) return Promise.reject(new Error(`no peer ${peer}`));
    let c = this.clients.get(peer);
    if (!c) {
      const C = grpc.makeGenericClientConstructor(serviceDefinition(Arbor), "Arbor");
      c = new C(node.address, this.credentials, CHANNEL_OPTIONS) as grpc.Client & Record<string, unknown>;
      this.clients.set(peer, c);
    }
    const client = c;
    return new Promise<R>((resolve, reject) =>
      (client[method] as Unary<Q, R>).call(
        client,
        q,
        { deadline: Date.now() + SNAPSHOT_FETCH_TIMEOUT_MS },
        (e, r) => (e ? reject(e) : resolve(r)),
      ),
    );
  }
}
