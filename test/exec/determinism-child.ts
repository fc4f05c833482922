// Child process of determinism.test.ts: runs the determinism cases and prints one JSON object
// {name: [distinct digests]} — one digest per case when the executor is deterministic. Modes:
//   (none)      one run of each case on a fresh executor
//   --repeat    1,000 runs of each case (100 for the slow ones) on one executor
//   --cache     three rounds in reverse order on an executor that holds one module, cache dropped
//               after the second round (every switch of operation recompiles)
// Progress goes to stderr, so a run that a deadline kills says which case and run it was in.

import { determinismCases } from "./determinism-cases.js";
import { createExecutor, digest } from "./helpers.js";
import type { ExecRequest } from "../../node/exec/index.js";

const mode = process.argv[2] ?? "";
const cases = determinismCases();
const seen = new Map<string, Set<string>>(cases.map(([name]) => [name, new Set<string>()]));
const note = (s: string) => process.stderr.write(`${s}\n`);

function run(ex: ReturnType<typeof createExecutor>, name: string, req: ExecRequest, i: number): void {
  if (i % 100 === 0) note(`${name} run ${i}`);
  seen.get(name)!.add(digest(ex.execute(req)));
}

if (mode === "--repeat") {
  const ex = createExecutor();
  for (const [name, req] of cases) {
    const runs = name === "loop" || name === "alloc" || name === "recursion" ? 100 : 1000;
    for (let i = 0; i < runs; i++) run(ex, name, req, i);
  }
} else if (mode === "--cache") {
  const ex = createExecutor({ cacheEntries: 1 });
  for (let round = 0; round < 3; round++)
    for (const [name, req] of [...cases].reverse()) {
      run(ex, name, req, round);
      if (round === 1) ex.clearCache();
    }
} else {
  const ex = createExecutor();
  for (const [name, req] of cases) run(ex, name, req, 0);
}
process.stdout.write(JSON.stringify(Object.fromEntries([...seen].map(([k, v]) => [k, [...v]]))) + "\n");
