// Snapshot vectors (docs/vectors/snapshot.json), generated from the code: a node's signed
// statement about a snapshot (docs/protocol.md §17) with mutations the vouching check must refuse,
// one framed store record, which application records the common part carries, a tree part (chunk
// records of two versions) with its root and the refusals of its rebuild, history records, the
// extras, and a consensus position.
import {
  bytesEqual,
  bytesToLatin1,
  concatBytes,
  latin1ToBytes,
  toHex,
  utf8,
} from "../../node/common/bytes.js";
import { Reader, Writer } from "../../node/common/codec.js";
import { sha256 } from "../../node/common/hash.js";
import { signWith } from "../../node/keys.js";
import {
  snapshotSigningBytes,
  vouchingSigners,
  type SignedSnapshotStatement,
} from "../../node/ledger/snapshot-statement.js";
import {
  carriedInCommon,
  consensusBlockRecord,
  consensusEpochRecord,
  consensusFreshRecord,
  frameRecord,
  readRecords,
} from "../../node/snapshot/snapshot-records.js";
import { nodeSignatureVerifier } from "../../node/exec/host-crypto.js";
import { LevelStore, type RawRecord } from "../../node/store/level-store.js";
import { MerkleTree, forEachTerminal } from "../../node/store/core/tree.js";
import { ChunkWriter, decodeChunk, type StoredTerminal } from "../../node/store/core/terminal-codec.js";
import {
  EmptyNode,
  InternalNode,
  internalLabelString,
  Kind,
  LeafNode,
  StubNode,
  type TerminalNode,
} from "../../node/store/core/node.js";
import { keyPath } from "../../node/store/core/path.js";
import { encodeEntries } from "../../node/store/core/history-codec.js";
import type { HistoryEntry } from "../../node/store/core/history.js";
import {
  encodeMemberState,
  encodeSchedule,
  MEMBERS_EXTRA_KEY,
  SCHEDULE_EXTRA_KEY,
  type ScheduleEntry,
} from "../../node/membership.js";
import { decidedIdsSlot, encodeDecidedIds, type DecidedId } from "../../node/ledger/decided-ids.js";
import { encodeMember } from "../../node/ledger/genesis.js";
import { encodeEpochState } from "../../node/tob/core/state.js";
import { encodeBlock } from "../../node/tob/core/wire.js";
import { requestDigest } from "../../node/tob/core/pool.js";
import { genesisRoot } from "../../client/genesis-root.js";
import { CHAIN, VALIDATORS } from "./signed.js";
import { codeOf, flip, keyOf } from "./common.js";
import { vectorGenesis } from "./genesis.js";
import { block, GENESIS_ID } from "./consensus.js";

const SIGNER = 1;

function signed(): SignedSnapshotStatement {
  const s = { chain: CHAIN, height: 1024n, commonBytes: 4096n, digest: sha256(utf8("the common part")) };
  return { ...s, signer: SIGNER, signature: signWith(keyOf(`node ${SIGNER}`), snapshotSigningBytes(s)) };
}

/** "ok" when the statement's signature verifies for a validator of the set, else "refused". */
export function judgeSnapshotStatement(s: SignedSnapshotStatement): "ok" | "refused" {
  return vouchingSigners([s], VALIDATORS, nodeSignatureVerifier).length === 1 ? "ok" : "refused";
}

function statementJson(s: SignedSnapshotStatement): Record<string, unknown> {
  return {
    chain: toHex(s.chain),
    height: String(s.height),
    commonBytes: String(s.commonBytes),
    digest: toHex(s.digest),
    signer: s.signer,
    signature: toHex(s.signature),
  };
}

