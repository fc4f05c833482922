// A consensus started from a snapshot's position (node/tob/core/restore.ts snapshotConsensus,
// TobShell.install), in solo mode over real LevelDB: it restores at the snapshot's height with no
// block below the carried ones, delivers the next blocks from there, still drops a request
// delivered again within the duplicate window, and a position whose blocks are not one chain ending
// at the height is refused. Pruning deletes delivered blocks below a floor but never the newest a
// restart reads, and a restart after it goes on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TobShell } from "../../node/tob/shell.js";
import { deliverOne, openSolo, until } from "./solo-shell.js";
import {
  decodeSafety,
  encodeSafety,
  PRUNE_KEEP_BLOCKS,
  raiseVotedRound,
  snapshotConsensus,
  type Delivery,
} from "../../node/tob/core/index.js";

const enc = (s: string) => new TextEncoder().encode(s);

test(
  "a consensus started from a snapshot's position goes on from its height",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "arbor-snapstart-"));
    try {
      const got: Delivery[] = [];
      const a = await openSolo(join(dir, "a"), 0, got);
      for (let i = 0; i < 12; i++) await deliverOne(a, got, `request ${i}`);
      const top = got[got.length - 1]!;
      const h = top.height;
      const epoch = a.snapshotEpoch(top.epoch);
      assert.ok(epoch !== null);
      const from = Math.max(1, h - 5);
      const blocks: Uint8Array[] = [];
      for (let x = from; x <= h; x++) blocks.push((await a.block(x))!);
      const fresh = await a.freshDigests(1, h);
      assert.equal(fresh.length, h, "every delivered block's digests are kept");
      await a.close();

      // Not one chain, or not ending at the height: refused.
      assert.throws(() => snapshotConsensus(h + 1, epoch!, blocks, fresh), RangeError);
      assert.throws(
        () => snapshotConsensus(h, epoch!, [...blocks.slice(0, 2), ...blocks.slice(3)], fresh),
        RangeError,
      );
      assert.throws(
        () => snapshotConsensus(h, epoch!, [blocks[1]!, blocks[0]!, ...blocks.slice(2)], fresh),
        RangeError,
      );
      // The delivered digests must cover the window, each height's being of its carried block.
      assert.throws(() => snapshotConsensus(h, epoch!, blocks, fresh.slice(1)), RangeError);
      const alien = { height: h, digests: new Uint8Array(32).fill(9) };
      assert.throws(() => snapshotConsensus(h, epoch!, blocks, [...fresh.slice(0, -1), alien]), RangeError);

      const position = snapshotConsensus(h, epoch!, blocks, fresh);
      assert.equal(position.blocks.length, h - from + 1);
      await TobShell.install(join(dir, "b"), position);
      const after: Delivery[] = [];
      const b = await openSolo(join(dir, "b"), h, after);
      assert.equal(b.status().deliveredHeight, h);
      assert.equal(await b.block(from - 1), undefined, "nothing below the carried blocks");
      // Requests delivered before the snapshot are dropped again — one in a carried block, one only
      // in the digests — and a new one is delivered after h.
      b.submit([enc("request 11"), enc("request 1"), enc("after the snapshot")]);
      await until(() => after.some((d) => d.requests.length > 0), "a block after the snapshot");
      const delivered = after.filter((d) => d.requests.length > 0);
      assert.ok(delivered[0]!.height > h);
      const texts = delivered.flatMap((d) => d.requests.map((r) => new TextDecoder().decode(r)));
      assert.deepEqual(texts, ["after the snapshot"]);
      await b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "old delivered blocks are pruned below a floor, never the newest a restart needs; Status's oldest block follows",
  { timeout: 120_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "arbor-prune-"));
    try {
      const got: Delivery[] = [];
      let shell = await openSolo(dir, 0, got);
      const target = PRUNE_KEEP_BLOCKS + 40;
      for (let i = 0; got.length === 0 || got[got.length - 1]!.height < target; i++)
        await deliverOne(shell, got, `r${i}`);
      const top = got[got.length - 1]!.height;
      // Asked for more than the restart window allows: only what lies below it goes.
      assert.equal(shell.oldestBlock, 1);
      const pruned = await shell.pruneBelow(top);
      assert.equal(pruned, top - PRUNE_KEEP_BLOCKS);
      assert.equal(await shell.block(top - PRUNE_KEEP_BLOCKS), undefined);
      assert.ok(await shell.block(top - PRUNE_KEEP_BLOCKS + 1));
      assert.equal(shell.oldestBlock, top - PRUNE_KEEP_BLOCKS + 1);
      const digests = await shell.freshDigests(1, top);
      assert.equal(digests.length, PRUNE_KEEP_BLOCKS, "the delivered digests go with their blocks");
      assert.equal(digests[0]!.height, top - PRUNE_KEEP_BLOCKS + 1);
      assert.equal(await shell.pruneBelow(top), 0, "nothing more to prune");
      await shell.close();
      // A restart reads the newest blocks and goes on.
      const again: Delivery[] = [];
      shell = await openSolo(dir, top, again);
      assert.equal(shell.oldestBlock, top - PRUNE_KEEP_BLOCKS + 1, "read back at the restart");
      shell.submit([enc("after the prune")]);
      await until(() => again.some((d) => d.requests.length > 0), "a block after the restart");
      assert.ok(again.find((d) => d.requests.length > 0)!.height > top);
      await shell.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test("a re-synced node keeps the round it voted in when the snapshot's is lower, in the same epoch", () => {
  const qc = { epoch: 2, round: 40, blockId: new Uint8Array(32).fill(7), votes: [] };
  const fresh = encodeSafety({ epoch: 2, lastVotedRound: 40, highQC: qc, highTC: null });
  const voted = (epoch: number, round: number) =>
    encodeSafety({ epoch, lastVotedRound: round, highQC: { ...qc, epoch, round: 1 }, highTC: null });
  const raised = decodeSafety(raiseVotedRound(fresh, voted(2, 55)));
  assert.equal(raised.lastVotedRound, 55);
  assert.deepEqual(raised.highQC, qc, "the snapshot's certificate stays");
  assert.deepEqual(raiseVotedRound(fresh, voted(2, 30)), fresh, "a lower round changes nothing");
  assert.deepEqual(raiseVotedRound(fresh, voted(1, 90)), fresh, "another epoch's rounds are not these");
  assert.deepEqual(raiseVotedRound(fresh, undefined), fresh);
  assert.deepEqual(
    raiseVotedRound(fresh, new Uint8Array([9, 9])),
    fresh,
    "an unreadable state is passed over",
  );
});
