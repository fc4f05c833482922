// The Arbor SDK: `import { ArborClient } from "arbor/client"`.
export {
  ArborClient,
  type ConnectOptions,
  type ExecuteOptions,
  type ReadResult,
  type SignedStatement,
  type TrustedReceipt,
} from "./client.js";
export { RequestRejected, VerificationError, UnavailableError } from "./errors.js";
export { generateKey, keyFromSeed, sign, verify, type ClientKey } from "./crypto.js";
export { joinAnswers, pruneProof } from "./proofs.js";
export { NodeConnection } from "./transport.js";
export type { Receipt } from "../node/ledger/receipt.js";
export { LightClient, nodeHeaderSource, type HeaderSource, type Transition } from "./light.js";
