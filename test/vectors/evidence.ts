// Evidence vectors (docs/vectors/evidence.json), generated from the code: one of each kind —
// a double vote, two conflicting statements, a forged statement with the certificate it
// contradicts, a double proposal — with the verdict every node reaches, and mutations each refused
// with its code.
import { toHex, utf8 } from "../../node/common/bytes.js";
import { sha256 } from "../../node/common/hash.js";
import { signWith } from "../../node/keys.js";
import {
  encodeEvidence,
  verifyEvidence,
  type EvidenceContext,
  type Evidence,
} from "../../node/ledger/evidence.js";
import { encodeCertifiedHeader } from "../../node/ledger/header.js";
import { computeBlockId, encodeMessage, encodeSignedHeader } from "../../node/tob/core/wire.js";
import { proposalSigningBytes, voteSigningBytes } from "../../node/tob/core/crypto.js";
import type { Vote } from "../../node/tob/core/types.js";
import { flip, keyOf, verifiedByAll, withByte, type Verdict } from "./common.js";
import { CHAIN, VALIDATORS, signStatement, statementOf, vectorCertificates } from "./signed.js";

/**
 * Consensus epoch 1 of the vector runs without node 1: its ordered keys are nodes 0, 2, 3, so a
 * vote's signer (a position in that list) differs from the node id for node 3 (position 2).
 */
const EPOCH1_IDS = [0, 2, 3];

export function evidenceContext(): EvidenceContext {
  return {
    chain: CHAIN,
    members: new Map(VALIDATORS.map((v) => [v.id, v.publicKey])),
    validatorsAt: () => VALIDATORS,
    epochValidators: (epoch) =>
      epoch === 0
        ? VALIDATORS.map((v) => v.publicKey)
        : epoch === 1
          ? EPOCH1_IDS.map((id) => keyOf(`node ${id}`).publicKey)
          : undefined,
    verifier: { verify: (k, m, s) => verifiedByAll(k, m, s) },
  };
}

/** `accused <id> offence <hex>`, or the refusal code. */
export function judgeEvidence(bytes: Uint8Array): Verdict {
  const v = verifyEvidence(bytes, evidenceContext());
  return v.ok ? `accused ${v.accused} offence ${toHex(v.offence)}` : v.reason;
}

/** A vote message of epoch 1 by the validator at `position`, signed by node `signer`. */
function vote(position: number, round: number, block: string, signer = EPOCH1_IDS[position]!): Uint8Array {
  const epoch = 1;
  const blockId = sha256(utf8(block));
  const sig = signWith(keyOf(`node ${signer}`), voteSigningBytes(CHAIN, epoch, round, blockId));
  const v: Vote = { epoch, round, blockId, signer: position, sig };
  return encodeMessage({ kind: "vote", vote: v });
}

const root = (s: string) => sha256(utf8(s));

/**
 * The signed header of a proposal of epoch 1 by the validator at `position`, signed by node
 * `signer`, whose block carries the one request `request` (a stand-in: evidence never reads it).
 */
function proposal(position: number, round: number, request: string, signer = EPOCH1_IDS[position]!) {
  const parentId = root(`block of round ${round - 1}`);
  const body = {
    epoch: 1,
    round,
    height: 20 + round,
    parentId,
    qc: { epoch: 1, round: round - 1, blockId: parentId, votes: [] },
    author: position,
    requests: [utf8(request)],
  };
  const id = computeBlockId(body);
  const signature = signWith(keyOf(`node ${signer}`), proposalSigningBytes(CHAIN, id));
  return encodeSignedHeader({ ...body, id, signature });
}

/** Double-proposal mutations: each refused with its code. */
function proposalMutations(dp: Evidence & { kind: "double-proposal" }): Array<[string, Uint8Array, string]> {
  const digestAt = dp.second.length - 64 - 32;
  return [
    [
      "double proposal: the same header twice",
      encodeEvidence({ ...dp, second: dp.first }),
      "evidence/no-contradiction",
    ],
    [
      "double proposal: different rounds",
      encodeEvidence({ ...dp, second: proposal(1, 6, "request B") }),
      "evidence/not-comparable",
    ],
    [
      "double proposal: different authors",
      encodeEvidence({ ...dp, second: proposal(2, 5, "request B") }),
      "evidence/not-comparable",
    ],
    [
      "double proposal: a signature byte flipped",
      encodeEvidence({ ...dp, second: flip(dp.second, -1) }),
      "evidence/bad-signature",
    ],
    [
      "double proposal: a requests digest byte flipped (the id it gives was not signed)",
      encodeEvidence({ ...dp, second: flip(dp.second, digestAt) }),
      "evidence/bad-signature",
    ],
    [
      "double proposal: a position outside the epoch's set",
      encodeEvidence({
        ...dp,
        first: proposal(3, 5, "request A", 1),
        second: proposal(3, 5, "request B", 1),
      }),
      "evidence/unknown-signer",
    ],
    [
      "double proposal: a header cut short",
      encodeEvidence({ ...dp, second: dp.second.subarray(0, dp.second.length - 1) }),
      "decode/truncated",
    ],
    [
      "double proposal: a byte after a header",
      encodeEvidence({ ...dp, first: withByte(dp.first, 0) }),
      "decode/trailing-bytes",
    ],
  ];
}

