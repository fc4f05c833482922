// The voting rules of one core, fed hand-built (validly signed) messages: Jolteon's TC rule (after
// a timeout certificate, only a block extending a QC at least as high as every QC the TC's signers
// reported gets a vote), one vote per round, equivocation evidence, and forged or foreign input.

import { test } from "node:test";
import assert from "node:assert/strict";
import { toHex } from "../../node/common/bytes.js";
import {
  TobCore,
  computeBlockId,
  decodeMessage,
  encodeMessage,
  genesisIdOf,
  proposalSigningBytes,
  timeoutSigningBytes,
  voteSigningBytes,
  type Block,
  type QC,
  type Step,
  type TC,
} from "../../node/tob/core/index.js";
import { WIRE_VERSION } from "../../node/tob/core/wire.js";
import { simKeys } from "./sim/keys.js";

const N = 4;
const keys = simKeys(99, N);
const networkId = new TextEncoder().encode("rules");
const genesis = genesisIdOf(networkId, keys.publicKeys);
const ids = keys.publicKeys.map((k) => toHex(k));

function qcFor(round: number, blockId: Uint8Array, signers: number[]): QC {
  return {
    epoch: 0,
    round,
    blockId,
    votes: signers.map((s) => ({
      signer: s,
      sig: keys.signer(s).sign(voteSigningBytes(networkId, 0, round, blockId)),
    })),
  };
}

function block(
  round: number,
  height: number,
  qc: QC,
  requests: Uint8Array[] = [],
  author = round % N,
): Block {
  const body = { epoch: 0, round, height, parentId: qc.blockId, qc, author, requests };
  const id = computeBlockId(body);
  return { ...body, id, signature: keys.signer(author).sign(proposalSigningBytes(networkId, id)) };
}

function tcFor(round: number, reports: [number, QC][]): TC {
  let high = reports[0]![1];
  for (const [, q] of reports) if (q.round > high.round) high = q;
  return {
    epoch: 0,
    round,
    entries: reports.map(([s, q]) => ({
      signer: s,
      hqcRound: q.round,
      sig: keys.signer(s).sign(timeoutSigningBytes(networkId, 0, round, q.round)),
    })),
    highQC: high,
  };
}

function feed(
  core: TobCore,
  from: number,
  bytes: Uint8Array,
): { step: Step; votes: { round: number; blockId: string }[] } {
  const step = core.step({ type: "message", from: ids[from]!, bytes });
  const eff = step.persisted();
  const votes = eff.sends
    .map((s) => decodeMessage(s.bytes))
    .flatMap((m) => (m.kind === "vote" ? [{ round: m.vote.round, blockId: toHex(m.vote.blockId) }] : []));
  return { step, votes };
}

function proposal(b: Block, tc: TC | null = null): Uint8Array {
  return encodeMessage({ kind: "proposal", block: b, tc });
}

