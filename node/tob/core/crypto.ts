// Signatures are injected: the core never holds a key or picks an algorithm. The shell supplies
// Ed25519 (node:crypto) — one verifier for everything consensus decides; the simulator may supply
// a cheap keyed stand-in. This file also fixes the exact bytes each signature covers, each with its
// own domain tag and the network id, so a signature can never be replayed in another role,
// network or epoch.

import { Writer } from "../../common/codec.js";
import { TOB_PROPOSAL_TAG, TOB_TIMEOUT_TAG, TOB_VOTE_TAG } from "../../common/tags.js";

/** Every consensus signature is exactly this long (Ed25519). */
export const SIG_BYTES = 64;
/** Every validator public key is exactly this long (Ed25519). */
export const KEY_BYTES = 32;
/** Block ids and request digests. */
export const DIGEST_BYTES = 32;

export interface Signer {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

export function voteSigningBytes(
  networkId: Uint8Array,
  epoch: number,
  round: number,
  blockId: Uint8Array,
): Uint8Array {
  return new Writer(96)
    .string(TOB_VOTE_TAG)
    .bytes(networkId)
    .varint64(BigInt(epoch))
    .varint64(BigInt(round))
    .raw(blockId)
    .finish();
}

export function timeoutSigningBytes(
  networkId: Uint8Array,
  epoch: number,
  round: number,
  hqcRound: number,
): Uint8Array {
  return new Writer(96)
    .string(TOB_TIMEOUT_TAG)
    .bytes(networkId)
    .varint64(BigInt(epoch))
    .varint64(BigInt(round))
    .varint64(BigInt(hqcRound))
    .finish();
}

export function proposalSigningBytes(networkId: Uint8Array, blockId: Uint8Array): Uint8Array {
  return new Writer(96).string(TOB_PROPOSAL_TAG).bytes(networkId).raw(blockId).finish();
}
