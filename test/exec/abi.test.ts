// One source of truth for the ABI: a probe op compiled from the AssemblyScript SDK imports exactly
// the host functions of node/exec/core/abi.ts, with their signatures, and exports exactly run and
// memory. Running it through the executor exercises every host function and the input layout.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Writer } from "../../node/common/codec.js";
import { utf8 } from "../../node/common/bytes.js";
import { HOST_IMPORTS, MEMORY_EXPORT, RUN_EXPORT } from "../../node/exec/core/abi.js";
import { parseModule, typeOfFunc } from "../../node/exec/core/module.js";
import { wasm } from "../../node/exec/core/wasm-api.js";
import { nodeSha256 } from "../../node/exec/host-crypto.js";
import { createExecutor, identity, opCode, request, touched } from "./helpers.js";

test("the SDK's imports and exports match the host's ABI table", () => {
  const m = parseModule(opCode("test/probe"));
  const imported = m.imports.map((imp, i) => {
    const t = typeOfFunc(m, i);
    return { module: imp.module, name: imp.name, params: [...t.params], results: [...t.results] };
  });
  const table = HOST_IMPORTS.map((h) => ({
    module: h.module,
    name: h.name,
    params: [...h.params],
    results: [...h.results],
  }));
  const key = (x: { module: string; name: string }) => `${x.module}.${x.name}`;
  assert.deepEqual(
    imported.sort((a, b) => key(a).localeCompare(key(b))),
    table.sort((a, b) => key(a).localeCompare(key(b))),
  );
  // The engine's own view of the exports.
  const mod = new wasm.Module(opCode("test/probe"));
  assert.deepEqual(
    wasm.Module.exports(mod)
      .map((e) => `${e.kind}:${e.name}`)
      .sort(),
    [`function:${RUN_EXPORT}`, `memory:${MEMORY_EXPORT}`],
  );
});

test("every op built from the SDK imports only names from the table", () => {
  const names = new Set(HOST_IMPORTS.map((h) => `${h.module}.${h.name}`));
  for (const op of [
    "system/root_rule",
    "system/base_rule",
    "banking/open",
    "banking/mint",
    "banking/transfer",
  ])
    for (const imp of parseModule(opCode(op)).imports)
      assert.ok(names.has(`${imp.module}.${imp.name}`), `${op} imports ${imp.module}.${imp.name}`);
});

test("the probe sees caller, op key, domain and arguments, and the host's sha256 and ed25519", () => {
  const ex = createExecutor();
  const signer = identity();
  const good = signer.sign(utf8("probe"));
  const bad = good.slice();
  bad[0]! ^= 1;
  for (const [sig, verified] of [
    [good, 1],
    [bad, 0],
  ] as const) {
    const a = new Writer().string("app/out").bytes(signer.publicKey).bytes(sig).finish();
    const r = ex.execute(
      request({
        code: opCode("test/probe"),
        opKey: "app/probe",
        records: touched(["app/out", null]),
        args: a,
        caller: signer.publicKey,
      }),
    );
    assert.ok(r.ok, r.ok ? "" : r.message);
    const v = r.writes[0]!.value!;
    assert.deepEqual(v.subarray(0, 32), nodeSha256(a));
    assert.equal(v[32], verified);
    assert.equal(v[33], 0); // app/out was absent
    assert.deepEqual(v.subarray(34, 66), signer.publicKey);
    const rest = new Writer().string("app/probe").string("app").finish();
    assert.deepEqual(v.subarray(66), rest);
  }
});

test("a malformed public key or signature verifies as false, never traps", () => {
  const ex = createExecutor();
  const a = new Writer()
    .string("app/out")
    .bytes(new Uint8Array(32).fill(0xff))
    .bytes(new Uint8Array(64))
    .finish();
  const r = ex.execute(
    request({ code: opCode("test/probe"), opKey: "app/probe", records: touched(["app/out", null]), args: a }),
  );
  assert.ok(r.ok);
  assert.equal(r.writes[0]!.value![32], 0);
});
