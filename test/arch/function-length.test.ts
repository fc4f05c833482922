// Functions stay short enough to read at once: none in the product (node/, client/, examples/,
// bench/) is longer than MAX_FUNCTION_LINES, except the few named below, each held to its length
// today so that it can only shrink. Reads the TypeScript sources with the compiler's parser.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { relative, sep } from "node:path";
import { sourceFiles } from "./sources.js";
import ts from "typescript";

const MAX_FUNCTION_LINES = 120;

/** Longer functions of today, as "file:name" → their length now (a ceiling: they may only shrink). */
const LONGER: Readonly<Record<string, number>> = {
  "node/exec/core/module.ts:parseModule": 242, // one pass over the Wasm sections, each bounded
  "examples/banking/demo.ts:demo": 233, // the narrated demo, step after step
  "node/exec/core/code.ts:planBody": 222, // one switch over the opcodes
  "client/submit.ts:receiptWithin": 133,
  "client/reads.ts:firstValid": 130,
};

/** Every function with a body in `src`, as name (anonymous ones by their enclosing name) and lines. */
function functionLengths(file: string, src: string): Array<{ name: string; lines: number }> {
  const sf = ts.createSourceFile(file, src, ts.ScriptTarget.Latest, true);
  const out: Array<{ name: string; lines: number }> = [];
  const visit = (n: ts.Node, enclosing: string): void => {
    let inner = enclosing;
    if (ts.isFunctionLike(n) && "body" in n && n.body !== undefined) {
      const first = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line;
      const last = sf.getLineAndCharacterOfPosition(n.end).line;
      const p = n.parent;
      const bound =
        p !== undefined &&
        (ts.isVariableDeclaration(p) || ts.isPropertyDeclaration(p) || ts.isPropertyAssignment(p))
          ? p.name.getText(sf)
          : undefined;
      inner = n.name?.getText(sf) ?? bound ?? `${enclosing}(anonymous)`;
      out.push({ name: inner, lines: last - first + 1 });
    }
    ts.forEachChild(n, (c) => visit(c, inner));
  };
  visit(sf, "");
  return out;
}

test(`no function in node/, client/, examples/, bench/, explorer/ is longer than ${MAX_FUNCTION_LINES} lines`, () => {
  const over: string[] = [];
  const seen = new Map<string, number>();
  for (const abs of sourceFiles("node", "client", "examples", "bench", "explorer")) {
    const file = relative(".", abs).split(sep).join("/");
    for (const f of functionLengths(file, readFileSync(abs, "utf8"))) {
      const id = `${file}:${f.name}`;
      if (f.lines <= MAX_FUNCTION_LINES) continue;
      seen.set(id, Math.max(seen.get(id) ?? 0, f.lines));
      const allowed = LONGER[id];
      if (allowed === undefined) over.push(`${id} has ${f.lines} lines (at most ${MAX_FUNCTION_LINES})`);
      else if (f.lines > allowed)
        over.push(`${id} grew to ${f.lines} lines (held at ${allowed}): shorten it`);
    }
  }
  assert.deepEqual(over, [], "split long functions into named steps");
  // The allow-list names only functions that are still long: a shortened one leaves it.
  const stale = Object.keys(LONGER).filter((id) => !seen.has(id));
  assert.deepEqual(stale, [], `no longer over ${MAX_FUNCTION_LINES} lines: remove from LONGER`);
});

test("function lengths are measured for every kind of function, anonymous ones by their place", () => {
  const src = [
    "function a() {\n  return 1;\n}",
    "class K {\n  m() {\n    const f = () => {\n      return 2;\n    };\n  }\n}",
    "const g = function () {};",
  ].join("\n");
  const got = functionLengths("x.ts", src).map((f) => `${f.name}:${f.lines}`);
  assert.deepEqual(got, ["a:3", "m:5", "f:3", "g:1"]);
  const anon = functionLengths("y.ts", "function outer() {\n  [1].map((x) => {\n    return x;\n  });\n}");
  assert.deepEqual(
    anon.map((f) => `${f.name}:${f.lines}`),
    ["outer:5", "outer(anonymous):3"],
  );
});
