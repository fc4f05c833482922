// Why an input was dropped. Hostile or stale input never throws out of step(): handlers throw a
// Rejection, step() catches it and reports the code. Codes are stable strings for tests and metrics.

import { ArborError } from "../../common/errors.js";
import { bytesToLatin1 } from "../../common/bytes.js";

export class Rejection extends ArborError {}

export function reject(code: string, message: string): never {
  throw new Rejection(code, message);
}

/** Compact map key for a digest (32 latin1 chars; cheaper than hex on hot paths). */
export function key(d: Uint8Array): string {
  return bytesToLatin1(d);
}
