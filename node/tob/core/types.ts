// The consensus data model: blocks, certificates and signed messages, as decoded and validated.
// Rounds, heights and epochs are JS numbers bounded by TOB_MAX_ROUND; on the wire they are varints.
// Validators are referred to by their index in the epoch's ordered validator list.

/** A 32-byte SHA-256 digest (block ids, request digests). */
export type Digest = Uint8Array;

/** One validator's signature inside a certificate. */
export interface SignerSig {
  readonly signer: number;
  readonly sig: Uint8Array;
}

/**
 * Quorum certificate: 2f+1 votes of one epoch for one block in one round. Round 0 is the epoch's
 * genesis certificate and carries no signatures (every correct node knows the epoch's genesis).
 */
export interface QC {
  readonly epoch: number;
  readonly round: number;
  readonly blockId: Digest;
  /** Sorted by signer, unique. */
  readonly votes: readonly SignerSig[];
}

/** One signer's part of a timeout certificate: it signed (epoch, round, hqcRound). */
export interface TimeoutEntry {
  readonly signer: number;
  readonly hqcRound: number;
  readonly sig: Uint8Array;
}

/** Timeout certificate: 2f+1 timeouts for one round, with the highest QC any of them reported. */
export interface TC {
  readonly epoch: number;
  readonly round: number;
  /** Sorted by signer, unique. */
  readonly entries: readonly TimeoutEntry[];
  /** The QC whose round is the maximum hqcRound of the entries. */
  readonly highQC: QC;
}

/**
 * A proposal's block. `id` is the hash of everything but the signature; `signature` is the
 * author's over the id. Requests are opaque bytes: the core only hashes them.
 */
export interface Block {
  readonly epoch: number;
  readonly round: number;
  readonly height: number;
  readonly parentId: Digest;
  /** Certifies the parent: qc.blockId === parentId. */
  readonly qc: QC;
  readonly author: number;
  readonly requests: readonly Uint8Array[];
  readonly id: Digest;
  readonly signature: Uint8Array;
}

export interface Vote {
  readonly epoch: number;
  readonly round: number;
  readonly blockId: Digest;
  readonly signer: number;
  readonly sig: Uint8Array;
}

export interface Timeout {
  readonly epoch: number;
  readonly round: number;
  readonly highQC: QC;
  /** The TC that ended round-1, if the sender entered this round by one (helps laggards). */
  readonly lastTC: TC | null;
  readonly signer: number;
  /** Over (epoch, round, highQC.round). */
  readonly sig: Uint8Array;
}

/** Every message nodes exchange. */
export type Message =
  | { readonly kind: "proposal"; readonly block: Block; readonly tc: TC | null }
  | { readonly kind: "vote"; readonly vote: Vote }
  | { readonly kind: "timeout"; readonly timeout: Timeout }
  | { readonly kind: "requests"; readonly requests: readonly Uint8Array[] }
  | { readonly kind: "syncRequest"; readonly epoch: number; readonly fromHeight: number }
  | {
      readonly kind: "syncResponse";
      readonly epoch: number;
      /** Consecutive heights, ascending; the last one certified by `qc`. */
      readonly blocks: readonly Block[];
      readonly qc: QC | null;
      /** The sender has more blocks after these. */
      readonly more: boolean;
    };

export type MessageKind = Message["kind"];
