// Runs every compiled test file under dist/test with Node's own test runner, each file in its own
// process, two at a time, and kills a file that runs longer than its limit: a test that hangs (a
// loop that never yields, a wait that never ends) fails the suite instead of stalling it.
// Usage: node scripts/run-tests.mjs [substring…]  (only files whose path contains a substring)
// ARBOR_TEST_FILE_LIMIT_S sets the per-file limit (default 900 s; cluster files under load take minutes).
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";

const FILE_LIMIT_MS = Number(process.env.ARBOR_TEST_FILE_LIMIT_S ?? 900) * 1000;
const CONCURRENCY = Math.max(2, Math.min(4, availableParallelism()));

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith(".test.js")) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = walk("dist/test", [])
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}

function sum(out, what) {
  let n = 0;
  for (const m of out.matchAll(new RegExp(`^# ${what} (\\d+)$`, "gm"))) n += Number(m[1]);
  return n;
}

function runFile(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    const p = spawn(process.execPath, ["--test", "--test-reporter=tap", file], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      p.kill("SIGKILL");
    }, FILE_LIMIT_MS);
    p.on("close", (code, signal) => {
      clearTimeout(timer);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      resolve({ file, out, code, signal, timedOut, seconds });
    });
  });
}

const totals = { pass: 0, fail: 0, skipped: 0 };
const failed = [];
let next = 0;
async function worker() {
  while (next < files.length) {
    const r = await runFile(files[next++]);
    const pass = sum(r.out, "pass");
    const fail = sum(r.out, "fail");
    totals.pass += pass;
    totals.fail += fail + (r.timedOut && fail === 0 ? 1 : 0);
    totals.skipped += sum(r.out, "skipped");
    const bad = r.code !== 0 || r.timedOut;
    if (bad) {
      failed.push(r.file);
      process.stdout.write(r.out);
      if (r.timedOut)
        console.log(`# ${r.file}: killed after the per-file limit of ${FILE_LIMIT_MS / 1000} s`);
    }
    console.log(`${bad ? "FAIL" : "ok  "} ${r.file} (${pass} passed, ${fail} failed, ${r.seconds} s)`);
  }
}
await Promise.all(Array.from({ length: Math.min(CONCURRENCY, files.length) }, worker));
console.log(`# files ${files.length}`);
console.log(`# pass ${totals.pass}`);
console.log(`# fail ${totals.fail}`);
console.log(`# skipped ${totals.skipped}`);
if (failed.length > 0) {
  console.log(`# failed files:\n${failed.map((f) => `#   ${f}`).join("\n")}`);
  process.exit(1);
}
