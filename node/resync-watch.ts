// The one way a running node cannot catch up by itself: its next block is older than every block
// its peers still keep (they pruned it after a snapshot, docs/protocol.md §13). Every
// RESYNC_CHECK_MS, when the node applied nothing since the last look, it asks its peers' Status;
// when f+1 of them are ahead and keep no block at or below its next height, at least one correct
// node has pruned it (a lying minority cannot set this off), and the watch reports: the node then
// re-syncs from a snapshot (node/snapshot/resync-marker.ts).

import type * as grpc from "@grpc/grpc-js";
import type { StatusReply } from "../proto/gen/arbor/v1/client_pb.js";
import { RESYNC_CHECK_MS } from "./common/limits.js";
import type { GenesisNode } from "./ledger/genesis.js";
import type { Logger } from "./log.js";
import { ApiClients } from "./net/api-clients.js";
import { peerStatuses } from "./peer-status.js";

/** What a peer's Status says about the blocks it can send. */
export interface PeerRetention {
  readonly height: bigint;
  /** the lowest height of a delivered block it keeps */
  readonly oldestBlock: bigint;
}

/** Whether `needed` (f+1) peers are past `applied` and keep no block at or below the next height. */
export function behindRetention(applied: bigint, peers: readonly PeerRetention[], needed: number): boolean {
  const next = applied + 1n;
  return peers.filter((p) => p.height > applied && p.oldestBlock > next).length >= needed;
}

export interface ResyncWatchDeps {
  /** the other members, with their client API addresses */
  peers(): readonly GenesisNode[];
  /** how many peers must say so: f+1 of the current validators */
  needed(): number;
  applied(): bigint;
  readonly credentials: grpc.ChannelCredentials;
  readonly log: Logger;
  /** called once, when the node is behind every peer's retention */
  onBehind(): void;
}

export class ResyncWatch {
  private readonly clients: ApiClients;
  private timer: NodeJS.Timeout | null = null;
  private lastApplied = -1n;
  private looking = false;
  private fired = false;

  constructor(private readonly d: ResyncWatchDeps) {
    this.clients = new ApiClients(d.credentials);
  }

  start(): void {
    this.timer = setInterval(() => void this.look(), RESYNC_CHECK_MS);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.clients.close();
  }

  private async look(): Promise<void> {
    const applied = this.d.applied();
    const moved = applied !== this.lastApplied;
    this.lastApplied = applied;
    if (moved || this.looking || this.fired) return;
    this.looking = true;
    try {
      const replies = await peerStatuses(this.clients, this.d.peers());
      const peers = replies
        .filter((r): r is StatusReply => r !== null)
        .map((r) => ({ height: r.height, oldestBlock: r.oldestBlock }));
      if (this.timer === null || this.fired || !behindRetention(applied, peers, this.d.needed())) return;
      this.fired = true;
      this.d.log.error("behind every peer's block retention: re-syncing from a snapshot", {
        applied,
        peersOldest: peers.map((p) => p.oldestBlock),
      });
      this.d.onBehind();
    } finally {
      this.looking = false;
    }
  }
}
