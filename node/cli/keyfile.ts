// Key files: a 32-byte Ed25519 seed written as 64 hex digits, readable only by its owner. The same
// format serves nodes (node/config.ts reads it) and clients.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fromHex, toHex } from "../common/bytes.js";
import { ArborError } from "../common/errors.js";
import { keyFromSeed, type ClientKey } from "../../client/crypto.js";

export class KeyFileError extends ArborError {}

export function readSeedFile(path: string): Uint8Array {
  let text: string;
  try {
    text = readFileSync(path, "utf8").trim();
  } catch (e) {
    throw new KeyFileError("key/unreadable", `cannot read key file ${path}: ${(e as Error).message}`);
  }
  if (!/^[0-9a-fA-F]{64}$/.test(text))
    throw new KeyFileError("key/bad-format", `${path}: a key file holds 64 hex digits (a 32-byte seed)`);
  return fromHex(text.toLowerCase());
}

export function readClientKey(path: string): ClientKey {
  return keyFromSeed(readSeedFile(path));
}

/** Writes a seed with mode 0600; refuses to replace an existing file unless `force`. */
export function writeSeedFile(path: string, seed: Uint8Array, force = false): void {
  if (!force && existsSync(path))
    throw new KeyFileError("key/exists", `${path} already exists (use --force to replace it)`);
  writeFileSync(path, toHex(seed) + "\n", { mode: 0o600 });
}
