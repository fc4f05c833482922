// Process-level wiring of fast native primitives: node:crypto's SHA-256 replaces the portable one.
import { hash } from "node:crypto";
import { installSha256 } from "./common/hash.js";

/**
 * SHA-256 through node:crypto. The digest comes back as a binary (latin1) string and is copied into a
 * small on-heap Uint8Array: about twice as fast as asking for a Buffer, whose separate backing
 * store costs more to allocate and collect than the hash itself on these small inputs.
 */
export function nodeSha256(data: Uint8Array): Uint8Array {
  const s = hash("sha256", data, "binary");
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function installNodeSha256(): void {
  installSha256(nodeSha256);
}