export function snapshotVector(execute: Uint8Array): Record<string, unknown> {
  const s = signed();
  const mutations: Array<[string, SignedSnapshotStatement]> = [
    ["another height", { ...s, height: s.height + 1n }],
    ["another common length", { ...s, commonBytes: s.commonBytes - 1n }],
    ["another digest", { ...s, digest: flip(s.digest, 0) }],
    ["another chain", { ...s, chain: flip(s.chain, 31) }],
    ["another signer", { ...s, signer: 2 }],
    ["not a validator", { ...s, signer: 9 }],
    ["a flipped signature", { ...s, signature: flip(s.signature, 5) }],
  ];
  const record = { key: concatBytes(Uint8Array.of(0x61, 0x65), utf8("bank/alice")), value: utf8("entry") };
  const framed = new Writer(64);
  frameRecord(framed, record);
  // A consensus position's delivered digests of one height: two requests' digests, in block order.
  const digests = concatBytes(sha256(utf8("request a")), sha256(utf8("request b")));
  const fresh = consensusFreshRecord(1000, digests);
  const freshFramed = new Writer(96);
  frameRecord(freshFramed, fresh);
  // One key of each application record kind (docs/protocol.md §13), and whether it is carried.
  const app = (kind: string, rest: Uint8Array) => concatBytes(utf8(`a${kind}`), rest);
  const kinds: Array<[string, Uint8Array]> = [
    ["index entry", app("e", utf8("bank/alice"))],
    ["code-book module", app("c", sha256(utf8("module")))],
    ["operation-table entry", app("o", utf8("bank/transfer"))],
    ["key change", new Writer(24).u8(0x61).u8(0x6b).u8(0).u8(10).raw(utf8("bank/alice")).u64(3n).finish()],
    ["block change list", new Writer(10).u8(0x61).u8(0x62).u64(7n).finish()],
    ["receipt", app("r", sha256(utf8("request")))],
    ["own header", new Writer(10).u8(0x61).u8(0x48).u64(7n).finish()],
    ["pruned-values mark", utf8("ap")],
  ];
  return {
    description:
      "Snapshot statements (docs/protocol.md §17): signing bytes = UTF-8 'arbor:snapshot:v1' ‖ chain ‖ u64 height ‖ u64 commonBytes ‖ digest; signed by the node with Ed25519. Mutations must be refused. A framed record is varint key length ‖ key ‖ varint value length ‖ value. Of the application records ('a' ‖ kind ‖ …), the common part carries index entries ('e'), code-book modules ('c') and operation-table entries ('o'), as stored; not the past (key changes, block change lists, receipts, own headers) nor a node's own marks. The consensus position's delivered digests of a height are the record 0x00 'f' ‖ u64 height → the 32-byte digests concatenated.",
    statement: statementJson(s),
    publicKey: toHex(keyOf(`node ${SIGNER}`).publicKey),
    signingBytes: toHex(snapshotSigningBytes(s)),
    verdict: judgeSnapshotStatement(s),
    mutations: mutations.map(([what, m]) => ({
      what,
      statement: statementJson(m),
      verdict: judgeSnapshotStatement(m),
    })),
    record: { key: toHex(record.key), value: toHex(record.value), framed: toHex(framed.finish()) },
    consensusFresh: {
      height: 1000,
      digests: toHex(digests),
      key: toHex(fresh.key),
      framed: toHex(freshFramed.finish()),
    },
    carried: kinds.map(([what, key]) => ({ what, key: toHex(key), carried: carriedInCommon(key) })),
    treePart: treePartVector(),
    historyRecords: historyVector(),
    extras: extrasVector(),
    consensusPosition: positionVector(execute),
  };
}

// ---- the tree part -------------------------------------------------------------------------

/** A stored terminal as a tree part carries it: the version of its chunk, its position, the node. */
interface Placed {
  readonly version: number;
  readonly depth: number;
  /** 32 bytes, bits past depth zero */
  readonly prefix: Uint8Array;
  readonly node: TerminalNode;
}

const TREE_KEYS = ["grace", "heidi", "ivan", "judy", "alice", "carol", "bob"].map((n) => `bank/${n}`);
const CHANGED_KEY = "bank/heidi";

function treeOf(changed: boolean): MerkleTree {
  const t = new MerkleTree();
  TREE_KEYS.forEach((k, i) => t.set(k, utf8(`${k} at ${i + 1}`), i + 1));
  if (changed) t.set(CHANGED_KEY, utf8(`${CHANGED_KEY} at 8`), 8);
  return t;
}

function terminalsOf(t: MerkleTree, version: number, keep: (p: Placed) => boolean): Placed[] {
  const out: Placed[] = [];
  forEachTerminal(t.root, new Uint8Array(32), 0, (node, pos) => {
    const p = { version, depth: pos.depth, prefix: pos.prefix, node };
    if (keep(p)) out.push(p);
  });
  return out;
}

