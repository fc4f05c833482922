// Typed errors. Every error that hostile input can cause is an ArborError with a stable `code`,
// so callers can branch on the code and never have to parse a message.

export class ArborError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Bytes that do not decode under the canonical codec (truncated, overlong, non-canonical, out of bounds). */
export class DecodeError extends ArborError {}

/** A value that violates a named bound or a format rule at an API boundary. */
export class LimitError extends ArborError {}

/** A proof that does not verify: wrong shape, wrong position, wrong root, too large. */
export class ProofError extends ArborError {}

/** Broken internal invariant: a bug, never caused by input. */
export class InvariantError extends Error {
  constructor(message: string) {
    super(`invariant violated: ${message}`);
    this.name = "InvariantError";
  }
}

export function invariant(cond: unknown, message: string): asserts cond {
  if (!cond) throw new InvariantError(message);
}
