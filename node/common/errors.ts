// Typed errors. Every error that hostile input can cause is an ArborError with a stable `code`,
// so callers can branch on the code and never have to parse a message. Also the assertions that
// state a function's contract in code (TigerStyle): `expects` what it requires of its caller,
// `ensures` what it guarantees, `invariant` what holds in between. A failed one is a bug in this
// code, never a verdict on input: it throws InvariantError, which no caller catches as input error.
// Keep them cheap (no loops over keys or bytes): they run in production.

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

/** A precondition: what the function requires of its caller. */
export function expects(cond: unknown, message: string): asserts cond {
  if (!cond) throw new InvariantError(`precondition: ${message}`);
}

/** A postcondition: what the function guarantees to its caller. */
export function ensures(cond: unknown, message: string): asserts cond {
  if (!cond) throw new InvariantError(`postcondition: ${message}`);
}
