// Consensus vectors (docs/vectors/consensus.json), generated from the code: the epoch-0 genesis
// block id of the genesis vector's chain, a block at height 1 with its proposal signature, three
// votes and the QC they make, a timeout, the duplicate-filter digest of a request, and a catch-up
// exchange (a sync request and the answer that commits the block); mutations are refused by the
// consensus core's own checks (node/tob/core/certs.ts; a catch-up answer by a core at genesis)
// with their codes.
import { toHex, utf8 } from "../../node/common/bytes.js";
import { sha256 } from "../../node/common/hash.js";
import { Writer } from "../../node/common/codec.js";
import { TOB_MAX_SYNC_BLOCKS } from "../../node/common/limits.js";
import { signWith } from "../../node/keys.js";
import { TobCore, genesisIdOf } from "../../node/tob/core/core.js";
import { EpochCerts } from "../../node/tob/core/certs.js";
import { proposalSigningBytes, timeoutSigningBytes, voteSigningBytes } from "../../node/tob/core/crypto.js";
import { requestDigest } from "../../node/tob/core/pool.js";
import { ValidatorSet, peerIdOf } from "../../node/tob/core/validators.js";
import {
  WIRE_VERSION,
  computeBlockId,
  decodeMessage,
  requestsDigest,
  writeBlockHeader,
  encodeBlock,
  decodeQC,
  encodeMessage,
  encodeQC,
} from "../../node/tob/core/wire.js";
import type { Block, QC, Timeout, Vote } from "../../node/tob/core/types.js";
import { codeOf, flip, keyOf, verifiedByAll, type Verdict } from "./common.js";
import { CHAIN, VALIDATORS } from "./signed.js";

/** Epoch 0's ordered validator keys: the genesis nodes by ascending id (position = id here). */
const KEYS = VALIDATORS.map((v) => v.publicKey);
export const GENESIS_ID = genesisIdOf(CHAIN, KEYS);

function certs(): EpochCerts {
  return new EpochCerts(CHAIN, { verify: verifiedByAll }, 0, new ValidatorSet(KEYS), GENESIS_ID);
}

const sign = (position: number, msg: Uint8Array) => signWith(keyOf(`node ${position}`), msg);

/** `ok`, or the code the consensus core refuses a message (or a QC, `qc: true`) with. */
export function judgeConsensus(bytes: Uint8Array, qc = false): Verdict {
  try {
    const c = certs();
    if (qc) {
      c.qc(decodeQC(bytes));
      return "ok";
    }
    const m = decodeMessage(bytes);
    if (m.kind === "proposal") {
      c.qc(m.block.qc);
      c.proposal(m.block);
    } else if (m.kind === "vote") c.vote(m.vote);
    else if (m.kind === "timeout") c.timeout(m.timeout);
    else if (m.kind === "syncResponse") return syncAnswer(bytes).verdict;
    else return `unexpected kind ${m.kind}`;
    return "ok";
  } catch (e) {
    return codeOf(e);
  }
}

/**
 * A catch-up answer as node 0's core takes it at genesis, from node 1: `ok` or the code of the
 * check that refuses it, and the heights it delivered (committed) on the way.
 */
export function syncAnswer(bytes: Uint8Array): { verdict: Verdict; delivered: number[] } {
  const core = new TobCore({
    networkId: CHAIN,
    signer: { publicKey: KEYS[0]!, sign: (msg) => sign(0, msg) },
    verifier: { verify: verifiedByAll },
    genesisValidators: KEYS,
  });
  const step = core.step({ type: "message", from: peerIdOf(KEYS[1]!), bytes });
  const delivered = step.persisted().deliveries.map((d) => d.height);
  return { verdict: step.rejected[0]?.code ?? "ok", delivered };
}

/** The block at height 1 the vectors use (snapshot.json carries it too, as a consensus record). */
export function block(requests: readonly Uint8Array[], author = 1): Block {
  const body = {
    epoch: 0,
    round: 1,
    height: 1,
    parentId: GENESIS_ID,
    qc: { epoch: 0, round: 0, blockId: GENESIS_ID, votes: [] },
    author,
    requests,
  };
  const id = computeBlockId(body);
  return { ...body, id, signature: sign(author, proposalSigningBytes(CHAIN, id)) };
}

function vote(signer: number, blockId: Uint8Array, round = 1, epoch = 0): Vote {
  return { epoch, round, blockId, signer, sig: sign(signer, voteSigningBytes(CHAIN, epoch, round, blockId)) };
}

function timeout(signer: number, round: number, highQC: QC): Timeout {
  const sig = sign(signer, timeoutSigningBytes(CHAIN, 0, round, highQC.round));
  return { epoch: 0, round, highQC, lastTC: null, signer, sig };
}

