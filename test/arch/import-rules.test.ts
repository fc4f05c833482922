// Enforces the dependency rules of the design (imports flow one way) and keeps the pure cores
// free of clocks, randomness and I/O. Reads the TypeScript sources, so it fails on the code a
// developer wrote, not on compiler output.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statSync, existsSync } from "node:fs";
import { sourceFiles } from "./sources.js";
import { join, dirname, normalize, relative, sep } from "node:path";

const ROOT = process.cwd();

/** Folders whose code must be pure: deterministic, synchronous, no I/O. */
const CORE_DIRS = ["node/common", "node/store/core", "node/exec/core", "node/tob/core", "node/ledger"];
/** Packages a pure core may use (pure-JS, no I/O). */
const CORE_PACKAGES = ["@noble/hashes", "@noble/ed25519"];
/** Identifiers that mean time, randomness, environment or I/O. */
const CORE_BANNED = [
  /\bDate\b/,
  /\bMath\.random\b/,
  /\bperformance\b/,
  /\bsetTimeout\b/,
  /\bsetInterval\b/,
  /\bsetImmediate\b/,
  /\bprocess\./,
  /\bgetRandomValues\b/,
  /\brequire\(/,
  /\bfetch\(/,
];

/**
 * The SDK's layers, lowest first: a client file imports only files of lower layers (and, among the
 * portable parts, its own layer). Each layer names its files; a new client file must be placed.
 */
const CLIENT_LAYERS: readonly (readonly string[])[] = [
  // portable parts: errors, codecs, pure verification, bounded helpers, one node's transport
  [
    "errors",
    "limits",
    "deadline",
    "crypto",
    "types",
    "penalty-box",
    "holder-choice",
    "proofs",
    "verify",
    "receipt-check",
    "block-receipts-check",
    "genesis-root",
    "header-cache",
    "admission",
    "tagged-stream",
    "execute-stream",
    "receipt-stream",
    "transport",
    "transition",
    "light",
    "validator-history",
    "genesis-fetch",
    "change-follower",
  ],
  ["session"], // nodes and transport
  ["headers"], // certified headers
  ["reads", "queries", "freshness"], // verified reads; a fresh client's floor
  ["search"], // an off-chain index's answers, re-read with verified GETs
  ["membership", "members"], // eviction records; member records and MEMBER requests
  ["prepare", "submit"], // writes and receipts
  ["audit"],
  ["complaints"],
  ["client"], // the thin ArborClient
  ["index", "portable"], // the package's entries: the full SDK, and its portable parts alone
];

function clientLayer(file: string): number {
  const name = /^client\/([^/]+)\.(?:ts|js)$/.exec(file)?.[1];
  return CLIENT_LAYERS.findIndex((l) => name !== undefined && l.includes(name));
}

function rel(p: string): string {
  return relative(ROOT, p).split(sep).join("/");
}

function importsOf(src: string): string[] {
  const out: string[] = [];
  const re =
    /(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|import\s+["']([^"']+)["']/g;
  for (let m; (m = re.exec(src));) out.push((m[1] ?? m[2] ?? m[3])!);
  return out;
}

function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

function coreOf(file: string): string | undefined {
  return CORE_DIRS.find((d) => file === d || file.startsWith(d + "/"));
}

const files = sourceFiles(...["node", "client", "ops", "examples", "explorer"].map((d) => join(ROOT, d)));

/**
 * What the explorer's page (explorer/app, bundled for browsers) may import: the SDK's portable
 * entry only (so the page checks answers exactly as the SDK does, and never pulls in gRPC or
 * node:*), the generated protobuf types, its own files, and the Connect client packages.
 */
const EXPLORER_PACKAGES = ["@connectrpc/connect", "@connectrpc/connect-web"];

/** The project file a relative import names (`./x.js` is the source `./x.ts`), if it is one. */
function resolveImport(fromFile: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const target = normalize(join(dirname(fromFile), spec));
  for (const cand of [target.replace(/\.js$/, ".ts"), target, target + ".ts", join(target, "index.ts")])
    if (cand.endsWith(".ts") && existsSync(cand) && statSync(cand).isFile()) return cand;
  return undefined;
}

/** Each source file's project imports (type-only imports count: a type loop is a design loop too). */
function importGraph(sources: readonly string[]): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const f of sources) {
    const targets = importsOf(stripComments(readFileSync(f, "utf8")))
      .map((spec) => resolveImport(f, spec))
      .filter((t): t is string => t !== undefined);
    edges.set(f, [...new Set(targets)]);
  }
  return edges;
}

/** One cycle of the graph as the list of nodes around it, or null (iterative depth-first search). */
function findCycle(edges: ReadonlyMap<string, readonly string[]>): string[] | null {
  const colour = new Map<string, 1 | 2>(); // 1: on the current path, 2: done
  for (const start of edges.keys()) {
    if (colour.has(start)) continue;
    const path: string[] = [start];
    const next: number[] = [0];
    colour.set(start, 1);
    while (path.length > 0) {
      const at = path[path.length - 1]!;
      const outs = edges.get(at) ?? [];
      const i = next[next.length - 1]!;
      if (i === outs.length) {
        colour.set(at, 2);
        path.pop();
        next.pop();
        continue;
      }
      next[next.length - 1] = i + 1;
      const to = outs[i]!;
      const c = colour.get(to);
      if (c === 1) return [...path.slice(path.indexOf(to)), to];
      if (c === undefined && edges.has(to)) {
        colour.set(to, 1);
        path.push(to);
        next.push(0);
      }
    }
  }
  return null;
}

test("no import cycle among the project's files (type-only imports included)", () => {
  const graph = importGraph(
    sourceFiles(...["node", "client", "examples", "bench", "explorer"].map((d) => join(ROOT, d))),
  );
  // The graph is real: imports resolve to files (else the check would pass vacuously).
  const ledger = [...graph].find(([f]) => rel(f) === "node/ledger/ledger.ts");
  assert.ok(ledger && ledger[1].some((t) => rel(t) === "node/ledger/evidence.ts"));
  const cycle = findCycle(graph);
  assert.equal(cycle, null, `import cycle: ${cycle?.map(rel).join(" → ")}`);
});

test("the cycle finder finds cycles, self-imports included, and accepts a diamond", () => {
  const g = (o: Record<string, string[]>) => new Map(Object.entries(o));
  assert.deepEqual(findCycle(g({ a: ["b"], b: ["c"], c: ["a"], d: ["a"] })), ["a", "b", "c", "a"]);
  assert.deepEqual(findCycle(g({ a: ["a"] })), ["a", "a"]);
  assert.equal(findCycle(g({ a: ["b", "c"], b: ["d"], c: ["d"], d: [] })), null);
});

test("source tree is found", () => {
  assert.ok(files.length > 0);
});

for (const abs of files) {
  const file = rel(abs);
  const src = readFileSync(abs, "utf8");
  const imports = importsOf(src);
  const core = coreOf(file);

  if (core) {
    test(`core file ${file} is pure`, () => {
      for (const spec of imports) {
        if (spec.startsWith(".")) {
          const target = rel(normalize(join(dirname(abs), spec)));
          assert.ok(coreOf(target), `${file} imports ${target}, which is not a pure core`);
        } else {
          assert.ok(
            CORE_PACKAGES.some((p) => spec === p || spec.startsWith(p + "/")),
            `${file} imports package ${spec}; cores may use only ${CORE_PACKAGES.join(", ")}`,
          );
        }
      }
      const code = stripComments(src);
      for (const re of CORE_BANNED)
        assert.ok(!re.test(code), `${file} uses ${re.source} (clock, randomness or I/O)`);
    });
  }

  if (file.startsWith("explorer/")) {
    test(`explorer file ${file} imports only the SDK's portable entry and its own files`, () => {
      for (const spec of imports) {
        if (spec.startsWith(".")) {
          const target = rel(normalize(join(dirname(abs), spec)));
          const ok =
            target === "client/portable.js" ||
            target.startsWith("proto/gen/") ||
            target.startsWith("explorer/");
          assert.ok(ok, `${file} imports ${target}`);
        } else assert.ok(EXPLORER_PACKAGES.includes(spec), `${file} imports package ${spec}`);
      }
    });
  }

  if (/^client\/[^/]+\.ts$/.test(file)) {
    test(`client file ${file} sits in a layer of the SDK`, () => {
      assert.ok(clientLayer(file) >= 0, `${file} is in no layer of CLIENT_LAYERS`);
    });
  }

  if (file.startsWith("client/")) {
    test(`client file ${file} imports only portable code`, () => {
      for (const spec of imports) {
        if (spec.startsWith(".")) {
          const target = rel(normalize(join(dirname(abs), spec)));
          const ok =
            target.startsWith("client/") || target.startsWith("proto/") || coreOf(target) !== undefined;
          assert.ok(ok, `${file} imports server code ${target}`);
          if (target.startsWith("client/")) {
            const from = clientLayer(file);
            const to = clientLayer(target);
            // The portable parts (layer 0) may use each other; any other layer only those below it.
            assert.ok(
              to >= 0 && (to < from || (from === 0 && to === 0)),
              `${file} (layer ${from}) imports ${target} (layer ${to}): client imports flow one way`,
            );
          }
        } else assert.ok(!spec.startsWith("node:fs") || file.includes("/cli"), `${file} imports ${spec}`);
      }
    });
  }

  // The CLI is a client of the nodes (it drives them through the SDK); no server code may be.
  const isCli = file.startsWith("node/cli/") || file === "node/bin.ts";
  if (file.startsWith("node/")) {
    test(`node file ${file} never imports the client`, () => {
      for (const spec of imports.filter((s) => s.startsWith("."))) {
        const target = rel(normalize(join(dirname(abs), spec)));
        if (!isCli) assert.ok(!target.startsWith("client/"), `${file} imports ${target}`);
        // A shell of one subsystem must not reach into another subsystem's shell.
        const sub = /^node\/(store|exec|tob)\//.exec(file)?.[1];
        const tsub = /^node\/(store|exec|tob)\//.exec(target)?.[1];
        if (sub && tsub && sub !== tsub)
          assert.ok(coreOf(target), `${file} imports another subsystem's shell ${target}`);
      }
    });
  }
}
