// Statement and certificate vectors (docs/vectors/statement.json, certificate.json), generated from
// the code: GET statements of one node (a root statement with a real proof against the genesis
// root, and one naming its proof), and two certified headers of a 4-node set, the second deciding a
// validator-set change. Each lists mutations the code's checks must refuse.
import { bytesEqual, toHex, utf8 } from "../../node/common/bytes.js";
import { sha256 } from "../../node/common/hash.js";
import { signWith } from "../../node/keys.js";
import { chainId, genesisRecords } from "../../node/ledger/genesis.js";
import {
  decodeCertifiedHeader,
  encodeCertifiedHeader,
  encodeHeader,
  headerHash,
  headerSigningMessage,
  validatorsHash,
  verifyCertificate,
  type CertifiedHeader,
  type Header,
  type Validator,
} from "../../node/ledger/header.js";
import {
  decodeStatement,
  encodeStatement,
  proofDigest,
  ROOT_STATEMENT_DIGEST,
  statementSigningMessage,
  type GetStatement,
} from "../../node/ledger/statement.js";
import { encodeValidators } from "../../node/ledger/validators-codec.js";
import { encodeHeaderSig } from "../../node/certifier.js";
import { MerkleTree } from "../../node/store/core/tree.js";
import { prove } from "../../node/store/core/proof.js";
import { encodeProof } from "../../node/store/core/proof-codec.js";
import { keyPath } from "../../node/store/core/path.js";
import { reconfigHeight } from "../../node/tob/core/core.js";
import { codeOf, flip, keyJson, keyOf, verifiedByAll, withByte, type Verdict } from "./common.js";
import { vectorGenesis } from "./genesis.js";

export const CHAIN = chainId(vectorGenesis());
export const VALIDATORS: readonly Validator[] = [0, 1, 2, 3].map((id) => ({
  id,
  publicKey: keyOf(`node ${id}`).publicKey,
}));

const label = (s: string) => sha256(utf8(s));

// ---- statements ------------------------------------------------------------------------------

/** The proof a GET of `.root_rule` (present) and `bank/alice` (absent) gets at height 0. */
export function genesisProof(): Uint8Array {
  const t = new MerkleTree();
  for (const r of genesisRecords(vectorGenesis())) t.set(r.key, r.value);
  return encodeProof(prove(t, [keyPath(".root_rule"), keyPath("bank/alice")], { values: true }));
}

export function statementOf(s: Partial<GetStatement>): GetStatement {
  return {
    chain: CHAIN,
    node: 1,
    height: 0n,
    timestamp: 0n,
    root: new Uint8Array(32),
    proofDigest: ROOT_STATEMENT_DIGEST,
    ...s,
  };
}

export function signStatement(s: GetStatement): { statement: Uint8Array; signature: Uint8Array } {
  const statement = encodeStatement(s);
  return { statement, signature: signWith(keyOf(`node ${s.node}`), statementSigningMessage(statement)) };
}

/** `ok`, or why a client refuses a statement from this chain's members. */
export function judgeStatement(statement: Uint8Array, signature: Uint8Array): Verdict {
  let s: GetStatement;
  try {
    s = decodeStatement(statement);
  } catch (e) {
    return codeOf(e);
  }
  if (!bytesEqual(s.chain, CHAIN)) return "wrong-chain";
  const v = VALIDATORS.find((x) => x.id === s.node);
  if (!v) return "unknown-node";
  return verifiedByAll(v.publicKey, statementSigningMessage(statement), signature) ? "ok" : "bad-signature";
}

function statementJson(name: string, s: GetStatement, proof: Uint8Array | null) {
  const { statement, signature } = signStatement(s);
  return {
    name,
    fields: {
      chain: toHex(s.chain),
      node: s.node,
      height: s.height.toString(),
      timestamp: s.timestamp.toString(),
      root: toHex(s.root),
      proofDigest: toHex(s.proofDigest),
    },
    ...(proof ? { proof: toHex(proof) } : {}),
    statement: toHex(statement),
    signingMessage: toHex(statementSigningMessage(statement)),
    signature: toHex(signature),
  };
}

function mutation(what: string, statement: Uint8Array, signature: Uint8Array, refused: string) {
  const got = judgeStatement(statement, signature);
  if (got !== refused) throw new Error(`statement mutation "${what}": ${got}, not ${refused}`);
  return { what, statement: toHex(statement), signature: toHex(signature), refused };
}

