// One name, one place: domain-separation tags are spelled only in node/common/tags.ts, and system
// record keys of the system domain only in node/common/system-keys.ts. Reads the TypeScript
// sources of the product (node/, client/).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { sourceFiles } from "./sources.js";
import { join } from "node:path";

/** String literals that look like a versioned tag (`arbor:…:v1`, or the old `arbor/…/v1`). */
const TAG_LITERAL = /["'`]arbor[:/][a-z0-9:/-]*v\d+["'`]/;
/** String literals naming a key of the system domain. */
const SYSTEM_KEY_LITERAL = /["'`]\.arbor\/[a-z]/;

test("domain-separation tags and system-domain keys are spelled in one place each", () => {
  const found: string[] = [];
  for (const file of sourceFiles("node", "client")) {
    const lines = readFileSync(file, "utf8").split("\n");
    lines.forEach((line, i) => {
      if (/^\s*(\/\/|\/\*|\*)/.test(line)) return;
      if (file !== join("node", "common", "tags.ts") && TAG_LITERAL.test(line))
        found.push(`${file}:${i + 1}: ${line.trim()}`);
      if (file !== join("node", "common", "system-keys.ts") && SYSTEM_KEY_LITERAL.test(line))
        found.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(
    found,
    [],
    "tags belong in node/common/tags.ts, system keys in node/common/system-keys.ts",
  );
});
