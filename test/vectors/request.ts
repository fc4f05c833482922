// Signed request vectors (docs/vectors/request.json), generated from the code: an EXECUTE and a
// COMPLAIN signed with a fixed seed, every field, the body, the signed message, the signature,
// the signed bytes and the id; and mutations a node refuses at admission, with their codes.
import { fromHex, toHex } from "../../node/common/bytes.js";
import { Writer } from "../../node/common/codec.js";
import { sha256 } from "../../node/common/hash.js";
import { keyPairFromSeed, signWith } from "../../node/keys.js";
import {
  assembleSignedRequest,
  encodeComplainBody,
  encodeRequestBody,
  requestSigningMessage,
  sortKeys,
  type RequestBody,
} from "../../node/ledger/request.js";
import { decodeAnyRequest } from "../../node/ledger/any-request.js";
import {
  approvalMessage,
  encodeChange,
  encodeMemberBody,
  MEMBER_KIND,
  type MemberChange,
} from "../../node/ledger/member-request.js";
import { chainId, genesisRecords } from "../../node/ledger/genesis.js";
import { MerkleTree } from "../../node/store/core/tree.js";
import { prove } from "../../node/store/core/proof.js";
import { encodeProof } from "../../node/store/core/proof-codec.js";
import { keyPath } from "../../node/store/core/path.js";
import { codeOf, flip, verifiedByAll, withByte, type Verdict } from "./common.js";
import { vectorGenesis } from "./genesis.js";

const SEED = fromHex("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");
const KEY = keyPairFromSeed(SEED);
/** Every request here is signed for the genesis vector's chain (genesis.json). */
const CHAIN = chainId(vectorGenesis());
/** Another chain's id, for the mutation signed for it. */
const OTHER_CHAIN = sha256(CHAIN);

/** `ok`, or the code a node refuses these bytes with at admission (before lifetime and replay). */
export function judgeRequest(bytes: Uint8Array): Verdict {
  let r;
  try {
    r = decodeAnyRequest(bytes);
  } catch (e) {
    return codeOf(e);
  }
  return verifiedByAll(r.caller, requestSigningMessage(CHAIN, r.body), r.signature) ? "ok" : "bad-signature";
}

/** An EXECUTE body written field by field with no checks: for mutations the encoder refuses. */
function rawBody(b: RequestBody, version = 1): Uint8Array {
  const w = new Writer(256).u8(version).string(b.op).varint(b.touched.length);
  for (const k of b.touched) w.string(k);
  return w
    .bytes(b.proof)
    .bytes(b.args)
    .varint64(b.gasLimit)
    .raw(b.caller)
    .varint64(b.nonce)
    .varint64(b.validUntil)
    .finish();
}

function signed(body: Uint8Array): Uint8Array {
  return assembleSignedRequest(body, signWith(KEY, requestSigningMessage(CHAIN, body)));
}

const EXECUTE: RequestBody = {
  op: "bank/transfer",
  touched: ["bank/accounts/a", "bank/accounts/b"],
  proof: fromHex("0102"),
  args: fromHex("0a0b0c"),
  gasLimit: 1_000_000n,
  caller: KEY.publicKey,
  nonce: 7n,
  validUntil: 1536n,
};

function signedJson(body: Uint8Array) {
  const signature = signWith(KEY, requestSigningMessage(CHAIN, body));
  const request = assembleSignedRequest(body, signature);
  return {
    body: toHex(body),
    signingMessage: toHex(requestSigningMessage(CHAIN, body)),
    signature: toHex(signature),
    request: toHex(request),
    id: toHex(sha256(request)),
  };
}

