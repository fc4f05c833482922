// The MEMBER request: a change of the membership (add a node, remove one, or repair the
// replication after a node left), with the approvals the chain's governance rule asks for
// (node/ledger/governance.ts) and a proof covering the member records it rewrites. It goes
// through the broadcast and the exactly-once rules like any request; its body starts with
// MEMBER_KIND where an EXECUTE body starts with the request version (docs/protocol.md §11).

import { Reader, Writer } from "../common/codec.js";
import { concatBytes, utf8 } from "../common/bytes.js";
import { LimitError } from "../common/errors.js";
import { sha256 } from "../common/hash.js";
import {
  MAX_NODE_ID,
  MAX_PROOF_BYTES,
  MAX_REQUEST_BODY_BYTES,
  TOB_MAX_VALIDATORS,
} from "../common/limits.js";
import { MEMBER_APPROVAL_TAG } from "../common/tags.js";
import { decodeMember, encodeMember, type GenesisNode } from "./genesis.js";
import {
  asRequestError,
  PUBLIC_KEY_BYTES,
  readSignerTail,
  RequestError,
  SIGNATURE_BYTES,
} from "./request.js";

/** The first byte of a MEMBER body. */
export const MEMBER_KIND = 3;
/** At most one approval per governance key; no rule has more keys than validators. */
export const MAX_APPROVALS = TOB_MAX_VALIDATORS;
/** Largest encoded member record (id, key, address, prefixes). */
export const MAX_MEMBER_RECORD_BYTES = 64 * 1024;

export type MemberChange =
  | { readonly kind: "add"; readonly node: GenesisNode }
  | { readonly kind: "remove"; readonly id: number }
  /** give the prefixes of nodes no longer members (evicted) to members, up to the replication */
  | { readonly kind: "repair" };

const CHANGE_TAGS = { add: 1, remove: 2, repair: 3 } as const;

export interface Approval {
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
}

export interface MemberBody {
  readonly change: MemberChange;
  readonly approvals: readonly Approval[];
  /** proof covering the record `.arbor/nodes/<id>` of every current member (and of an added id) */
  readonly proof: Uint8Array;
  readonly caller: Uint8Array;
  readonly nonce: bigint;
  readonly validUntil: bigint;
}

export interface SignedMember extends MemberBody {
  readonly kind: "member";
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
  readonly bytes: Uint8Array;
  readonly id: Uint8Array;
}

export function encodeChange(c: MemberChange): Uint8Array {
  const w = new Writer(128).u8(CHANGE_TAGS[c.kind]);
  if (c.kind === "add") w.bytes(encodeMember(c.node));
  else if (c.kind === "remove") w.varint(c.id);
  return w.finish();
}

function readChange(r: Reader): MemberChange {
  const tag = r.u8();
  if (tag === CHANGE_TAGS.add)
    return { kind: "add", node: decodeMember(r.bytes(MAX_MEMBER_RECORD_BYTES, "member")) };
  if (tag === CHANGE_TAGS.remove) return { kind: "remove", id: r.varint(MAX_NODE_ID, "member id") };
  if (tag === CHANGE_TAGS.repair) return { kind: "repair" };
  throw new RequestError("request/bad-member-change", `unknown membership change ${tag}`);
}

/**
 * What a governance key signs to approve a change: the tag's UTF-8 bytes, the chain id, the change,
 * then the request's nonce and validUntil as u64s. The request itself is bound by its id (exactly
 * once), so an approval can serve only the one request that carries these values, on one chain
 * (the same governance keys may rule several chains).
 */
export function approvalMessage(
  chain: Uint8Array,
  change: MemberChange,
  nonce: bigint,
  validUntil: bigint,
): Uint8Array {
  if (chain.length !== 32) throw new RangeError("a chain id is 32 bytes");
  return concatBytes(
    utf8(MEMBER_APPROVAL_TAG),
    chain,
    encodeChange(change),
    new Writer(16).u64(nonce).u64(validUntil).finish(),
  );
}

export function encodeMemberBody(b: MemberBody): Uint8Array {
  if (b.approvals.length > MAX_APPROVALS)
    throw new LimitError("request/too-many-approvals", `at most ${MAX_APPROVALS} approvals`);
  if (b.proof.length > MAX_PROOF_BYTES) throw new LimitError("request/proof-too-large", "proof too large");
  if (b.caller.length !== PUBLIC_KEY_BYTES)
    throw new LimitError("request/bad-caller", "caller key must be 32 bytes");
  const w = new Writer(256 + b.proof.length).u8(MEMBER_KIND).raw(encodeChange(b.change));
  w.varint(b.approvals.length);
  for (const a of b.approvals) {
    if (a.publicKey.length !== PUBLIC_KEY_BYTES || a.signature.length !== SIGNATURE_BYTES)
      throw new LimitError("request/bad-approval", "an approval is a 32-byte key and a 64-byte signature");
    w.raw(a.publicKey).raw(a.signature);
  }
  return w.bytes(b.proof).raw(b.caller).varint64(b.nonce).varint64(b.validUntil).finish();
}

/** Decodes a signed MEMBER request (signatures are checked by the ledger; `proof` is a view). */
export function decodeMemberRequest(bytes: Uint8Array): SignedMember {
  try {
    const outer = new Reader(bytes);
    const body = outer.view(MAX_REQUEST_BODY_BYTES, "request body");
    const signature = outer.copy(SIGNATURE_BYTES, "signature");
    outer.end("signed request");
    const r = new Reader(body);
    if (r.u8() !== MEMBER_KIND) throw new RequestError("request/malformed", "not a membership request");
    const change = readChange(r);
    const n = r.varint(MAX_APPROVALS, "approval count");
    const approvals: Approval[] = [];
    for (let i = 0; i < n; i++)
      approvals.push({
        publicKey: r.copy(PUBLIC_KEY_BYTES, "approval key"),
        signature: r.copy(SIGNATURE_BYTES, "approval signature"),
      });
    const proof = r.view(MAX_PROOF_BYTES, "proof");
    const tail = readSignerTail(r);
    r.end("membership body");
    return { kind: "member", change, approvals, proof, ...tail, body, signature, bytes, id: sha256(bytes) };
  } catch (e) {
    throw asRequestError(e);
  }
}
