// Membership through the SDK: the member records of the system domain, listed and read with
// proofs (who holds which prefixes, verified against a certified root), and MEMBER requests —
// add a node, remove one, repair the replication — signed by the caller, approved by governance
// keys, with a proof of every current member record (nodes check it), filed like any write.

import { ArborError } from "../node/common/errors.js";
import { memberKey, SYSTEM_NODES_PREFIX } from "../node/common/system-keys.js";
import { DEFAULT_REQUEST_LIFETIME_BLOCKS, MAX_LIST_PAGE, MAX_TOUCHED_KEYS } from "../node/common/limits.js";
import { decodeMember, type GenesisNode } from "../node/ledger/genesis.js";
import {
  approvalMessage,
  encodeMemberBody,
  type Approval,
  type MemberChange,
} from "../node/ledger/member-request.js";
import { assembleSignedRequest, requestSigningMessage } from "../node/ledger/request.js";
import { keyPath } from "../node/store/core/path.js";
import { decodeProof, encodeProof } from "../node/store/core/proof-codec.js";
import { sign, type ClientKey } from "./crypto.js";
import type { Deadline } from "./deadline.js";
import type { Queries } from "./queries.js";
import type { Reads } from "./reads.js";
import type { Session } from "./session.js";
import { pruneProof } from "./proofs.js";

/** The id of a member record's key, or undefined for another key under the prefix. */
export function memberIdOf(key: string): number | undefined {
  const rest = key.slice(SYSTEM_NODES_PREFIX.length);
  return /^(0|[1-9]\d{0,9})$/.test(rest) && Number(rest) < 2 ** 30 ? Number(rest) : undefined;
}

/** The approval of `change` on `chain` by one governance key, for a request with this nonce and validUntil. */
export function approve(
  key: ClientKey,
  chain: Uint8Array,
  change: MemberChange,
  nonce: bigint,
  validUntil: bigint,
): Approval {
  return {
    publicKey: key.publicKey,
    signature: sign(key, approvalMessage(chain, change, nonce, validUntil)),
  };
}

export class Members {
  constructor(
    private readonly s: Session,
    private readonly reads: Reads,
    private readonly queries: Queries,
  ) {}

  /** The ids with a member record, from the verified listing of `.arbor/nodes/`. */
  async recordIdsWithin(dl: Deadline): Promise<number[]> {
    const ids: number[] = [];
    let after: string | undefined;
    let minHeight = 0n;
    for (;;) {
      const page = await this.queries.list(
        SYSTEM_NODES_PREFIX,
        { after, limit: MAX_LIST_PAGE, minHeight },
        dl,
      );
      for (const e of page.entries) {
        const id = memberIdOf(e.key);
        if (e.valueHash !== null && id !== undefined) ids.push(id);
      }
      if (page.done) return ids.sort((a, b) => a - b);
      after = page.next!;
      minHeight = page.height;
    }
  }

  /** The current member records (id, key, address, prefixes), read and verified. */
  async recordsWithin(dl: Deadline): Promise<{ height: bigint; records: GenesisNode[] }> {
    const ids = await this.recordIdsWithin(dl);
    const records: GenesisNode[] = [];
    let height = 0n;
    for (let i = 0; i < ids.length; i += MAX_TOUCHED_KEYS) {
      const chunk = ids.slice(i, i + MAX_TOUCHED_KEYS);
      const r = await this.reads.readWithin(chunk.map(memberKey), false, dl);
      height = r.height > height ? r.height : height;
      for (const id of chunk) {
        const v = r.values.get(memberKey(id));
        if (v != null) records.push(decodeMember(v));
      }
    }
    this.s.adoptMembers(records);
    return { height, records };
  }

  /**
   * A signed MEMBER request for `change`, approved by `approvers` (each signs the change, the
   * nonce and validUntil). `at` fixes nonce and validUntil, for approvals gathered elsewhere.
   */
  async requestWithin(
    change: MemberChange,
    approvers: readonly ClientKey[],
    extra: readonly Approval[],
    dl: Deadline,
    at?: { nonce: bigint; validUntil: bigint },
  ): Promise<Uint8Array> {
    const ids = await this.recordIdsWithin(dl);
    const keys = ids.map(memberKey);
    if (change.kind === "add") keys.push(memberKey(change.node.id));
    if (keys.length > MAX_TOUCHED_KEYS)
      throw new ArborError(
        "client/too-many-members",
        `a proof of ${keys.length} member records is too large`,
      );
    // Certified, though nodes check it too: a holder forging a root must not cost the change.
    const read = await this.reads.readWithin(keys, true, dl);
    const nonce = at?.nonce ?? this.s.nonce++;
    const validUntil = at?.validUntil ?? read.height + BigInt(DEFAULT_REQUEST_LIFETIME_BLOCKS);
    const body = encodeMemberBody({
      change,
      approvals: [...approvers.map((k) => approve(k, this.s.chain, change, nonce, validUntil)), ...extra],
      proof: encodeProof(pruneProof(decodeProof(read.proof).root, keys.map(keyPath))),
      caller: this.s.key.publicKey,
      nonce,
      validUntil,
    });
    return assembleSignedRequest(body, sign(this.s.key, requestSigningMessage(this.s.chain, body)));
  }
}