/** A block's header part: its encoding from `epoch` through `author`. */
function headerPart(b: Block): Uint8Array {
  const w = new Writer();
  writeBlockHeader(w, b);
  return w.finish();
}

const voteMsg = (v: Vote) => encodeMessage({ kind: "vote", vote: v });

/** An empty block of epoch 0 extending `parent`, certified by `qc`, in the round after the QC's. */
function child(parent: Block, qc: QC, author: number, height = parent.height + 1): Block {
  const body = { epoch: 0, round: qc.round + 1, height, parentId: parent.id, qc, author, requests: [] };
  const id = computeBlockId(body);
  return { ...body, id, signature: sign(author, proposalSigningBytes(CHAIN, id)) };
}

/** The QC of `b` signed by `signers` (ascending positions). */
function qcOf(b: Block, signers: readonly number[]): QC {
  const votes = signers.map((p) => vote(p, b.id, b.round));
  return {
    epoch: 0,
    round: b.round,
    blockId: b.id,
    votes: votes.map((v) => ({ signer: v.signer, sig: v.sig })),
  };
}

export function consensusVector(request: Uint8Array): Record<string, unknown> {
  const b = block([request]);
  const votes = [0, 2, 3].map((p) => vote(p, b.id));
  const qc: QC = {
    epoch: 0,
    round: 1,
    blockId: b.id,
    votes: votes.map((v) => ({ signer: v.signer, sig: v.sig })),
  };
  const t = timeout(2, 2, qc);
  const proposal = encodeMessage({ kind: "proposal", block: b, tc: null });
  // Catch-up: node 0, at genesis, asks for the chain from height 1; node 1 holds `b` and the empty
  // block of round 2 that carries b's QC (its leader, node 2, proposed it), certified by a QC of
  // nodes 0, 1 and 3. The answer is both blocks and that QC; taking it commits `b` (two-chain).
  const b2 = child(b, qc, 2);
  const qc2 = qcOf(b2, [0, 1, 3]);
  const syncRequest = encodeMessage({ kind: "syncRequest", epoch: 0, fromHeight: 1 });
  const answer = { kind: "syncResponse", epoch: 0, blocks: [b, b2], qc: qc2, more: false } as const;
  const syncResponse = encodeMessage(answer);
  const taken = syncAnswer(syncResponse);
  if (taken.verdict !== "ok" || taken.delivered.join() !== "1")
    throw new Error(`catch-up answer: ${taken.verdict}, delivered ${taken.delivered.join()}`);
  const skipped = child(b, qc, 2, 3);
  const moreIs2 = syncResponse.slice();
  moreIs2[moreIs2.length - 1] = 2;
  const items: Array<[string, Uint8Array, string, boolean?]> = [
    [
      "proposal: a signature byte flipped",
      encodeMessage({ kind: "proposal", block: { ...b, signature: flip(b.signature, 0) }, tc: null }),
      "tob/bad-signature",
    ],
    [
      "proposal: signed by another validator",
      encodeMessage({
        kind: "proposal",
        block: { ...b, signature: block([request], 2).signature },
        tc: null,
      }),
      "tob/bad-signature",
    ],
    [
      "proposal: an author outside the set",
      encodeMessage({ kind: "proposal", block: { ...b, author: 4 }, tc: null }),
      "tob/unknown-signer",
    ],
    [
      "vote: a signature byte flipped",
      voteMsg({ ...votes[0]!, sig: flip(votes[0]!.sig, 9) }),
      "tob/bad-signature",
    ],
    [
      "vote: for another block, signature kept",
      voteMsg({ ...votes[0]!, blockId: sha256(utf8("another block")) }),
      "tob/bad-signature",
    ],
    ["vote: round 0", voteMsg(vote(0, b.id, 0)), "tob/vote-round"],
    ["vote: another epoch", voteMsg(vote(0, b.id, 1, 1)), "tob/vote-epoch"],
    ["qc: two votes (quorum is 3)", encodeQC({ ...qc, votes: qc.votes.slice(1) }), "tob/qc-short", true],
    [
      "qc: signers not ascending",
      encodeQC({ ...qc, votes: [qc.votes[1]!, qc.votes[0]!, qc.votes[2]!] }),
      "tob/unsorted-signers",
      true,
    ],
    [
      "qc: a vote's signature flipped",
      encodeQC({ ...qc, votes: qc.votes.map((v, i) => (i === 2 ? { ...v, sig: flip(v.sig, 1) } : v)) }),
      "tob/bad-signature",
      true,
    ],
    [
      "timeout: a signature byte flipped",
      encodeMessage({ kind: "timeout", timeout: { ...t, sig: flip(t.sig, 3) } }),
      "tob/bad-signature",
    ],
    [
      "timeout: a high QC at its own round",
      encodeMessage({ kind: "timeout", timeout: timeout(2, 1, qc) }),
      "tob/timeout-high-qc",
    ],
    [
      "wire version 1 (before compact block ids)",
      Uint8Array.of(1, ...proposal.subarray(1)),
      "decode/bad-version",
    ],
    [
      "syncResponse: a signature of its QC flipped",
      encodeMessage({
        ...answer,
        qc: { ...qc2, votes: qc2.votes.map((v, i) => (i === 1 ? { ...v, sig: flip(v.sig, 7) } : v)) },
      }),
      "tob/bad-signature",
    ],
    [
      "syncResponse: its QC certifies no block of the answer",
      encodeMessage({ ...answer, blocks: [b] }),
      "tob/sync-unanchored",
    ],
    [
      "syncResponse: the first block does not extend the receiver's chain",
      encodeMessage({ ...answer, blocks: [b2] }),
      "tob/sync-unlinked",
    ],
    [
      "syncResponse: a height skipped (certified by a QC of its own)",
      encodeMessage({ ...answer, blocks: [b, skipped], qc: qcOf(skipped, [0, 1, 3]) }),
      "tob/sync-shape",
    ],
    [
      `syncResponse: ${TOB_MAX_SYNC_BLOCKS + 1} blocks (at most TOB_MAX_SYNC_BLOCKS)`,
      new Writer()
        .u8(WIRE_VERSION)
        .u8(6)
        .varint(0)
        .varint(TOB_MAX_SYNC_BLOCKS + 1)
        .finish(),
      "decode/out-of-range",
    ],
    ["syncResponse: the more flag is 2", moreIs2, "decode/non-canonical"],
  ];
  return {
    comment:
      'Consensus (docs/consensus.md §2) on the genesis vector\'s chain: networkId is its chain id; epoch 0\'s validators are nodes 0-3 in ascending id, a signer is a position in that list. Tags are written as codec strings (varint length, UTF-8). The block at height 1 carries the EXECUTE of request.json; `header` is its header part (epoch through author), `requestsDigest` = SHA-256(string "arbor:tob-block-requests:v1" ‖ its encoded request list) and `id` = SHA-256(string "arbor:tob-block:v2" ‖ header ‖ requestsDigest); `requestDigest` is what the duplicate filter keys it by. `catchUp`: node 0, at genesis, sends `syncRequest` (epoch 0, from height 1); node 1 answers `syncResponse` (epoch 0; the block at height 1, then `secondBlock`, the empty block of round 2 by node 2 carrying the QC `qc` above; the QC `catchUp.qc` of the second by nodes 0, 1 and 3; more = 0), which commits and delivers height 1. Mutations are refused by the core\'s signature checks (EpochCerts) with these codes, a syncResponse by a core at genesis receiving it from node 1; `qc: true` marks an encoded QC rather than a message.',
    genesisId: toHex(GENESIS_ID),
    block: {
      header: toHex(headerPart(b)),
      requestsDigest: toHex(requestsDigest(b.requests)),
      id: toHex(b.id),
      proposalSigningMessage: toHex(proposalSigningBytes(CHAIN, b.id)),
      signature: toHex(b.signature),
      message: toHex(proposal),
    },
    votes: votes.map((v) => ({
      signer: v.signer,
      signingMessage: toHex(voteSigningBytes(CHAIN, 0, 1, b.id)),
      message: toHex(voteMsg(v)),
    })),
    qc: toHex(encodeQC(qc)),
    timeout: {
      signingMessage: toHex(timeoutSigningBytes(CHAIN, 0, 2, 1)),
      message: toHex(encodeMessage({ kind: "timeout", timeout: t })),
    },
    catchUp: {
      syncRequest: toHex(syncRequest),
      blockIds: [b, b2].map((x) => toHex(x.id)),
      secondBlock: toHex(encodeBlock(b2)),
      qc: toHex(encodeQC(qc2)),
      syncResponse: toHex(syncResponse),
      delivers: taken.delivered,
    },
    request: toHex(request),
    requestDigest: toHex(requestDigest(request)),
    mutations: items.map(([what, bytes, refused, isQC]) => {
      const got = judgeConsensus(bytes, isQC === true);
      if (got !== refused) throw new Error(`consensus mutation "${what}": ${got}, not ${refused}`);
      return { what, ...(isQC ? { qc: toHex(bytes) } : { message: toHex(bytes) }), refused };
    }),
  };
}