export function statementVector(genesisRoot: Uint8Array): Record<string, unknown> {
  const proof = genesisProof();
  const rootStatement = statementOf({ root: genesisRoot });
  const named = statementOf({
    height: 7n,
    timestamp: 12n,
    // Blocks 1..7 changed nothing, so the proof above still recomputes to this root.
    root: genesisRoot,
    proofDigest: proofDigest(proof),
  });
  const { statement, signature } = signStatement(rootStatement);
  const other = (s: Partial<GetStatement>) => encodeStatement({ ...rootStatement, ...s });
  return {
    comment:
      "GET statements (docs/protocol.md §7) signed by node 1 of the genesis vector: the signature covers 'arbor:get:v1' ‖ statement. The root statement (proof digest = SHA-256 of the empty string) comes with a GET proof of .root_rule (present) and bank/alice (absent) whose recomputed root is the statement's root; the second statement, at height 7 with the same root, names that proof by its digest (SHA-256 of the proof bytes above), which recomputes to its root too. Refusal codes are the client's (docs/protocol.md §7, GET statements). Mutations list what a client must refuse and the code it refuses with.",
    signer: keyJson("node 1"),
    statements: [
      statementJson("root statement at height 0", rootStatement, proof),
      statementJson("statement naming a proof", named, null),
    ],
    mutations: [
      mutation("first signature byte flipped", statement, flip(signature, 0), "bad-signature"),
      mutation("last signature byte flipped", statement, flip(signature, -1), "bad-signature"),
      mutation("height changed to 1, signature kept", other({ height: 1n }), signature, "bad-signature"),
      mutation(
        "root changed, signature kept",
        other({ root: label("another root") }),
        signature,
        "bad-signature",
      ),
      mutation("node changed to 2, signature kept", other({ node: 2 }), signature, "bad-signature"),
      mutation("another chain's id", other({ chain: label("another chain") }), signature, "wrong-chain"),
      mutation("a byte appended", withByte(statement, 0), signature, "decode/trailing-bytes"),
      mutation("last byte cut", statement.subarray(0, statement.length - 1), signature, "decode/truncated"),
    ],
  };
}

// ---- headers and certificates ----------------------------------------------------------------

function headerAt(height: bigint, previous: Uint8Array, next: readonly Validator[] | null): Header {
  return {
    chain: CHAIN,
    height,
    timestamp: 2n * height,
    root: label(`vector root ${height}`),
    receiptsRoot: label(`vector receipts ${height}`),
    indexRoot: label(`vector index ${height}`),
    validatorsHash: validatorsHash(VALIDATORS),
    previous,
    nextValidatorsHash: next ? validatorsHash(next) : new Uint8Array(32),
    nextFromHeight: next ? BigInt(reconfigHeight(Number(height))) : 0n,
  };
}

export function certify(header: Header, signers: readonly number[]): CertifiedHeader {
  const msg = headerSigningMessage(header);
  return {
    header,
    signatures: signers.map((id) => ({ signer: id, signature: signWith(keyOf(`node ${id}`), msg) })),
  };
}

/** The two certified headers of the vector: height 1, and height 2 deciding node 3's eviction. */
export function vectorCertificates(): { first: CertifiedHeader; second: CertifiedHeader; next: Validator[] } {
  const h1 = headerAt(1n, new Uint8Array(32), null);
  const next = VALIDATORS.filter((v) => v.id !== 3);
  const h2 = headerAt(2n, headerHash(h1), next);
  return { first: certify(h1, [0, 1, 2]), second: certify(h2, [1, 2, 3]), next };
}

/** `ok`, the decode code, or the code of the check the certificate fails against `validators`. */
export function judgeCertificate(bytes: Uint8Array, validators: readonly Validator[] = VALIDATORS): Verdict {
  let c: CertifiedHeader;
  try {
    c = decodeCertifiedHeader(bytes);
  } catch (e) {
    return codeOf(e);
  }
  const check = verifyCertificate(c, validators, { verify: (k, m, s) => verifiedByAll(k, m, s) });
  return check.ok ? "ok" : check.code;
}

