// MEMBER requests on replicas with different partitions: governance approvals decide who may add
// or remove a node, an accepted change rewrites the member records (a removal or a repair deals
// the leaver's prefixes to the others until k hold each), and every replica reaches the same
// receipts and root; refused changes write nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Replicas } from "./harness.js";
import { generateKeyPair, signWith, type KeyPair } from "../../node/keys.js";
import {
  addressKey,
  assignPrefixes,
  decodeMember,
  encodeMember,
  type GenesisNode,
} from "../../node/ledger/genesis.js";
import { approvalMessage, encodeMemberBody, type MemberChange } from "../../node/ledger/member-request.js";
import { assembleSignedRequest, requestSigningMessage } from "../../node/ledger/request.js";
import { decodeAnyRequest } from "../../node/ledger/any-request.js";
import { memberKey } from "../../node/common/system-keys.js";
import { nodeEd25519Verify } from "../../node/exec/host-crypto.js";
import { installNodeSha256 } from "../../node/platform.js";
import { toHex } from "../../node/common/bytes.js";
import { Membership } from "../../node/membership.js";
import type { TrustContext, BlockOutcome } from "../../node/ledger/ledger.js";
import type { GovernanceRule } from "../../node/ledger/governance.js";
import { DEFAULT_REQUEST_LIFETIME_BLOCKS } from "../../node/common/limits.js";

installNodeSha256();
const K = 2;

interface World {
  r: Replicas;
  m: Membership;
  keys: KeyPair[];
  nodes: GenesisNode[];
}

function world(governance?: GovernanceRule): World {
  const keys = Array.from({ length: 4 }, () => generateKeyPair());
  const prefixes = assignPrefixes(4, K);
  const nodes: GenesisNode[] = keys.map((k, id) => ({
    id,
    publicKey: k.publicKey,
    address: `127.0.0.1:${7000 + id}`,
    prefixes: prefixes[id]!,
  }));
  const m = new Membership(nodes);
  const trust: TrustContext = {
    chain: new Uint8Array(32).fill(3),
    get members() {
      return m.members();
    },
    validatorsAt: (h) => m.validatorsAt(h),
    epochValidators: (e) => m.epochKeys(e),
    verifier: { verify: nodeEd25519Verify },
    refuseEviction: (h, ids) => m.refuseEviction(h, ids),
    membership: {
      recordIds: () => m.recordIds(),
      evictedIds: () => m.evicted(),
      everUsed: (id, hex) => m.everUsed(id, hex),
      replication: K,
      ...(governance ? { governance } : {}),
      refuseChange: (h, add, remove) => m.refuseChange(h, add, remove),
    },
  };
  const extra = nodes.map((n) => ({ key: memberKey(n.id), value: encodeMember(n) }));
  // A full replica (it serves proofs) and two with a node's partition each.
  const r = new Replicas(
    [[""], nodes[0]!.prefixes as string[], nodes[1]!.prefixes as string[]],
    64,
    trust,
    extra,
  );
  return { r, m, keys, nodes };
}

let nonce = 0n;
function memberRequest(
  w: World,
  change: MemberChange,
  approvers: KeyPair[],
  caller = generateKeyPair(),
): Uint8Array {
  const ids = w.m.recordIds();
  const keys = ids.map(memberKey);
  if (change.kind === "add") keys.push(memberKey(change.node.id));
  const n = nonce++;
  const validUntil = w.r.height + BigInt(DEFAULT_REQUEST_LIFETIME_BLOCKS);
  const msg = approvalMessage(w.r.chain, change, n, validUntil);
  const body = encodeMemberBody({
    change,
    approvals: approvers.map((k) => ({ publicKey: k.publicKey, signature: signWith(k, msg) })),
    proof: w.r.proof(keys),
    caller: caller.publicKey,
    nonce: n,
    validUntil,
  });
  return assembleSignedRequest(body, signWith(caller, requestSigningMessage(w.r.chain, body)));
}

