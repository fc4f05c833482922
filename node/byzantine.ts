// Test-only misbehaviour for the trust tests, kept out of the honest code paths: a node started
// with `byzantine: "double-vote"` signs, next to every vote its consensus casts, a second vote for
// a block that does not exist in the same round, and sends both; one started with
// `byzantine: "double-propose"` sends, after every proposal its consensus broadcasts, a second one
// of the same round (the block without its last request, signed again); one started with
// `byzantine: "stub-records"` answers reads with its honest signed root and a valid proof against
// it in which every asked record is a stub; one started with `byzantine: "forge-get-root"` answers
// reads with an altered value and signs the root that value gives. Never set in production.

import { sha256 } from "./common/hash.js";
import { concatBytes, utf8 } from "./common/bytes.js";
import { BYZANTINE_FAKE_BLOCK_TAG } from "./common/tags.js";
import {
  computeBlockId,
  decodeMessage,
  encodeMessage,
  proposalSigningBytes,
  voteSigningBytes,
} from "./tob/core/index.js";
import { labelOf, type ProofNode } from "./store/core/proof.js";
import type { Chunk } from "./store/core/graft.js";
import { decodeProof, encodeProof } from "./store/core/proof-codec.js";
import { bitAt } from "./store/core/path.js";
import { Writer } from "./common/codec.js";
import { decodeReceipt, encodeReceipt } from "./ledger/receipt.js";
import { outside, proveRange, successor, type SortRange } from "./store/core/index-proof.js";
import {
  hashOf,
  sortKey,
  nodeEntryBytes,
  type IndexNode,
  type OrderedIndex,
} from "./store/core/ordered-index.js";

/**
 * Test-only misbehaviour, for the trust tests. "forge-get-root": GET proofs carry an altered value
 * and the node signs the resulting false root. "double-vote": next to each vote the node signs a
 * conflicting one (withDoubleVote). "double-propose": after each proposal with requests the node
 * sends a second, conflicting one of the same round (withDoubleProposal). "stub-records": GET replies carry the node's honest root
 * statement and a valid proof in which the asked records are stubs. "drop-requests": the node admits
 * every valid request and never orders it (a censor). "omit-listed-key": List proofs leave out the
 * first key of the page. "drop-history-change": History pages leave out their second change.
 * "tamper-change-feed": the change feed flips a bit of the first change of each block it keeps.
 * "drop-block-receipt": GetBlockReceipts leaves out the block's first receipt. "forge-chunk":
 * GetChunk serves chunks with the first full record's value altered. "forge-receipt": every receipt
 * the node serves has the opposite outcome (forgeReceipt), signed by the node when signed was
 * asked for, with the honest inclusion path. "forge-snapshot": every GetSnapshot page has a bit of
 * its middle byte flipped (forgePage), under the node's honest signed statement. Never set in
 * production.
 */
export const BYZANTINE_BEHAVIOURS = [
  "forge-get-root",
  "double-vote",
  "double-propose",
  "stub-records",
  "drop-requests",
  "omit-listed-key",
  "drop-history-change",
  "tamper-change-feed",
  "drop-block-receipt",
  "forge-chunk",
  "forge-receipt",
  "forge-snapshot",
] as const;
export type Byzantine = (typeof BYZANTINE_BEHAVIOURS)[number];

const FAKE_TAG = utf8(BYZANTINE_FAKE_BLOCK_TAG);

/** "forge-snapshot": a snapshot page with a bit of its middle byte flipped. */
export function forgePage(page: Uint8Array): Uint8Array {
  const out = page.slice();
  if (out.length > 0) out[out.length >> 1]! ^= 0x10;
  return out;
}

/** "tamper-change-feed": the change with its last byte's low bit flipped. */
export function tamperChange(change: Uint8Array): Uint8Array {
  const out = change.slice();
  if (out.length > 0) out[out.length - 1]! ^= 1;
  return out;
}

/** The consensus bytes to send in place of `bytes`: itself, plus a conflicting vote if it is one. */
export function withDoubleVote(
  bytes: Uint8Array,
  chain: Uint8Array,
  sign: (message: Uint8Array) => Uint8Array,
): Uint8Array[] {
  const m = decodeMessage(bytes);
  if (m.kind !== "vote") return [bytes];
  const v = m.vote;
  const blockId = sha256(concatBytes(FAKE_TAG, v.blockId));
  const sig = sign(voteSigningBytes(chain, v.epoch, v.round, blockId));
  return [bytes, encodeMessage({ kind: "vote", vote: { ...v, blockId, sig } })];
}

/**
 * The consensus bytes to send in place of `bytes`: itself, plus a conflicting proposal of the same
 * round if it is a proposal with requests — the same block without its last request, signed again.
 * That block is valid (a subset of a valid block's requests), so a node that takes it instead (the
 * first one overtook its parent and waits) stays live; the request dropped stays pending. A block
 * without requests is sent alone: the only change left would be a junk request.
 */
