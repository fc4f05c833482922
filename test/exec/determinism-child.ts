// Child process of determinism.test.ts: runs every determinism case on a fresh executor and prints
// one JSON object {name: digest}.

import { determinismCases } from "./determinism-cases.js";
import { createExecutor, digest } from "./helpers.js";

const ex = createExecutor();
const out: Record<string, string> = {};
for (const [name, req] of determinismCases()) out[name] = digest(ex.execute(req));
process.stdout.write(JSON.stringify(out) + "\n");
