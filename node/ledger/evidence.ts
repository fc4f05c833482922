// Evidence of misbehaviour, checked deterministically by every node (DESIGN §8). Four offences:
// a GET statement whose root contradicts the certified root at its height; two statements of one
// node at one height with different roots; two consensus votes of one validator in one round for
// different blocks; two signed proposals of one leader in one round for different blocks (their
// compact signed headers, so the evidence stays small however large the blocks). Each proof names
// the accused node and a digest identifying the offence.

import { Reader, Writer } from "../common/codec.js";
import { bytesEqual } from "../common/bytes.js";
import { ArborError } from "../common/errors.js";
import { sha256 } from "../common/hash.js";
import { TOB_MAX_MESSAGE_BYTES } from "../common/limits.js";
import { DecodeError } from "../common/errors.js";
import { decodeMessage, decodeSignedHeader, type SignedHeader } from "../tob/core/wire.js";
import { proposalSigningBytes, voteSigningBytes } from "../tob/core/crypto.js";
import { decodeCertifiedHeader, verifyCertificate, type Validator } from "./header.js";
import type { SignatureVerifier } from "../common/signature-verifier.js";
import { decodeStatement, statementSigningMessage } from "./statement.js";

/** Largest encoded evidence accepted. */
export const MAX_EVIDENCE_BYTES = 64 * 1024;

export interface SignedStatementBytes {
  readonly statement: Uint8Array;
  readonly signature: Uint8Array;
}

export type Evidence =
  | {
      readonly kind: "forged-statement";
      readonly signed: SignedStatementBytes;
      readonly certificate: Uint8Array;
    }
  | {
      readonly kind: "conflicting-statements";
      readonly a: SignedStatementBytes;
      readonly b: SignedStatementBytes;
    }
  | { readonly kind: "double-vote"; readonly first: Uint8Array; readonly second: Uint8Array }
  /** two signed proposal headers (wire.ts encodeSignedHeader) */
  | { readonly kind: "double-proposal"; readonly first: Uint8Array; readonly second: Uint8Array };

const TAGS = {
  "forged-statement": 1,
  "conflicting-statements": 2,
  "double-vote": 3,
  "double-proposal": 4,
} as const;

export class EvidenceError extends ArborError {}

function writeSigned(w: Writer, s: SignedStatementBytes): void {
  w.bytes(s.statement).bytes(s.signature);
}

function readSigned(r: Reader): SignedStatementBytes {
  return { statement: r.bytes(1024, "statement"), signature: r.bytes(64, "signature") };
}

export function encodeEvidence(e: Evidence): Uint8Array {
  const w = new Writer(512).u8(TAGS[e.kind]);
  if (e.kind === "forged-statement") {
    writeSigned(w, e.signed);
    w.bytes(e.certificate);
  } else if (e.kind === "conflicting-statements") {
    writeSigned(w, e.a);
    writeSigned(w, e.b);
  } else w.bytes(e.first).bytes(e.second);
  return w.finish();
}

export function decodeEvidence(b: Uint8Array): Evidence {
  if (b.length > MAX_EVIDENCE_BYTES) throw new EvidenceError("evidence/too-large", "evidence too large");
  const r = new Reader(b);
  const tag = r.u8();
  let e: Evidence;
  if (tag === 1)
    e = { kind: "forged-statement", signed: readSigned(r), certificate: r.bytes(32 * 1024, "certificate") };
  else if (tag === 2) e = { kind: "conflicting-statements", a: readSigned(r), b: readSigned(r) };
  else if (tag === 3)
    e = {
      kind: "double-vote",
      first: r.bytes(TOB_MAX_MESSAGE_BYTES, "vote"),
      second: r.bytes(TOB_MAX_MESSAGE_BYTES, "vote"),
    };
  // A signed header is far smaller than the evidence's own bound, which is all that caps it here.
  else if (tag === 4)
    e = {
      kind: "double-proposal",
      first: r.bytes(MAX_EVIDENCE_BYTES, "proposal"),
      second: r.bytes(MAX_EVIDENCE_BYTES, "proposal"),
    };
  else throw new EvidenceError("evidence/unknown-kind", `unknown evidence kind ${tag}`);
  r.end("evidence");
  return e;
}

export interface EvidenceContext {
  readonly chain: Uint8Array;
  /** every node ever in the membership, by id (an evicted node's old statements stay checkable) */
  readonly members: ReadonlyMap<number, Uint8Array>;
  /** the validator set that certifies headers at `height` */
  validatorsAt(height: bigint): readonly Validator[];
  /** the ordered validator keys of a consensus epoch, if known */
  epochValidators(epoch: number): readonly Uint8Array[] | undefined;
  readonly verifier: SignatureVerifier;
}

export type EvidenceVerdict =
  | { readonly ok: true; readonly accused: number; readonly offence: Uint8Array }
  | { readonly ok: false; readonly reason: string };

const no = (reason: string): EvidenceVerdict => ({ ok: false, reason });

function checkStatement(s: SignedStatementBytes, ctx: EvidenceContext) {
  let st;
  try {
    st = decodeStatement(s.statement);
  } catch {
    return null;
  }
  const key = ctx.members.get(st.node);
  if (!key || !bytesEqual(st.chain, ctx.chain)) return null;
  if (!ctx.verifier.verify(key, statementSigningMessage(s.statement), s.signature)) return null;
  return st;
}

