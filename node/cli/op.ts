// `arbor op build SRC.ts --out FILE` (AssemblyScript → Wasm, with the flags every Arbor op is
// built with), `arbor op check FILE` (the node's own validation and metering, run locally), and
// `arbor op deploy KEY FILE` (writes the module at KEY through the domain's .base_rule).
import { mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { ArborError } from "../common/errors.js";
import { checkModule, type CheckResult } from "../exec/index.js";
import { parseArgs, requireString, UsageError, type FlagKind } from "./args.js";
import { Output } from "./output.js";
import { TARGET_FLAGS, withClient } from "./connect.js";
import { receiptJson, receiptLine, warnEphemeral } from "./receipt-view.js";

/** The same flags as scripts/build-ops.mjs (a test keeps them equal): stub runtime, speed-optimised. */
export const ASC_FLAGS = ["--runtime", "stub", "--optimizeLevel", "3", "--shrinkLevel", "0", "--noColors"];

export class OpError extends ArborError {}

interface Asc {
  main(
    argv: string[],
    opts: { stdout: { write(s: string): boolean }; stderr: { write(s: string): boolean } },
  ): Promise<{ error: Error | null }>;
}

function readModule(file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new UsageError(`${file}: ${(e as Error).message}`);
  }
}

/** Validates a module as a node would; throws OpError with the node's code when it is refused. */
function checked(file: string, bytes: Uint8Array): Extract<CheckResult, { ok: true }> {
  const r = checkModule(bytes);
  if (!r.ok) throw new OpError(r.code, `${file} would be refused by the nodes: ${r.message}`);
  return r;
}

function describe(file: string, bytes: Uint8Array, r: Extract<CheckResult, { ok: true }>): string {
  return `${file}: valid operation, ${bytes.length} bytes (${r.instrumentedBytes} metered), ${r.functions} functions, ${r.initialPages} initial memory pages, imports ${r.imports.length ? r.imports.map((i) => `${i.module}.${i.name}`).join(", ") : "none"}`;
}

async function build(argv: string[]): Promise<number> {
  const a = parseArgs(argv, { out: "string", json: "bool" } as Record<string, FlagKind>);
  if (a.positional.length !== 1) throw new UsageError("op build needs exactly one SRC.ts");
  const src = a.positional[0]!;
  const outFile = requireString(a, "out");
  const out = new Output(a.bools.has("json"));
  let asc: Asc;
  try {
    asc = (await import("assemblyscript/asc" as string)) as Asc;
  } catch {
    throw new OpError(
      "op/no-compiler",
      "the AssemblyScript compiler is not installed (npm install --save-dev assemblyscript)",
    );
  }
  mkdirSync(dirname(outFile) || ".", { recursive: true });
  const diagnostics: string[] = [];
  const { error } = await asc.main([src, "--outFile", outFile, ...ASC_FLAGS], {
    stdout: { write: () => true },
    stderr: { write: (s: string) => (diagnostics.push(String(s)), true) },
  });
  if (error) {
    process.stderr.write(diagnostics.join(""));
    throw new OpError("op/compile-failed", `${src} did not compile (compiler output above)`);
  }
  const bytes = readModule(outFile);
  const r = checked(outFile, bytes);
  out.line(`built ${src} -> ${outFile}`);
  out.line(describe(outFile, bytes, r));
  out.doc({ source: src, file: outFile, bytes: bytes.length, ...r });
  return 0;
}

async function check(argv: string[]): Promise<number> {
  const a = parseArgs(argv, { json: "bool" });
  if (a.positional.length !== 1) throw new UsageError("op check needs exactly one FILE");
  const file = a.positional[0]!;
  const out = new Output(a.bools.has("json"));
  const bytes = readModule(file);
  const r = checked(file, bytes);
  out.line(describe(file, bytes, r));
  out.doc({ file, bytes: bytes.length, ...r });
  return 0;
}

async function deploy(argv: string[]): Promise<number> {
  const a = parseArgs(argv, TARGET_FLAGS);
  if (a.positional.length !== 2) throw new UsageError("op deploy needs KEY and FILE");
  const [key, file] = a.positional as [string, string];
  if (key.lastIndexOf("/") <= 0) throw new UsageError(`${key}: an operation key is DOMAIN/NAME`);
  const out = new Output(a.bools.has("json"));
  const bytes = readModule(file);
  checked(file, bytes); // refuse locally what every node would refuse at its first call
  return withClient(a, async (c, t) => {
    warnEphemeral(t.keySource);
    const r = await c.deployOp(key, bytes);
    out.line(receiptLine(`deploy ${key} (${bytes.length} bytes)`, r));
    out.doc({ key, bytes: bytes.length, receipt: receiptJson(r) });
    return 0;
  });
}

export async function opCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case "build":
      return build(rest);
    case "check":
      return check(rest);
    case "deploy":
      return deploy(rest);
    default:
      throw new UsageError(
        `op ${sub ?? ""}: want \`op build SRC.ts --out FILE\`, \`op check FILE\` or \`op deploy KEY FILE\``,
      );
  }
}
