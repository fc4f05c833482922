// The full client's validator history: the ledger's (node/ledger/validator-sets.ts) with the
// client's verifier, refusing a bad transition with client/bad-transition.

import type { Genesis } from "../node/ledger/genesis.js";
import { ValidatorSets } from "../node/ledger/validator-sets.js";
import { clientVerifier } from "./crypto.js";
import { VerificationError } from "./errors.js";

export class ValidatorHistory extends ValidatorSets {
  constructor(genesis: Genesis, chain: Uint8Array) {
    super(genesis, chain, clientVerifier, (why) => {
      throw new VerificationError("client/bad-transition", why);
    });
  }
}
