// Data-driven tests of the consensus core: every script in test/tob/scripts/*.json (format in
// scripts/format.ts) is fed to a fresh core, step by step, and its intents compared with the script.

import { test } from "node:test";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { runScript } from "./scripts/runner.js";
import type { Script } from "./scripts/format.js";

const DIR = join(process.cwd(), "test", "tob", "scripts");

for (const file of readdirSync(DIR)
  .filter((f) => f.endsWith(".json"))
  .sort()) {
  const script = JSON.parse(readFileSync(join(DIR, file), "utf8")) as Script;
  test(`script ${file}: ${script.description}`, () => runScript(script));
}
