// The leader-reputation rule on its own (node/tob/core/leaders.ts): who is eligible after a window
// of blocks, and when rotation falls back to every validator.

import { test } from "node:test";
import assert from "node:assert/strict";
import { TOB_LEADER_FAILURE_WINDOW, TOB_LEADER_WINDOW } from "../../node/common/limits.js";
import { STALL_ROUNDS_PER_VALIDATOR, activeValidators, leaderAmong } from "../../node/tob/core/leaders.js";
import type { Block } from "../../node/tob/core/index.js";

/** The last TOB_LEADER_WINDOW blocks of a chain: what the core hands the rule. */
const window = (chain: Block[]): Block[] => chain.slice(-TOB_LEADER_WINDOW);

/** A block with only what the rule reads: its round, author and the signers of the QC it carries. */
function block(round: number, author: number, signers: number[]): Block {
  const qc = {
    epoch: 0,
    round: round - 1,
    blockId: new Uint8Array(32),
    votes: signers.map((signer) => ({ signer, sig: new Uint8Array(64) })),
  };
  return {
    epoch: 0,
    round,
    height: round,
    parentId: new Uint8Array(32),
    qc,
    author,
    requests: [],
    id: new Uint8Array(32),
    signature: new Uint8Array(64),
  };
}

test("a validator that neither proposed nor signed in the window is not eligible", () => {
  const chain = [
    block(10, 0, [0, 1, 2]),
    block(11, 1, [0, 1, 2]),
    block(12, 2, [1, 2, 0]),
    block(13, 0, [0, 1, 2]),
  ];
  assert.deepEqual(activeValidators(4, window(chain)), [0, 1, 2]);
  const leaders = [14, 15, 16, 17, 18, 19].map((r) => leaderAmong(r, 4, 13, [0, 1, 2]));
  assert.ok(!leaders.includes(3), `leaders ${leaders}`);
  assert.deepEqual(new Set(leaders), new Set([0, 1, 2]), "the three others take turns");
});

test("one signature in the window is enough to be eligible again", () => {
  const chain = [
    block(10, 0, [0, 1, 2]),
    block(11, 1, [0, 1, 2]),
    block(12, 2, [1, 2, 3]),
    block(13, 0, [0, 1, 2]),
  ];
  assert.deepEqual(activeValidators(4, window(chain)), [0, 1, 2, 3]);
});

test("round-robin over all: a short window, a window without a two-chain, a stall", () => {
  const full = [
    block(10, 0, [0, 1, 2]),
    block(11, 1, [0, 1, 2]),
    block(12, 2, [0, 1, 2]),
    block(13, 0, [0, 1, 2]),
  ];
  assert.deepEqual(activeValidators(4, window(full)), [0, 1, 2]);
  assert.equal(activeValidators(4, window(full).slice(1)), null, "fewer blocks than the window");
  const noCommit = [
    block(10, 0, [0, 1, 2]),
    block(12, 1, [0, 1, 2]),
    block(14, 0, [0, 1, 2]),
    block(16, 1, [0, 1, 2]),
  ];
  assert.equal(activeValidators(4, window(noCommit)), null, "no two consecutive rounds: nothing commits");
  const stall = 3 * 4 + 1;
  assert.equal(STALL_ROUNDS_PER_VALIDATOR, 3);
  const gap = [
    block(10, 0, [0, 1, 2]),
    block(11, 1, [0, 1, 2]),
    block(11 + stall, 2, [0, 1, 2]),
    block(12 + stall, 0, [0, 1, 2]),
  ];
  assert.equal(activeValidators(4, gap), null, "a stall inside the window");
  // The parent itself far behind the round: plain rotation, whatever the window says.
  assert.equal(leaderAmong(13 + stall, 4, 13, [0, 1, 2]), (13 + stall) % 4);
  assert.equal(leaderAmong(13 + stall - 1, 4, 13, [0, 1, 2]), [0, 1, 2][(13 + stall - 1) % 3]);
});

test("a validator that signs every certificate but whose rounds time out is set aside for the failure window", () => {
  // Node 3 votes promptly (it is in every QC) but no proposal of its counts: a round it leads is
  // skipped. Chains are grown by the rule itself, round by round, over 400 rounds.
  const all = [0, 1, 2, 3];
  const chain: Block[] = [block(1, 0, all), block(2, 1, all), block(3, 2, all), block(4, 0, all)];
  let skipped = 0;
  for (let r = 5; r < 405; r++) {
    const window = chain.slice(-TOB_LEADER_FAILURE_WINDOW);
    const parent = chain[chain.length - 1]!;
    const leader = leaderAmong(r, 4, parent.round, activeValidators(4, window));
    if (leader === 3) skipped++;
    else chain.push(block(r, leader, all));
  }
  // Plain rotation over the four would skip a round in four (about 100); charged, node 3 leads
  // about once per failure window.
  assert.ok(skipped <= 400 / TOB_LEADER_FAILURE_WINDOW + 2, `${skipped} rounds skipped`);
  assert.ok(skipped >= 2, "it is given its turn again once its failure has left the chain");
  assert.ok(!activeValidators(4, chain.slice(-TOB_LEADER_FAILURE_WINDOW))!.includes(3) || skipped > 0);
});

test("only the last skipped round of a gap is charged: a faulty next leader cannot get a correct one set aside", () => {
  const all = [0, 1, 2, 3];
  // Grown by the rule, with rounds 9 and 10 skipped: only round 10's leader is charged.
  const chain: Block[] = [];
  for (let r = 1; r <= 8; r++) {
    const w = chain.slice(-TOB_LEADER_FAILURE_WINDOW);
    chain.push(block(r, leaderAmong(r, 4, r - 1, w.length ? activeValidators(4, w) : null), all));
  }
  const before = activeValidators(4, chain);
  const lead9 = leaderAmong(9, 4, 8, before);
  const lead10 = leaderAmong(10, 4, 8, before);
  assert.notEqual(lead9, lead10);
  chain.push(block(11, leaderAmong(11, 4, 8, before), all));
  const after = activeValidators(4, chain)!;
  assert.ok(!after.includes(lead10), `round 10's leader ${lead10} is set aside`);
  assert.ok(after.includes(lead9), `round 9's leader ${lead9} is not`);
});

test("charges are ignored when they would leave no one eligible", () => {
  const signers = [0, 1, 2];
  const chain = [10, 11, 13, 14, 16, 17, 19, 20].map((r) => block(r, r % 3, signers));
  const active = activeValidators(4, chain);
  assert.ok(active !== null && active.length > 0, `${active}`);
});
