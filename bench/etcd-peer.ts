// A 3-member etcd cluster on loopback for bench:e2e's peer figures: each member its own free client
// and peer ports and its own data directory (fsync on, etcd's default), started and stopped by the
// bench. Members still running when this process exits are killed and their directories removed,
// whether the bench ended normally, threw, or was interrupted.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import {
  accessSync,
  constants,
  mkdtempSync,
  mkdirSync,
  openSync,
  closeSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { Etcd3 } from "etcd3";
import { freePort } from "../test/cluster/cluster.js";

/** Members of the peer cluster (tolerates one crash, like 4 Arbor nodes tolerate one fault). */
export const ETCD_MEMBERS = 3;
/** Longest wait for the members to elect a leader and answer. */
const START_TIMEOUT_MS = 60_000;
/**
 * Longest wait for a member to exit after SIGTERM before it is killed: the last one left waits
 * seconds for peers that are gone, and its data is thrown away anyway.
 */
const STOP_TIMEOUT_MS = 1_000;

export const ETCD_INSTALL_HINT =
  "etcd not found on PATH: `apt-get install etcd-server` (Debian's package installs it at /usr/bin/etcd); the etcd fields are null";

/** The `etcd` executable on PATH, or null. */
export function findEtcd(): string | null {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, "etcd");
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/** "3.4.23" from `etcd --version`, or "unknown". */
export function etcdVersion(bin: string): string {
  try {
    const out = execFileSync(bin, ["--version"], { encoding: "utf8" });
    return /etcd Version:\s*(\S+)/.exec(out)?.[1] ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** Members started by this process and not yet stopped: killed on exit. */
const live = new Set<EtcdCluster>();
process.on("exit", () => {
  for (const c of live) c.killNow();
});

export class EtcdCluster {
  private constructor(
    private readonly dir: string,
    readonly procs: ChildProcess[],
    readonly clientUrls: string[],
  ) {}

  /** The directory holding every member's data and log (removed on stop). */
  get dataDir(): string {
    return this.dir;
  }

  /** Process ids of the members (for CPU accounting). */
  get pids(): number[] {
    return this.procs.map((p) => p.pid!);
  }

  static async start(bin: string): Promise<EtcdCluster> {
    const dir = mkdtempSync(join(tmpdir(), "arbor-etcd-"));
    const ports: Array<{ client: number; peer: number }> = [];
    for (let i = 0; i < ETCD_MEMBERS; i++) ports.push({ client: await freePort(), peer: await freePort() });
    const url = (port: number) => `http://127.0.0.1:${port}`;
    const initial = ports.map((p, i) => `m${i}=${url(p.peer)}`).join(",");
    const token = `arbor-bench-${process.pid}-${Date.now()}`;
    const procs = ports.map((p, i) => {
      const data = join(dir, `m${i}`);
      mkdirSync(data);
      const log = openSync(join(dir, `m${i}.log`), "w");
      const child = spawn(
        bin,
        [
          `--name=m${i}`,
          `--data-dir=${data}`,
          `--listen-client-urls=${url(p.client)}`,
          `--advertise-client-urls=${url(p.client)}`,
          `--listen-peer-urls=${url(p.peer)}`,
          `--initial-advertise-peer-urls=${url(p.peer)}`,
          `--initial-cluster=${initial}`,
          `--initial-cluster-token=${token}`,
          "--initial-cluster-state=new",
          "--logger=zap",
          "--log-outputs=stderr",
        ],
        { stdio: ["ignore", log, log] },
      );
      closeSync(log);
      return child;
    });
    const c = new EtcdCluster(
      dir,
      procs,
      ports.map((p) => url(p.client)),
    );
    live.add(c);
    try {
      await c.ready();
    } catch (e) {
      const tail = c.logTail();
      await c.stop();
      throw new Error(`${e instanceof Error ? e.message : String(e)}\n${tail}`);
    }
    return c;
  }

  /** A client for all members (the etcd3 client spreads calls over the hosts). */
  client(): Etcd3 {
    return new Etcd3({ hosts: this.clientUrls });
  }

  /** Waits until every member answers a linearizable read (a leader is elected and reachable). */
  private async ready(): Promise<void> {
    const until = Date.now() + START_TIMEOUT_MS;
    for (const url of this.clientUrls) {
      const one = new Etcd3({ hosts: url });
      try {
        for (;;) {
          const dead = this.procs.find((p) => p.exitCode !== null || p.signalCode !== null);
          if (dead) throw new Error(`etcd member exited during start-up (code ${dead.exitCode})`);
          try {
            await one
              .get("arbor-bench-ready")
              .options({ deadline: Date.now() + 2000 })
              .exec();
            break;
          } catch (e) {
            if (Date.now() > until)
              throw new Error(`etcd at ${url} not ready after ${START_TIMEOUT_MS} ms: ${e}`);
            await new Promise((r) => setTimeout(r, 200));
          }
        }
      } finally {
        one.close();
      }
    }
  }

  private logTail(): string {
    return this.procs
      .map((_, i) => {
        try {
          return `m${i}: ${readFileSync(join(this.dir, `m${i}.log`), "utf8")
            .split("\n")
            .slice(-5)
            .join("\n")}`;
        } catch {
          return `m${i}: no log`;
        }
      })
      .join("\n");
  }

  /** SIGTERM each member, SIGKILL the ones still running after a while, then remove the data. */
  async stop(): Promise<void> {
    await Promise.all(
      this.procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            const t = setTimeout(() => p.kill("SIGKILL"), STOP_TIMEOUT_MS);
            p.once("exit", () => {
              clearTimeout(t);
              resolve();
            });
            p.kill("SIGTERM");
          }),
      ),
    );
    live.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Synchronous last resort (process exit): kill every member and remove the data. */
  killNow(): void {
    for (const p of this.procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }
}
