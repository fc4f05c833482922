// GetBlockReceipts: every receipt of one block, in block order, from the receipt store — the list a
// client hashes into the block's receipt root to check it against the certified header. Heights
// outside the node's receipt retention, or above its applied height, are NOT_FOUND with a typed code
// (receipts/pruned, receipts/not-applied; receipts/incomplete when a prune overtook the read).

import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { BlockReceiptsReplySchema, type BlockReceiptsRequest } from "../proto/gen/arbor/v1/client_pb.js";
import { grpcError, nodeFault } from "../proto/grpc.js";
import { ArborError } from "./common/errors.js";
import type { ReceiptStore } from "./receipt-store.js";
import type { Byzantine } from "./byzantine.js";

export interface BlockReceiptsDeps {
  readonly receiptStore: ReceiptStore;
  /** the node's applied height */
  readonly height: () => bigint;
  readonly byzantine?: Byzantine;
}

export function serveBlockReceipts(
  d: BlockReceiptsDeps,
  q: BlockReceiptsRequest,
  cb: (e: grpc.ServiceError | null, r?: unknown) => void,
): void {
  const applied = d.height();
  if (q.height > applied)
    return cb(
      grpcError(grpc.status.NOT_FOUND, `receipts/not-applied: height ${q.height} is above ${applied}`),
    );
  const floor = d.receiptStore.floor(applied);
  if (q.height < floor)
    return cb(grpcError(grpc.status.NOT_FOUND, `receipts/pruned: receipts are kept from height ${floor} on`));
  d.receiptStore.blockReceipts(q.height).then(
    (receipts) => {
      // Test-only: a node that leaves a receipt out of the list (node/byzantine.ts).
      if (d.byzantine === "drop-block-receipt") receipts = receipts.slice(1);
      cb(null, create(BlockReceiptsReplySchema, { height: q.height, receipts }));
    },
    (e) =>
      cb(
        e instanceof ArborError
          ? grpcError(grpc.status.NOT_FOUND, e.message) // receipts/incomplete: a prune under way
          : nodeFault(e),
      ),
  );
}
