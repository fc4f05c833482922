// The leader-reputation rule on its own (node/tob/core/leaders.ts): who is eligible after a window
// of blocks, and when rotation falls back to every validator.

import { test } from "node:test";
import assert from "node:assert/strict";
import { TOB_LEADER_WINDOW } from "../../node/common/limits.js";
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
