// The packages others install (docs/packages.md): `npm install` links the `arbor` bin of the
// @arbor/node workspace and it answers without building; the SDK package, packed and installed
// alone into a scratch project, runs there with only its declared dependencies (no `level`, no node
// code), and its portable entry imports no gRPC and no node:* module; with @arbor/ops installed
// too, that project compiles an operation of its own, which a running cluster executes, and reads
// its write through the installed SDK, verified against a certified root.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Cluster } from "../cluster/cluster.js";
import { ArborClient, generateKey } from "../../client/index.js";
import { Writer } from "../../node/common/codec.js";
import { ROOT } from "./helpers.js";

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** npm as the test runner's npm (under `npm test`) or the one on PATH; npm_* variables dropped. */
const NPM_CLI = process.env.npm_execpath?.endsWith(".js") ? process.env.npm_execpath : undefined;
const CLEAN_ENV = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith("npm_")),
);

function exec(cmd: string, args: readonly string[], cwd: string, timeoutMs = 60_000): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd, env: CLEAN_ENV, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.once("error", reject);
    p.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function npm(args: readonly string[], cwd: string): Promise<Ran> {
  return NPM_CLI ? exec(process.execPath, [NPM_CLI, ...args], cwd) : exec("npm", args, cwd);
}

const SDK_DIR = join(ROOT, "client");
interface PackageJson {
  readonly name: string;
  readonly dependencies?: Record<string, string>;
}
const SDK = JSON.parse(readFileSync(join(SDK_DIR, "package.json"), "utf8")) as PackageJson;
const SDK_DEPS = Object.keys(SDK.dependencies ?? {});
const BROWSER_BANNED = ["@grpc/grpc-js"];

let work: string;
let scratch: string;
/** How the SDK got into the scratch project (npm from its cache, npm from the registry, or unpacked). */
let installedBy: string;
/** Whether a package was unpacked by the test, npm being unable to install it. */
let unpacked = false;
let c: Cluster | undefined;
const clients: ArborClient[] = [];

/** The package's name for a bare import specifier (`@scope/name/sub` → `@scope/name`). */
function packageOf(spec: string): string {
  const parts = spec.split("/");
  return spec.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/** Bare specifiers imported (statically or dynamically) by the files reachable from `entry`. */
function bareImports(entry: string): Map<string, string> {
  const found = new Map<string, string>();
  const seen = new Set<string>();
  const re =
    /(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|import\s+["']([^"']+)["']/g;
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(file, "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/^\s*\/\/.*$/gm, "");
    for (const m of code.matchAll(re)) {
      const spec = (m[1] ?? m[2] ?? m[3])!;
      if (spec.startsWith(".")) visit(join(dirname(file), spec));
      else if (!found.has(spec)) found.set(spec, file);
    }
  };
  visit(entry);
  return found;
}

/**
 * Without a registry and without the packages in npm's cache, npm cannot install anything; the
 * test then does what npm would: unpacks the tarball into node_modules and links the package's
 * declared dependencies (and theirs, by their package.json) from this repository's node_modules.
 * The package's own files still resolve only what it declares.
 */
async function unpackInstall(tarball: string, pkg: PackageJson): Promise<void> {
  const nm = join(scratch, "node_modules");
  mkdirSync(join(nm, "@arbor"), { recursive: true });
  const r = await exec("tar", ["-xzf", tarball, "-C", work], work);
  assert.equal(r.code, 0, r.stderr);
  renameSync(join(work, "package"), join(nm, pkg.name));
  const todo = Object.keys(pkg.dependencies ?? {});
  const linked = new Set<string>();
  while (todo.length > 0) {
    const name = todo.pop()!;
    if (linked.has(name) || existsSync(join(nm, name))) continue;
    linked.add(name);
    const from = join(ROOT, "node_modules", name);
    if (!existsSync(from)) continue; // not hoisted: it sits inside its dependent, linked with it
    mkdirSync(dirname(join(nm, name)), { recursive: true });
    symlinkSync(from, join(nm, name));
    const dep = JSON.parse(readFileSync(join(from, "package.json"), "utf8")) as PackageJson;
    todo.push(...Object.keys(dep.dependencies ?? {}));
  }
}

/** Packs the workspace in `dir` and installs the tarball into the scratch project; says how. */
async function packAndInstall(dir: string, extra: readonly string[] = []): Promise<string> {
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as PackageJson;
  const packed = await npm(["pack", dir, "--pack-destination", work, "--json"], work);
  assert.equal(packed.code, 0, `npm pack failed: ${packed.stderr}`);
  const tarball = join(work, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
  const install = ["install", "--no-audit", "--no-fund", "--no-package-lock", ...extra, tarball];
  // The packages are in npm's cache after the repository's own install: no network needed. Once
  // one package was unpacked, npm is not asked again: it would remove what it did not install.
  if (!unpacked) {
    if ((await npm([...install, "--offline"], scratch)).code === 0) return "npm (offline, from its cache)";
    if ((await npm([...install, "--prefer-offline"], scratch)).code === 0) return "npm (registry)";
  }
  unpacked = true;
  await unpackInstall(tarball, pkg);
  return "unpacked (no registry, packages not in npm's cache)";
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), "arbor-packages-"));
  scratch = join(work, "scratch");
  mkdirSync(scratch);
  writeFileSync(
    join(scratch, "package.json"),
    JSON.stringify({ name: "scratch", private: true, type: "module" }),
  );
  installedBy = await packAndInstall(SDK_DIR);
});

