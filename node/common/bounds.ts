// One check per documented size bound that a user's bytes meet on their way in: a record value, an
// operation module, an operation's argument blob. The SDK, the CLI, node admission and the
// executor all call these, so bytes over a bound get the same code whichever path they take.

import { LimitError } from "./errors.js";
import { MAX_ARGS_BYTES, MAX_MODULE_BYTES, MAX_VALUE_BYTES } from "./limits.js";

/** A broken size bound: its stable code and a readable message. */
export interface SizeViolation {
  readonly code: "value/too-large" | "module/too-large" | "request/args-too-large";
  readonly message: string;
}

function over(code: SizeViolation["code"], what: string, n: number, max: number): SizeViolation | null {
  return n > max ? { code, message: `${what} of ${n} bytes exceeds ${max}` } : null;
}

/** A record value of `n` bytes against MAX_VALUE_BYTES. */
export function valueSizeViolation(n: number): SizeViolation | null {
  return over("value/too-large", "value", n, MAX_VALUE_BYTES);
}

/** An operation module of `n` bytes against MAX_MODULE_BYTES. */
export function moduleSizeViolation(n: number): SizeViolation | null {
  return over("module/too-large", "module", n, MAX_MODULE_BYTES);
}

/** An argument blob of `n` bytes against MAX_ARGS_BYTES. */
export function argsSizeViolation(n: number): SizeViolation | null {
  return over("request/args-too-large", "arguments", n, MAX_ARGS_BYTES);
}

function raise(v: SizeViolation | null): void {
  if (v !== null) throw new LimitError(v.code, v.message);
}

/** Throws LimitError value/too-large for a value over MAX_VALUE_BYTES. */
export function checkValueSize(n: number): void {
  raise(valueSizeViolation(n));
}

/** Throws LimitError module/too-large for a module over MAX_MODULE_BYTES. */
export function checkModuleSize(n: number): void {
  raise(moduleSizeViolation(n));
}

/** Throws LimitError request/args-too-large for arguments over MAX_ARGS_BYTES. */
export function checkArgsSize(n: number): void {
  raise(argsSizeViolation(n));
}
