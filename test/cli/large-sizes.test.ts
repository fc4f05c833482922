// Every documented size is usable through the public API, and over it every path says the same
// code. On a real 4-node cluster (k = 2): a 200 KiB operation (a Wasm module whose data segment
// holds the result it writes) and a 1 MiB value are deployed, written, run and read back through
// the SDK (ArborClient) and through the CLI (`arbor op deploy`, `arbor exec --arg bytes-file:`,
// `arbor get`). A module one byte over MAX_MODULE_BYTES is refused as module/too-large by the SDK,
// `arbor op check` and `arbor op deploy`; a value one byte over MAX_VALUE_BYTES as value/too-large
// by the SDK and, through `arbor exec`, by the executor.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CliCluster, run, runJson } from "./helpers.js";
import { ArborClient, generateKey } from "../../client/index.js";
import { build, op } from "../exec/wasm-builder.js";
import { Writer } from "../../node/common/codec.js";
import { MAX_MODULE_BYTES, MAX_VALUE_BYTES } from "../../node/common/limits.js";
import { bytesEqual, toHex } from "../../node/common/bytes.js";
import { ArborError } from "../../node/common/errors.js";

let c: CliCluster;
let sdk: ArborClient;
let scratch: string;

/** Deterministic filler bytes (not all alike, so nothing along the way can shortcut them). */
function filler(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/**
 * A valid operation of about `size` bytes: run() returns a result blob, held in the module's data
 * segment, that sets `key` to `payload` (most of the module).
 */
function bigOp(key: string, payloadBytes: number): { wasm: Uint8Array; payload: Uint8Array } {
  const payload = filler(payloadBytes, payloadBytes);
  const result = new Writer().varint(1).string(key).u8(1).bytes(payload).finish();
  const framed = new Uint8Array(4 + result.length);
  new DataView(framed.buffer).setUint32(0, result.length, true);
  framed.set(result, 4);
  const at = 1024;
  const pages = Math.ceil((at + framed.length) / 65536);
  const wasm = build({
    funcs: [{ type: 0, body: op.i32_const(at) }],
    memory: { min: pages },
    data: [{ offset: at, bytes: framed }],
  });
  return { wasm, payload };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    return e instanceof ArborError ? e.code : String(e);
  }
}

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), "arbor-sizes-"));
  c = await CliCluster.create(4, 2);
  await c.start(60_000);
  const genesis = readFileSync(join(c.dir, "genesis.json"), "utf8");
  sdk = await ArborClient.connect({ genesis, key: generateKey() });
});

