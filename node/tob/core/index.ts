// Public surface of the consensus core (what the shell and the simulator use).

export { TobCore, DEFAULT_TIMING, genesisIdOf, reconfigHeight } from "./core.js";
export type { CoreConfig, Input, Restored, Status, Timing } from "./core.js";
export type { Step, Effects, PersistBatch, Send, Equivocation, Rejected } from "./output.js";
export type { Delivery } from "./committed-chain.js";
export type { SafetyState, EpochState, EpochTail, Schedule } from "./state.js";
export {
  encodeSafety,
  decodeSafety,
  encodeEpochState,
  decodeEpochState,
  encodeEpochTail,
  decodeEpochTail,
} from "./state.js";
export {
  PRUNE_KEEP_BLOCKS,
  RESTORE_LEDGER_BLOCKS,
  raiseVotedRound,
  restoredFrom,
  snapshotConsensus,
} from "./restore.js";
export type { StoredRecords, SnapshotConsensus } from "./restore.js";
export type { Block, QC, TC, Vote, Timeout, Message } from "./types.js";
export {
  encodeMessage,
  decodeMessage,
  encodeBlock,
  decodeBlock,
  computeBlockId,
  encodeSignedHeader,
  decodeSignedHeader,
  KIND_TAGS,
} from "./wire.js";
export type { SignedHeader } from "./wire.js";
export {
  voteSigningBytes,
  timeoutSigningBytes,
  proposalSigningBytes,
  SIG_BYTES,
  KEY_BYTES,
} from "./crypto.js";
export type { Signer } from "./crypto.js";
export type { SignatureVerifier } from "../../common/signature-verifier.js";
export { ValidatorSet, peerIdOf } from "./validators.js";
export type { PeerId } from "./validators.js";
export { requestDigest } from "./pool.js";
export { WEIGHTLESS } from "./packing.js";
export type { RequestWeigher, RequestWeight } from "./packing.js";
