// Compile once per (code hash, metering version); the cache is a bounded LRU; invalid modules are
// remembered too; an entry is keyed by content, so equal bytes share it.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Lru } from "../../node/exec/core/cache.js";
import { nodeSha256 } from "../../node/exec/host-crypto.js";
import { build, op } from "./wasm-builder.js";
import { createExecutor, opCode, request, touched, args } from "./helpers.js";

test("a module is compiled once, however often it runs", () => {
  const ex = createExecutor();
  const code = opCode("test/hostile_state");
  const req = request({
    code,
    opKey: "d/op",
    records: touched(["d/x", null]),
    args: args((w) => w.string("d/x")),
  });
  for (let i = 0; i < 50; i++) assert.ok(ex.execute(req).ok);
  assert.ok(ex.execute({ ...req, code: code.slice() }).ok); // equal bytes, another array
  assert.ok(ex.execute({ ...req, codeHash: nodeSha256(code) }).ok);
  assert.equal(ex.compiles, 1);
});

test("invalid modules are remembered, not re-validated", () => {
  const ex = createExecutor();
  const bad = build({
    funcs: [
      {
        type: 0,
        body: [...op.f64_const(1), ...op.f64_const(1), ...op.f64_add, ...op.drop, ...op.i32_const(0)],
      },
    ],
  });
  for (let i = 0; i < 5; i++) assert.equal(ex.execute(request({ code: bad, opKey: "d/op" })).ok, false);
  assert.equal(ex.compiles, 1);
});

test("the cache is bounded and evicts the least recently used module", () => {
  const ex = createExecutor({ cacheEntries: 2 });
  const mods = [1, 2, 3].map((k) =>
    build({
      funcs: [{ type: 0, body: op.i32_const(16 * k) }],
      data: [{ offset: 16 * k, bytes: [1, 0, 0, 0, 0] }],
    }),
  );
  const run = (i: number) => assert.ok(ex.execute(request({ code: mods[i]!, opKey: "d/op" })).ok);
  run(0);
  run(1);
  run(0); // 0 is now the most recent
  run(2); // evicts 1
  assert.equal(ex.compiles, 3);
  run(0);
  assert.equal(ex.compiles, 3);
  run(1);
  assert.equal(ex.compiles, 4);
});

test("Lru keeps at most its capacity", () => {
  const l = new Lru<number, number>(3);
  for (let i = 0; i < 10; i++) l.set(i, i);
  assert.equal(l.size, 3);
  assert.equal(l.get(6), undefined);
  assert.equal(l.get(9), 9);
});