after(async () => {
  sdk?.close();
  await c?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

test("SDK: a 200 KiB operation and a 1 MiB value are deployed, run and read back; one byte over is refused", async () => {
  assert.equal((await sdk.createDomain("sdkbig")).receipt.status, "accepted");
  const { wasm, payload } = bigOp("sdkbig/out", 200 * 1024);
  assert.ok(wasm.length >= 200 * 1024 && wasm.length <= MAX_MODULE_BYTES, `module of ${wasm.length} bytes`);
  assert.equal((await sdk.deployOp("sdkbig/blob", wasm)).receipt.status, "accepted");
  const ran = await sdk.transact({ op: "sdkbig/blob", touched: ["sdkbig/out"], gasLimit: 100_000_000n });
  assert.equal(ran.receipt.status, "accepted");

  const value = filler(MAX_VALUE_BYTES, 7);
  assert.equal((await sdk.writeRecords("sdkbig", [["sdkbig/v", value]])).receipt.status, "accepted");
  const got = await sdk.get(["sdkbig/blob", "sdkbig/out", "sdkbig/v"]);
  assert.ok(bytesEqual(got.get("sdkbig/blob")!, wasm), "the module reads back");
  assert.ok(bytesEqual(got.get("sdkbig/out")!, payload), "the operation ran and wrote its 200 KiB");
  assert.ok(bytesEqual(got.get("sdkbig/v")!, value), "the 1 MiB value reads back");

  // Replacing the 1 MiB value: the proof now carries the old 1 MiB value too.
  const value2 = filler(MAX_VALUE_BYTES, 8);
  assert.equal((await sdk.writeRecords("sdkbig", [["sdkbig/v", value2]])).receipt.status, "accepted");
  assert.ok(bytesEqual((await sdk.get(["sdkbig/v"])).get("sdkbig/v")!, value2));

  assert.equal(
    await codeOf(sdk.deployOp("sdkbig/huge", new Uint8Array(MAX_MODULE_BYTES + 1))),
    "module/too-large",
  );
  assert.equal(
    await codeOf(sdk.writeRecords("sdkbig", [["sdkbig/w", new Uint8Array(MAX_VALUE_BYTES + 1)]])),
    "value/too-large",
  );
});

test("CLI: a 200 KiB operation and a 1 MiB value through op check/deploy, exec --arg bytes-file: and get", async () => {
  const d = await runJson<{ receipt: { status: string } }>(["domain", "create", "clibig", ...c.flags]);
  assert.equal(d.receipt.status, "accepted");
  const { wasm, payload } = bigOp("clibig/out", 200 * 1024);
  const opFile = join(scratch, "big.wasm");
  writeFileSync(opFile, wasm);
  assert.equal((await run(["op", "check", opFile])).code, 0);
  const dep = await runJson<{ receipt: { status: string } }>([
    "op",
    "deploy",
    "clibig/blob",
    opFile,
    ...c.flags,
  ]);
  assert.equal(dep.receipt.status, "accepted");
  const ran = await runJson<{ status: string }>([
    "exec",
    "clibig/blob",
    "--touch",
    "clibig/out",
    "--gas",
    "100000000",
    ...c.flags,
  ]);
  assert.equal(ran.status, "accepted");

  const value = filler(MAX_VALUE_BYTES, 9);
  const valueFile = join(scratch, "value.bin");
  writeFileSync(valueFile, value);
  // .base_rule's arguments: one write (varint 1), the key, kind 1 (set), the value.
  const write = (key: string, file: string) =>
    run([
      "exec",
      "clibig/.base_rule",
      "--touch",
      `clibig/.owner,${key}`,
      "--arg",
      "varint:1",
      "--arg",
      `str:${key}`,
      "--arg",
      "varint:1",
      "--arg",
      `bytes-file:${file}`,
      "--gas",
      "100000000",
      "--json",
      ...c.flags,
    ]);
  const w = await write("clibig/v", valueFile);
  assert.equal(w.code, 0, w.stderr);
  const g = await runJson<{ values: Record<string, string | null> }>([
    "get",
    "clibig/blob",
    "clibig/out",
    "clibig/v",
    ...c.flags,
  ]);
  assert.equal(g.values["clibig/blob"], toHex(wasm));
  assert.equal(g.values["clibig/out"], toHex(payload));
  assert.equal(g.values["clibig/v"], toHex(value));

  const hugeFile = join(scratch, "huge.wasm");
  writeFileSync(hugeFile, bigOp("clibig/out", MAX_MODULE_BYTES).wasm);
  for (const args of [
    ["op", "check", hugeFile, "--json"],
    ["op", "deploy", "clibig/huge", hugeFile, "--json", ...c.flags],
  ]) {
    const r = await run(args);
    assert.equal(r.code, 1, `${args.slice(0, 2).join(" ")}: ${r.stderr}`);
    assert.equal(JSON.parse(r.stdout).error.code, "module/too-large", args.slice(0, 2).join(" "));
  }
  const overFile = join(scratch, "over.bin");
  writeFileSync(overFile, new Uint8Array(MAX_VALUE_BYTES + 1));
  const over = await write("clibig/w", overFile);
  assert.equal(over.code, 3, over.stderr);
  assert.match(over.stderr, /value\/too-large/);
});