const topBit = (p: Placed) => p.depth > 0 && (p.prefix[0]! & 0x80) !== 0;
const atPrefix = (byte: number): Uint8Array => {
  const b = new Uint8Array(32);
  b[0] = byte;
  return b;
};

/**
 * What a node holding prefix "0" stores of a tree of seven records: the left half in full, the
 * right half as a stub ("10") beside a leaf summary ("11"); then, one commit later (version 1),
 * the leaf of the record that commit changed.
 */
function treeTerminals(): { placed: Placed[]; root: Uint8Array } {
  const before = treeOf(false);
  const right = (before.root as InternalNode).right;
  if (right.kind !== Kind.Internal || right.left.kind !== Kind.Internal || right.right.kind !== Kind.Leaf)
    throw new Error("the vector tree does not have the shape the vector describes");
  const v0 = terminalsOf(before, 0, (p) => !topBit(p));
  v0.push({
    version: 0,
    depth: 2,
    prefix: atPrefix(0x80),
    node: new StubNode(internalLabelString(right.left), right.left.ts),
  });
  v0.push({ version: 0, depth: 2, prefix: atPrefix(0xc0), node: (right.right as LeafNode).summary() });
  const after = treeOf(true);
  const v1 = terminalsOf(after, 1, (p) => p.node.kind === Kind.Leaf && p.node.key === CHANGED_KEY);
  const old = v0.find((p) => p.node.kind === Kind.Leaf && p.node.key === CHANGED_KEY)!;
  if (v1.length !== 1 || v1[0]!.depth !== old.depth || !bytesEqual(v1[0]!.prefix, old.prefix))
    throw new Error("the changed record moved");
  return { placed: [...v0, ...v1], root: after.rootLabel };
}

function encodePiece(p: Placed): Uint8Array {
  const w = new ChunkWriter();
  w.putAt(p.node, { prefix: p.prefix, depth: p.depth });
  return w.take();
}

/** 'c' ‖ u64 version ‖ u32 index. */
function chunkRecordKey(version: number, index: number): Uint8Array {
  return new Writer(13)
    .u8(0x63)
    .u64(BigInt(version))
    .raw(Uint8Array.of(index >>> 24, (index >>> 16) & 0xff, (index >>> 8) & 0xff, index & 0xff))
    .finish();
}

/** One chunk record per version (ascending), its terminals in the given order; `patch` alters a piece. */
function chunkRecords(
  placed: readonly Placed[],
  patch?: (i: number, piece: Uint8Array) => Uint8Array,
): RawRecord[] {
  const versions = [...new Set(placed.map((p) => p.version))].sort((a, b) => a - b);
  return versions.map((v) => ({
    key: chunkRecordKey(v, 0),
    value: concatBytes(
      ...placed.flatMap((p, i) =>
        p.version === v ? [patch ? patch(i, encodePiece(p)) : encodePiece(p)] : [],
      ),
    ),
  }));
}

function framed(records: readonly RawRecord[]): Uint8Array {
  const w = new Writer(4096);
  for (const r of records) frameRecord(w, r);
  return w.finish();
}

/** "ok" when the tree part rebuilds to `root`, "wrong-root" when to another, else the refusal's code. */
export function judgeTreePart(part: Uint8Array, root: Uint8Array): string {
  try {
    return bytesEqual(LevelStore.snapshotTree(readRecords(part), []).root, root) ? "ok" : "wrong-root";
  } catch (e) {
    return codeOf(e);
  }
}

/** Whether one position is at, above or below the other. */
function overlaps(a: StoredTerminal | Placed, b: StoredTerminal | Placed): boolean {
  const d = Math.min(a.depth, b.depth);
  for (let i = 0; i < d; i++) {
    const m = 0x80 >> (i & 7);
    if ((a.prefix[i >> 3]! & m) !== (b.prefix[i >> 3]! & m)) return false;
  }
  return true;
}

const hex32 = (s: string) => toHex(latin1ToBytes(s));

