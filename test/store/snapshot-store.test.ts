// A store's snapshot (node/snapshot/): written from a LevelDB view while commits go on, read back,
// its tree part checked and installed as another node's store (another partition). The installed
// store is at the snapshot's height and root with the same history window, and from there it
// reaches the same verdicts and roots as the holder and a full node — also for proofs against
// older roots of the window. A tree part whose holder lied about timestamps (all zero) comes out
// with every terminal on a window path at least as new as the operations that touched it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HistoryTree } from "../../node/store/core/history.js";
import { Partition } from "../../node/store/core/partition.js";
import { bitAt, keyPath } from "../../node/store/core/path.js";
import { prove } from "../../node/store/core/proof.js";
import { EmptyNode, Kind, StubNode, type TerminalNode } from "../../node/store/core/node.js";
import {
  ChunkWriter,
  buildFromStored,
  decodeChunk,
  type StoredTerminal,
} from "../../node/store/core/terminal-codec.js";
import { forEachTerminal } from "../../node/store/core/tree.js";
import { decodeEntries } from "../../node/store/core/history-codec.js";
import { LevelStore, type RawRecord } from "../../node/store/level-store.js";
import { readRecords } from "../../node/snapshot/snapshot-records.js";
import { SNAPSHOT_HEADER_BYTES, writeSnapshotFile } from "../../node/snapshot/snapshot-file.js";
import { toHex, utf8 } from "../../node/common/bytes.js";
import { sha256 } from "../../node/common/hash.js";

const RECORDS = Array.from({ length: 200 }, (_, i) => ({ key: `s/k${i}`, value: utf8(`value ${i}`) }));
const T = 16;
const CHAIN = new Uint8Array(32).fill(7);

async function snapshotParts(file: string): Promise<{ common: Uint8Array; tree: Uint8Array }> {
  const bytes = new Uint8Array(await readFile(file));
  const head = new DataView(bytes.buffer, bytes.byteOffset + 48, 16);
  const commonBytes = Number(head.getBigUint64(0));
  const payload = bytes.subarray(SNAPSHOT_HEADER_BYTES);
  return { common: payload.subarray(0, commonBytes), tree: payload.subarray(commonBytes) };
}

interface Step {
  readonly key: string;
  readonly proof: ReturnType<typeof prove>;
  readonly root: Uint8Array;
}

/** Operation `n` on key `i`: every tree in `trees` gets the same step; returns their verdicts. */
function apply(trees: readonly HistoryTree[], step: Step, n: number): string[] {
  const writes = [{ key: step.key, value: utf8(`${step.key} at op ${n}`) }];
  return trees.map((h) => {
    const v = h.execute(step.proof, step.root, [step.key], writes);
    return v.ok ? `ok ${toHex(h.rootLabel)}` : v.reason;
  });
}

function fresh(full: HistoryTree, i: number): Step {
  const key = `s/k${i}`;
  return { key, proof: prove(full.tree, [keyPath(key)], { leafSiblings: true }), root: full.rootLabel };
}

async function* concat(...parts: Iterable<RawRecord>[]): AsyncGenerator<RawRecord> {
  for (const p of parts) yield* p;
}

