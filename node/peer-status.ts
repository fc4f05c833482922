// Every other member's Status, asked at once through their client API, for decisions a node makes
// from what f+1 of its peers report (joining: node/join-gate.ts; re-syncing: node/resync-watch.ts).
// A peer that does not answer within the timeout counts as no answer.
import { create } from "@bufbuild/protobuf";
import { StatusRequestSchema, type StatusReply } from "../proto/gen/arbor/v1/client_pb.js";
import { RESYNC_STATUS_TIMEOUT_MS } from "./common/limits.js";
import type { GenesisNode } from "./ledger/genesis.js";
import type { ApiClients } from "./net/api-clients.js";

/** The peers' Status replies, in the order of `peers`; null for a peer that did not answer. */
export function peerStatuses(
  clients: ApiClients,
  peers: readonly GenesisNode[],
): Promise<(StatusReply | null)[]> {
  return Promise.all(
    peers.map((p) =>
      clients
        .call<unknown, StatusReply>(
          p.address,
          "status",
          create(StatusRequestSchema),
          RESYNC_STATUS_TIMEOUT_MS,
        )
        .catch(() => null),
    ),
  );
}