/** A copy of `b` with byte `at` set to `v`. */
function withSet(b: Uint8Array, at: number, v: number): Uint8Array {
  const out = new Uint8Array(b);
  out[at] = v;
  return out;
}

/** A copy of `b` with byte `at` OR-ed with `v`. */
function withOr(b: Uint8Array, at: number, v: number): Uint8Array {
  return withSet(b, at, b[at]! | v);
}

/** The same terminal with another timestamp. */
function atTs(n: TerminalNode, ts: number): TerminalNode {
  if (n.kind === Kind.Empty) return new EmptyNode(ts);
  if (n.kind === Kind.Stub) return new StubNode(n.digest, ts);
  return n.at(ts);
}

function terminalJson(t: StoredTerminal, all: readonly StoredTerminal[]): Record<string, unknown> {
  const n = t.node;
  const base = {
    version: t.version,
    depth: t.depth,
    prefix: toHex(t.prefix.subarray(0, (t.depth + 7) >> 3)),
    ts: n.ts,
  };
  const live = !all.some((o) => o !== t && o.version > t.version && overlaps(o, t));
  if (n.kind === Kind.Empty) return { ...base, kind: 0, what: "empty", live };
  if (n.kind === Kind.Stub) return { ...base, kind: 3, what: "stub", label: hex32(n.digest), live };
  if (n.key === null || n.value === null)
    return {
      ...base,
      kind: 2,
      what: "summary",
      keyHash: hex32(n.keyHash),
      valueHash: hex32(n.valueHash),
      live,
    };
  return { ...base, kind: 1, what: "leaf", key: n.key, value: toHex(n.value), live };
}

function treePartVector(): Record<string, unknown> {
  const { placed, root } = treeTerminals();
  const records = chunkRecords(placed);
  const part = framed(records);
  const decoded: StoredTerminal[] = [];
  for (const r of records) decodeChunk(r.value, Number(new Reader(r.key.subarray(1, 9)).u64()), decoded);
  const at = (f: (p: Placed) => boolean) => placed.findIndex(f);
  const stub = at((p) => p.node.kind === Kind.Stub);
  const newest = at((p) => p.version === 1);
  const superseded = at((p) => p.version === 0 && p.node.kind === Kind.Leaf && p.node.key === CHANGED_KEY);
  const judy = at((p) => p.node.kind === Kind.Leaf && p.node.key === "bank/judy");
  const kindAt = (p: Placed) => 2 + ((p.depth + 7) >> 3);
  const replace = (i: number, n: TerminalNode) => placed.map((p, j) => (j === i ? { ...p, node: n } : p));
  const newValue = (p: Placed, value: Uint8Array): TerminalNode => {
    const l = p.node as LeafNode;
    return new LeafNode(l.keyHash, bytesToLatin1(sha256(value)), l.key, value, l.ts);
  };
  const mutations: Array<[string, RawRecord[]]> = [
    [
      "the changed record also at version 0: two records of one version at one position",
      chunkRecords(placed.map((p, i) => (i === newest ? { ...p, version: 0 } : p))),
    ],
    ["judy's leaf left out: the live records leave a gap", chunkRecords(placed.filter((_, i) => i !== judy))],
    [
      "the stub's label with its top bit set (a leaf's label)",
      chunkRecords(placed, (i, b) => (i === stub ? withOr(b, b.length - 32, 0x80) : b)),
    ],
    [
      "the stub's label all zero (the empty label)",
      chunkRecords(placed, (i, b) =>
        i === stub ? concatBytes(b.subarray(0, b.length - 32), new Uint8Array(32)) : b,
      ),
    ],
    [
      "a terminal of unknown kind 4",
      chunkRecords(placed, (i, b) => (i === judy ? withSet(b, kindAt(placed[judy]!), 4) : b)),
    ],
    ["a depth of 257", chunkRecords(placed, (i, b) => (i === judy ? withSet(withSet(b, 0, 1), 1, 1) : b))],
    [
      "the version-1 chunk cut short by one byte",
      records.map((r, i) => (i === 1 ? { key: r.key, value: r.value.subarray(0, r.value.length - 1) } : r)),
    ],
    [
      "a record whose key is not a chunk key",
      [...records, { key: new Writer(16).u8(0x78).string("validators").finish(), value: new Uint8Array(1) }],
    ],
    [
      "a chunk key of 12 bytes",
      records.map((r, i) => (i === 1 ? { key: r.key.subarray(0, 12), value: r.value } : r)),
    ],
    [
      "another value in the live version-1 leaf: decodes, another root",
      chunkRecords(replace(newest, newValue(placed[newest]!, utf8("another value")))),
    ],
    [
      "another value in the superseded version-0 leaf: not checked",
      chunkRecords(replace(superseded, newValue(placed[superseded]!, utf8("another value")))),
    ],
    [
      "judy's leaf as a summary (the same label): not told apart",
      chunkRecords(replace(judy, (placed[judy]!.node as LeafNode).summary())),
    ],
    [
      "every timestamp 0: not covered by any label",
      chunkRecords(placed.map((p) => ({ ...p, node: atTs(p.node, 0) }))),
    ],
  ];
  return {
    description:
      "A tree part (docs/protocol.md §17): chunk records 'c' ‖ u64 version ‖ u32 index, each value a run of terminal records u16 depth ‖ ⌈depth/8⌉ prefix bytes ‖ u8 kind ‖ varint ts ‖ body (0 empty: nothing; 1 leaf: string key ‖ bytes value; 2 summary: 32-byte key hash ‖ 32-byte value hash; 3 stub: 32-byte internal label). Here a holder of prefix '0' of a seven-record tree: version 0 holds the left half in full, a stub at '10' and a summary at '11'; version 1 the leaf of the record one later commit changed, which supersedes version 0's at the same position. `live`: no record of a higher version at, above or below it. The live records rebuild the tree whose root (§2) is `root`. Mutations: the code each rebuild is refused with, 'wrong-root' when it rebuilds to another root, 'ok' for what the rebuild does not check.",
    records: records.map((r) => ({ key: toHex(r.key), value: toHex(r.value) })),
    part: toHex(part),
    terminals: decoded.map((t) => terminalJson(t, decoded)),
    root: toHex(root),
    verdict: judgeTreePart(part, root),
    mutations: mutations.map(([what, rs]) => {
      const p = framed(rs);
      return { what, part: toHex(p), verdict: judgeTreePart(p, root) };
    }),
  };
}

