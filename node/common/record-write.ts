// One record change, as an operation's result lists it (node/exec) and as the store applies it
// (node/store): the same shape on both sides of the executor, so it is defined once.

export interface Write {
  readonly key: string;
  /** The new value, or null to remove the record. */
  readonly value: Uint8Array | null;
}
