// The protocol vectors in docs/vectors/ (docs/protocol.md): the code still produces every file
// byte for byte (regenerate with `npm run gen:vectors` after a deliberate protocol change), the
// code's decoders and verifiers accept each vector, and refuse each listed mutation with its code.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { concatBytes, fromHex, toHex } from "../../node/common/bytes.js";
import { sha256 } from "../../node/common/hash.js";
import { decodeProof } from "../../node/store/core/proof-codec.js";
import { provenState } from "../../node/store/core/proof.js";
import { keyPath } from "../../node/store/core/path.js";
import { decodeStatement, proofDigest, ROOT_STATEMENT_DIGEST } from "../../node/ledger/statement.js";
import {
  decodeCertifiedHeader,
  encodeCertifiedHeader,
  encodeHeader,
  headerHash,
} from "../../node/ledger/header.js";
import { decodeValidators } from "../../node/ledger/validators-codec.js";
import { chainId, encodeGenesis, encodeMember, genesisFromJson } from "../../node/ledger/genesis.js";
import { decodeAnyRequest } from "../../node/ledger/any-request.js";
import { buildVectors, vectorText, VECTORS_DIR } from "./build.js";
import { judgeGenesis } from "./genesis.js";
import { judgeCertificate, judgeStatement } from "./signed.js";
import { judgeEvidence } from "./evidence.js";
import { judgeRequest } from "./request.js";
import { judgeConsensus } from "./consensus.js";
import { judgeHello } from "./peer.js";
import { judgeChunk } from "./graft.js";
import { verifiedByAll } from "./common.js";
import { snapshotSigningBytes } from "../../node/ledger/snapshot-statement.js";
import {
  carriedInCommon,
  consensusFreshRecord,
  consensusRecords,
  readRecords,
} from "../../node/snapshot/snapshot-records.js";
import { judgeHistory, judgeListing } from "./index.js";
import { judgeSnapshotStatement, judgeTreePart } from "./snapshot.js";
import { Reader } from "../../node/common/codec.js";
import { decodeChunk, type StoredTerminal } from "../../node/store/core/terminal-codec.js";
import { LevelStore } from "../../node/store/level-store.js";
import { decodeEntries } from "../../node/store/core/history-codec.js";
import { decodeMemberState, decodeSchedule } from "../../node/membership.js";
import { decidedIdsSlot, decodeDecidedIds } from "../../node/ledger/decided-ids.js";
import { decodeEpochState } from "../../node/tob/core/state.js";
import { decodeBlock } from "../../node/tob/core/wire.js";
import { snapshotConsensus } from "../../node/tob/core/restore.js";

// Vector files are read as plain JSON: the test checks their fields against the code.
type Json = Record<string, any>;

const read = (name: string): Json => JSON.parse(readFileSync(join(VECTORS_DIR, name), "utf8")) as Json;

test("vectors: the code produces every file in docs/vectors byte for byte", () => {
  for (const [name, v] of Object.entries(buildVectors()))
    assert.equal(
      readFileSync(join(VECTORS_DIR, name), "utf8"),
      vectorText(v),
      `${name} drifted from the code: run npm run gen:vectors if the change is deliberate`,
    );
});

test("vectors: genesis document, canonical encoding, chain id and mutations", () => {
  const v = read("genesis.json");
  const g = genesisFromJson(JSON.stringify(v.document));
  assert.equal(toHex(encodeGenesis(g)), v.encoding);
  assert.equal(toHex(chainId(g)), v.chainId);
  assert.equal(toHex(sha256(fromHex(v.encoding))), v.chainId);
  assert.ok(v.mutations.length >= 5);
  for (const m of v.mutations) {
    const got = judgeGenesis(m.document);
    if (m.refused) assert.deepEqual(got, { refused: m.refused }, m.what);
    else {
      assert.deepEqual(got, { chainId: m.chainId }, m.what);
      assert.equal(m.chainId === v.chainId, m.sameChainId, m.what);
    }
  }
});

test("vectors: GET statements verify, their proofs recompute the root, mutations are refused", () => {
  const v = read("statement.json");
  const genesis = read("genesis.json");
  for (const s of v.statements) {
    assert.equal(judgeStatement(fromHex(s.statement), fromHex(s.signature)), "ok", s.name);
    const d = decodeStatement(fromHex(s.statement));
    assert.equal(toHex(d.root), s.fields.root);
    assert.equal(d.node, s.fields.node);
    assert.equal(d.height.toString(), s.fields.height);
    if (s.proof) {
      assert.equal(toHex(d.proofDigest), toHex(ROOT_STATEMENT_DIGEST));
      assert.equal(toHex(decodeProof(fromHex(s.proof)).rootLabel), s.fields.root);
      assert.equal(s.fields.root, genesis.root, "the root statement at height 0 states the genesis root");
    }
  }
  const named = v.statements[1];
  assert.equal(named.fields.proofDigest, toHex(proofDigest(fromHex(v.statements[0].proof))));
  for (const m of v.mutations)
    assert.equal(judgeStatement(fromHex(m.statement), fromHex(m.signature)), m.refused, m.what);
});

