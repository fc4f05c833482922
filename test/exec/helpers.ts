// Shared test fixtures for the executor: the ops built from source by scripts/build-ops.mjs (built
// on demand if missing), Ed25519 identities signed through node:crypto, and request shorthands.

import { existsSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { join } from "node:path";
import { Writer } from "../../node/common/codec.js";
import {
  createExecutor,
  type ExecRequest,
  type ExecResult,
  type Executor,
  type TouchedRecord,
} from "../../node/exec/index.js";
import { nodeSha256 } from "../../node/exec/host-crypto.js";

export const BUILD_DIR = join(process.cwd(), "build", "ops");

let built = false;
/** Builds the ops once per process if build/ops is missing (npm test builds them beforehand). */
export function ensureBuilt(): void {
  if (built) return;
  const probe = [
    "system/root_rule.wasm",
    "system/base_rule.wasm",
    "banking/transfer.wasm",
    "test/probe.wasm",
  ];
  if (!probe.every((f) => existsSync(join(BUILD_DIR, f)))) {
    const r = spawnSync(process.execPath, ["scripts/build-ops.mjs", "--quiet"], { stdio: "inherit" });
    if (r.status !== 0) throw new Error("npm run build:ops failed");
  }
  built = true;
}

/** Bytes of a built op, e.g. opCode("banking/transfer"). */
export function opCode(name: string): Uint8Array {
  ensureBuilt();
  return new Uint8Array(readFileSync(join(BUILD_DIR, `${name}.wasm`)));
}

export interface Identity {
  readonly publicKey: Uint8Array;
  readonly privateKey: KeyObject;
  sign(message: Uint8Array): Uint8Array;
}

export function identity(): Identity {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = new Uint8Array(publicKey.export({ format: "der", type: "spki" })).subarray(12);
  return { publicKey: raw, privateKey, sign: (m) => new Uint8Array(sign(null, m, privateKey)) };
}

/** A fixed, deterministic 32-byte "key" for callers that never sign. */
export function fixedKey(fill: number): Uint8Array {
  return new Uint8Array(32).fill(fill);
}

export function args(build: (w: Writer) => Writer): Uint8Array {
  return build(new Writer()).finish();
}

/** Touched records from [key, value|null] pairs, sorted as the executor requires. */
export function touched(...pairs: Array<[string, Uint8Array | null]>): TouchedRecord[] {
  const enc = new TextEncoder();
  return pairs
    .map(([key, value]) => ({ key, value }))
    .sort((a, b) => Buffer.compare(enc.encode(a.key), enc.encode(b.key)));
}

export const GAS = 10_000_000n;

export function request(over: Partial<ExecRequest> & Pick<ExecRequest, "code" | "opKey">): ExecRequest {
  return { records: [], args: new Uint8Array(0), caller: fixedKey(7), gasLimit: GAS, ...over };
}

/** Applies accepted writes to a record map (the way a node would apply them to its tree). */
export function apply(state: Map<string, Uint8Array>, r: ExecResult): void {
  if (!r.ok) throw new Error(`expected acceptance, got ${r.reason}: ${r.message}`);
  for (const w of r.writes) {
    if (w.value === null) state.delete(w.key);
    else state.set(w.key, w.value);
  }
}

/** Runs `opKey` (whose code is in `state`) against `state`, touching `keys`, and applies the result. */
export function call(
  ex: Executor,
  state: Map<string, Uint8Array>,
  opKey: string,
  keys: string[],
  argBytes: Uint8Array,
  caller: Uint8Array,
  gasLimit = GAS,
): ExecResult {
  const code = state.get(opKey);
  if (!code) throw new Error(`no operation at ${opKey}`);
  const r = ex.execute({
    opKey,
    code,
    records: touched(...keys.map((k): [string, Uint8Array | null] => [k, state.get(k) ?? null])),
    args: argBytes,
    caller,
    gasLimit,
  });
  if (r.ok) apply(state, r);
  return r;
}

/** A digest of a result: reason or writes, and gas — equal digests mean byte-identical results. */
export function digest(r: ExecResult): string {
  const w = new Writer();
  if (r.ok) {
    w.u8(1).varint(r.writes.length);
    for (const x of r.writes) {
      w.string(x.key).u8(x.value === null ? 0 : 1);
      if (x.value !== null) w.bytes(x.value);
    }
  } else w.u8(0).string(r.reason).string(r.message);
  w.varint64(r.gasUsed);
  return Buffer.from(nodeSha256(w.finish())).toString("hex");
}

export { createExecutor };
