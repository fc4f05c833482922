// The verdict on a MEMBER request, short of touching the tree: governance approvals, the change's
// own rules, the member records it reads (from the request's proof) and the records it writes.
// Deterministic: it reads only the request, the proof and the membership context, all of which
// every node has alike at the same position of the same block (docs/protocol.md §11).

import { compareUtf8, toHex } from "../common/bytes.js";
import { memberKey } from "../common/system-keys.js";
import { MAX_PARTITION_PREFIXES } from "../common/limits.js";
import type { SignatureVerifier } from "../common/signature-verifier.js";
import type { Write } from "../common/record-write.js";
import { Partition } from "../store/core/partition.js";
import { keyPath } from "../store/core/path.js";
import { provenState } from "../store/core/proof.js";
import type { DecodedProof } from "../store/core/proof-codec.js";
import {
  decodeMember,
  encodeMember,
  addressKey,
  isNodeAddress,
  overlappingPrefixes,
  type GenesisNode,
} from "./genesis.js";
import { countApprovals, validatorRule, type GovernanceRule } from "./governance.js";
import { approvalMessage, type SignedMember } from "./member-request.js";
import { reassignPrefixes } from "./reassign.js";
import type { ReceiptReason } from "./reasons.js";
import type { Validator } from "./header.js";

/** What the ledger judges a membership change against (kept by the node with its blocks). */
export interface MembershipContext {
  /** ids that have a record `.arbor/nodes/<id>` now, ascending */
  recordIds(): readonly number[];
  /** ids evicted by a proven complaint (decided, even if not yet in effect) */
  evictedIds(): ReadonlySet<number>;
  /** whether an id or a key (hex) was ever a member's: neither is given out twice */
  everUsed(id: number, keyHex: string): boolean;
  /** the replication factor `k` of the genesis */
  readonly replication: number;
  /** the genesis rule; absent: a quorum of the validators in force */
  readonly governance?: GovernanceRule;
  /** why the validator set cannot take this change in block `height` now, or null */
  refuseChange(height: bigint, add: readonly GenesisNode[], remove: readonly number[]): string | null;
}

/** What an accepted change did: the records written, the ids whose records went, and who joined. */
export interface MemberOutcome {
  readonly kind: "add" | "remove" | "repair";
  readonly added: readonly GenesisNode[];
  readonly removed: readonly number[];
  /** every member record written, with its new value (the added one included) */
  readonly records: readonly GenesisNode[];
}

export type MemberVerdict =
  | { readonly ok: false; readonly reason: ReceiptReason; readonly message: string }
  | {
      readonly ok: true;
      /** the key paths the proof must be compatible on */
      readonly paths: readonly Uint8Array[];
      readonly writes: readonly Write[];
      readonly outcome: MemberOutcome;
    };

const no = (reason: ReceiptReason, message: string): MemberVerdict => ({ ok: false, reason, message });

/** The approvals a change needs and whether it has them; null when authorised. */
function authorise(
  req: SignedMember,
  ctx: MembershipContext,
  validators: readonly Validator[],
  chain: Uint8Array,
  verifier: SignatureVerifier,
): MemberVerdict | null {
  if (req.change.kind === "repair") return null; // deterministic and permissionless
  const rule = ctx.governance ?? validatorRule(validators.map((v) => v.publicKey));
  const n = countApprovals(
    rule,
    req.approvals,
    approvalMessage(chain, req.change, req.nonce, req.validUntil),
    verifier,
  );
  if (n < rule.threshold)
    return no(
      "member-unauthorised",
      ctx.governance
        ? `${n} valid approvals of the ${rule.threshold} the genesis governance rule needs`
        : `${n} valid approvals of the ${rule.threshold} validators needed (a quorum of the ${validators.length}: the genesis sets no governance rule)`,
    );
  return null;
}

function checkNewNode(node: GenesisNode, ctx: MembershipContext): MemberVerdict | null {
  if (ctx.everUsed(node.id, toHex(node.publicKey)))
    return no("member-exists", `node id ${node.id} or its key was already a member's`);
  if (!isNodeAddress(node.address)) return no("member-invalid", "address must be host:port, port 1-65535");
  if (node.prefixes.length < 1 || node.prefixes.length > MAX_PARTITION_PREFIXES)
    return no("member-invalid", `1..${MAX_PARTITION_PREFIXES} prefixes`);
  try {
    new Partition(node.prefixes);
  } catch (e) {
    return no("member-invalid", e instanceof Error ? e.message : String(e));
  }
  const overlap = overlappingPrefixes(node.prefixes);
  if (overlap !== null) return no("member-invalid", overlap);
  return null;
}