test("vectors: certificates verify, headers chain, mutations are refused", () => {
  const v = read("certificate.json");
  let previous = "00".repeat(32);
  for (const h of v.headers) {
    const bytes = fromHex(h.certificate);
    assert.equal(judgeCertificate(bytes), "ok");
    const c = decodeCertifiedHeader(bytes);
    assert.equal(toHex(encodeCertifiedHeader(c)), h.certificate);
    assert.equal(toHex(encodeHeader(c.header)), h.header);
    assert.equal(toHex(headerHash(c.header)), h.hash);
    assert.equal(h.fields.previous, previous, "each header names the hash of the one before");
    assert.equal(h.fields.validatorsHash, v.validatorsHash);
    previous = h.hash;
  }
  const next = decodeValidators(fromHex(v.nextValidators));
  assert.deepEqual(
    next.map((x) => x.id),
    [0, 1, 2],
  );
  for (const m of v.mutations) {
    const against = m.validators ? next : undefined;
    assert.equal(judgeCertificate(fromHex(m.certificate), against), m.refused, m.what);
  }
});

test("vectors: evidence is judged alike: each kind proven, each mutation refused with its code", () => {
  const v = read("evidence.json");
  assert.deepEqual(
    v.evidence.map((e: Json) => fromHex(e.evidence)[0]),
    [3, 2, 1, 4],
  );
  for (const e of v.evidence) assert.equal(judgeEvidence(fromHex(e.evidence)), e.verdict, e.what);
  for (const m of v.mutations) assert.equal(judgeEvidence(fromHex(m.evidence)), m.refused, m.what);
});

test("vectors: signed requests decode and verify; mutations are refused at admission", () => {
  const v = read("request.json");
  for (const kind of ["execute", "complain"]) {
    const bytes = fromHex(v[kind].request);
    assert.equal(judgeRequest(bytes), "ok");
    assert.equal(toHex(decodeAnyRequest(bytes).id), v[kind].id);
  }
  for (const m of v.mutations) assert.equal(judgeRequest(fromHex(m.request)), m.refused, m.what);
});

for (const [name, pinned] of [
  ["createDomain", false],
  ["createDomainPinned", true],
] as const)
  test(`vectors: the ${name} EXECUTE proves its touched keys (and a pinned operation) against the genesis root`, () => {
    const v = read("request.json")[name];
    const genesis = read("genesis.json");
    const req = decodeAnyRequest(fromHex(v.request));
    assert.equal(judgeRequest(fromHex(v.request)), "ok");
    assert.ok(req.kind === "execute");
    const proof = decodeProof(req.proof);
    assert.equal(toHex(proof.rootLabel), genesis.root);
    assert.equal(v.root, genesis.root);
    const value = (k: string) => genesis.records.find((r: Json) => r.key === k)?.value;
    const op = provenState(proof.root, keyPath(req.op));
    if (pinned) {
      assert.ok(op.covered && op.present && op.value === null, "the operation's record comes by value hash");
      assert.equal(toHex(op.valueHash), toHex(sha256(fromHex(value(req.op)))));
    } else
      assert.ok(
        !op.covered || !op.present || op.value === null,
        "the operation's module is not in the proof",
      );
    for (const k of req.touched) {
      const s = provenState(proof.root, keyPath(k));
      assert.ok(s.covered, `${k} is covered`);
      if (value(k) === undefined) assert.ok(!s.present, `${k} is proven absent`);
      else assert.ok(s.present && s.value !== null && toHex(s.value) === value(k), `${k} with its value`);
    }
  });

test("vectors: a block's id is computed from its header part and requests digest, as documented", () => {
  const b = read("consensus.json").block;
  const msg = fromHex(b.message);
  const header = fromHex(b.header);
  // proposal := u8 1 ‖ u8 1 ‖ header ‖ request list ‖ 64-byte signature ‖ u8 0 (no TC)
  assert.equal(toHex(msg.subarray(2, 2 + header.length)), b.header);
  const list = msg.subarray(2 + header.length, msg.length - 65);
  const tagged = (tag: string, ...parts: Uint8Array[]) =>
    sha256(concatBytes(Uint8Array.of(tag.length), new TextEncoder().encode(tag), ...parts));
  assert.equal(toHex(tagged("arbor:tob-block-requests:v1", list)), b.requestsDigest);
  assert.equal(toHex(tagged("arbor:tob-block:v2", header, fromHex(b.requestsDigest))), b.id);
});

