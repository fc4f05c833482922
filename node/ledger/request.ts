// The signed EXECUTE request: its canonical encoding, bounds and id (docs/protocol.md §5).
// The caller signs the domain tag followed by the body; the id is SHA-256 of the signed bytes,
// so a replay of the same bytes has the same id. Every request signs the last block height at
// which it may apply (`validUntil`): that bounds how long nodes must remember its id to refuse
// a replay, so exactly-once holds forever with bounded memory (node/ledger/decided-ids.ts).

import { Reader, Writer } from "../common/codec.js";
import { compareBytes, compareUtf8, concatBytes, utf8 } from "../common/bytes.js";
import { REQUEST_TAG } from "../common/tags.js";
import { ArborError, DecodeError, LimitError } from "../common/errors.js";
import { sha256 } from "../common/hash.js";
import {
  MAX_ARGS_BYTES,
  MAX_GAS_LIMIT,
  MAX_KEY_BYTES,
  MAX_PROOF_BYTES,
  MAX_REQUEST_BODY_BYTES,
  MAX_REQUEST_LIFETIME_BLOCKS,
  MAX_TOUCHED_KEYS,
} from "../common/limits.js";
import { checkKey } from "../store/core/path.js";
import { checkArgsSize } from "../common/bounds.js";

export const REQUEST_VERSION = 1;
/** The first byte of a COMPLAIN body (an EXECUTE body starts with REQUEST_VERSION). */
export const COMPLAIN_KIND = 2;
export const REQUEST_SIGNING_TAG = utf8(REQUEST_TAG);
export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;

export interface RequestBody {
  /** key of the operation's record */
  readonly op: string;
  /** keys the operation may read or write: strictly ascending by UTF-8 bytes */
  readonly touched: readonly string[];
  /** canonical proof covering `op` and every touched key */
  readonly proof: Uint8Array;
  readonly args: Uint8Array;
  readonly gasLimit: bigint;
  /** the signer's Ed25519 public key */
  readonly caller: Uint8Array;
  /** lets a client send the same operation twice on purpose */
  readonly nonce: bigint;
  /** the last block height at which the request may apply (a u64; see checkLifetime) */
  readonly validUntil: bigint;
}

export interface SignedRequest extends RequestBody {
  readonly kind: "execute";
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
  /** the whole signed encoding */
  readonly bytes: Uint8Array;
  /** SHA-256 of `bytes` */
  readonly id: Uint8Array;
}

export class RequestError extends ArborError {}

/** Sorts keys the way requests require (ascending UTF-8 bytes) and drops duplicates. */
export function sortKeys(keys: readonly string[]): string[] {
  const uniq = [...new Set(keys)];
  return uniq.sort(compareUtf8);
}

function checkBody(b: RequestBody): void {
  checkKey(b.op);
  if (b.touched.length > MAX_TOUCHED_KEYS)
    throw new LimitError(
      "request/too-many-keys",
      `${b.touched.length} touched keys exceed ${MAX_TOUCHED_KEYS}`,
    );
  let prev: Uint8Array | null = null;
  for (const k of b.touched) {
    const kb = checkKey(k);
    if (prev !== null && compareBytes(prev, kb) >= 0)
      throw new LimitError(
        "request/keys-not-sorted",
        "touched keys must be strictly ascending by UTF-8 bytes",
      );
    prev = kb;
  }
  if (b.proof.length > MAX_PROOF_BYTES) throw new LimitError("request/proof-too-large", "proof too large");
  checkArgsSize(b.args.length);
  if (b.gasLimit <= 0n || b.gasLimit > MAX_GAS_LIMIT)
    throw new LimitError("request/bad-gas-limit", `gas limit must be in 1..${MAX_GAS_LIMIT}`);
  if (b.caller.length !== PUBLIC_KEY_BYTES)
    throw new LimitError("request/bad-caller", "caller key must be 32 bytes");
  checkU64s(b.nonce, b.validUntil);
}

function checkU64s(nonce: bigint, validUntil: bigint): void {
  if (nonce < 0n || nonce >= 1n << 64n) throw new LimitError("request/bad-nonce", "nonce must be a u64");
  if (validUntil < 0n || validUntil >= 1n << 64n)
    throw new LimitError("request/bad-valid-until", "validUntil must be a u64");
}