function mutations(): Array<{ what: string; request: string; refused: string }> {
  const body = encodeRequestBody(EXECUTE);
  const req = signed(body);
  const sig = req.subarray(req.length - 64);
  const resigned = (b: RequestBody, version = 1) => signed(rawBody(b, version));
  const list: Array<[string, Uint8Array, string]> = [
    ["a signature byte flipped", flip(req, -1), "bad-signature"],
    [
      "the same body signed for another chain (SHA-256 of this chain's id)",
      assembleSignedRequest(body, signWith(KEY, requestSigningMessage(OTHER_CHAIN, body))),
      "bad-signature",
    ],
    [
      "nonce changed to 8, signature kept",
      assembleSignedRequest(encodeRequestBody({ ...EXECUTE, nonce: 8n }), sig),
      "bad-signature",
    ],
    [
      "touched keys in descending order (signed)",
      resigned({ ...EXECUTE, touched: [...EXECUTE.touched].reverse() }),
      "request/keys-not-sorted",
    ],
    [
      "a touched key twice (signed)",
      resigned({ ...EXECUTE, touched: [EXECUTE.touched[0]!, EXECUTE.touched[0]!] }),
      "request/keys-not-sorted",
    ],
    ["gas limit 0 (signed)", resigned({ ...EXECUTE, gasLimit: 0n }), "request/bad-gas-limit"],
    [
      "gas limit above MAX_GAS_LIMIT (signed)",
      resigned({ ...EXECUTE, gasLimit: 1_000_000_001n }),
      "request/bad-gas-limit",
    ],
    ["empty operation key (signed)", resigned({ ...EXECUTE, op: "" }), "key/empty"],
    ["body version 4 (signed)", resigned(EXECUTE, 4), "request/version"],
    ["a byte appended", withByte(req, 0), "decode/trailing-bytes"],
    ["signature cut to 63 bytes", req.subarray(0, req.length - 1), "decode/truncated"],
  ];
  return list.map(([what, bytes, refused]) => {
    const got = judgeRequest(bytes);
    if (got !== refused) throw new Error(`request mutation "${what}": ${got}, not ${refused}`);
    return { what, request: toHex(bytes), refused };
  });
}

/**
 * A real EXECUTE at height 0 of the genesis vector: `.root_rule` creating domain "bank" owned by
 * the caller, with the proof the SDK would send (touched records with values, leaves beside the
 * paths as summaries; the operation's record not asked for, or asked for by value hash when
 * `pinned`), against the genesis root. In this small tree the unpinned proof covers the operation
 * anyway (its leaf is a summary beside a touched path), which docs/protocol.md §5 says pins it.
 */
function createDomain(pinned: boolean) {
  const tree = new MerkleTree();
  for (const r of genesisRecords(vectorGenesis())) tree.set(r.key, r.value);
  const op = ".root_rule";
  const touched = [".base_rule_template", "bank/.base_rule", "bank/.owner"];
  const proven = pinned ? sortKeys([op, ...touched]) : touched;
  const proof = encodeProof(
    prove(tree, proven.map(keyPath), {
      values: true,
      leafSiblings: true,
      hashOnly: pinned ? [keyPath(op)] : [],
    }),
  );
  const body: RequestBody = {
    op,
    touched,
    proof,
    args: new Writer().string("bank").bytes(KEY.publicKey).finish(),
    gasLimit: 10_000_000n,
    caller: KEY.publicKey,
    nonce: 1n,
    validUntil: 512n,
  };
  return {
    what:
      "`.root_rule` creating domain bank at height 1, read at height 0 (args: string name ‖ bytes owner key)" +
      (pinned
        ? "; the operation pinned: its record by value hash in the proof"
        : "; the operation's record not asked for (here covered anyway, as a leaf summary beside a touched path)"),
    op,
    touched,
    root: toHex(tree.rootLabel),
    proofHex: toHex(proof),
    argsHex: toHex(body.args),
    gasLimit: body.gasLimit.toString(),
    nonce: body.nonce.toString(),
    validUntil: body.validUntil.toString(),
    ...signedJson(encodeRequestBody(body)),
  };
}

/** A MEMBER request approved by the vector key itself, every part spelled out. */
function member(change: MemberChange) {
  const nonce = 11n;
  const validUntil = 700n;
  const message = approvalMessage(CHAIN, change, nonce, validUntil);
  const approval = signWith(KEY, message);
  const body = encodeMemberBody({
    change,
    approvals: [{ publicKey: KEY.publicKey, signature: approval }],
    proof: fromHex("06"),
    caller: KEY.publicKey,
    nonce,
    validUntil,
  });
  return {
    change: toHex(encodeChange(change)),
    approvalMessage: toHex(message),
    approval: toHex(approval),
    proofHex: "06",
    nonce: nonce.toString(),
    validUntil: validUntil.toString(),
    ...signedJson(body),
  };
}

const ADDED = {
  id: 4,
  publicKey: fromHex("4".repeat(64)),
  address: "10.0.0.4:7400",
  prefixes: ["001", "110"],
};

