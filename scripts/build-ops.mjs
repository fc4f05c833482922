// Compiles every AssemblyScript operation (system ops, banking ops, test probes) with asc into
// build/ops/. Reproducible: same sources and compiler → same bytes (a test builds twice and compares).
// Usage: node scripts/build-ops.mjs [--out DIR] [--only SUBSTRING]... [--quiet]
import { mkdirSync, readdirSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
process.chdir(ROOT); // asc records source paths relative to here, so the bytes do not depend on cwd

/** The asc flags of every op: the stub runtime (no GC, no floats in the runtime), speed-optimised. */
export const ASC_FLAGS = ["--runtime", "stub", "--optimizeLevel", "3", "--shrinkLevel", "0", "--noColors"];

function manifest() {
  const list = [
    { src: "ops/assembly/root_rule.ts", out: "system/root_rule.wasm" },
    { src: "ops/assembly/base_rule.ts", out: "system/base_rule.wasm" },
  ];
  for (const name of ["open", "mint", "transfer"])
    list.push({ src: `examples/banking/ops/assembly/${name}.ts`, out: `banking/${name}.wasm` });
  const testDir = "test/exec/assembly";
  if (existsSync(testDir))
    for (const f of readdirSync(testDir).sort())
      if (f.endsWith(".ts"))
        list.push({ src: `${testDir}/${f}`, out: `test/${f.replace(/\.ts$/, ".wasm")}` });
  return list;
}

async function main() {
  const argv = process.argv.slice(2);
  let out = "build/ops";
  const only = [];
  let quiet = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--out") out = argv[++i];
    else if (argv[i] === "--only") only.push(argv[++i]);
    else if (argv[i] === "--quiet") quiet = true;
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  const { default: asc } = await import("assemblyscript/asc");
  const ops = manifest().filter((o) => only.length === 0 || only.some((s) => o.src.includes(s)));
  let failed = 0;
  for (const op of ops) {
    const target = join(out, op.out);
    mkdirSync(dirname(target), { recursive: true });
    const errors = [];
    const { error } = await asc.main([op.src, "--outFile", target, ...ASC_FLAGS], {
      stdout: { write: () => true },
      stderr: { write: (s) => (errors.push(String(s)), true) },
    });
    if (error) {
      failed++;
      console.error(`build-ops: ${op.src} failed:\n${errors.join("")}`);
    } else if (!quiet) console.log(`build-ops: ${op.src} -> ${target}`);
  }
  if (failed > 0) process.exit(1);
}

await main();