after(async () => {
  for (const cl of clients) cl.close();
  await c?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test("npm install linked the arbor bin, and it answers without building anything", async () => {
  const bin = join(ROOT, "node_modules", ".bin", "arbor");
  assert.ok(existsSync(bin), "node_modules/.bin/arbor is missing");
  assert.equal(realpathSync(bin), realpathSync(join(ROOT, "node", "arbor.mjs")));
  const r = await exec(bin, ["--help"], ROOT, 30_000);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^arbor — /);
  assert.match(r.stdout, /arbor init --nodes N/);
  // npx finds it in node_modules/.bin: with installing forbidden it still answers.
  const x = await npm(["exec", "--no", "--", "arbor", "--help"], ROOT);
  assert.equal(x.code, 0, x.stderr);
  assert.match(x.stdout, /^arbor — /);
});

test("the installed SDK is a copy of the package with only its declared dependencies", (t) => {
  t.diagnostic(`SDK installed by ${installedBy}`);
  const nm = join(scratch, "node_modules");
  const pkgDir = join(nm, ...SDK.name.split("/"));
  if (!installedBy.startsWith("unpacked"))
    assert.ok(!lstatSync(pkgDir).isSymbolicLink(), "the SDK was linked, not installed");
  assert.ok(!realpathSync(pkgDir).startsWith(realpathSync(ROOT)), "the SDK resolves into the repository");
  for (const absent of ["level", "classic-level", "assemblyscript", "@arbor/node"])
    assert.ok(!existsSync(join(nm, absent)), `${absent} was installed with the SDK`);
  for (const [entry, file] of [
    [".", "dist/client/index.js"],
    ["./portable", "dist/client/portable.js"],
  ] as const) {
    for (const [spec, from] of bareImports(join(pkgDir, file))) {
      const name = packageOf(spec);
      if (spec.startsWith("node:")) {
        assert.ok(entry !== "./portable", `${from} imports ${spec}: the portable entry must not`);
        continue;
      }
      assert.ok(SDK_DEPS.includes(name), `${from} imports ${spec}, not a dependency of ${SDK.name}`);
      if (entry === "./portable")
        assert.ok(!BROWSER_BANNED.includes(name), `${from} imports ${spec}: the portable entry must not`);
    }
  }
  // The package ships what its exports name, and no sources or source maps.
  const files = readdirSync(join(pkgDir, "dist"), { recursive: true }).map(String);
  assert.ok(files.includes(join("client", "index.d.ts")) && files.includes(join("client", "portable.d.ts")));
  assert.deepEqual(
    files.filter((f) => f.endsWith(".map") || (f.endsWith(".ts") && !f.endsWith(".d.ts"))),
    [],
  );
});

/** Run in the scratch project: reads keys through the installed SDK, full and light mode. */
const SCRIPT = `
import { readFileSync } from "node:fs";
import { ArborClient } from "@arbor/client";
import { genesisFromJson, LightClient } from "@arbor/client/portable";
const [genesisFile, ...keys] = process.argv.slice(2);
const genesis = genesisFromJson(readFileSync(genesisFile, "utf8"));
const hex = (b) => (b === null ? null : Buffer.from(b).toString("hex"));
const out = { sdk: import.meta.resolve("@arbor/client"), lightClient: typeof LightClient };
for (const light of [false, true]) {
  const client = await ArborClient.connect({ genesis, light });
  try {
    const r = await client.read(keys);
    out[light ? "light" : "full"] = {
      values: Object.fromEntries(keys.map((k) => [k, hex(r.values.get(k))])),
      root: hex(r.root),
      height: String(r.height),
    };
  } finally {
    client.close();
  }
}
console.log(JSON.stringify(out));
`;

/** An operation written in the scratch project against the installed @arbor/ops. */
const NOTE_OP = `
// note: writes a text (its second argument) under a key (its first).
import { args, done, set, utf8 } from "@arbor/ops/assembly/sdk";

export function run(): i32 {
  const a = args();
  const key = a.string();
  const text = a.string();
  a.end();
  set(key, utf8(text));
  return done();
}
`;

test("a project that installed the packages builds an operation and reads its write, verified", async (t) => {
  // @arbor/ops (AssemblyScript sources): compiled here by the repository's asc, its peer.
  t.diagnostic(`@arbor/ops installed by ${await packAndInstall(join(ROOT, "ops"), ["--legacy-peer-deps"])}`);
  writeFileSync(join(scratch, "note.ts"), NOTE_OP);
  const asc = join(ROOT, "node_modules", "assemblyscript", "bin", "asc.js");
  const built = await exec(
    process.execPath,
    [asc, "note.ts", "--outFile", "note.wasm", "--runtime", "stub", "--optimizeLevel", "3", "--noColors"],
    scratch,
  );
  assert.equal(built.code, 0, `asc failed:\n${built.stderr}`);
  const wasm = new Uint8Array(readFileSync(join(scratch, "note.wasm")));

  c = await Cluster.create({ n: 4, k: 2, tickMs: 20 });
  c.startAll();
  await c.ready();
  const owner = await ArborClient.connect({ genesis: c.genesis, key: generateKey() });
  clients.push(owner);
  await owner.createDomain("pkg");
  await owner.deployOp("pkg/note", wasm);
  const text = "written by an operation built outside the repository";
  const wrote = await owner.transact({
    op: "pkg/note",
    touched: ["pkg/hello"],
    args: new Writer().string("pkg/hello").string(text).finish(),
  });
  assert.equal(wrote.receipt.status, "accepted");

  writeFileSync(join(scratch, "read.mjs"), SCRIPT);
  const keys = ["pkg/hello", "pkg/note", "pkg/absent"];
  const r = await exec(process.execPath, ["read.mjs", join(c.dir, "genesis.json"), ...keys], scratch);
  assert.equal(r.code, 0, `the scratch project's script failed (SDK ${installedBy}):\n${r.stderr}`);
  type Read = { values: Record<string, string | null>; root: string; height: string };
  const out = JSON.parse(r.stdout) as { sdk: string; lightClient: string; full: Read; light: Read };
  assert.ok(out.sdk.startsWith(`file://${realpathSync(scratch)}/node_modules/`), out.sdk);
  assert.equal(out.lightClient, "function");
  for (const read of [out.full, out.light]) {
    assert.equal(Buffer.from(read.values["pkg/hello"]!, "hex").toString("utf8"), text);
    assert.equal(read.values["pkg/note"], Buffer.from(wasm).toString("hex"));
    assert.equal(read.values["pkg/absent"], null);
    assert.ok(BigInt(read.height) >= wrote.receipt.height, `read at ${read.height}`);
    assert.match(read.root, /^[0-9a-f]{64}$/);
  }
});
