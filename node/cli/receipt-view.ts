// How a trusted receipt is shown: one readable line, or a JSON object, for the commands that write.
import { toHex } from "../common/bytes.js";
import type { TrustedReceipt } from "../../client/client.js";

export function receiptJson(r: TrustedReceipt): Record<string, unknown> {
  const x = r.receipt;
  return {
    status: x.status,
    requestId: x.requestId,
    height: x.height,
    index: x.index,
    gasUsed: x.gasUsed,
    ...(x.status === "accepted"
      ? { timestamp: x.timestamp, writesDigest: x.writesDigest }
      : { reason: x.reason, message: x.message }),
    backing: r.backing,
    ...(r.header ? { certifiedHeight: r.header.header.height } : {}),
    signers: r.signers,
    servedBy: r.servedBy,
  };
}

export function receiptLine(what: string, r: TrustedReceipt): string {
  const x = r.receipt;
  const head =
    x.status === "accepted"
      ? `${what}: accepted at height ${x.height} (timestamp ${x.timestamp}), gas ${x.gasUsed}`
      : `${what}: rejected (${x.reason}) ${x.message}`;
  const backing =
    r.backing === "header"
      ? `receipt from node ${r.servedBy.join(", ")} in the header certified by nodes ${r.signers.join(", ")}`
      : `receipt signed alike by nodes ${r.signers.join(", ")}`;
  return `${head}; ${backing}; request ${toHex(x.requestId).slice(0, 16)}…`;
}

/** Writes need a key that means something: a throwaway key is allowed but worth a note. */
export function warnEphemeral(keySource: string): void {
  if (keySource === "ephemeral")
    process.stderr.write("arbor: note: no --key (and no DIR/client.key): signing with a throwaway key\n");
}
