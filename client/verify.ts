// Pure verification of what a node sends a client: its signed statement (each signature checked
// once), and a read reply's proof against the root it signed, covering what was asked. No I/O:
// certificates are checked by the layer that fetches them (headers.ts).

import { bytesEqual, toHex } from "../node/common/bytes.js";
import type { GenesisNode } from "../node/ledger/genesis.js";
import {
  decodeStatement,
  proofDigest,
  ROOT_STATEMENT_DIGEST,
  statementSigningMessage,
  type GetStatement,
} from "../node/ledger/statement.js";
import { keyPath } from "../node/store/core/path.js";
import { provenState, type ProofNode } from "../node/store/core/proof.js";
import { decodeProof, encodeProof } from "../node/store/core/proof-codec.js";
import { verify } from "./crypto.js";
import { VerificationError } from "./errors.js";
import { MAX_VERIFIED_STATEMENTS } from "./limits.js";
import type { ReadResult, SignedStatement } from "./types.js";
import type { GetReply } from "../proto/gen/arbor/v1/client_pb.js";

/**
 * Statement signatures verified in this process, shared by every ArborClient (like the verified
 * headers): a node signs one root statement per height and every client reading at that height
 * gets the same one, so it is verified once per process. Keyed by signer key and signature; the
 * signed bytes are compared on a hit. Bounded: the oldest goes first.
 */
class VerifiedStatements {
  private readonly byKey = new Map<string, Uint8Array>();

  constructor(private readonly max: number) {}

  has(key: string, bytes: Uint8Array): boolean {
    const known = this.byKey.get(key);
    return known !== undefined && bytesEqual(known, bytes);
  }

  add(key: string, bytes: Uint8Array): void {
    if (this.byKey.size >= this.max) this.byKey.delete(this.byKey.keys().next().value!);
    this.byKey.set(key, bytes);
  }
}

const verifiedStatements = new VerifiedStatements(MAX_VERIFIED_STATEMENTS);

/** Checks node statements of one chain; a signature verified before in this process is not checked again. */
export class StatementChecker {
  constructor(private readonly chain: Uint8Array) {}

  check(node: GenesisNode, bytes: Uint8Array, signature: Uint8Array): GetStatement {
    let st: GetStatement;
    try {
      st = decodeStatement(bytes);
    } catch {
      throw new VerificationError(
        "client/bad-statement",
        `node ${node.id} sent an undecodable statement`,
        node.id,
      );
    }
    if (st.node !== node.id || !bytesEqual(st.chain, this.chain))
      throw new VerificationError(
        "client/bad-statement",
        `node ${node.id}'s statement names another node or chain`,
        node.id,
      );
    // The statement names its chain and node (checked above), so the key and the signature
    // identify it; the bytes are compared all the same.
    const id = `${toHex(node.publicKey)}:${toHex(signature)}`;
    if (verifiedStatements.has(id, bytes)) return st;
    if (!verify(node.publicKey, statementSigningMessage(bytes), signature))
      throw new VerificationError(
        "client/bad-signature",
        `node ${node.id}'s statement signature is invalid`,
        node.id,
      );
    verifiedStatements.add(id, bytes);
    return st;
  }
}

/**
 * The proof of a read reply whose statement `st` verified: the proof the node signed (or any proof
 * against a root statement's root), decoded, against the signed root. Returns the first asked key
 * the proof does not cover (a stub where its path ends, or a leaf without the value asked for),
 * or undefined when it covers them all.
 */
export function checkReplyProof(
  id: number,
  st: GetStatement,
  r: GetReply,
  keys: readonly string[],
  hashKeys: readonly string[],
): { root: ProofNode; uncovered: string | undefined } {
  // A root statement covers any proof against its root (checked below); another names its proof.
  if (!bytesEqual(st.proofDigest, ROOT_STATEMENT_DIGEST) && !bytesEqual(proofDigest(r.proof), st.proofDigest))
    throw new VerificationError("client/proof-mismatch", "the proof is not the one the node signed", id);
  let d;
  try {
    d = decodeProof(r.proof);
  } catch (e) {
    throw new VerificationError(
      "client/bad-proof",
      `node ${id}: ${e instanceof Error ? e.message : String(e)}`,
      id,
    );
  }
  if (!bytesEqual(d.rootLabel, st.root))
    throw new VerificationError(
      "client/root-mismatch",
      `node ${id}'s proof is not against the root it signed`,
      id,
    );
  const uncovered = keys.find((k) => {
    const p = provenState(d.root, keyPath(k));
    return !p.covered || (p.present && p.value === null && !hashKeys.includes(k));
  });
  return { root: d.root, uncovered };
}

/** The values `keys` have in a joined proof, with the proof and the newest statement's root. */
export function readResult(
  keys: readonly string[],
  joined: ProofNode,
  statements: SignedStatement[],
): ReadResult {
  const newest = statements.reduce((a, b) => (a.statement.timestamp >= b.statement.timestamp ? a : b));
  const values = new Map<string, Uint8Array | null>();
  for (const k of keys) {
    const s = provenState(joined, keyPath(k));
    if (!s.covered) throw new VerificationError("client/not-covered", `no proof covers ${k}`);
    values.set(k, s.present ? s.value : null);
  }
  return {
    values,
    proof: encodeProof(joined),
    root: newest.statement.root,
    height: newest.statement.height,
    timestamp: newest.statement.timestamp,
    statements,
  };
}

/** The height a reply's statement claims, unverified (-1 when it does not decode). */
export function statementHeight(r: GetReply): bigint {
  try {
    return decodeStatement(r.statement).height;
  } catch {
    return -1n;
  }
}

/** A kept statement as evidence carries it: the signed bytes. */
export function wire(s: SignedStatement): { statement: Uint8Array; signature: Uint8Array } {
  return { statement: s.bytes, signature: s.signature };
}

/** The readable reason of an error a node call failed with (gRPC details when there are some). */
export function errorText(e: unknown): string {
  const d = (e as { details?: unknown } | null)?.details;
  if (typeof d === "string" && d !== "") return d.replace(/\s*Resolution note:\s*$/, "");
  return e instanceof Error ? e.message : String(e);
}
