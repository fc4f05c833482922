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

/** Not enough nodes answered (down, slow or refusing). */
export class UnavailableError extends ArborError {}