function cases() {
  const { first, second } = vectorCertificates();
  const stmt = (height: bigint, r: string, node = 1) =>
    signStatement(statementOf({ node, height, timestamp: 3n, root: root(r) }));
  const a = stmt(7n, "root A");
  const b = stmt(7n, "root B");
  const forged = stmt(1n, "not the certified root");
  const cert = encodeCertifiedHeader(first);
  const dv: Evidence = { kind: "double-vote", first: vote(2, 5, "block A"), second: vote(2, 5, "block B") };
  const cs: Evidence = { kind: "conflicting-statements", a, b };
  const fs: Evidence = { kind: "forged-statement", signed: forged, certificate: cert };
  const dp = {
    kind: "double-proposal",
    first: proposal(1, 5, "request A"),
    second: proposal(1, 5, "request B"),
  } as const;
  const dvBytes = encodeEvidence(dv);
  const mutations: Array<[string, Uint8Array, string]> = [
    [
      "double vote: the same block twice",
      encodeEvidence({ ...dv, second: dv.first }),
      "evidence/no-contradiction",
    ],
    [
      "double vote: different rounds",
      encodeEvidence({ ...dv, second: vote(2, 6, "block B") }),
      "evidence/not-comparable",
    ],
    [
      "double vote: different signers",
      encodeEvidence({ ...dv, second: vote(1, 5, "block B") }),
      "evidence/not-comparable",
    ],
    [
      "double vote: a signature byte flipped",
      encodeEvidence({ ...dv, second: flip(dv.second, -3) }),
      "evidence/bad-signature",
    ],
    [
      "double vote: a position outside the epoch's set",
      encodeEvidence({
        kind: "double-vote",
        first: vote(3, 5, "block A", 1),
        second: vote(3, 5, "block B", 1),
      }),
      "evidence/unknown-signer",
    ],
    [
      "double vote: not vote messages",
      encodeEvidence({ ...dv, first: utf8("not a vote") }),
      "evidence/bad-vote",
    ],
    [
      "conflicting statements: different heights",
      encodeEvidence({ ...cs, b: stmt(8n, "root B") }),
      "evidence/not-comparable",
    ],
    [
      "conflicting statements: different nodes",
      encodeEvidence({ ...cs, b: stmt(7n, "root B", 2) }),
      "evidence/not-comparable",
    ],
    [
      "conflicting statements: equal roots",
      encodeEvidence({ ...cs, b: stmt(7n, "root A") }),
      "evidence/no-contradiction",
    ],
    [
      "conflicting statements: a signature byte flipped",
      encodeEvidence({ ...cs, b: { ...b, signature: flip(b.signature, 0) } }),
      "evidence/bad-statement",
    ],
    [
      "forged statement: the certificate is for another height",
      encodeEvidence({ ...fs, certificate: encodeCertifiedHeader(second) }),
      "evidence/height-mismatch",
    ],
    [
      "forged statement: the statement's root is the certified one",
      encodeEvidence({ ...fs, signed: signStatement(statementOf({ height: 1n, root: first.header.root })) }),
      "evidence/no-contradiction",
    ],
    [
      "forged statement: the certificate lacks a quorum",
      encodeEvidence({
        ...fs,
        certificate: encodeCertifiedHeader({ ...first, signatures: first.signatures.slice(1) }),
      }),
      "evidence/bad-certificate",
    ],
    ...proposalMutations(dp),
    ["unknown kind", Uint8Array.of(5, ...dvBytes.subarray(1)), "evidence/unknown-kind"],
    ["a byte appended", withByte(dvBytes, 0), "decode/trailing-bytes"],
  ];
  return {
    items: [
      ["double vote by node 3 (position 2 of epoch 1)", dv],
      ["conflicting statements of node 1 at height 7", cs],
      ["forged statement of node 1 at height 1", fs],
      ["double proposal by node 2 (position 1 of epoch 1)", dp],
    ] as const,
    mutations,
  };
}

export function evidenceVector(): Record<string, unknown> {
  const { items, mutations } = cases();
  return {
    comment:
      "Evidence (docs/protocol.md §7, Evidence) against the genesis vector's chain (keys in genesis.json), generated from the code. Members are nodes 0-3; headers at every height are certified by nodes 0-3 (certificate.json); consensus epoch 1's ordered validator keys are nodes 0, 2, 3, so a vote's signer and a proposal's author are positions in that list (position 2 is node 3, position 1 node 2). A double proposal holds two signed proposal headers (header ‖ requestsDigest ‖ signature, docs/consensus.md §2). `verdict` is what every node concludes: the accused node id and the offence digest (one offence evicts once); each mutation is refused with its code.",
    epoch1Validators: EPOCH1_IDS,
    evidence: items.map(([what, e]) => {
      const bytes = encodeEvidence(e);
      const verdict = judgeEvidence(bytes);
      if (!verdict.startsWith("accused ")) throw new Error(`evidence "${what}": ${verdict}`);
      return { what, evidence: toHex(bytes), verdict };
    }),
    mutations: mutations.map(([what, bytes, refused]) => {
      const got = judgeEvidence(bytes);
      if (got !== refused) throw new Error(`evidence mutation "${what}": ${got}, not ${refused}`);
      return { what, evidence: toHex(bytes), refused };
    }),
  };
}
