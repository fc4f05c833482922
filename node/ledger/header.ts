// Block headers and their certificates. After executing block h every node signs the header
// (height, timestamp, state root, receipt root, validator-set hash, previous header hash); 2f+1
// matching signatures of the block's validator set form a certificate that anyone holding the
// membership can check. A client verifies reads against certified roots (docs/protocol.md §7).

import { Reader, Writer } from "../common/codec.js";
import { bytesEqual, concatBytes, utf8 } from "../common/bytes.js";
import { DecodeError } from "../common/errors.js";
import { sha256 } from "../common/hash.js";
import { HEADER_TAG } from "../common/tags.js";
import { TOB_MAX_VALIDATORS } from "../common/limits.js";
import type { SignatureVerifier } from "../common/signature-verifier.js";

export const HEADER_SIGNING_TAG = utf8(HEADER_TAG);

export interface Header {
  readonly chain: Uint8Array;
  readonly height: bigint;
  /** logical timestamp after the block */
  readonly timestamp: bigint;
  readonly root: Uint8Array;
  /** Merkle root of the block's receipts (receipts-root.ts) */
  readonly receiptsRoot: Uint8Array;
  /** root of the ordered index of keys and their histories (docs/protocol.md §15) */
  readonly indexRoot: Uint8Array;
  /** hash of the validator set that certifies this header */
  readonly validatorsHash: Uint8Array;
  /** hash of the header at height-1 (zero at height 0) */
  readonly previous: Uint8Array;
  /**
   * A validator-set change this block decided: the hash of the next set and the height it signs
   * from (zero hash and 0 when none). Certified by the current set, it is what lets a light client
   * step from one set to the next without downloading anything in between.
   */
  readonly nextValidatorsHash: Uint8Array;
  readonly nextFromHeight: bigint;
}

export interface HeaderSignature {
  readonly signer: number;
  readonly signature: Uint8Array;
}

export interface CertifiedHeader {
  readonly header: Header;
  /** ascending by signer, unique */
  readonly signatures: readonly HeaderSignature[];
}

export interface Validator {
  readonly id: number;
  readonly publicKey: Uint8Array;
}

export function encodeHeader(h: Header): Uint8Array {
  return new Writer(200)
    .raw(h.chain)
    .u64(h.height)
    .varint64(h.timestamp)
    .raw(h.root)
    .raw(h.receiptsRoot)
    .raw(h.indexRoot)
    .raw(h.validatorsHash)
    .raw(h.previous)
    .raw(h.nextValidatorsHash)
    .u64(h.nextFromHeight)
    .finish();
}

export function decodeHeader(r: Reader): Header {
  return {
    chain: r.copy(32, "chain"),
    height: r.u64(),
    timestamp: r.varint64("timestamp"),
    root: r.copy(32, "root"),
    receiptsRoot: r.copy(32, "receipts root"),
    indexRoot: r.copy(32, "index root"),
    validatorsHash: r.copy(32, "validators hash"),
    previous: r.copy(32, "previous"),
    nextValidatorsHash: r.copy(32, "next validators hash"),
    nextFromHeight: r.u64(),
  };
}

export function headerHash(h: Header): Uint8Array {
  return sha256(encodeHeader(h));
}

export function headerSigningMessage(h: Header): Uint8Array {
  return concatBytes(HEADER_SIGNING_TAG, headerHash(h));
}

/** Hash of a validator set: ids and keys, ascending by id. */
export function validatorsHash(vs: readonly Validator[]): Uint8Array {
  const sorted = [...vs].sort((a, b) => a.id - b.id);
  const w = new Writer(40 * sorted.length + 8).varint(sorted.length);
  for (const v of sorted) w.varint(v.id).raw(v.publicKey);
  return sha256(w.finish());
}

export function encodeCertifiedHeader(c: CertifiedHeader): Uint8Array {
  const w = new Writer(300).raw(encodeHeader(c.header)).varint(c.signatures.length);
  for (const s of c.signatures) w.varint(s.signer).raw(s.signature);
  return w.finish();
}

export function decodeCertifiedHeader(b: Uint8Array): CertifiedHeader {
  const r = new Reader(b);
  const header = decodeHeader(r);
  const n = r.varint(TOB_MAX_VALIDATORS, "signature count");
  const signatures: HeaderSignature[] = [];
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const signer = r.varint(1 << 30, "signer");
    if (signer <= prev)
      throw new DecodeError("header/signers-not-sorted", "signers must be strictly ascending");
    prev = signer;
    signatures.push({ signer, signature: r.copy(64, "signature") });
  }
  r.end("certified header");
  return { header, signatures };
}

/** Quorum for n validators: 2f+1 with f = floor((n-1)/3). */
export function quorum(n: number): number {
  return n - Math.floor((n - 1) / 3);
}

/** Which check a certificate failed, in the order they run (docs/protocol.md §7). */
export type CertificateRefusal =
  | "certificate/wrong-validator-set"
  | "certificate/unknown-signer"
  | "certificate/bad-signature"
  | "certificate/too-few-signers";

export type CertificateCheck =
  { readonly ok: true } | { readonly ok: false; readonly code: CertificateRefusal; readonly reason: string };

/** Checks a certificate against the validator set that must have signed it. */
export function verifyCertificate(
  c: CertifiedHeader,
  validators: readonly Validator[],
  v: SignatureVerifier,
): CertificateCheck {
  if (!bytesEqual(c.header.validatorsHash, validatorsHash(validators)))
    return {
      ok: false,
      code: "certificate/wrong-validator-set",
      reason: "the header names another validator set",
    };
  const msg = headerSigningMessage(c.header);
  let good = 0;
  for (const s of c.signatures) {
    const val = validators.find((x) => x.id === s.signer);
    if (!val)
      return {
        ok: false,
        code: "certificate/unknown-signer",
        reason: `signer ${s.signer} is not a validator`,
      };
    if (!v.verify(val.publicKey, msg, s.signature))
      return { ok: false, code: "certificate/bad-signature", reason: `bad signature of ${s.signer}` };
    good++;
  }
  if (good < quorum(validators.length))
    return {
      ok: false,
      code: "certificate/too-few-signers",
      reason: `${good} signatures, ${quorum(validators.length)} needed`,
    };
  return { ok: true };
}
