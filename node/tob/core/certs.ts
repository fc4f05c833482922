// Signature checks for one epoch: proposals, votes, timeouts and the certificates built from them.
// A certificate is verified once and then recognised by (round, block id), so a QC repeated in
// every proposal, timeout and TC costs one round of signature checks, not one per copy. Only
// verified certificates are returned, so callers can never keep an unchecked copy.

import { TOB_MAX_CERT_CACHE } from "../../common/limits.js";
import { bytesEqual } from "../../common/bytes.js";
import type { SignatureVerifier } from "../../common/signature-verifier.js";
import { proposalSigningBytes, timeoutSigningBytes, voteSigningBytes } from "./crypto.js";
import { key, reject } from "./reject.js";
import type { Block, QC, SignerSig, TC, Timeout, Vote } from "./types.js";
import type { ValidatorSet } from "./validators.js";

export class EpochCerts {
  private readonly qcs = new Map<string, QC>();

  constructor(
    private readonly networkId: Uint8Array,
    private readonly verifier: SignatureVerifier,
    readonly epoch: number,
    readonly set: ValidatorSet,
    readonly genesisId: Uint8Array,
  ) {}

  /** The certificate every node holds for the epoch's genesis (round 0, no signatures). */
  genesisQC(): QC {
    return { epoch: this.epoch, round: 0, blockId: this.genesisId, votes: [] };
  }

  private checkSigner(signer: number, what: string): Uint8Array {
    const k = this.set.keys[signer];
    if (!k) reject("tob/unknown-signer", `${what} signer ${signer} is not in the epoch's set`);
    return k;
  }

  private sortedUnique(list: readonly { signer: number }[], what: string): void {
    for (let i = 1; i < list.length; i++)
      if (list[i]!.signer <= list[i - 1]!.signer)
        reject("tob/unsorted-signers", `${what} signers not sorted and unique`);
  }

  /** True if this exact (round, block) was certified before; also returns the verified copy. */
  known(round: number, blockId: Uint8Array): QC | undefined {
    return this.qcs.get(round + ":" + key(blockId));
  }

  /** Records a QC already known to be valid (formed locally, or embedded in a certified block). */
  trust(qc: QC): QC {
    const k = qc.round + ":" + key(qc.blockId);
    const have = this.qcs.get(k);
    if (have) return have;
    if (this.qcs.size >= TOB_MAX_CERT_CACHE) this.qcs.clear();
    this.qcs.set(k, qc);
    return qc;
  }

  qc(qc: QC): QC {
    if (qc.epoch !== this.epoch) reject("tob/qc-epoch", `qc of epoch ${qc.epoch} in epoch ${this.epoch}`);
    const have = this.known(qc.round, qc.blockId);
    if (have) return have;
    if (qc.round === 0) {
      if (!bytesEqual(qc.blockId, this.genesisId) || qc.votes.length !== 0)
        reject("tob/bad-genesis-qc", "round-0 qc is not the epoch genesis");
      return this.trust(qc);
    }
    if (qc.votes.length < this.set.quorum)
      reject("tob/qc-short", `qc has ${qc.votes.length} votes, quorum is ${this.set.quorum}`);
    this.sortedUnique(qc.votes, "qc");
    const msg = voteSigningBytes(this.networkId, qc.epoch, qc.round, qc.blockId);
    for (const v of qc.votes as readonly SignerSig[]) {
      if (!this.verifier.verify(this.checkSigner(v.signer, "qc"), msg, v.sig))
        reject("tob/bad-signature", `qc vote of ${v.signer}`);
    }
    return this.trust(qc);
  }

  tc(tc: TC): TC {
    if (tc.epoch !== this.epoch) reject("tob/tc-epoch", `tc of epoch ${tc.epoch} in epoch ${this.epoch}`);
    if (tc.entries.length < this.set.quorum) reject("tob/tc-short", `tc has ${tc.entries.length} entries`);
    this.sortedUnique(tc.entries, "tc");
    let max = 0;
    for (const e of tc.entries) max = Math.max(max, e.hqcRound);
    if (tc.highQC.round !== max) reject("tob/tc-high-qc", "tc high qc is not the highest reported");
    if (max >= tc.round) reject("tob/tc-high-qc", "tc reports a qc at or above its own round");
    const highQC = this.qc(tc.highQC);
    for (const e of tc.entries) {
      const msg = timeoutSigningBytes(this.networkId, tc.epoch, tc.round, e.hqcRound);
      if (!this.verifier.verify(this.checkSigner(e.signer, "tc"), msg, e.sig))
        reject("tob/bad-signature", `tc entry of ${e.signer}`);
    }
    return highQC === tc.highQC ? tc : { ...tc, highQC };
  }

  vote(v: Vote): void {
    if (v.epoch !== this.epoch) reject("tob/vote-epoch", `vote of epoch ${v.epoch}`);
    if (v.round === 0) reject("tob/vote-round", "vote for round 0");
    const msg = voteSigningBytes(this.networkId, v.epoch, v.round, v.blockId);
    if (!this.verifier.verify(this.checkSigner(v.signer, "vote"), msg, v.sig))
      reject("tob/bad-signature", `vote of ${v.signer}`);
  }

  /** Checks the timeout's own signature and returns it with verified certificates. */
  timeout(t: Timeout): Timeout {
    if (t.epoch !== this.epoch) reject("tob/timeout-epoch", `timeout of epoch ${t.epoch}`);
    if (t.highQC.round >= t.round)
      reject("tob/timeout-high-qc", "timeout reports a qc at or above its round");
    const key = this.checkSigner(t.signer, "timeout");
    const msg = timeoutSigningBytes(this.networkId, t.epoch, t.round, t.highQC.round);
    if (!this.verifier.verify(key, msg, t.sig)) reject("tob/bad-signature", `timeout of ${t.signer}`);
    const highQC = this.qc(t.highQC);
    let lastTC = t.lastTC;
    if (lastTC) {
      if (lastTC.round >= t.round) reject("tob/timeout-last-tc", "last tc is not below the timeout's round");
      lastTC = this.tc(lastTC);
    }
    return { ...t, highQC, lastTC };
  }

  /** The author's signature over the block id (authorship, hence equivocation evidence). */
  proposal(b: Block): void {
    if (b.epoch !== this.epoch) reject("tob/block-epoch", `block of epoch ${b.epoch}`);
    const k = this.checkSigner(b.author, "proposal");
    if (!this.verifier.verify(k, proposalSigningBytes(this.networkId, b.id), b.signature))
      reject("tob/bad-signature", `proposal by ${b.author}`);
  }
}
