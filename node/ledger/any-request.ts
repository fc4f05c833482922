// Any signed request a block may carry, told apart by the first byte of its body: the EXECUTE
// version (1), COMPLAIN (2) or MEMBER (3). Every kind is signed the same way (the request tag,
// then the body) and identified by SHA-256 of its signed bytes (docs/protocol.md §5).

import { Reader } from "../common/codec.js";
import { MAX_REQUEST_BODY_BYTES } from "../common/limits.js";
import { decodeMemberRequest, MEMBER_KIND, type SignedMember } from "./member-request.js";
import {
  decodeExecuteOrComplain,
  RequestError,
  type SignedComplaint,
  type SignedRequest,
} from "./request.js";

export type AnySignedRequest = SignedRequest | SignedComplaint | SignedMember;

/** Decodes and bounds-checks a signed request of any kind (signatures are checked by the caller). */
export function decodeAnyRequest(bytes: Uint8Array): AnySignedRequest {
  let first: number | undefined;
  try {
    first = new Reader(bytes).view(MAX_REQUEST_BODY_BYTES, "request body")[0];
  } catch {
    first = undefined; // the EXECUTE decoder reports the malformed bytes
  }
  if (first === MEMBER_KIND) return decodeMemberRequest(bytes);
  const r = decodeExecuteOrComplain(bytes);
  if (!(r.kind === "execute" || r.kind === "complain"))
    throw new RequestError("request/malformed", "unknown kind");
  return r;
}
