// The generated protobuf code is committed; this checks it is what the schemas generate today.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

function files(dir: string, out: string[] = []): string[] {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) files(p, out);
    else out.push(p);
  }
  return out;
}

test("proto/gen is fresh", () => {
  const out = mkdtempSync(join(tmpdir(), "arbor-proto-"));
  try {
    const bin = join(process.cwd(), "node_modules", ".bin");
    execFileSync(join(bin, "buf"), ["generate", "--output", out], {
      stdio: "pipe",
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` },
    });
    const fresh = files(join(out, "proto", "gen"))
      .map((f) => relative(join(out, "proto", "gen"), f))
      .sort();
    const committed = files(join("proto", "gen"))
      .map((f) => relative(join("proto", "gen"), f))
      .sort();
    assert.deepEqual(committed, fresh, "generated file set differs: run npm run gen:proto");
    for (const f of fresh)
      assert.equal(
        readFileSync(join("proto", "gen", f), "utf8"),
        readFileSync(join(out, "proto", "gen", f), "utf8"),
        `${f} is stale: run npm run gen:proto`,
      );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
