// node:crypto behind the executor's HostCrypto interface: the node's one SHA-256 and one Ed25519
// verifier (node/platform.ts), so an operation's ed25519_verify agrees with consensus.
import type { HostCrypto } from "./core/host.js";
import { nodeEd25519Verify, nodeSha256, nodeSignatureVerifier } from "../platform.js";

export { nodeEd25519Verify, nodeSha256, nodeSignatureVerifier };

export const nodeHostCrypto: HostCrypto = { sha256: nodeSha256, signatures: nodeSignatureVerifier };