export function withDoubleProposal(
  bytes: Uint8Array,
  chain: Uint8Array,
  sign: (message: Uint8Array) => Uint8Array,
): Uint8Array[] {
  const m = decodeMessage(bytes);
  if (m.kind !== "proposal" || m.block.requests.length === 0) return [bytes];
  const { id: _id, signature: _sig, ...body } = m.block;
  const other = { ...body, requests: body.requests.slice(0, -1) };
  const id = computeBlockId(other);
  const block = { ...other, id, signature: sign(proposalSigningBytes(chain, id)) };
  return [bytes, encodeMessage({ kind: "proposal", block, tc: m.tc })];
}

/**
 * The same proof with the leaf at the end of each of `paths` replaced by a stub of the same label:
 * the root is unchanged (the node's honest signed statement still covers it), but the asked records
 * are hidden. A path that ends in an empty subtree is left as it is.
 */
export function stubRecords(root: ProofNode, paths: readonly Uint8Array[], depth = 0): ProofNode {
  if (paths.length === 0) return root;
  if (root.t === "leaf") return { t: "stub", label: labelOf(root) };
  if (root.t !== "internal") return root;
  const left = stubRecords(
    root.left,
    paths.filter((p) => bitAt(p, depth) === 0),
    depth + 1,
  );
  const right = stubRecords(
    root.right,
    paths.filter((p) => bitAt(p, depth) === 1),
    depth + 1,
  );
  return { t: "internal", left, right };
}

/** The same proof with its first value altered, and the root that proof now has. */
export function forgeProof(bytes: Uint8Array): { proof: Uint8Array; root: Uint8Array } {
  const alter = (n: ProofNode): ProofNode => {
    if (n.t === "internal") {
      const l = alter(n.left);
      return l !== n.left
        ? { t: "internal", left: l, right: n.right }
        : { t: "internal", left: n.left, right: alter(n.right) };
    }
    if (n.t === "leaf" && n.value !== null) {
      const value = new Uint8Array([...n.value, 0x66]);
      return { t: "leaf", keyHash: n.keyHash, valueHash: sha256(value), key: n.key, value };
    }
    return n;
  };
  const forged = encodeProof(alter(decodeProof(bytes).root));
  return { proof: forged, root: decodeProof(forged).rootLabel };
}

/**
 * "omit-listed-key": the honest page's proof with the subtree of the key `hide` given as its hash,
 * so the proof still hashes to the certified root — the one way to leave a key out that keeps the
 * root. The client must see that the hash hides part of the page's range.
 */
export function proofHidingKey(
  index: OrderedIndex,
  range: SortRange,
  limit: number,
  hide: string,
): Uint8Array {
  const honest = proveRange(index, range, limit);
  const last = honest.entries[honest.entries.length - 1];
  const x = honest.done || !last ? range.end : successor(sortKey(last.key));
  const w = new Writer(honest.proof.length);
  const walk = (n: IndexNode | null, lo: string | null, hi: string | null): void => {
    if (!n) return void w.u8(0);
    if (outside(lo, hi, range.start, x) || n.sk === hide) return void w.u8(1).raw(hashOf(n));
    w.u8(2).raw(nodeEntryBytes(n));
    walk(n.left, lo, n.sk);
    walk(n.right, n.sk, hi);
  };
  walk(index.root, null, null);
  return w.finish();
}

/** "forge-chunk": the chunk with its first full record's value altered (its value hash to match). */
export function forgeChunk(c: Chunk): Chunk {
  let done = false;
  const alter = (n: ProofNode): ProofNode => {
    if (done) return n;
    if (n.t === "internal") return { t: "internal", left: alter(n.left), right: alter(n.right) };
    if (n.t !== "leaf" || n.value === null) return n;
    done = true;
    const value = new Uint8Array([...n.value, 0x66]);
    return { t: "leaf", keyHash: n.keyHash, valueHash: sha256(value), key: n.key, value };
  };
  return { at: c.at, root: alter(c.root) };
}

/**
 * "forge-receipt": the receipt with the opposite outcome, at the same request id, height and
 * index. An accepted request becomes a `record-changed` rejection (a client that believed it would
 * sign the write again, and it would apply twice); a rejected one becomes accepted with the writes
 * of nothing.
 */
export function forgeReceipt(receipt: Uint8Array): Uint8Array {
  const r = decodeReceipt(receipt);
  const base = { requestId: r.requestId, height: r.height, index: r.index, gasUsed: r.gasUsed };
  return encodeReceipt(
    r.status === "accepted"
      ? { ...base, status: "rejected", reason: "record-changed", message: "a touched record changed" }
      : { ...base, status: "accepted", timestamp: 1n, writesDigest: sha256(new Uint8Array([0])) },
  );
}
