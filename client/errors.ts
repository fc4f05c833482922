// Errors the SDK raises. Node reason codes travel unchanged in `code`.
import { ArborError } from "../node/common/errors.js";

/** A node refused or rejected a request; `code` is the node's stable reason code. */
export class RequestRejected extends ArborError {
  constructor(
    code: string,
    message: string,
    readonly requestId?: Uint8Array,
  ) {
    super(code, message);
  }
}

/** A node's answer failed verification: forged, inconsistent or unprovable. */
export class VerificationError extends ArborError {
  constructor(
    code: string,
    message: string,
    readonly node?: number,
  ) {
    super(code, message);
  }
}

/**
 * Whether a node's refusal says it left the membership (`node/left`, docs/protocol.md §11): it
 * will never answer again, so a client stops asking it.
 */
export function saysLeft(e: unknown): boolean {
  const details = (e as { details?: unknown } | null)?.details;
  return typeof details === "string" && details.startsWith("node/left");
}

/** Not enough nodes answered (down, slow or refusing). */
export class UnavailableError extends ArborError {}
