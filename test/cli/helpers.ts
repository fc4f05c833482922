// Running the `arbor` command in tests: one call (exit code, stdout, stderr), and a cluster made
// with `arbor init` in a temporary directory and run by `arbor up` as one child process.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

export const ROOT = new URL("../../../", import.meta.url).pathname;
export const BIN = join(ROOT, "dist", "node", "bin.js");
export const DEMO = join(ROOT, "dist", "examples", "banking", "demo.js");

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a compiled script (default: the arbor CLI) to completion. */
export function run(
  args: readonly string[],
  opts: { script?: string; cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [opts.script ?? BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let stdout = "";
    let stderr = "";
    p.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      p.kill("SIGKILL");
      reject(new Error(`timed out: arbor ${args.join(" ")}\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    p.once("error", reject);
    // "close", not "exit": only then has all of the child's output been read.
    p.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `arbor <args> --json`, parsed; asserts exit code 0. */
export async function runJson<T = Record<string, unknown>>(args: readonly string[]): Promise<T> {
  const r = await run([...args, "--json"]);
  if (r.code !== 0) throw new Error(`arbor ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** A cluster made by `arbor init --base-port 0` and run by `arbor up`. */
export class CliCluster {
  private up: ChildProcess | null = null;
  readonly output: string[] = [];

  private constructor(readonly dir: string) {}

  static async create(nodes: number, replication: number, extra: string[] = []): Promise<CliCluster> {
    const dir = mkdtempSync(join(tmpdir(), "arbor-cli-"));
    const c = new CliCluster(join(dir, "cluster"));
    const r = await run([
      "init",
      "--nodes",
      String(nodes),
      "--replication",
      String(replication),
      "--base-port",
      "0",
      "--dir",
      c.dir,
      ...extra,
    ]);
    if (r.code !== 0) throw new Error(`arbor init failed: ${r.stderr}`);
    return c;
  }

  get flags(): string[] {
    return ["--dir", this.dir];
  }

  /** Starts `arbor up` and resolves once it says the cluster is ready. */
  start(timeoutMs = 30_000): Promise<void> {
    const p = spawn(process.execPath, [BIN, "up", "--dir", this.dir], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    this.up = p;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`cluster not ready:\n${this.output.join("\n")}`)),
        timeoutMs,
      );
      for (const s of [p.stdout!, p.stderr!])
        createInterface({ input: s }).on("line", (l) => {
          this.output.push(l);
          if (this.output.length > 2000) this.output.shift();
          if (l.includes("cluster ready")) {
            clearTimeout(timer);
            resolve();
          }
        });
      p.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`arbor up exited ${code}:\n${this.output.join("\n")}`));
      });
    });
  }

  /** SIGTERM to `arbor up` (which stops every node), then the directory is removed. */
  async stop(): Promise<void> {
    const p = this.up;
    this.up = null;
    if (p && p.exitCode === null && p.signalCode === null) {
      const exited = new Promise<void>((r) => p.once("exit", () => r()));
      p.kill("SIGTERM");
      const t = setTimeout(() => p.kill("SIGKILL"), 20_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(join(this.dir, ".."), { recursive: true, force: true });
  }
}