export function encodeRequestBody(b: RequestBody): Uint8Array {
  checkBody(b);
  const w = new Writer(256 + b.proof.length + b.args.length)
    .u8(REQUEST_VERSION)
    .string(b.op)
    .varint(b.touched.length);
  for (const k of b.touched) w.string(k);
  return w
    .bytes(b.proof)
    .bytes(b.args)
    .varint64(b.gasLimit)
    .raw(b.caller)
    .varint64(b.nonce)
    .varint64(b.validUntil)
    .finish();
}

/**
 * What a caller signs: the tag, the chain id, the body. A signature made for one chain does not
 * verify on another, so a request cannot be replayed across chains (two chains may start from the
 * same records, and their roots then agree).
 */
export function requestSigningMessage(chain: Uint8Array, body: Uint8Array): Uint8Array {
  if (chain.length !== 32) throw new RangeError("a chain id is 32 bytes");
  return concatBytes(REQUEST_SIGNING_TAG, chain, body);
}

export function assembleSignedRequest(body: Uint8Array, signature: Uint8Array): Uint8Array {
  if (signature.length !== SIGNATURE_BYTES)
    throw new LimitError("request/bad-signature-size", "signature must be 64 bytes");
  return new Writer(body.length + 80).bytes(body).raw(signature).finish();
}

/** Largest body of either kind of request. */
const MAX_BODY_BYTES = MAX_REQUEST_BODY_BYTES;

/**
 * The operation, gas limit and lifetime of an EXECUTE request, read without decoding the rest (a
 * leader weighs every pending request by its limit); null for other kinds and for bytes that do
 * not decode, which never run.
 */
export function peekGas(
  bytes: Uint8Array,
): { readonly op: string; readonly gasLimit: bigint; readonly validUntil: bigint } | null {
  try {
    const outer = new Reader(bytes);
    const r = new Reader(outer.view(MAX_BODY_BYTES, "request body"));
    if (r.u8() !== REQUEST_VERSION) return null;
    const op = r.string(MAX_KEY_BYTES, "op key");
    const n = r.varint(MAX_TOUCHED_KEYS, "touched count");
    for (let i = 0; i < n; i++) r.view(MAX_KEY_BYTES, "touched key");
    r.view(MAX_PROOF_BYTES, "proof");
    r.view(MAX_ARGS_BYTES, "args");
    const gasLimit = r.varint64("gas limit");
    r.raw(PUBLIC_KEY_BYTES, "caller");
    r.varint64("nonce");
    const validUntil = r.varint64("valid until");
    return gasLimit > 0n && gasLimit <= MAX_GAS_LIMIT ? { op, gasLimit, validUntil } : null;
  } catch (e) {
    if (e instanceof ArborError) return null;
    throw e;
  }
}

/**
 * Decodes and bounds-checks a signed request (the signature itself is checked by the caller).
 * `body`, `proof` and `args` are views into `bytes` (no copies: requests carry their proofs, and
 * every node decodes every request); the caller must not change `bytes` while it uses them.
 */
export function decodeSignedRequest(bytes: Uint8Array): SignedRequest {
  try {
    const outer = new Reader(bytes);
    const body = outer.view(MAX_BODY_BYTES, "request body");
    const signature = outer.copy(SIGNATURE_BYTES, "signature");
    outer.end("signed request");
    const r = new Reader(body);
    const version = r.u8();
    if (version !== REQUEST_VERSION)
      throw new DecodeError("request/version", `unknown request version ${version}`);
    const op = r.string(MAX_KEY_BYTES, "op key");
    const n = r.varint(MAX_TOUCHED_KEYS, "touched count");
    const touched: string[] = [];
    for (let i = 0; i < n; i++) touched.push(r.string(MAX_KEY_BYTES, "touched key"));
    const proof = r.view(MAX_PROOF_BYTES, "proof");
    const args = r.view(MAX_ARGS_BYTES, "args");
    const gasLimit = r.varint64("gas limit");
    const caller = r.copy(PUBLIC_KEY_BYTES, "caller");
    const nonce = r.varint64("nonce");
    const validUntil = r.varint64("valid until");
    r.end("request body");
    const req = { op, touched, proof, args, gasLimit, caller, nonce, validUntil };
    checkBody(req);
    return { kind: "execute", ...req, body, signature, bytes, id: sha256(bytes) };
  } catch (e) {
    if (e instanceof ArborError) throw new RequestError(e.code, e.message.replace(/^[^:]*: /, ""));
    throw new RequestError("request/malformed", String(e));
  }
}