test("a snapshot installed under another partition continues exactly like its holder", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbor-snapshot-"));
  const full = HistoryTree.genesis(Partition.whole(), T, RECORDS);
  const twin = HistoryTree.genesis(new Partition(["1"]), T, RECORDS);
  const steps: Step[] = [];
  try {
    const holder = await LevelStore.open(join(dir, "holder"), {
      partition: new Partition(["0"]),
      T,
      genesis: RECORDS,
    });
    for (let n = 1; n <= 40; n++) {
      const step = fresh(full, (n * 37) % 200);
      steps.push(step);
      apply([full, twin, holder.history], step, n);
      await holder.commit(BigInt(n));
    }
    const at40 = toHex(full.rootLabel);
    const view = holder.view();
    // Commits after the view is taken are not in the snapshot.
    const step41 = fresh(full, 41);
    apply([full, twin, holder.history], step41, 41);
    await holder.commit(41n);
    const info = await writeSnapshotFile(join(dir, "40.snap"), CHAIN, 40n, view);
    await view.close();
    const { common, tree } = await snapshotParts(join(dir, "40.snap"));
    assert.equal(toHex(sha256(common)), toHex(info.digest));
    const checked = LevelStore.snapshotTree(readRecords(tree), readRecords(common));
    assert.equal(toHex(checked.root), at40);

    const mine = new Partition(["1"]);
    const meta = { height: 40n, now: 40, root: checked.root };
    await LevelStore.install(
      join(dir, "synced"),
      concat(readRecords(common), checked.records),
      meta,
      T,
      mine,
    );
    const synced = await LevelStore.open(join(dir, "synced"), { partition: mine, T });
    assert.equal(synced.height, 40n);
    assert.equal(toHex(synced.history.rootLabel), at40);
    assert.equal(synced.history.now, 40);
    assert.deepEqual(synced.partition.toStrings(), ["1"]);

    // From here every tree reaches the same verdicts and roots, fresh proofs and proofs against
    // older roots of the window alike.
    const trees = [full, twin, holder.history, synced.history];
    assert.equal(apply([synced.history], step41, 41)[0], `ok ${toHex(full.rootLabel)}`);
    steps.push(step41);
    const verdicts = new Set<string>();
    for (let n = 42; n <= 90; n++) {
      const step = n % 3 === 0 ? steps[steps.length - 1 - (n % 11)]! : fresh(full, (n * 53) % 200);
      steps.push(fresh(full, (n * 17) % 200));
      const got = apply(trees, step, n);
      for (const g of got) assert.equal(g, got[0], `op ${n}: ${got.join(" / ")}`);
      verdicts.add(got[0]!.slice(0, 2));
      await holder.commit(BigInt(n));
      await synced.commit(BigInt(n));
    }
    assert.ok(
      verdicts.has("ok") && verdicts.size > 1,
      `both outcomes exercised: ${[...verdicts].join(", ")}`,
    );
    await holder.close();
    await synced.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a tree part whose holder zeroed every timestamp is raised along the window's paths", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbor-snapshot-ts-"));
  const full = HistoryTree.genesis(Partition.whole(), T, RECORDS);
  try {
    const holder = await LevelStore.open(join(dir, "holder"), {
      partition: new Partition(["01"]),
      T,
      genesis: RECORDS,
    });
    for (let n = 1; n <= 30; n++) {
      apply([full, holder.history], fresh(full, (n * 29) % 200), n);
      await holder.commit(BigInt(n));
    }
    const view = holder.view();
    await writeSnapshotFile(join(dir, "30.snap"), CHAIN, 30n, view);
    await view.close();
    const { common, tree } = await snapshotParts(join(dir, "30.snap"));
    const lying = zeroTimestamps([...readRecords(tree)]);
    const checked = LevelStore.snapshotTree(lying, readRecords(common));
    assert.equal(toHex(checked.root), toHex(full.rootLabel), "timestamps are not in the labels");
    const terminals: StoredTerminal[] = [];
    for (const r of checked.records) decodeChunk(r.value, 0, terminals);
    const root = buildFromStored(terminals);
    let checkedPaths = 0;
    for (const r of readRecords(common)) {
      if (r.key[0] !== 0x68) continue;
      for (const e of decodeEntries(r.value))
        for (const path of e.paths) {
          let n = root;
          for (let d = 0; n.kind === Kind.Internal; d++) n = n.child(bitAt(path, d));
          assert.ok(n.ts >= e.ts, `a terminal on a path of op ${e.ts} has timestamp ${n.ts}`);
          checkedPaths++;
        }
    }
    assert.ok(checkedPaths >= T - 1, `${checkedPaths} window paths checked`);
    await holder.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The tree part with every terminal's timestamp set to 0 (a lying holder). */
function zeroTimestamps(records: readonly RawRecord[]): RawRecord[] {
  const terminals: StoredTerminal[] = [];
  for (const r of records)
    decodeChunk(
      r.value,
      Number(new DataView(r.key.buffer, r.key.byteOffset + 1, 8).getBigUint64(0)),
      terminals,
    );
  const w = new ChunkWriter();
  forEachTerminal(buildFromStored(terminals), new Uint8Array(32), 0, (t, pos) => w.putAt(zero(t), pos));
  const key = new Uint8Array(13);
  key[0] = 0x63;
  return [{ key, value: w.takeView().slice() }];
}

function zero(t: TerminalNode): TerminalNode {
  if (t.kind === Kind.Leaf) return t.at(0);
  if (t.kind === Kind.Stub) return new StubNode(t.digest, 0);
  return new EmptyNode(0);
}
