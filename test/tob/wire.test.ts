// The consensus wire codec and the persisted-state codec: round trips of every message kind, and
// hostile bytes (truncations, bit flips, random input, non-canonical forms) that must fail with a
// DecodeError and nothing else — and, fed to a core, be dropped with a reason.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { toHex } from "../../node/common/bytes.js";
import { DecodeError } from "../../node/common/errors.js";
import {
  TobCore,
  computeBlockId,
  decodeEpochState,
  decodeMessage,
  decodeSafety,
  encodeEpochState,
  encodeMessage,
  encodeSafety,
  type Block,
  type Message,
  type QC,
} from "../../node/tob/core/index.js";
import { WIRE_VERSION } from "../../node/tob/core/wire.js";
import { simKeys } from "./sim/keys.js";

const keys = simKeys(5, 4);
const sig = (b: number) => new Uint8Array(64).fill(b);
const id = (b: number) => new Uint8Array(32).fill(b);
const qc: QC = {
  epoch: 2,
  round: 7,
  blockId: id(1),
  votes: [0, 1, 3].map((s) => ({ signer: s, sig: sig(s) })),
};
const tc = {
  epoch: 2,
  round: 9,
  entries: [0, 2, 3].map((s) => ({ signer: s, hqcRound: 7, sig: sig(10 + s) })),
  highQC: qc,
};
const body = {
  epoch: 2,
  round: 8,
  height: 300,
  parentId: id(1),
  qc,
  author: 0,
  requests: [new Uint8Array([1, 2, 3]), new Uint8Array(0)],
};
const block: Block = { ...body, id: computeBlockId(body), signature: sig(4) };

const samples: Message[] = [
  { kind: "proposal", block, tc: null },
  { kind: "proposal", block, tc },
  { kind: "vote", vote: { epoch: 2, round: 8, blockId: block.id, signer: 2, sig: sig(5) } },
  { kind: "timeout", timeout: { epoch: 2, round: 10, highQC: qc, lastTC: tc, signer: 1, sig: sig(6) } },
  { kind: "timeout", timeout: { epoch: 2, round: 10, highQC: qc, lastTC: null, signer: 1, sig: sig(6) } },
  { kind: "requests", requests: [new Uint8Array([9]), new Uint8Array(300)] },
  { kind: "syncRequest", epoch: 2, fromHeight: 2 ** 40 },
  { kind: "syncResponse", epoch: 2, blocks: [block, block], qc, more: true },
];

test("every message kind round-trips canonically, and the block id survives decoding", () => {
  for (const m of samples) {
    const bytes = encodeMessage(m);
    const back = decodeMessage(bytes);
    assert.deepEqual(back, m, m.kind);
    assert.equal(toHex(encodeMessage(back)), toHex(bytes));
  }
  const d = decodeMessage(encodeMessage(samples[0]!));
  assert.equal(d.kind === "proposal" && toHex(d.block.id), toHex(block.id));
});

test("every truncation of every message fails with DecodeError", () => {
  for (const m of samples) {
    const bytes = encodeMessage(m);
    for (let cut = 0; cut < bytes.length; cut++)
      assert.throws(() => decodeMessage(bytes.subarray(0, cut)), DecodeError, `${m.kind} cut at ${cut}`);
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    assert.throws(() => decodeMessage(longer), /trailing/);
  }
});

test("non-canonical forms are rejected", () => {
  const vote = encodeMessage(samples[2]!);
  const wrongVersion = vote.slice();
  wrongVersion[0] = WIRE_VERSION + 1;
  assert.throws(() => decodeMessage(wrongVersion), /bad-version/);
  const prop = encodeMessage(samples[0]!);
  const flag = prop.slice();
  flag[flag.length - 1] = 2; // the "has tc" flag
  assert.throws(() => decodeMessage(flag), /non-canonical/);
  // An overlong varint (round 8 as 0x88 0x00).
  const overlong = new Uint8Array([WIRE_VERSION, 5, 0x02, 0x88, 0x00]);
  assert.throws(() => decodeMessage(overlong), DecodeError);
});

test("bit flips and random bytes never throw anything but DecodeError", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: samples.length - 1 }),
      fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
      (which, flips) => {
        const bytes = encodeMessage(samples[which]!).slice();
        for (const f of flips) bytes[f % bytes.length]! ^= 1 << (f % 8);
        try {
          decodeMessage(bytes);
        } catch (e) {
          assert.ok(e instanceof DecodeError, String(e));
        }
      },
    ),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      try {
        decodeMessage(bytes);
      } catch (e) {
        assert.ok(e instanceof DecodeError, String(e));
      }
    }),
    { numRuns: 2000 },
  );
});

test("a core fed hostile bytes from a validator drops them and keeps going", () => {
  const core = new TobCore({
    networkId: new Uint8Array([1]),
    signer: keys.signer(0),
    verifier: keys.verifier,
    genesisValidators: keys.publicKeys,
  });
  core.step({ type: "tick" }).persisted();
  const from = toHex(keys.publicKeys[1]!);
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: samples.length - 1 }),
      fc.array(fc.nat(), { maxLength: 3 }),
      (which, flips) => {
        const bytes = encodeMessage(samples[which]!).slice();
        for (const f of flips) bytes[f % bytes.length]! ^= 1 << (f % 8);
        const s = core.step({ type: "message", from, bytes });
        s.persisted();
        for (const r of s.rejected) assert.match(r.code, /^(decode|tob)\//);
      },
    ),
    { numRuns: 1000 },
  );
  assert.equal(core.status().round, 1);
});

test("persisted safety and epoch state round-trip", () => {
  const s = { epoch: 2, lastVotedRound: 11, highQC: qc, highTC: tc };
  assert.deepEqual(decodeSafety(encodeSafety(s)), s);
  assert.deepEqual(decodeSafety(encodeSafety({ ...s, highTC: null })), { ...s, highTC: null });
  const e = {
    epoch: 2,
    validators: keys.publicKeys,
    genesisId: id(3),
    genesisHeight: 299,
    schedules: [{ fromHeight: 400, validators: keys.publicKeys.slice(0, 3) }],
    tails: [{ epoch: 1, lastHeight: 299, blocks: [block], qc }],
  };
  assert.deepEqual(decodeEpochState(encodeEpochState(e)), e);
});