/** Applies a block on every replica, checks they agree, and feeds the change to the membership. */
function block(w: World, reqs: Uint8Array[]): BlockOutcome {
  const outs = w.r.block(reqs);
  const first = outs[0]!;
  for (const o of outs) {
    assert.equal(toHex(o.root), toHex(first.root), "replicas reach the same root");
    assert.deepEqual(
      o.receipts.map((x) => [x.status, x.status === "rejected" ? x.reason : ""]),
      first.receipts.map((x) => [x.status, x.status === "rejected" ? x.reason : ""]),
    );
  }
  if (first.member) w.m.change(first.member, w.r.height + 3n, w.r.height);
  return first;
}

function verdicts(o: BlockOutcome): string[] {
  return o.receipts.map((x) => (x.status === "accepted" ? "accepted" : x.reason));
}

/** The member records in the full replica's tree. */
function records(w: World): GenesisNode[] {
  const out: GenesisNode[] = [];
  for (const id of [0, 1, 2, 3, 4, 5]) {
    const v = w.r.full.history.tree.get(memberKey(id));
    if (v) out.push(decodeMember(v));
  }
  return out;
}

/** How many records hold each cell of a 6-bit grid in full. */
function minCoverage(recs: readonly GenesisNode[]): number {
  let min = Infinity;
  for (let i = 0; i < 64; i++) {
    const cell = i.toString(2).padStart(6, "0");
    const n = recs.filter((r) => r.prefixes.some((p) => cell.startsWith(p))).length;
    min = Math.min(min, n);
  }
  return min;
}

const newNode = (id: number, k: KeyPair = generateKeyPair()): GenesisNode => ({
  id,
  publicKey: k.publicKey,
  address: `127.0.0.1:${7000 + id}`,
  prefixes: ["00", "11"],
});

test("MEMBER requests decode as their own kind and round-trip", () => {
  const w = world();
  const bytes = memberRequest(w, { kind: "add", node: newNode(4) }, w.keys.slice(0, 3));
  const d = decodeAnyRequest(bytes);
  assert.equal(d.kind, "member");
  if (d.kind !== "member" || d.change.kind !== "add") return;
  assert.equal(d.change.node.id, 4);
  assert.equal(d.approvals.length, 3);
});

test("adding a node needs a quorum of the validators when the genesis names no governance", () => {
  const w = world();
  const node = newNode(4);
  let o = block(w, [memberRequest(w, { kind: "add", node }, w.keys.slice(0, 2))]);
  assert.deepEqual(verdicts(o), ["member-unauthorised"]);
  // Duplicated approvals and approvals by a key outside the rule count once / not at all.
  o = block(w, [
    memberRequest(w, { kind: "add", node }, [w.keys[0]!, w.keys[0]!, w.keys[1]!, generateKeyPair()]),
  ]);
  assert.deepEqual(verdicts(o), ["member-unauthorised"]);
  assert.equal(records(w).length, 4, "a refused change writes nothing");
  o = block(w, [memberRequest(w, { kind: "add", node }, w.keys.slice(0, 3))]);
  assert.deepEqual(verdicts(o), ["accepted"]);
  assert.deepEqual(
    o.member?.added.map((n) => n.id),
    [4],
  );
  assert.deepEqual(records(w).find((n) => n.id === 4)?.prefixes, ["00", "11"]);
  assert.deepEqual(w.m.latestIds(), [0, 1, 2, 3, 4]);
  assert.ok(w.m.allows(toHex(node.publicKey)), "peers admit the added node at once");
  // Neither its id nor its key is given out again; a second change in one block waits.
  o = block(w, [
    memberRequest(w, { kind: "add", node: newNode(4) }, w.keys.slice(0, 4)),
    memberRequest(
      w,
      { kind: "add", node: { ...newNode(5), publicKey: w.keys[1]!.publicKey } },
      w.keys.slice(0, 4),
    ),
  ]);
  assert.deepEqual(verdicts(o), ["member-exists", "member-exists"]);
  o = block(w, [
    memberRequest(w, { kind: "add", node: newNode(5) }, w.keys.slice(0, 4)),
    memberRequest(w, { kind: "add", node: newNode(6) }, w.keys.slice(0, 4)),
  ]);
  assert.deepEqual(verdicts(o), ["accepted", "member-refused"]);
});