test("TC rule: after a timeout certificate the vote goes only to a block extending the highest reported QC", () => {
  const x = new TobCore({
    networkId,
    signer: keys.signer(0),
    verifier: keys.verifier,
    genesisValidators: keys.publicKeys,
  });
  x.step({ type: "tick" }).persisted();
  const gqc: QC = { epoch: 0, round: 0, blockId: genesis, votes: [] };
  const a = block(1, 1, gqc);
  const qa = qcFor(1, a.id, [1, 2, 3]);
  const b = block(2, 2, qa);
  const qb = qcFor(2, b.id, [1, 2, 3]);
  assert.deepEqual(feed(x, 1, proposal(a)).votes, [{ round: 1, blockId: toHex(a.id) }]);
  assert.deepEqual(feed(x, 2, proposal(b)).votes, [{ round: 2, blockId: toHex(b.id) }]);
  // Rounds 3 and 4 time out; some signers of TC(4) had seen QC(B) (round 2).
  const tc4 = tcFor(4, [
    [1, qb],
    [2, qa],
    [3, qa],
  ]);
  // A fork on QC(A) justified by that TC: below the TC's highest QC, so no vote.
  const fork = block(5, 2, qa, [new Uint8Array([1])]);
  const r1 = feed(x, 1, proposal(fork, tc4));
  assert.deepEqual(r1.votes, [], "no vote for a block below the TC's high QC");
  assert.equal(x.status().round, 5);
  // The same leader's honest proposal for round 5 is now an equivocation: refused, with evidence.
  const good = block(5, 3, qb);
  const r2 = feed(x, 1, proposal(good, tc4));
  assert.deepEqual(r2.votes, []);
  assert.ok(r2.step.rejected.some((r) => r.code === "tob/equivocation"));
  // In a fresh core the honest proposal gets the vote.
  const y = new TobCore({
    networkId,
    signer: keys.signer(0),
    verifier: keys.verifier,
    genesisValidators: keys.publicKeys,
  });
  y.step({ type: "tick" }).persisted();
  feed(y, 1, proposal(a));
  feed(y, 2, proposal(b));
  assert.deepEqual(feed(y, 1, proposal(good, tc4)).votes, [{ round: 5, blockId: toHex(good.id) }]);
  // And it never votes twice in a round, nor below it.
  assert.deepEqual(feed(y, 1, proposal(good, tc4)).votes, []);
  assert.equal(y.status().lastVotedRound, 5);
});

test("a vote is persisted before it is released, and a restarted core does not vote again", () => {
  const x = new TobCore({
    networkId,
    signer: keys.signer(0),
    verifier: keys.verifier,
    genesisValidators: keys.publicKeys,
  });
  x.step({ type: "tick" }).persisted();
  const gqc: QC = { epoch: 0, round: 0, blockId: genesis, votes: [] };
  const a = block(1, 1, gqc);
  const step = x.step({ type: "message", from: ids[1]!, bytes: proposal(a) });
  assert.equal(step.persist?.safety?.lastVotedRound, 1, "the vote's round is in the persist batch");
  assert.ok(
    step.persist?.tree.some((b) => toHex(b.id) === toHex(a.id)),
    "so is the block voted for",
  );
  assert.throws(
    () => x.step({ type: "tick" }),
    /released/,
    "no new step before the previous one's effects are released",
  );
  // Crash here: persisted, never sent. Restart from what was persisted.
  const p = step.persist!;
  const y = new TobCore(
    { networkId, signer: keys.signer(0), verifier: keys.verifier, genesisValidators: keys.publicKeys },
    { safety: p.safety!, epoch: p.epoch ?? x["es"], ledger: [], appliedHeight: 0, tree: p.tree },
  );
  const again = y.step({ type: "message", from: ids[1]!, bytes: proposal(a) });
  assert.deepEqual(
    again.persisted().sends.filter((s) => s.kind === "vote"),
    [],
    "round 1 already voted",
  );
  const other = block(1, 1, gqc, [new Uint8Array([7])]);
  assert.deepEqual(
    y
      .step({ type: "message", from: ids[1]!, bytes: proposal(other) })
      .persisted()
      .sends.filter((s) => s.kind === "vote"),
    [],
    "nor for a conflicting block in the same round",
  );
});

