// Runs the nodes of a cluster directory (made by `arbor init`) as child processes: checks their
// ports first, prefixes their log lines so they stay readable, reports a child that dies, waits
// until every node answers, and stops them all gracefully (SIGTERM, then SIGKILL after a grace
// period). Used by `arbor up` and the quick start. Node logs are rendered as readable lines
// (log format text, the default) or passed on as the nodes' JSON lines (json).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { ArborError } from "../common/errors.js";
import { genesisFromJson, type Genesis } from "../ledger/genesis.js";
import { NodeConnection, type ClientTls } from "../../client/transport.js";
import { ARBOR_BIN } from "./paths.js";
import { nodeProcessEnv } from "../node-env.js";
import type { LogFormat } from "../log.js";

export class ClusterError extends ArborError {}

const GRACE_MS = 10_000;

export interface SupervisorOptions {
  /** where readable lines go (default: stdout) */
  readonly print?: (line: string) => void;
  /** show only warnings and errors from the nodes */
  readonly quiet?: boolean;
  /** text (default): readable lines; json: the nodes' JSON lines as they are, prefixed */
  readonly logFormat?: LogFormat;
  /** called when a node exits without being asked to */
  readonly onCrash?: (id: number, code: number | null, signal: NodeJS.Signals | null) => void;
}

interface Child {
  readonly id: number;
  readonly proc: ChildProcess;
  readonly exited: Promise<void>;
  running: boolean;
}

export class Supervisor {
  readonly dir: string;
  readonly genesis: Genesis;
  private readonly children: Child[] = [];
  private stoppingNow = false;
  private readonly print: (line: string) => void;
  private readonly color = process.stdout.isTTY === true && !process.env.NO_COLOR;

  constructor(
    dir: string,
    private readonly opts: SupervisorOptions = {},
  ) {
    this.dir = resolve(dir);
    const g = join(this.dir, "genesis.json");
    if (!existsSync(g))
      throw new ClusterError(
        "up/no-cluster",
        `${g} not found (make a cluster with \`arbor init --dir ${dir}\`)`,
      );
    this.genesis = genesisFromJson(readFileSync(g, "utf8"));
    for (const n of this.genesis.nodes)
      if (!existsSync(this.configOf(n.id)))
        throw new ClusterError(
          "up/no-config",
          `${this.configOf(n.id)} not found (was ${this.dir} made by \`arbor init\`?)`,
        );
    this.print = opts.print ?? ((l) => process.stdout.write(l + "\n"));
  }

  private configOf(id: number): string {
    return join(this.dir, `node${id}.json`);
  }

  /** Node id's Prometheus metrics address (host:port) from its config, if it has one. */
  metricsAddress(id: number): string | undefined {
    try {
      const c = JSON.parse(readFileSync(this.configOf(id), "utf8")) as { metricsListen?: unknown };
      return typeof c.metricsListen === "string" ? c.metricsListen : undefined;
    } catch {
      return undefined; // the node itself reports an unreadable config
    }
  }

  /** Fails with a clear message when another process already listens on a node's port. */
  async checkPorts(): Promise<void> {
    for (const n of this.genesis.nodes) {
      await this.checkPort(n.id, n.address);
      const metrics = this.metricsAddress(n.id);
      if (metrics !== undefined) await this.checkPort(n.id, metrics);
    }
  }

  private async checkPort(id: number, address: string): Promise<void> {
    const [host, port] = splitAddress(address);
    const free = await new Promise<boolean>((res) => {
      const s = createServer();
      s.once("error", () => res(false));
      s.listen(port, host, () => s.close(() => res(true)));
    });
    if (!free)
      throw new ClusterError(
        "up/port-in-use",
        `port ${port} (node ${id}, ${address}) is already in use — is this cluster already running? ` +
          `Stop it, or make a new one on other ports: arbor init --force --base-port P --dir ${this.dir}`,
      );
  }

  start(): void {
    for (const n of this.genesis.nodes) this.startNode(n.id);
  }