// ---- common-part records -------------------------------------------------------------------

function entryJson(e: HistoryEntry): Record<string, unknown> {
  return {
    ts: e.ts,
    root: e.root === null ? null : toHex(e.root),
    paths: e.paths.map(toHex),
    tag: e.tag === undefined ? null : toHex(e.tag),
  };
}

/** 'h' ‖ u64 first timestamp → the entries: the genesis record, and one block of two operations. */
function historyVector(): Record<string, unknown> {
  const blocks: HistoryEntry[][] = [
    [{ ts: 0, root: genesisRoot(vectorGenesis()), paths: [] }],
    [
      {
        ts: 7,
        root: null,
        paths: ["bank/alice", "bank/bob"].map(keyPath),
        tag: sha256(utf8("the request applied at timestamp 7")),
      },
      {
        ts: 8,
        root: treeOf(true).rootLabel,
        paths: ["bank/accounts/x", "bank/transfer"].map(keyPath),
        tag: sha256(utf8("the request applied at timestamp 8")),
      },
    ],
  ];
  return {
    description:
      "History records (docs/protocol.md §17): key 'h' ‖ u64 timestamp of the first entry; value varint count ‖ count × (varint ts ‖ u8 has-root ‖ [32-byte root] ‖ varint n ‖ n × 32-byte key path ‖ bytes tag). The first is the genesis record (timestamp 0, the genesis vector's root, no paths, empty tag); the second a block of two operations: only its last entry carries the root after the block; tags are request ids (here stand-ins).",
    records: blocks.map((es) => ({
      key: toHex(new Writer(9).u8(0x68).u64(BigInt(es[0]!.ts)).finish()),
      value: toHex(encodeEntries(es)),
      entries: es.map(entryJson),
    })),
  };
}

/** 'x' ‖ string name. */
const extraRecordKey = (name: string) => new Writer(64).u8(0x78).string(name).finish();

