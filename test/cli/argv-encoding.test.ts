// The command line's raw bytes: UTF-8 arguments pass, any other bytes are a usage error.

import { test } from "node:test";
import assert from "node:assert/strict";
import { checkArgvEncoding } from "../../node/cli/argv-encoding.js";
import { UsageError } from "../../node/cli/args.js";

const utf8 = (s: string): number[] => [...new TextEncoder().encode(s)];

test("UTF-8 arguments pass; the first one that is not is named; node's own part is not checked", () => {
  checkArgvEncoding(null, 2);
  checkArgvEncoding(new Uint8Array([...utf8("node"), 0, ...utf8("get"), 0, ...utf8("clé/ü"), 0]), 2);
  checkArgvEncoding(new Uint8Array(0), 0);
  checkArgvEncoding(new Uint8Array([0xff, 0, ...utf8("bin.js"), 0, ...utf8("get"), 0]), 1);
  for (const bad of [[0xff], [0x63, 0xe9], [0xc3], [0xed, 0xa0, 0x80]]) {
    const line = new Uint8Array([...utf8("node"), 0, ...utf8("get"), 0, ...bad, 0]);
    assert.throws(
      () => checkArgvEncoding(line, 2),
      (e: unknown) => e instanceof UsageError && /is not valid UTF-8/.test(e.message),
      bad.join(","),
    );
  }
});