/** The member records the proof shows, or why it does not show them all by value. */
function readRecords(proof: DecodedProof, ids: readonly number[]): GenesisNode[] | MemberVerdict {
  const out: GenesisNode[] = [];
  for (const id of ids) {
    const s = provenState(proof.root, keyPath(memberKey(id)));
    if (!s.covered) return no("path-not-proven", `the proof does not cover ${memberKey(id)}`);
    if (!s.present || s.value === null)
      return no("value-not-in-proof", `${memberKey(id)} must be in the proof by value`);
    try {
      out.push(decodeMember(s.value));
    } catch {
      return no("member-invalid", `${memberKey(id)} does not hold a member record`);
    }
  }
  return out;
}

/**
 * Judges a MEMBER request at `height` (its signature, lifetime and replay are checked already).
 * `busy`: a membership change or an eviction was already accepted in this block — one per block,
 * so each is judged against the membership the previous blocks left.
 */
export function judgeMemberChange(
  req: SignedMember,
  proof: DecodedProof,
  height: bigint,
  busy: boolean,
  ctx: MembershipContext,
  validators: readonly Validator[],
  /** the chain the approvals must be for (approvalMessage) */
  chain: Uint8Array,
  verifier: SignatureVerifier,
  /** the compatibility verdict of the proof on these paths (history.ts `check`) */
  compatible: (paths: readonly Uint8Array[]) => { ok: true } | { ok: false; reason: ReceiptReason },
): MemberVerdict {
  const denied = authorise(req, ctx, validators, chain, verifier);
  if (denied) return denied;
  if (busy) return no("member-refused", "one membership change per block: submit it again");
  const ids = ctx.recordIds();
  const change = req.change;
  let leaving: number[] = [];
  let added: GenesisNode[] = [];
  if (change.kind === "add") {
    const bad = checkNewNode(change.node, ctx);
    if (bad) return bad;
    added = [{ ...change.node, prefixes: [...change.node.prefixes] }];
  } else if (change.kind === "remove") {
    if (!ids.includes(change.id) || ctx.evictedIds().has(change.id))
      return no("member-unknown", `node ${change.id} is not a current member`);
    leaving = [change.id];
  } else {
    leaving = ids.filter((id) => ctx.evictedIds().has(id));
    if (leaving.length === 0) return no("nothing-to-repair", "no record of an evicted node is left");
  }
  const refused =
    change.kind === "repair"
      ? null
      : ctx.refuseChange(height, added, change.kind === "remove" ? leaving : []);
  if (refused) return no("member-refused", refused);
  const paths = ids.map((id) => keyPath(memberKey(id)));
  if (change.kind === "add") paths.push(keyPath(memberKey(change.node.id)));
  // The proof must be current on every record read or written before any of them is believed.
  const compat = compatible(paths);
  if (!compat.ok) return no(compat.reason, `${compat.reason} for the member records`);
  const records = readRecords(proof, ids);
  if (!Array.isArray(records)) return records;
  if (change.kind === "add") {
    // Two members at one address: the new one could never be dialled, yet it would count as a validator.
    const wanted = addressKey(change.node.address);
    const at = records.find((r) => addressKey(r.address) === wanted && !ctx.evictedIds().has(r.id));
    if (at) return no("member-invalid", `address ${change.node.address} is node ${at.id}'s`);
    const s = provenState(proof.root, paths[paths.length - 1]!);
    if (!s.covered) return no("path-not-proven", `the proof does not cover ${memberKey(change.node.id)}`);
    if (s.present) return no("member-exists", `${memberKey(change.node.id)} exists`);
  }
  const after = reassignPrefixes(records, leaving, ctx.replication);
  const before = new Map(records.map((r) => [r.id, r]));
  const written = [...after.filter((r) => r !== before.get(r.id)), ...added];
  const writes: Write[] = [
    ...leaving.map((id) => ({ key: memberKey(id), value: null })),
    ...written.map((r) => ({ key: memberKey(r.id), value: encodeMember(r) })),
  ].sort((a, b) => compareUtf8(a.key, b.key));
  return {
    ok: true,
    paths,
    writes,
    outcome: { kind: change.kind, added, removed: leaving, records: written },
  };
}
