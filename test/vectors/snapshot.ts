// Snapshot vectors (docs/vectors/snapshot.json), generated from the code: a node's signed
// statement about a snapshot (docs/protocol.md §17) with mutations the vouching check must refuse,
// one framed store record, and which application records the common part carries.
import { toHex, utf8, concatBytes } from "../../node/common/bytes.js";
import { Writer } from "../../node/common/codec.js";
import { sha256 } from "../../node/common/hash.js";
import { signWith } from "../../node/keys.js";
import {
  snapshotSigningBytes,
  vouchingSigners,
  type SignedSnapshotStatement,
} from "../../node/ledger/snapshot-statement.js";
import { carriedInCommon, consensusFreshRecord, frameRecord } from "../../node/snapshot/snapshot-records.js";
import { nodeSignatureVerifier } from "../../node/exec/host-crypto.js";
import { CHAIN, VALIDATORS } from "./signed.js";
import { flip, keyOf } from "./common.js";

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

export function snapshotVector(): Record<string, unknown> {
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
  };
}