test("vectors: consensus messages pass the core's checks; mutations are refused with its codes", () => {
  const v = read("consensus.json");
  assert.equal(judgeConsensus(fromHex(v.block.message)), "ok");
  for (const x of v.votes) assert.equal(judgeConsensus(fromHex(x.message)), "ok");
  assert.equal(judgeConsensus(fromHex(v.qc), true), "ok");
  assert.equal(judgeConsensus(fromHex(v.timeout.message)), "ok");
  assert.equal(v.request, read("request.json").execute.request, "the block carries the request vector");
  for (const m of v.mutations)
    assert.equal(judgeConsensus(fromHex(m.qc ?? m.message), m.qc !== undefined), m.refused, m.what);
});

test("vectors: the peer handshake verifies; mutations are refused", () => {
  const v = read("peer.json");
  assert.equal(judgeHello(fromHex(v.hello)), "ok");
  for (const m of v.mutations) assert.equal(judgeHello(fromHex(m.hello)), m.refused, m.what);
});

test("vectors: graft.json's chunk has the label the taking node expects; mutations are refused", () => {
  const v = read("graft.json");
  const label = fromHex(v.labelAt);
  assert.equal(judgeChunk(fromHex(v.chunk), v.at, label), "ok");
  for (const m of v.mutations) assert.equal(judgeChunk(fromHex(m.chunk), v.at, label), m.refused, m.what);
});

test("vectors: index.json's pages verify to their keys; its mutations are refused", () => {
  const v = read("index.json");
  const root = fromHex(v.root);
  const range = (r: Json) => ({
    start: String.fromCharCode(...fromHex(r.start)),
    end: r.end === null ? null : String.fromCharCode(...fromHex(r.end)),
  });
  for (const p of v.pages)
    assert.equal(
      judgeListing(fromHex(p.proof), root, range(p.range), p.limit, p.done),
      `ok: ${p.keys.join(",")}`,
    );
  for (const e of v.entryProofs) {
    const got = judgeListing(fromHex(e.proof), root, range(e.range), 1, true);
    assert.equal(got, e.key === "nope" ? "ok: " : `ok: ${e.key}`);
  }
  for (const m of v.listingMutations)
    assert.ok(!m.refusedWith.startsWith("ok"), `${m.what}: ${m.refusedWith}`);
  const h = v.history.page;
  const from = { number: BigInt(h.from.number), head: fromHex(h.from.head) };
  assert.equal(judgeHistory(from, h.changes.map(fromHex), fromHex(h.headBefore), h.limit), "ok: 2");
  for (const m of v.history.mutations)
    assert.ok(!m.refusedWith.startsWith("ok"), `${m.what}: ${m.refusedWith}`);
});

test("vectors: snapshot statements verify, mutations are refused; records framed; changes without values", () => {
  const v = read("snapshot.json");
  const st = (j: Json) => ({
    chain: fromHex(j.chain),
    height: BigInt(j.height),
    commonBytes: BigInt(j.commonBytes),
    digest: fromHex(j.digest),
    signer: j.signer as number,
    signature: fromHex(j.signature),
  });
  const s = st(v.statement);
  assert.equal(toHex(snapshotSigningBytes(s)), v.signingBytes);
  assert.ok(verifiedByAll(fromHex(v.publicKey), fromHex(v.signingBytes), s.signature));
  assert.equal(judgeSnapshotStatement(s), "ok");
  assert.ok(v.mutations.length >= 5);
  for (const m of v.mutations) assert.equal(judgeSnapshotStatement(st(m.statement)), "refused", m.what);
  const framed = [...readRecords(fromHex(v.record.framed))];
  assert.equal(framed.length, 1);
  assert.equal(toHex(framed[0]!.key), v.record.key);
  assert.equal(toHex(framed[0]!.value), v.record.value);
  assert.deepEqual(
    v.carried.filter((k: Json) => k.carried).map((k: Json) => k.what),
    ["index entry", "code-book module", "operation-table entry"],
  );
  const fresh = consensusFreshRecord(v.consensusFresh.height, fromHex(v.consensusFresh.digests));
  assert.equal(toHex(fresh.key), v.consensusFresh.key);
  const framedFresh = [...readRecords(fromHex(v.consensusFresh.framed))];
  assert.equal(framedFresh.length, 1);
  assert.equal(toHex(framedFresh[0]!.key), v.consensusFresh.key);
  assert.equal(toHex(framedFresh[0]!.value), v.consensusFresh.digests);
  for (const k of v.carried as Json[]) assert.equal(carriedInCommon(fromHex(k.key)), k.carried, k.what);
});