test("a bad record of an added node is refused with member-invalid", () => {
  const w = world();
  const o = block(w, [
    memberRequest(w, { kind: "add", node: { ...newNode(4), address: "nowhere" } }, w.keys),
    memberRequest(w, { kind: "add", node: { ...newNode(4), prefixes: ["012"] } }, w.keys),
  ]);
  assert.deepEqual(verdicts(o), ["member-invalid", "member-invalid"]);
  // A port no one can dial, another member's address, a prefix twice or inside another.
  for (const node of [
    { ...newNode(4), address: "127.0.0.1:99999" },
    { ...newNode(4), address: "127.0.0.1:0" },
    { ...newNode(4), address: w.nodes[2]!.address },
    // The same endpoint spelled otherwise: another name of the loopback host, a padded port.
    { ...newNode(4), address: w.nodes[2]!.address.replace("127.0.0.1", "LocalHost") },
    { ...newNode(4), address: w.nodes[2]!.address.replace("127.0.0.1:", "[::1]:0") },
    { ...newNode(4), prefixes: ["01", "01"] },
    { ...newNode(4), prefixes: ["1", "10"] },
  ]) {
    const one = block(w, [memberRequest(w, { kind: "add", node }, w.keys)]);
    assert.deepEqual(verdicts(one), ["member-invalid"], JSON.stringify({ ...node, publicKey: undefined }));
    assert.match(
      one.receipts[0]!.status === "rejected" ? one.receipts[0]!.message : "",
      /port|address|prefix/,
    );
  }
  // The same add, well formed, is accepted.
  assert.deepEqual(verdicts(block(w, [memberRequest(w, { kind: "add", node: newNode(4) }, w.keys)])), [
    "accepted",
  ]);
});

test("removing a node deals its prefixes to the others until k hold each", () => {
  const w = world();
  assert.equal(minCoverage(records(w)), K);
  let o = block(w, [memberRequest(w, { kind: "remove", id: 9 }, w.keys.slice(0, 3))]);
  assert.deepEqual(verdicts(o), ["member-unknown"]);
  o = block(w, [memberRequest(w, { kind: "remove", id: 2 }, w.keys.slice(0, 3))]);
  assert.deepEqual(verdicts(o), ["accepted"]);
  assert.deepEqual(o.member?.removed, [2]);
  const recs = records(w);
  assert.deepEqual(
    recs.map((n) => n.id),
    [0, 1, 3],
  );
  assert.equal(minCoverage(recs), K, "every cell is held by k members again");
  assert.deepEqual(w.m.latestIds(), [0, 1, 3]);
  o = block(w, [memberRequest(w, { kind: "repair" }, [])]);
  assert.deepEqual(verdicts(o), ["nothing-to-repair"]);
});

test("a repair after an eviction is permissionless and restores k holders", () => {
  const w = world();
  w.m.evict([3], w.r.height + 3n, w.r.height);
  const before = records(w).filter((n) => n.id !== 3);
  assert.ok(minCoverage(before) < K);
  const o = block(w, [memberRequest(w, { kind: "repair" }, [])]);
  assert.deepEqual(verdicts(o), ["accepted"]);
  assert.deepEqual(o.member?.removed, [3]);
  assert.equal(minCoverage(records(w)), K);
  assert.deepEqual(w.m.recordIds(), [0, 1, 2]);
});

