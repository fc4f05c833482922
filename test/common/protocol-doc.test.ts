// docs/protocol.md stays true to the code where it names values: every row of its bounds table
// (§12) states the value the constant has in node/common/limits.ts, and every domain-separation
// tag the code uses is listed in its tag registry (§10).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as limits from "../../node/common/limits.js";
import * as tags from "../../node/common/tags.js";

const doc = readFileSync("docs/protocol.md", "utf8");

function section(title: string): string {
  const at = doc.indexOf(`\n## ${title}`);
  assert.ok(at >= 0, `docs/protocol.md has a section "${title}"`);
  const end = doc.indexOf("\n## ", at + 1);
  return doc.slice(at, end < 0 ? undefined : end);
}

test("protocol doc: every bound in the bounds table has the code's value", () => {
  const rows = [...section("12. Bounds").matchAll(/^\| `([A-Z0-9_]+)` +\| ([0-9,]+) +\|/gm)];
  assert.ok(rows.length >= 30, `found ${rows.length} rows`);
  const table = limits as unknown as Record<string, number | bigint | undefined>;
  for (const [, name, value] of rows) {
    const actual = table[name!];
    assert.notEqual(actual, undefined, `${name} is not in node/common/limits.ts`);
    assert.equal(value!.replace(/,/g, ""), String(actual), `${name}`);
  }
});

test("protocol doc: the tag registry lists every protocol tag of node/common/tags.ts", () => {
  const registry = section("10. Registries: tags and system records");
  for (const [name, tag] of Object.entries(tags)) {
    if (name === "BYZANTINE_FAKE_BLOCK_TAG") continue;
    assert.match(registry, new RegExp("\\| `" + tag.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "` "), name);
  }
});