test("vectors: snapshot records — tree part, history records, extras, consensus position", () => {
  const v = read("snapshot.json");
  // The tree part: its terminals decode as listed, the live ones rebuild to the root, mutations refused.
  const t = v.treePart;
  const records = [...readRecords(fromHex(t.part))];
  assert.deepEqual(
    records.map((r) => ({ key: toHex(r.key), value: toHex(r.value) })),
    t.records,
  );
  const decoded: StoredTerminal[] = [];
  for (const r of records) decodeChunk(r.value, Number(new Reader(r.key.subarray(1, 9)).u64()), decoded);
  assert.deepEqual(
    decoded.map((d) => [d.version, d.depth, d.node.ts]),
    t.terminals.map((x: Json) => [x.version, x.depth, x.ts]),
  );
  assert.equal(judgeTreePart(fromHex(t.part), fromHex(t.root)), "ok");
  const rebuilt: StoredTerminal[] = [];
  for (const r of LevelStore.snapshotTree(readRecords(fromHex(t.part)), []).records)
    decodeChunk(r.value, 0, rebuilt);
  // The rebuilt tree's terminals (in tree order) are exactly the live ones.
  const at = (depth: number, prefix: string) => `${prefix}/${depth}`;
  assert.deepEqual(
    rebuilt.map((d) => at(d.depth, toHex(d.prefix.subarray(0, (d.depth + 7) >> 3)))).sort(),
    t.terminals
      .filter((x: Json) => x.live)
      .map((x: Json) => at(x.depth, x.prefix))
      .sort(),
  );
  assert.ok(t.mutations.length >= 10);
  for (const m of t.mutations)
    assert.equal(judgeTreePart(fromHex(m.part), fromHex(t.root)), m.verdict, m.what);
  // History records.
  for (const h of v.historyRecords.records) {
    const es = decodeEntries(fromHex(h.value));
    assert.equal(h.key, toHex(concatBytes(Uint8Array.of(0x68), u64Bytes(BigInt(es[0]!.ts)))));
    assert.deepEqual(
      es.map((e) => ({
        ts: e.ts,
        root: e.root === null ? null : toHex(e.root),
        paths: e.paths.map(toHex),
        tag: e.tag === undefined ? null : toHex(e.tag),
      })),
      h.entries,
    );
  }
  // Extras, in key order.
  const [members, schedule, decided] = v.extras.records as Json[];
  const keys = (v.extras.records as Json[]).map((x) => x.key as string);
  assert.deepEqual([...keys].sort(), keys);
  const m = decodeMemberState(fromHex(members!.value));
  assert.deepEqual(
    m.nodes.map((n) => ({ id: n.id, member: toHex(encodeMember(n)) })),
    members!.fields.nodes,
  );
  assert.deepEqual([m.records, m.evicted], [members!.fields.records, members!.fields.evicted]);
  assert.deepEqual(
    decodeSchedule(fromHex(schedule!.value)).map((e) => ({
      fromHeight: String(e.fromHeight),
      decidedAt: String(e.decidedAt),
      ids: e.ids,
    })),
    schedule!.fields,
  );
  const d = decodeDecidedIds(fromHex(decided!.value));
  assert.equal(String(d.height), decided!.fields.height);
  assert.equal(decided!.name, decidedIdsSlot(d.height));
  // The consensus position: what a joining node accepts, the block that of consensus.json.
  const p = v.consensusPosition;
  const position = consensusRecords(readRecords(fromHex(p.framed)));
  const es = decodeEpochState(position.epoch);
  assert.deepEqual(
    {
      epoch: es.epoch,
      validators: es.validators.map(toHex),
      genesisId: toHex(es.genesisId),
      genesisHeight: es.genesisHeight,
    },
    p.epoch,
  );
  assert.deepEqual([es.schedules.length, es.tails.length], [0, 0]);
  assert.equal(toHex(decodeBlock(position.blocks[0]!).id), p.blockId);
  assert.equal(p.blockId, read("consensus.json").block.id);
  assert.equal(p.epoch.genesisId, read("consensus.json").genesisId);
  snapshotConsensus(p.height, position.epoch, position.blocks, position.fresh);
});

function u64Bytes(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v);
  return b;
}