test("forged, foreign and malformed input is dropped with a reason, never thrown", () => {
  const x = new TobCore({
    networkId,
    signer: keys.signer(0),
    verifier: keys.verifier,
    genesisValidators: keys.publicKeys,
  });
  x.step({ type: "tick" }).persisted();
  const gqc: QC = { epoch: 0, round: 0, blockId: genesis, votes: [] };
  const a = block(1, 1, gqc);
  const codes = (from: string, bytes: Uint8Array): string[] => {
    const s = x.step({ type: "message", from, bytes });
    s.persisted();
    return s.rejected.map((r) => r.code);
  };
  assert.deepEqual(codes(ids[1]!, proposal({ ...a, signature: new Uint8Array(64) })), ["tob/bad-signature"]);
  assert.deepEqual(codes(ids[1]!, proposal(block(1, 1, gqc, [], 2))), ["tob/not-leader"]);
  assert.deepEqual(codes("ab".repeat(32), proposal(a)), ["tob/unknown-peer"]);
  const badQC = { ...qcFor(1, a.id, [1, 2, 3]) };
  const b = block(2, 2, {
    ...badQC,
    votes: badQC.votes.map((v) => ({ ...v, sig: new Uint8Array(64).fill(9) })),
  });
  assert.deepEqual(codes(ids[2]!, proposal(b)), ["tob/bad-signature"]);
  const short = block(2, 2, { ...badQC, votes: badQC.votes.slice(0, 2) });
  assert.deepEqual(codes(ids[2]!, proposal(short)), ["tob/qc-short"]);
  assert.deepEqual(codes(ids[1]!, new Uint8Array([WIRE_VERSION, 99])), ["decode/bad-kind"]);
  assert.deepEqual(codes(ids[1]!, new Uint8Array([])), ["decode/truncated"]);
  const dup = block(1, 1, gqc, [new Uint8Array([5]), new Uint8Array([5])]);
  assert.deepEqual(codes(ids[1]!, proposal(dup)), ["tob/duplicate-request"]);
  // Future epoch: dropped, and the node asks the sender to help it catch up.
  const future = encodeMessage({
    kind: "vote",
    vote: { epoch: 3, round: 1, blockId: a.id, signer: 1, sig: new Uint8Array(64) },
  });
  const s = x.step({ type: "message", from: ids[1]!, bytes: future });
  assert.deepEqual(
    s.rejected.map((r) => r.code),
    ["tob/future-epoch"],
  );
  assert.deepEqual(
    s.persisted().sends.map((m) => m.kind),
    ["syncRequest"],
  );
  // After all that, the genuine proposal still gets a vote.
  const ok = x.step({ type: "message", from: ids[1]!, bytes: proposal(a) });
  assert.deepEqual(
    ok.persisted().sends.map((m) => m.kind),
    ["vote"],
  );
});

test("two-chain commit needs consecutive rounds: a certified child after a view change commits nothing", () => {
  const x = new TobCore({
    networkId,
    signer: keys.signer(0),
    verifier: keys.verifier,
    genesisValidators: keys.publicKeys,
  });
  x.step({ type: "tick" }).persisted();
  const gqc: QC = { epoch: 0, round: 0, blockId: genesis, votes: [] };
  const a = block(1, 1, gqc);
  const qa = qcFor(1, a.id, [1, 2, 3]);
  const b = block(2, 2, qa);
  const qb = qcFor(2, b.id, [1, 2, 3]);
  feed(x, 1, proposal(a));
  feed(x, 2, proposal(b));
  // Round 2's QC reached nobody in time: TC(2) reports QC(A); a sibling of B is proposed and voted.
  const sibling = block(3, 2, qa, [new Uint8Array([3])]);
  feed(
    x,
    3,
    proposal(
      sibling,
      tcFor(2, [
        [1, qa],
        [2, qa],
        [3, qa],
      ]),
    ),
  );
  assert.equal(x.status().lastVotedRound, 3, "voted for the sibling (the vote stays local: we lead round 4)");
  // TC(3) reports QC(B): the next block must extend B, and does.
  const c = block(4, 3, qb);
  assert.equal(
    feed(
      x,
      1,
      proposal(
        c,
        tcFor(3, [
          [1, qb],
          [2, qa],
          [3, qa],
        ]),
      ),
    ).votes.length,
    1,
  );
  assert.equal(x.status().committedHeight, 1, "A committed by the consecutive pair A (1), B (2)");
  // C (round 4) certified: B (round 2) and C are not consecutive, so B is not committed.
  const d = block(5, 4, qcFor(4, c.id, [1, 2, 3]));
  feed(x, 1, proposal(d));
  assert.equal(x.status().highQCRound, 4);
  assert.equal(x.status().committedHeight, 1, "no commit across a round gap");
  // D (round 5) certified: C (4) and D (5) are consecutive, committing C and with it B.
  const e = block(6, 5, qcFor(5, d.id, [1, 2, 3]));
  feed(x, 2, proposal(e));
  assert.equal(x.status().committedHeight, 3);
});