function headerJson(c: CertifiedHeader) {
  const h = c.header;
  return {
    fields: {
      chain: toHex(h.chain),
      height: h.height.toString(),
      timestamp: h.timestamp.toString(),
      root: toHex(h.root),
      receiptsRoot: toHex(h.receiptsRoot),
      indexRoot: toHex(h.indexRoot),
      validatorsHash: toHex(h.validatorsHash),
      previous: toHex(h.previous),
      nextValidatorsHash: toHex(h.nextValidatorsHash),
      nextFromHeight: h.nextFromHeight.toString(),
    },
    header: toHex(encodeHeader(h)),
    hash: toHex(headerHash(h)),
    signingMessage: toHex(headerSigningMessage(h)),
    signatures: c.signatures.map((s) => ({
      signer: s.signer,
      signature: toHex(s.signature),
      frame: toHex(
        encodeHeaderSig({ height: h.height, hash: headerHash(h), signer: s.signer, signature: s.signature }),
      ),
    })),
    certificate: toHex(encodeCertifiedHeader(c)),
  };
}

function certMutation(what: string, c: CertifiedHeader | Uint8Array, refused: string, against = VALIDATORS) {
  const bytes = c instanceof Uint8Array ? c : encodeCertifiedHeader(c);
  const got = judgeCertificate(bytes, against);
  if (got !== refused) throw new Error(`certificate mutation "${what}": ${got}, not ${refused}`);
  return {
    what,
    certificate: toHex(bytes),
    ...(against === VALIDATORS ? {} : { validators: against.map((v) => v.id) }),
    refused,
  };
}

export function certificateVector(): Record<string, unknown> {
  const { first, second, next } = vectorCertificates();
  const sigs = first.signatures;
  const enc = encodeCertifiedHeader(first);
  return {
    comment:
      "Headers and certificates (docs/protocol.md §7) of the genesis vector's chain, generated from the code: validators are nodes 0-3 (keys as in genesis.json); a signer is the node id; each signs 'arbor:header:v2' ‖ SHA-256(header); 3 of 4 (2f+1) make a certificate. Height 1's previous hash is 32 zero bytes (there is no header at height 0); height 2 decides node 3's eviction, so it names the next set and the height it signs from (2 + TOB_DELIVER_WINDOW + 1). `nextValidators` is what GetHeaders with transitions_only returns beside height 2. Each signature's `frame` is the ledger-channel frame (§8, kind 1) that sends it to peers. The receiptsRoot values are arbitrary 32-byte labels. Mutations are checked against the set `validators` (nodes 0-3) unless they name another by `validators`: the ids of its members, each with its key from the list above (nodes 0-2 is the set height 2 hands over to, `nextValidators`); `refused` is the code of the first check that fails (docs/protocol.md §7, in this order): a decode code (the codec's, or header/signers-not-sorted), then certificate/wrong-validator-set, and for each signature in ascending signer order certificate/unknown-signer or certificate/bad-signature, then certificate/too-few-signers.",
    validators: VALIDATORS.map((v) => ({ id: v.id, ...keyJson(`node ${v.id}`) })),
    validatorsHash: toHex(validatorsHash(VALIDATORS)),
    headers: [headerJson(first), headerJson(second)],
    nextValidators: toHex(encodeValidators(next)),
    mutations: [
      certMutation(
        "a signature byte flipped",
        {
          ...first,
          signatures: sigs.map((s, i) => (i === 1 ? { ...s, signature: flip(s.signature, 5) } : s)),
        },
        "certificate/bad-signature",
      ),
      certMutation(
        "root changed, signatures kept",
        { ...first, header: { ...first.header, root: label("another root") } },
        "certificate/bad-signature",
      ),
      certMutation(
        "previous hash changed, signatures kept",
        { ...first, header: { ...first.header, previous: label("x") } },
        "certificate/bad-signature",
      ),
      certMutation(
        "one signature dropped (2 of 4)",
        { ...first, signatures: sigs.slice(1) },
        "certificate/too-few-signers",
      ),
      certMutation(
        "a signer that is not a validator",
        { ...first, signatures: [...sigs, { signer: 9, signature: sigs[0]!.signature }] },
        "certificate/unknown-signer",
      ),
      certMutation(
        "signers not ascending",
        { ...first, signatures: [sigs[1]!, sigs[0]!, sigs[2]!] },
        "header/signers-not-sorted",
      ),
      certMutation(
        "a signer twice",
        { ...first, signatures: [sigs[0]!, sigs[0]!, sigs[1]!, sigs[2]!] },
        "header/signers-not-sorted",
      ),
      certMutation("checked against another validator set", first, "certificate/wrong-validator-set", next),
      certMutation(
        "height 2 checked against the set it hands over to",
        second,
        "certificate/wrong-validator-set",
        next,
      ),
      certMutation("a byte appended", withByte(enc, 0), "decode/trailing-bytes"),
      certMutation("last byte cut", enc.subarray(0, enc.length - 1), "decode/truncated"),
    ],
  };
}
