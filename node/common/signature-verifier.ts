// The one shape of "check an Ed25519 signature" that every part of the system is handed: consensus
// (votes, timeouts, proposals), the ledger (requests, evidence), header certificates, the executor's
// host ABI and the client SDK. Implementations are injected, so pure cores hold no algorithm: a node
// passes its one node:crypto verifier (node/platform.ts) everywhere consensus decides something, so
// all of those decisions agree; the client passes its own (client/crypto.ts).

/** Verifies an Ed25519 signature (RFC 8032). Malformed keys or signatures verify as false. */
export interface SignatureVerifier {
  /** Never throws. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}