test("a genesis governance rule replaces the validators' quorum", () => {
  const admin = generateKeyPair();
  const w = world({ keys: [admin.publicKey], threshold: 1 });
  let o = block(w, [memberRequest(w, { kind: "add", node: newNode(4) }, w.keys)]);
  assert.deepEqual(verdicts(o), ["member-unauthorised"]);
  o = block(w, [memberRequest(w, { kind: "add", node: newNode(4) }, [admin])]);
  assert.deepEqual(verdicts(o), ["accepted"]);
});

test("an approval binds the request's nonce and validUntil", () => {
  const w = world();
  const change: MemberChange = { kind: "add", node: newNode(4) };
  const other = approvalMessage(w.r.chain, change, 999n, 5n);
  const caller = generateKeyPair();
  const validUntil = w.r.height + 10n;
  const body = encodeMemberBody({
    change,
    approvals: w.keys.map((k) => ({ publicKey: k.publicKey, signature: signWith(k, other) })),
    proof: w.r.proof([...w.m.recordIds().map(memberKey), memberKey(4)]),
    caller: caller.publicKey,
    nonce: 1n,
    validUntil,
  });
  const o = block(w, [assembleSignedRequest(body, signWith(caller, requestSigningMessage(w.r.chain, body)))]);
  assert.deepEqual(verdicts(o), ["member-unauthorised"]);
});

test("an approval made for another chain does not count", () => {
  const w = world();
  const change: MemberChange = { kind: "add", node: newNode(4) };
  const caller = generateKeyPair();
  const validUntil = w.r.height + 10n;
  const nonce = 3n;
  const elsewhere = approvalMessage(new Uint8Array(32).fill(9), change, nonce, validUntil);
  const body = encodeMemberBody({
    change,
    approvals: w.keys.map((k) => ({ publicKey: k.publicKey, signature: signWith(k, elsewhere) })),
    proof: w.r.proof([...w.m.recordIds().map(memberKey), memberKey(4)]),
    caller: caller.publicKey,
    nonce,
    validUntil,
  });
  const o = block(w, [assembleSignedRequest(body, signWith(caller, requestSigningMessage(w.r.chain, body)))]);
  assert.deepEqual(verdicts(o), ["member-unauthorised"]);
});

test("a proof that leaves out a member record is refused", () => {
  const w = world();
  const change: MemberChange = { kind: "remove", id: 1 };
  const caller = generateKeyPair();
  const validUntil = w.r.height + 10n;
  const msg = approvalMessage(w.r.chain, change, 7n, validUntil);
  const body = encodeMemberBody({
    change,
    approvals: w.keys.map((k) => ({ publicKey: k.publicKey, signature: signWith(k, msg) })),
    proof: w.r.proof([memberKey(1)]),
    caller: caller.publicKey,
    nonce: 7n,
    validUntil,
  });
  const o = block(w, [assembleSignedRequest(body, signWith(caller, requestSigningMessage(w.r.chain, body)))]);
  assert.equal(o.receipts[0]!.status, "rejected");
  assert.equal(records(w).length, 4);
});

test("addressKey: one endpoint written two ways compares equal, two endpoints do not", () => {
  const same = [
    [
      "127.0.0.1:7400",
      "localhost:7400",
      "LOCALHOST:07400",
      "[::1]:7400",
      "node.localhost:7400",
      "127.000.0.1:7400",
    ],
    ["Example.COM:80", "example.com.:80", "example.com:080"],
    ["[2001:DB8::0001]:9", "[2001:db8::1]:9"],
    ["10.0.0.1:1", "0x0a.0.0.1:1", "167772161:1"],
  ];
  for (const group of same) for (const a of group) assert.equal(addressKey(a), addressKey(group[0]!), a);
  const distinct = ["127.0.0.1:7400", "127.0.0.2:7400", "127.0.0.1:7401", "example.com:80", "example.org:80"];
  assert.equal(new Set(distinct.map(addressKey)).size, distinct.length);
});
