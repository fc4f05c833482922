// The wire-type pass that runs before a request is decoded (node/net/wire-types.ts): bytes that
// protobuf-es alone would read as some message, but that give a known field the wrong wire type or
// run past their end, are refused; everything a real encoder makes passes, unknown fields included.
import { test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  BlockReceiptsRequestSchema,
  ExecuteRequestSchema,
  GetRequestSchema,
  HeadersRequestSchema,
  ReceiptSubscriptionSchema,
  TaggedGetRequestSchema,
} from "../../proto/gen/arbor/v1/client_pb.js";
import { checkWireTypes } from "../../node/net/wire-types.js";

const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/ /g, ""), "hex"));
const ascii = (s: string) => Buffer.from(s).toString("hex");

test("bytes protobuf-es would misread are refused", () => {
  const cases = [
    // uint64 height sent as 5 length-delimited bytes, none there
    { schema: BlockReceiptsRequestSchema, bytes: hex("0a05") },
    // repeated string keys sent as a varint, then the text as more fields
    { schema: GetRequestSchema, bytes: hex("080b" + ascii("bank/.owner")) },
    // uint64 from_height sent as a 32-bit and a 64-bit value with 1 byte of 4 or 8
    { schema: HeadersRequestSchema, bytes: hex("0d01") },
    { schema: HeadersRequestSchema, bytes: hex("0901") },
    // a good key, then bool for_execute sent as 5 length-delimited bytes, none there
    { schema: GetRequestSchema, bytes: hex("0a0b" + ascii("bank/.owner") + "1a05") },
    // bytes request sent as a varint, then wire type 7
    { schema: ExecuteRequestSchema, bytes: hex("0801 17") },
    // the wrong wire type inside a nested message: keys of the inner GetRequest as a varint
    { schema: TaggedGetRequestSchema, bytes: hex("0801 1202 0801") },
    // a nested message that runs past its field
    { schema: TaggedGetRequestSchema, bytes: hex("0801 1204 0a05 6162") },
    // an unknown field with an invalid wire type, and one cut short
    { schema: GetRequestSchema, bytes: hex("7f01") },
    { schema: GetRequestSchema, bytes: hex("5a05 01") },
    // varints of 11 bytes, or of 10 past 2^64 - 1, in an unknown field and in a known one
    { schema: GetRequestSchema, bytes: hex("78 ffffffffffffffffffff01") },
    { schema: GetRequestSchema, bytes: hex("78 ffffffffffffffffff02") },
    { schema: HeadersRequestSchema, bytes: hex("08 ffffffffffffffffff7f") },
  ];
  for (const { schema, bytes } of cases) {
    assert.throws(() => checkWireTypes(schema, bytes), Error, Buffer.from(bytes).toString("hex"));
  }
  // Each of the first six is taken by protobuf-es alone: the pass is what refuses them.
  for (const { schema, bytes } of cases.slice(0, 6)) assert.doesNotThrow(() => fromBinary(schema, bytes));
});

test("what an encoder makes passes, unknown fields and empty messages included", () => {
  const good: [Parameters<typeof checkWireTypes>[0], Uint8Array][] = [
    [
      GetRequestSchema,
      toBinary(GetRequestSchema, create(GetRequestSchema, { keys: ["a", "é"], forExecute: true })),
    ],
    [
      TaggedGetRequestSchema,
      toBinary(
        TaggedGetRequestSchema,
        create(TaggedGetRequestSchema, { tag: 1n << 63n, request: { keys: ["x"] } }),
      ),
    ],
    [
      HeadersRequestSchema,
      toBinary(HeadersRequestSchema, create(HeadersRequestSchema, { fromHeight: 7n, maxCount: 3 })),
    ],
    [
      ReceiptSubscriptionSchema,
      toBinary(
        ReceiptSubscriptionSchema,
        create(ReceiptSubscriptionSchema, { requestIds: [new Uint8Array(32)] }),
      ),
    ],
    [ExecuteRequestSchema, new Uint8Array(0)],
    // unknown fields of every valid wire type: varint, 64-bit, length-delimited, 32-bit, a group
    [GetRequestSchema, hex("a006 01  a906 0102030405060708  b206 0161  bd06 01020304  c306 c806 01 c406")],
  ];
  for (const [schema, bytes] of good) assert.doesNotThrow(() => checkWireTypes(schema, bytes));
});
