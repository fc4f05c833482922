// An epoch's ordered validator set: who may sign and how many signatures make a quorum (who leads a
// round is leaders.ts). Peers are named by the hex of their public key (PeerId) so the shell's
// authenticated transport and the core agree on identity without sharing any other state.

import { bytesEqual, toHex } from "../../common/bytes.js";
import { LimitError, invariant } from "../../common/errors.js";
import { TOB_MAX_VALIDATORS } from "../../common/limits.js";
import { KEY_BYTES } from "./crypto.js";

/** Lower-case hex of a validator's 32-byte Ed25519 public key. */
export type PeerId = string;

export function peerIdOf(publicKey: Uint8Array): PeerId {
  return toHex(publicKey);
}

export class ValidatorSet {
  readonly keys: readonly Uint8Array[];
  readonly ids: readonly PeerId[];
  readonly n: number;
  /** Smallest number of signers any two of which intersect in a correct node: floor(2n/3)+1. */
  readonly quorum: number;
  /** f+1: enough signers that at least one is correct. */
  readonly weak: number;
  private readonly index: Map<PeerId, number>;

  constructor(keys: readonly Uint8Array[]) {
    if (keys.length < 1 || keys.length > TOB_MAX_VALIDATORS)
      throw new LimitError(
        "tob/validator-count",
        `validator set of ${keys.length} (1..${TOB_MAX_VALIDATORS})`,
      );
    this.keys = keys.map((k) => {
      if (!(k instanceof Uint8Array) || k.length !== KEY_BYTES)
        throw new LimitError("tob/validator-key", "validator key is not 32 bytes");
      return k.slice();
    });
    this.ids = this.keys.map(peerIdOf);
    this.index = new Map(this.ids.map((id, i) => [id, i]));
    if (this.index.size !== keys.length)
      throw new LimitError("tob/validator-duplicate", "validator set lists a key twice");
    this.n = keys.length;
    this.quorum = Math.floor((2 * this.n) / 3) + 1;
    this.weak = this.n - this.quorum + 1;
    invariant(this.quorum <= this.n && this.weak >= 1, "quorum within set");
  }

  indexOf(id: PeerId): number {
    return this.index.get(id) ?? -1;
  }

  has(id: PeerId): boolean {
    return this.index.has(id);
  }

  equals(other: ValidatorSet): boolean {
    return this.n === other.n && this.keys.every((k, i) => bytesEqual(k, other.keys[i]!));
  }
}
