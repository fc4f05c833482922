// Typed errors of the executor. A module that fails validation is an InvalidModuleError whose
// `code` says which rule it broke (stable, listed in docs/abi.md); bad caller input is a LimitError.

import { ArborError } from "../../common/errors.js";

/** The module is not acceptable as an Arbor operation (malformed, too big, forbidden feature). */
export class InvalidModuleError extends ArborError {}

export function invalid(code: string, message: string): never {
  throw new InvalidModuleError(`module/${code}`, message);
}