// --- COMPLAIN ---------------------------------------------------------------------------------

/** A complaint: evidence against a node, and a proof that the node is not yet evicted. */
export interface ComplainBody {
  readonly evidence: Uint8Array;
  /** proof covering `.arbor/evicted/<accused id>` */
  readonly proof: Uint8Array;
  readonly caller: Uint8Array;
  readonly nonce: bigint;
  /** the last block height at which the complaint may apply */
  readonly validUntil: bigint;
}

export interface SignedComplaint extends ComplainBody {
  readonly kind: "complain";
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
  readonly bytes: Uint8Array;
  readonly id: Uint8Array;
}

const MAX_EVIDENCE_FIELD = 64 * 1024;

export function encodeComplainBody(b: ComplainBody): Uint8Array {
  if (b.evidence.length > MAX_EVIDENCE_FIELD)
    throw new LimitError("request/evidence-too-large", "evidence too large");
  if (b.proof.length > MAX_PROOF_BYTES) throw new LimitError("request/proof-too-large", "proof too large");
  if (b.caller.length !== PUBLIC_KEY_BYTES)
    throw new LimitError("request/bad-caller", "caller key must be 32 bytes");
  checkU64s(b.nonce, b.validUntil);
  return new Writer(256 + b.evidence.length + b.proof.length)
    .u8(COMPLAIN_KIND)
    .bytes(b.evidence)
    .bytes(b.proof)
    .raw(b.caller)
    .varint64(b.nonce)
    .varint64(b.validUntil)
    .finish();
}

/** Decodes an EXECUTE or a COMPLAIN (the signature itself is checked by the caller; fields are views as above). */
export function decodeExecuteOrComplain(bytes: Uint8Array): SignedRequest | SignedComplaint {
  try {
    const outer = new Reader(bytes);
    const body = outer.view(MAX_BODY_BYTES, "request body");
    if (body[0] !== COMPLAIN_KIND) return decodeSignedRequest(bytes);
    const signature = outer.copy(SIGNATURE_BYTES, "signature");
    outer.end("signed request");
    const r = new Reader(body);
    r.u8();
    const evidence = r.view(MAX_EVIDENCE_FIELD, "evidence");
    const proof = r.view(MAX_PROOF_BYTES, "proof");
    const tail = readSignerTail(r);
    r.end("complaint body");
    return { kind: "complain", evidence, proof, ...tail, body, signature, bytes, id: sha256(bytes) };
  } catch (e) {
    throw asRequestError(e);
  }
}

/** The fields every non-EXECUTE body ends with: the caller's key, the nonce and validUntil. */
export function readSignerTail(r: Reader): { caller: Uint8Array; nonce: bigint; validUntil: bigint } {
  const caller = r.copy(PUBLIC_KEY_BYTES, "caller");
  const nonce = r.varint64("nonce");
  const validUntil = r.varint64("valid until");
  return { caller, nonce, validUntil };
}

/** Any failure to decode a request, as the RequestError a node answers with. */
export function asRequestError(e: unknown): RequestError {
  if (e instanceof RequestError) return e;
  if (e instanceof ArborError) return new RequestError(e.code, e.message.replace(/^[^:]*: /, ""));
  return new RequestError("request/malformed", String(e));
}

/**
 * Why a request with this `validUntil` may not apply in a block at `height`, or null when it may:
 * it must apply at or before its last height, and may not ask to live MAX_REQUEST_LIFETIME_BLOCKS
 * or more past the block (the bound on how long its id is remembered). Deterministic: every node
 * reaches the same verdict for the same block.
 */
export function checkLifetime(
  validUntil: bigint,
  height: bigint,
): { reason: "expired" | "bad-lifetime"; message: string } | null {
  if (validUntil < height)
    return { reason: "expired", message: `valid until height ${validUntil}, applied at ${height}` };
  if (validUntil - height >= BigInt(MAX_REQUEST_LIFETIME_BLOCKS))
    return {
      reason: "bad-lifetime",
      message: `valid until height ${validUntil}: at most ${MAX_REQUEST_LIFETIME_BLOCKS - 1} blocks past ${height}`,
    };
  return null;
}
