// The size bounds agree with each other: everything the documentation allows at its bound fits
// every layer the bytes pass through — a largest value (or module) in a write's arguments, the
// largest request in its decoder, in a gossip message, in a block and in a gRPC message, a proof
// carrying a largest value, an operation's input in its memory, a module's data in its initial
// memory — and one byte over a bound is refused with that bound's code.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Writer } from "../../node/common/codec.js";
import { ArborError } from "../../node/common/errors.js";
import {
  ARGS_FRAMING_BYTES,
  MAX_ARGS_BYTES,
  MAX_GAS_LIMIT,
  MAX_KEY_BYTES,
  MAX_MODULE_BYTES,
  MAX_PROOF_BYTES,
  MAX_REQUEST_BODY_BYTES,
  MAX_TOUCHED_KEYS,
  MAX_VALUE_BYTES,
  MAX_WASM_INITIAL_PAGES,
  MAX_WASM_MEMORY_PAGES,
  TOB_MAX_BLOCK_BYTES,
  TOB_MAX_MESSAGE_BYTES,
  TOB_MAX_REQUEST_BYTES,
} from "../../node/common/limits.js";
import { checkArgsSize, checkModuleSize, checkValueSize } from "../../node/common/bounds.js";
import {
  assembleSignedRequest,
  decodeSignedRequest,
  encodeRequestBody,
  sortKeys,
} from "../../node/ledger/request.js";
import { decodeMessage, encodeMessage } from "../../node/tob/core/wire.js";
import { encodeProof } from "../../node/store/core/proof-codec.js";
import { MerkleTree } from "../../node/store/core/tree.js";
import { prove } from "../../node/store/core/proof.js";
import { keyPath } from "../../node/store/core/path.js";
import { encodeInput } from "../../node/exec/core/io.js";
import { GRPC_MAX_MESSAGE_BYTES } from "../../proto/grpc.js";

const PAGE = 64 * 1024;

function codeOf(f: () => void): string {
  try {
    f();
    return "ok";
  } catch (e) {
    return e instanceof ArborError ? e.code : String(e);
  }
}

/** A key of exactly `n` UTF-8 bytes in domain `d`, distinct per `i`. */
function longKey(d: string, i: number, n = MAX_KEY_BYTES): string {
  const head = `${d}/${String(i).padStart(4, "0")}`;
  return head + "x".repeat(n - head.length);
}

test("each size bound: at the bound passes, one byte over gets the bound's code", () => {
  for (const [check, max, code] of [
    [checkValueSize, MAX_VALUE_BYTES, "value/too-large"],
    [checkModuleSize, MAX_MODULE_BYTES, "module/too-large"],
    [checkArgsSize, MAX_ARGS_BYTES, "request/args-too-large"],
  ] as const) {
    assert.equal(
      codeOf(() => check(max)),
      "ok",
    );
    assert.equal(
      codeOf(() => check(max + 1)),
      code,
    );
  }
  assert.ok(MAX_MODULE_BYTES <= MAX_VALUE_BYTES, "a module is a record value");
});

test("a write of the largest value under the longest key fits the arguments", () => {
  // .base_rule's arguments: varint n ‖ n × (key ‖ u8 kind ‖ value)
  const args = new Writer()
    .varint(1)
    .string(longKey("d", 0))
    .u8(1)
    .bytes(new Uint8Array(MAX_VALUE_BYTES))
    .finish();
  assert.ok(args.length <= MAX_ARGS_BYTES, `${args.length} > ${MAX_ARGS_BYTES}`);
  assert.ok(MAX_ARGS_BYTES - args.length < ARGS_FRAMING_BYTES);
});

test("the largest request decodes and fits a gossip message, a block and a gRPC message", () => {
  const touched = sortKeys(Array.from({ length: MAX_TOUCHED_KEYS }, (_, i) => longKey("d", i)));
  const body = encodeRequestBody({
    op: longKey("d", 9999),
    touched,
    proof: new Uint8Array(MAX_PROOF_BYTES),
    args: new Uint8Array(MAX_ARGS_BYTES),
    gasLimit: MAX_GAS_LIMIT,
    caller: new Uint8Array(32),
    nonce: (1n << 64n) - 1n,
    validUntil: (1n << 64n) - 1n,
  });
  assert.ok(body.length <= MAX_REQUEST_BODY_BYTES, `${body.length} > ${MAX_REQUEST_BODY_BYTES}`);
  const signed = assembleSignedRequest(body, new Uint8Array(64));
  assert.ok(signed.length <= TOB_MAX_REQUEST_BYTES);
  assert.equal(decodeSignedRequest(signed).args.length, MAX_ARGS_BYTES);
  const gossip = encodeMessage({ kind: "requests", requests: [signed] });
  assert.ok(gossip.length <= TOB_MAX_MESSAGE_BYTES);
  assert.equal(decodeMessage(gossip).kind, "requests");
  assert.ok(TOB_MAX_REQUEST_BYTES <= TOB_MAX_BLOCK_BYTES, "a block holds the largest request");
  assert.ok(TOB_MAX_MESSAGE_BYTES <= GRPC_MAX_MESSAGE_BYTES, "gRPC carries every consensus message");
  assert.ok(MAX_PROOF_BYTES + 64 * 1024 <= GRPC_MAX_MESSAGE_BYTES, "gRPC carries every GET reply");
});

test("a proof carrying the largest value fits MAX_PROOF_BYTES", () => {
  const t = new MerkleTree();
  t.set("d/big", new Uint8Array(MAX_VALUE_BYTES));
  for (let i = 0; i < 100; i++) t.set(`d/k${i}`, new Uint8Array(8));
  const p = encodeProof(
    prove(t, [keyPath("d/big"), ...Array.from({ length: 63 }, (_, i) => keyPath(`d/k${i}`))]),
  );
  assert.ok(p.length <= MAX_PROOF_BYTES, `${p.length} > ${MAX_PROOF_BYTES}`);
});

test("an operation's input at its bounds fits its memory; a module's data fits the initial memory", () => {
  const input = encodeInput(new Uint8Array(32), longKey("d", 9999), new Uint8Array(MAX_ARGS_BYTES), [
    { key: "d/big", value: new Uint8Array(MAX_VALUE_BYTES) },
  ]);
  assert.ok(input.blob.length > MAX_ARGS_BYTES + MAX_VALUE_BYTES);
  // The input (at most its arguments and the values its proof carries) and the op's own copy of
  // what it writes stay within the largest memory.
  assert.ok(MAX_ARGS_BYTES + MAX_PROOF_BYTES + MAX_VALUE_BYTES <= MAX_WASM_MEMORY_PAGES * PAGE);
  assert.ok(MAX_MODULE_BYTES <= MAX_WASM_INITIAL_PAGES * PAGE);
});

test("the bounds' relations hold, and breaking one is reported at load", async () => {
  const { limitViolations, assertLimitsConsistent } = await import("../../node/common/limits-consistency.js");
  const limits = await import("../../node/common/limits.js");
  assert.deepEqual(limitViolations(), []);
  const broken = { ...limits, TOB_MAX_BLOCK_BYTES: limits.TOB_MAX_REQUEST_BYTES - 1 };
  assert.deepEqual(limitViolations(broken), ["the largest request fits in a block"]);
  assert.throws(() => assertLimitsConsistent(broken), /the largest request fits in a block/);
});
