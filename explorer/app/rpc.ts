// One node's browser API (node/web-api.ts) over the Connect protocol (@connectrpc/connect-web),
// binary protobuf. Nothing it returns is trusted: trust.ts checks every answer.
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { Arbor } from "../../proto/gen/arbor/v1/client_pb.js";

/** How long one call may take; header waits are bounded by the node below this. */
export const CALL_TIMEOUT_MS = 10_000;
/** How long a node may hold a header request until that height is certified (capped by the node too). */
export const HEADER_WAIT_MS = 3_000;

export type ArborRpc = Client<typeof Arbor>;

export function nodeRpc(baseUrl: string): ArborRpc {
  return createClient(
    Arbor,
    createConnectTransport({ baseUrl, useBinaryFormat: true, defaultTimeoutMs: CALL_TIMEOUT_MS }),
  );
}
