// The calls a joining node makes to its peers' client API for snapshot sync: GetSnapshot (offers
// and payload pages) and GetHeaders (validator-set transitions and one certified header), each
// with a deadline. One channel per peer, closed when the sync ends.

import type * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import {
  HeadersRequestSchema,
  SnapshotRequestSchema,
  type HeadersReply,
  type SnapshotReply,
} from "../../proto/gen/arbor/v1/client_pb.js";
import { SNAPSHOT_FETCH_TIMEOUT_MS } from "../common/limits.js";
import type { GenesisNode } from "../ledger/genesis.js";
import { ApiClients } from "../net/api-clients.js";

export class SnapshotPeers {
  private readonly clients: ApiClients;

  constructor(
    readonly peers: readonly GenesisNode[],
    credentials: grpc.ChannelCredentials,
  ) {
    this.clients = new ApiClients(credentials);
  }

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
    this.clients.close();
  }

  private call<Q, R>(peer: number, method: string, q: Q): Promise<R> {
    const node = this.peers.find((p) => p.id === peer);
    if (!node) return Promise.reject(new Error(`no peer ${peer}`));
    return this.clients.call<Q, R>(node.address, method, q, SNAPSHOT_FETCH_TIMEOUT_MS);
  }
}