  private startNode(id: number): void {
    // The child stops itself when our stdin pipe closes, so nodes never outlive a killed parent.
    const proc = spawn(
      process.execPath,
      [ARBOR_BIN, "node", "--config", this.configOf(id), "--stop-on-stdin-close"],
      { stdio: ["pipe", "pipe", "pipe"], env: nodeProcessEnv() },
    );
    const child: Child = {
      id,
      proc,
      running: true,
      exited: new Promise((r) => proc.once("exit", () => r())),
    };
    this.children.push(child);
    for (const stream of [proc.stdout!, proc.stderr!])
      createInterface({ input: stream }).on("line", (l) => this.logLine(id, l));
    proc.once("exit", (code, signal) => {
      child.running = false;
      if (this.stoppingNow) return;
      this.print(
        this.prefix(id) +
          `exited unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`}); its log is above`,
      );
      this.opts.onCrash?.(id, code, signal);
    });
    proc.once("error", (e) => this.print(this.prefix(id) + `could not start: ${e.message}`));
  }

  /** stop() has been called */
  get stopping(): boolean {
    return this.stoppingNow;
  }

  get running(): number {
    return this.children.filter((c) => c.running).length;
  }

  private prefix(id: number): string {
    const tag = `node${id}`.padEnd(6);
    if (!this.color) return `${tag}| `;
    const colors = [36, 33, 35, 32, 34, 31];
    return `\x1b[${colors[id % colors.length]}m${tag}|\x1b[0m `;
  }

  /** Node logs are JSON lines; show them as `time level message key=value…`. */
  private logLine(id: number, line: string): void {
    if (line.trim() === "") return;
    let j: Record<string, unknown> | null = null;
    try {
      const v = JSON.parse(line) as unknown;
      if (v && typeof v === "object" && !Array.isArray(v)) j = v as Record<string, unknown>;
    } catch {
      /* not a log object: printed as it is */
    }
    if (j === null || this.opts.logFormat === "json") {
      if (!this.opts.quiet || (j !== null && (j.level === "warn" || j.level === "error")))
        this.print(this.prefix(id) + line);
      return;
    }
    const { t, level, msg, node: _node, id: _id, ...rest } = j;
    if (this.opts.quiet && (level === "info" || level === "debug")) return;
    const time = typeof t === "string" ? t.slice(11, 23) : "";
    const fields = Object.entries(rest)
      .map(
        ([k, v]) =>
          `${k}=${typeof v === "string" ? (v.length > 20 && /^[0-9a-f]+$/.test(v) ? v.slice(0, 12) + "…" : v) : JSON.stringify(v)}`,
      )
      .join(" ");
    this.print(
      `${this.prefix(id)}${time} ${String(level).padEnd(5)} ${String(msg)}${fields ? "  " + fields : ""}`,
    );
  }

  /** How to reach node id: with TLS against the CA its config names (node/net/tls.ts), if any. */
  private tlsOf(id: number): ClientTls | undefined {
    try {
      const c = JSON.parse(readFileSync(this.configOf(id), "utf8")) as { tls?: { ca?: unknown } };
      return typeof c.tls?.ca === "string" ? { ca: readFileSync(resolve(this.dir, c.tls.ca)) } : undefined;
    } catch {
      return undefined; // the node itself reports a bad config or an unreadable CA
    }
  }

  /** Waits until every node answers Status; fails at the timeout, or at once when a node has exited. */
  async waitReady(timeoutMs = 30_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    const conns = this.genesis.nodes.map((n) => new NodeConnection(n.address, 2000, this.tlsOf(n.id)));
    try {
      for (const n of this.genesis.nodes) {
        for (;;) {
          if (this.running === 0) throw new ClusterError("up/all-exited", "every node exited");
          // No node is restarted: one that exited before it answered (a data directory it
          // refused, say) never will, so say so now rather than after the timeout.
          if (this.children.some((c) => c.id === n.id && !c.running))
            throw new ClusterError(
              "up/node-exited",
              `node ${n.id} exited before it answered; its log is above`,
            );
          try {
            if ((await conns[n.id]!.status(1000)).node === n.id) break;
          } catch {
            /* not listening yet */
          }
          if (Date.now() > end)
            throw new ClusterError(
              "up/not-ready",
              `node ${n.id} (${n.address}) did not answer within ${timeoutMs / 1000} s`,
            );
          await new Promise((r) => setTimeout(r, 150));
        }
      }
    } finally {
      for (const c of conns) c.close();
    }
  }

  /** Resolves when every child has exited. */
  async allExited(): Promise<void> {
    await Promise.all(this.children.map((c) => c.exited));
  }

  /** SIGTERM to every node, SIGKILL to those still running after the grace period. */
  async stop(): Promise<void> {
    this.stoppingNow = true;
    for (const c of this.children) if (c.running) c.proc.kill("SIGTERM");
    const timer = setTimeout(() => {
      for (const c of this.children) if (c.running) c.proc.kill("SIGKILL");
    }, GRACE_MS);
    await this.allExited();
    clearTimeout(timer);
  }
}

function splitAddress(a: string): [string, number] {
  const i = a.lastIndexOf(":");
  return [a.slice(0, i), Number(a.slice(i + 1))];
}