/** The three extras, in the order of their keys (the common part's order). */
function extrasVector(): Record<string, unknown> {
  const g = vectorGenesis();
  const schedule: ScheduleEntry[] = [
    { fromHeight: 1n, decidedAt: 0n, ids: [0, 1, 2, 3] },
    { fromHeight: 19n, decidedAt: 10n, ids: [0, 1, 3] },
  ];
  const decided: DecidedId[] = [
    { id: sha256(utf8("request a")), validUntil: 1500n },
    { id: sha256(utf8("request b")), validUntil: 2000n },
  ];
  const slot = decidedIdsSlot(1030n);
  return {
    description:
      "Extras (docs/protocol.md §17): key 'x' ‖ string name. 'members': varint n ‖ n × bytes member (§7) ‖ varint r ‖ r × varint id ‖ varint e ‖ e × varint id. 'validators': varint s ‖ s × (u64 fromHeight ‖ u64 decidedAt ‖ varint k ‖ k × varint id), entry i the validator set of consensus epoch i. '.decided-ids/<h mod 1024>': u64 height ‖ varint n ‖ n × (32-byte request id ‖ varint validUntil). Here the genesis vector's four nodes after node 2 was evicted in block 10 (its set from height 19), and the ids block 1030 decided. Listed in key order (the name's length byte first).",
    records: [
      {
        name: MEMBERS_EXTRA_KEY,
        key: toHex(extraRecordKey(MEMBERS_EXTRA_KEY)),
        value: toHex(encodeMemberState({ nodes: g.nodes, records: [0, 1, 2, 3], evicted: [2] })),
        fields: {
          nodes: g.nodes.map((n) => ({ id: n.id, member: toHex(encodeMember(n)) })),
          records: [0, 1, 2, 3],
          evicted: [2],
        },
      },
      {
        name: SCHEDULE_EXTRA_KEY,
        key: toHex(extraRecordKey(SCHEDULE_EXTRA_KEY)),
        value: toHex(encodeSchedule(schedule)),
        fields: schedule.map((e) => ({
          fromHeight: String(e.fromHeight),
          decidedAt: String(e.decidedAt),
          ids: e.ids,
        })),
      },
      {
        name: slot,
        key: toHex(extraRecordKey(slot)),
        value: toHex(encodeDecidedIds(1030n, decided)),
        fields: {
          height: "1030",
          decided: decided.map((d) => ({ id: toHex(d.id), validUntil: String(d.validUntil) })),
        },
      },
    ],
  };
}

/** The consensus position of a snapshot at height 1: epoch 0's state, the block, its digests. */
function positionVector(execute: Uint8Array): Record<string, unknown> {
  const b = block([execute]);
  const keys = VALIDATORS.map((v) => v.publicKey);
  const epoch = encodeEpochState({
    epoch: 0,
    validators: keys,
    genesisId: GENESIS_ID,
    genesisHeight: 0,
    schedules: [],
    tails: [],
  });
  const records: Array<[string, RawRecord]> = [
    ["epoch state", consensusEpochRecord(epoch)],
    ["delivered block", consensusBlockRecord(1, encodeBlock(b))],
    ["delivered digests", consensusFreshRecord(1, requestDigest(execute))],
  ];
  return {
    description:
      "A consensus position (docs/protocol.md §17) at height 1: 0x00 'e' → the epoch state u8 1 ‖ varint epoch ‖ varint n ‖ n × 32-byte key ‖ 32-byte genesis block id ‖ varint genesis height ‖ varint 0 ‖ varint 0 (epoch 0: the genesis vector's validators, consensus.json's genesisId, height 0); 0x00 'b' ‖ u64 height → the block (consensus.json's block at height 1: its proposal message without the version and kind bytes and the TC flag); 0x00 'f' ‖ u64 height → its delivered digests (consensus.json's requestDigest). `framed`: the three records as the common part ends with them.",
    height: 1,
    epoch: { epoch: 0, validators: keys.map(toHex), genesisId: toHex(GENESIS_ID), genesisHeight: 0 },
    blockId: toHex(b.id),
    records: records.map(([what, r]) => ({ what, key: toHex(r.key), value: toHex(r.value) })),
    framed: toHex(framed(records.map(([, r]) => r))),
  };
}
