// Process-level wiring of fast native primitives: node:crypto's SHA-256 replaces the portable one.
import { hash } from "node:crypto";
import { installSha256 } from "./common/hash.js";

export function nodeSha256(data: Uint8Array): Uint8Array {
  const b = hash("sha256", data, "buffer");
  // A plain Uint8Array view: Buffer's slice() would share memory where callers expect a copy.
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function installNodeSha256(): void {
  installSha256(nodeSha256);
}
