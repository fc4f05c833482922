// Complaints: a signed COMPLAIN carrying evidence and a fresh proof that the accused is not yet
// evicted, filed like any write.

import { ArborError } from "../node/common/errors.js";
import { evictedKey } from "../node/common/system-keys.js";
import { assembleSignedRequest, encodeComplainBody, requestSigningMessage } from "../node/ledger/request.js";
import { keyPath } from "../node/store/core/path.js";
import { decodeProof, encodeProof } from "../node/store/core/proof-codec.js";
import { DEFAULT_REQUEST_LIFETIME_BLOCKS } from "../node/common/limits.js";
import { sign } from "./crypto.js";
import type { CallOptions, Deadline } from "./deadline.js";
import { RequestRejected } from "./errors.js";
import { pruneProof } from "./proofs.js";
import { describeEvidence } from "./audit.js";
import type { Reads } from "./reads.js";
import type { Session } from "./session.js";
import type { Submit } from "./submit.js";
import type { TrustedReceipt } from "./types.js";

export class Complaints {
  constructor(
    private readonly s: Session,
    private readonly reads: Reads,
    private readonly submit: Submit,
  ) {}

  async complaintWithin(
    evidence: Uint8Array,
    accused: number | undefined,
    dl: Deadline,
  ): Promise<Uint8Array> {
    const who = accused ?? describeEvidence(evidence, this.s.genesis).accused;
    if (who === undefined)
      throw new ArborError("client/accused-unknown", "the evidence does not name the accused: give it");
    const key = evictedKey(who);
    // The proof is only forwarded (nodes check it): its root is not certified here.
    const read = await this.reads.readWithin([key], true, dl, [], false);
    const body = encodeComplainBody({
      evidence,
      proof: encodeProof(pruneProof(decodeProof(read.proof).root, [keyPath(key)])),
      caller: this.s.key.publicKey,
      nonce: this.s.nonce++,
      validUntil: read.height + BigInt(DEFAULT_REQUEST_LIFETIME_BLOCKS),
    });
    return assembleSignedRequest(body, sign(this.s.key, requestSigningMessage(this.s.chain, body)));
  }

  /** Files a COMPLAIN with evidence against `accused` (default: whom it names); resolves with the trusted receipt. */
  async complain(evidence: Uint8Array, accused?: number, opts?: CallOptions): Promise<TrustedReceipt> {
    const dl = this.s.deadline(opts, "complain");
    const r = await dl.run(
      this.complaintWithin(evidence, accused, dl).then((bytes) => this.submit.submitWithin(bytes, dl)),
    );
    if (r.receipt.status === "rejected")
      throw new RequestRejected(r.receipt.reason, r.receipt.message || r.receipt.reason, r.receipt.requestId);
    this.s.membershipKnown = false; // learn the eviction before the next write
    return r;
  }
}