/** Whether the evidence proves misbehaviour, and by whom. Never throws on hostile input. */
export function verifyEvidence(bytes: Uint8Array, ctx: EvidenceContext): EvidenceVerdict {
  let e: Evidence;
  try {
    e = decodeEvidence(bytes);
  } catch (err) {
    return no(err instanceof ArborError ? err.code : "evidence/malformed");
  }
  switch (e.kind) {
    case "forged-statement":
      return verifyForged(e.signed, e.certificate, ctx);
    case "conflicting-statements": {
      const a = checkStatement(e.a, ctx);
      const b = checkStatement(e.b, ctx);
      if (!a || !b) return no("evidence/bad-statement");
      if (a.node !== b.node || a.height !== b.height) return no("evidence/not-comparable");
      if (bytesEqual(a.root, b.root)) return no("evidence/no-contradiction");
      return {
        ok: true,
        accused: a.node,
        offence: sha256(new Writer(64).u8(1).varint(a.node).u64(a.height).finish()),
      };
    }
    case "double-vote":
      return verifyDoubleVote(e.first, e.second, ctx);
    case "double-proposal":
      return verifyDoubleProposal(e.first, e.second, ctx);
  }
}

function verifyForged(
  signed: SignedStatementBytes,
  certificate: Uint8Array,
  ctx: EvidenceContext,
): EvidenceVerdict {
  const st = checkStatement(signed, ctx);
  if (!st) return no("evidence/bad-statement");
  let cert;
  try {
    cert = decodeCertifiedHeader(certificate);
  } catch {
    return no("evidence/bad-certificate");
  }
  if (cert.header.height !== st.height || !bytesEqual(cert.header.chain, ctx.chain))
    return no("evidence/height-mismatch");
  if (!verifyCertificate(cert, ctx.validatorsAt(st.height), ctx.verifier).ok)
    return no("evidence/bad-certificate");
  if (bytesEqual(cert.header.root, st.root)) return no("evidence/no-contradiction");
  return {
    ok: true,
    accused: st.node,
    offence: sha256(new Writer(64).u8(1).varint(st.node).u64(st.height).finish()),
  };
}

/**
 * The verdict on two messages signed by the validator at `position` of `epoch`: the epoch must have
 * a key there, both signatures must verify under it, and the key must be a node's ever a member.
 * The offence is `SHA-256(u8 kind ‖ varint node id ‖ varint epoch ‖ varint round)`.
 */
function equivocation(
  kind: 3 | 4,
  at: { readonly epoch: number; readonly round: number; readonly position: number },
  signed: ReadonlyArray<readonly [message: Uint8Array, sig: Uint8Array]>,
  ctx: EvidenceContext,
): EvidenceVerdict {
  const key = ctx.epochValidators(at.epoch)?.[at.position];
  if (!key) return no("evidence/unknown-signer");
  if (!signed.every(([m, sig]) => ctx.verifier.verify(key, m, sig))) return no("evidence/bad-signature");
  const accused = [...ctx.members].find(([, k]) => bytesEqual(k, key))?.[0];
  if (accused === undefined) return no("evidence/unknown-signer");
  const offence = new Writer(64).u8(kind).varint(accused).varint(at.epoch).varint(at.round);
  return { ok: true, accused, offence: sha256(offence.finish()) };
}

function verifyDoubleVote(first: Uint8Array, second: Uint8Array, ctx: EvidenceContext): EvidenceVerdict {
  let m1, m2;
  try {
    m1 = decodeMessage(first);
    m2 = decodeMessage(second);
  } catch {
    return no("evidence/bad-vote");
  }
  if (m1.kind !== "vote" || m2.kind !== "vote") return no("evidence/bad-vote");
  const v1 = m1.vote;
  const v2 = m2.vote;
  if (v1.epoch !== v2.epoch || v1.round !== v2.round || v1.signer !== v2.signer)
    return no("evidence/not-comparable");
  if (bytesEqual(v1.blockId, v2.blockId)) return no("evidence/no-contradiction");
  const signing = (v: typeof v1) => voteSigningBytes(ctx.chain, v.epoch, v.round, v.blockId);
  return equivocation(
    3,
    { epoch: v1.epoch, round: v1.round, position: v1.signer },
    [
      [signing(v1), v1.sig],
      [signing(v2), v2.sig],
    ],
    ctx,
  );
}

function verifyDoubleProposal(first: Uint8Array, second: Uint8Array, ctx: EvidenceContext): EvidenceVerdict {
  let a: SignedHeader, b: SignedHeader;
  try {
    a = decodeSignedHeader(first);
    b = decodeSignedHeader(second);
  } catch (err) {
    return no(err instanceof DecodeError ? err.code : "evidence/malformed");
  }
  if (a.epoch !== b.epoch || a.round !== b.round || a.author !== b.author)
    return no("evidence/not-comparable");
  if (bytesEqual(a.id, b.id)) return no("evidence/no-contradiction");
  return equivocation(
    4,
    { epoch: a.epoch, round: a.round, position: a.author },
    [
      [proposalSigningBytes(ctx.chain, a.id), a.signature],
      [proposalSigningBytes(ctx.chain, b.id), b.signature],
    ],
    ctx,
  );
}
