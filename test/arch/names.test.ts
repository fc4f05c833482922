// One name, one meaning: no two exported classes, interfaces, type aliases or enums of the product
// (node/, client/) share a name, so that a name read anywhere says which thing it is (there were two
// classes called Ledger and two Evidence types). Re-exports (`export type { X } from …`) are not
// declarations and may repeat a name. Generated code is not ours to name and is skipped.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { sourceFiles } from "./sources.js";

const DECLARATION =
  /^export\s+(?:declare\s+)?(?:abstract\s+)?(?:const\s+)?(?:class|interface|type|enum)\s+([A-Za-z_$][\w$]*)/gm;

/** Each exported type-level name with the files declaring it. */
function declaredNames(files: readonly { file: string; src: string }[]): Map<string, string[]> {
  const where = new Map<string, string[]>();
  for (const { file, src } of files)
    for (const m of src.matchAll(DECLARATION)) where.set(m[1]!, [...(where.get(m[1]!) ?? []), file]);
  return where;
}

test("no two exported classes, interfaces, types or enums in node/ and client/ share a name", () => {
  const files = sourceFiles("node", "client").map((file) => ({
    file,
    src: readFileSync(file, "utf8"),
  }));
  const names = declaredNames(files);
  assert.ok(names.has("SignatureVerifier"), "declarations are found");
  const clashes = [...names].filter(([, at]) => at.length > 1).map(([n, at]) => `${n}: ${at.join(", ")}`);
  assert.deepEqual(clashes, [], "rename one of each pair so a name means one thing");
});

test("the name check sees every kind of declaration and ignores re-exports", () => {
  const names = declaredNames([
    { file: "a.ts", src: "export class A {}\nexport interface B {}\nexport type { C } from './c.js';" },
    { file: "b.ts", src: "export abstract class A {}\nexport type B = number;\nexport const enum E {}" },
  ]);
  assert.deepEqual(names.get("A"), ["a.ts", "b.ts"]);
  assert.deepEqual(names.get("B"), ["a.ts", "b.ts"]);
  assert.deepEqual(names.get("E"), ["b.ts"]);
  assert.equal(names.has("C"), false);
});