/** MEMBER bodies a node refuses at admission, with their codes. */
function memberMutations(): Array<{ what: string; request: string; refused: string }> {
  const change = (tag: number, payload: Uint8Array) => new Writer(64).u8(tag).raw(payload).finish();
  const tail = new Writer(64)
    .varint(0)
    .bytes(fromHex("06"))
    .raw(KEY.publicKey)
    .varint64(1n)
    .varint64(9n)
    .finish();
  const body = (c: Uint8Array, rest = tail) => new Writer(128).u8(MEMBER_KIND).raw(c).raw(rest).finish();
  const list: Array<[string, Uint8Array, string]> = [
    ["change kind 9 (signed)", signed(body(change(9, new Uint8Array()))), "request/bad-member-change"],
    [
      "an added record cut short (signed)",
      signed(body(change(1, new Writer().bytes(fromHex("04")).finish()))),
      "decode/truncated",
    ],
    [
      "the removal of node id 2^30, past the largest (signed)",
      signed(body(change(2, new Writer().varint(2 ** 30).finish()))),
      "decode/out-of-range",
    ],
    [
      "an added record with 1,025 prefixes (signed)",
      signed(
        body(
          change(
            1,
            new Writer()
              .bytes(
                (() => {
                  const w = new Writer(4096)
                    .varint(4)
                    .raw(KEY.publicKey)
                    .string("127.0.0.1:7404")
                    .varint(1025);
                  for (let i = 0; i < 1025; i++) w.string("0");
                  return w.finish();
                })(),
              )
              .finish(),
          ),
        ),
      ),
      "decode/out-of-range",
    ],
    [
      "257 approvals announced (signed)",
      signed(body(change(3, new Uint8Array()), new Writer().varint(257).finish())),
      "decode/out-of-range",
    ],
    [
      "a byte appended (signed)",
      signed(withByte(body(change(3, new Uint8Array())), 0)),
      "decode/trailing-bytes",
    ],
  ];
  return list.map(([what, bytes, refused]) => {
    const got = judgeRequest(bytes);
    if (got !== refused) throw new Error(`member mutation "${what}": ${got}, not ${refused}`);
    return { what, request: toHex(bytes), refused };
  });
}

export function requestVector(): Record<string, unknown> {
  const complain = {
    evidence: fromHex("0403"),
    proof: fromHex("05"),
    caller: KEY.publicKey,
    nonce: 9n,
    validUntil: 300n,
  };
  return {
    comment:
      "Signed requests (docs/protocol.md §5): the caller key is the Ed25519 seed below; Ed25519 signatures are deterministic, so every field is reproducible. Every request is signed for the chain of the genesis vector (genesis.json), whose id is `chain` below: the signing message is 'arbor:request:v3' ‖ chain id ‖ body for every kind (a body signed for another chain is refused bad-signature); the id is SHA-256 of the signed request. The `execute` proof and argument bytes are placeholders (form is checked at admission, the proof when the request is applied); `createDomain` is a complete EXECUTE against the genesis vector's root (genesis.json), its proof built as the SDK builds one from the touched keys (the operation's record not asked for; in this small tree its leaf sits as a summary beside a touched key's path, so the proof covers it by value hash and pins it: §5); `createDomainPinned` the same with the operation pinned (its record by value hash). Mutations list what a node refuses at admission and the code (a receipt says malformed-request or bad-signature). `memberAdd`, `memberRemove`, `memberRepair`: MEMBER requests (§11) with one approval by the same key over 'arbor:member-approval:v2' ‖ chain id ‖ change ‖ u64 nonce ‖ u64 validUntil (placeholder proof); `memberMutations` what admission refuses of MEMBER bodies.",
    seed: toHex(SEED),
    publicKey: toHex(KEY.publicKey),
    chain: toHex(CHAIN),
    execute: {
      op: EXECUTE.op,
      touched: EXECUTE.touched,
      proofHex: toHex(EXECUTE.proof),
      argsHex: toHex(EXECUTE.args),
      gasLimit: EXECUTE.gasLimit.toString(),
      nonce: EXECUTE.nonce.toString(),
      validUntil: EXECUTE.validUntil.toString(),
      ...signedJson(encodeRequestBody(EXECUTE)),
    },
    complain: {
      evidenceHex: toHex(complain.evidence),
      proofHex: toHex(complain.proof),
      nonce: complain.nonce.toString(),
      validUntil: complain.validUntil.toString(),
      ...signedJson(encodeComplainBody(complain)),
    },
    memberAdd: {
      node: { ...ADDED, publicKey: toHex(ADDED.publicKey) },
      ...member({ kind: "add", node: ADDED }),
    },
    memberRemove: { nodeId: 2, ...member({ kind: "remove", id: 2 }) },
    memberRepair: member({ kind: "repair" }),
    memberMutations: memberMutations(),
    createDomain: createDomain(false),
    createDomainPinned: createDomain(true),
    mutations: mutations(),
  };
}
