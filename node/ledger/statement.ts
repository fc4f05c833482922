// Signed statements (GET replies, Status). A node signs what it claims: its id, the height,
// timestamp and root it serves, and the digest of the proof bytes the statement covers — the
// digest of the empty proof for a root statement, which a node signs once per height and attaches
// to every reply at that height (the reply's proof must then be against the signed root). Such
// statements are evidence: a statement whose root contradicts the certified root at its height
// proves the signer lied (DESIGN §8).

import { Reader, Writer } from "../common/codec.js";
import { concatBytes, utf8 } from "../common/bytes.js";
import { sha256 } from "../common/hash.js";
import { GET_TAG } from "../common/tags.js";

export const GET_SIGNING_TAG = utf8(GET_TAG);

export interface GetStatement {
  readonly chain: Uint8Array;
  readonly node: number;
  readonly height: bigint;
  readonly timestamp: bigint;
  readonly root: Uint8Array;
  readonly proofDigest: Uint8Array;
}

export function encodeStatement(s: GetStatement): Uint8Array {
  return new Writer(160)
    .raw(s.chain)
    .varint(s.node)
    .u64(s.height)
    .varint64(s.timestamp)
    .raw(s.root)
    .raw(s.proofDigest)
    .finish();
}

export function decodeStatement(b: Uint8Array): GetStatement {
  const r = new Reader(b);
  const s = {
    chain: r.copy(32, "chain"),
    node: r.varint(1 << 30, "node"),
    height: r.u64(),
    timestamp: r.varint64("timestamp"),
    root: r.copy(32, "root"),
    proofDigest: r.copy(32, "proof digest"),
  };
  r.end("statement");
  return s;
}

export function statementSigningMessage(statement: Uint8Array): Uint8Array {
  return concatBytes(GET_SIGNING_TAG, statement);
}

export function proofDigest(proof: Uint8Array): Uint8Array {
  return sha256(proof);
}

/** The proof digest of a root statement: it covers no particular proof. */
export const ROOT_STATEMENT_DIGEST: Uint8Array = proofDigest(new Uint8Array(0));
