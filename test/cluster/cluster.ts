// Real multi-process clusters on loopback for tests: writes keys, a genesis and per-node configs
// into a temporary directory the way `arbor init` does (node/cli/cluster-files.ts), runs every node
// as a child process, and talks to them over gRPC.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import {
  Arbor,
  type ExecuteAck,
  type GetReply,
  type SignedReceipt,
  type StatusReply,
} from "../../proto/gen/arbor/v1/client_pb.js";
import { CHANNEL_OPTIONS, serviceDefinition } from "../../proto/grpc.js";
import { chainId, type Genesis } from "../../node/ledger/genesis.js";
import type { KeyPair } from "../../node/keys.js";
import { bytesEqual } from "../../node/common/bytes.js";
import { nodeProcessEnv } from "../../node/node-env.js";
import { decodeReceipt } from "../../node/ledger/receipt.js";
import { systemGenesisRecords } from "../../node/exec/built-ops.js";
import { BUILT_OPS } from "../../node/cli/paths.js";
import { freePorts, planCluster, writeClusterFiles } from "../../node/cli/cluster-files.js";
import type { Byzantine } from "../../node/byzantine.js";
import type { NodeConfigFile } from "../../node/config.js";
import { writeSeedFile } from "../../node/cli/keyfile.js";
import {
  ExecuteRequestSchema,
  GetRequestSchema,
  HeadersRequestSchema,
  ReceiptQuerySchema,
  StatusRequestSchema,
  type HeadersReply,
} from "../../proto/gen/arbor/v1/client_pb.js";

const BIN = new URL("../../node/bin.js", import.meta.url).pathname;
/** Extra node flags for the node processes (profiling), e.g. "--cpu-prof --cpu-prof-dir=prof". */
const NODE_FLAGS = (process.env.ARBOR_NODE_FLAGS ?? "").split(" ").filter(Boolean);

export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

type Unary<Req, Res> = (
  req: Req,
  opts: grpc.CallOptions,
  cb: (e: grpc.ServiceError | null, r: Res) => void,
) => void;

export class NodeClient {
  readonly raw: grpc.Client & Record<string, unknown>;
  constructor(readonly address: string) {
    const C = grpc.makeGenericClientConstructor(serviceDefinition(Arbor), "Arbor");
    this.raw = new C(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS) as grpc.Client &
      Record<string, unknown>;
  }
  private call<Req, Res>(name: string, req: Req, timeoutMs = 15_000): Promise<Res> {
    return new Promise((resolve, reject) => {
      (this.raw[name] as Unary<Req, Res>).call(this.raw, req, { deadline: Date.now() + timeoutMs }, (e, r) =>
        e ? reject(e) : resolve(r),
      );
    });
  }
  status(): Promise<StatusReply> {
    return this.call("status", create(StatusRequestSchema, {}), 3000);
  }
  get(keys: string[], forExecute = true, hashesOnly = false): Promise<GetReply> {
    return this.call("get", create(GetRequestSchema, { keys, forExecute, hashesOnly }));
  }
  execute(request: Uint8Array): Promise<ExecuteAck> {
    return this.call("execute", create(ExecuteRequestSchema, { request }));
  }
  /** `signed`: with the node's signature too (nodes sign only when asked). */
  waitReceipt(requestId: Uint8Array, timeoutMs = 20_000, signed = false): Promise<SignedReceipt> {
    return this.call<unknown, SignedReceipt>(
      "waitReceipt",
      create(ReceiptQuerySchema, { requestId, timeoutMs, signed }),
      timeoutMs + 2000,
    ).then((r) => {
      this.onReceipt?.(r);
      return r;
    });
  }
  onReceipt: ((r: SignedReceipt) => void) | null = null;
  headers(fromHeight: bigint, maxCount = 64): Promise<HeadersReply> {
    return this.call("getHeaders", create(HeadersRequestSchema, { fromHeight, maxCount }));
  }
  close(): void {
    this.raw.close();
  }
}

export interface ClusterOptions {
  readonly n: number;
  readonly k: number;
  readonly T?: number;
  readonly tickMs?: number;
  /** test-only misbehaviour per node id */
  readonly byzantine?: Record<number, Byzantine>;
  /** give every node a Prometheus metrics port (Cluster.metricsPorts) */
  readonly metrics?: boolean;
  /** give every node a browser API port (Cluster.webPorts, node/web-api.ts) */
  readonly web?: boolean;
  /** the genesis retention window in blocks (default: the genesis default) */
  readonly retention?: number;
}

export class Cluster {
  readonly dir: string;
  readonly genesis: Genesis;
  /** the genesis's chain id (requests are signed for it) */
  readonly chain: Uint8Array;
  readonly keys: KeyPair[];
  readonly procs: (ChildProcess | null)[];
  readonly clients: NodeClient[];
  /** node i's metrics port at index i (empty without ClusterOptions.metrics) */
  metricsPorts: readonly number[] = [];
  /** node i's browser API port at index i (empty without ClusterOptions.web) */
  webPorts: readonly number[] = [];
  private logs: string[][];
  /** Highest block height of any receipt a test has seen (proofs must be at least this fresh). */
  seenHeight = 0n;
  /** Highest height of any read a test has made (requests signed from it live from there). */
  readHeight = 0n;

  private constructor(dir: string, genesis: Genesis, keys: KeyPair[]) {
    this.dir = dir;
    this.genesis = genesis;
    this.chain = chainId(genesis);
    this.keys = keys;
    this.procs = genesis.nodes.map(() => null);
    this.logs = genesis.nodes.map(() => []);
    this.clients = genesis.nodes.map((n) => new NodeClient(n.address));
    for (const cl of this.clients)
      cl.onReceipt = (r) => {
        const h = decodeReceipt(r.receipt).height;
        if (h > this.seenHeight) this.seenHeight = h;
      };
  }

  static async create(o: ClusterOptions): Promise<Cluster> {
    const dir = mkdtempSync(join(tmpdir(), "arbor-cluster-"));
    const plan = planCluster({
      name: "test-cluster",
      T: o.T ?? 256,
      replication: o.k,
      ...(o.retention === undefined ? {} : { retention: o.retention }),
      ports: await freePorts(o.n),
      records: systemGenesisRecords(BUILT_OPS),
    });
    const metricsPorts = o.metrics ? await freePorts(o.n) : undefined;
    const webPorts = o.web ? await freePorts(o.n) : undefined;
    writeClusterFiles(dir, plan, { tickMs: o.tickMs ?? 50, byzantine: o.byzantine, metricsPorts, webPorts });
    const c = new Cluster(dir, plan.genesis, plan.keys);
    c.metricsPorts = metricsPorts ?? [];
    c.webPorts = webPorts ?? [];
    return c;
  }

  /**
   * Starts node `id`; `env` adds environment variables (e.g. ARBOR_FAILPOINT, node/failpoints.ts),
   * `args` flags of `arbor node` (e.g. --join).
   */
  start(id: number, env: Record<string, string> = {}, args: readonly string[] = []): void {
    const p = spawn(
      process.execPath,
      [...NODE_FLAGS, BIN, "node", "--config", join(this.dir, `node${id}.json`), ...args],
      {
        stdio: ["ignore", "ignore", "pipe"],
        env: nodeProcessEnv({ ...process.env, ...env }),
      },
    );
    p.stderr!.on("data", (d: Buffer) => {
      const l = this.logs[id]!;
      l.push(d.toString());
      if (l.length > 200) l.shift();
    });
    this.procs[id] = p;
  }

  /**
   * Writes `node<id>.json` for a node added after genesis (key, address, prefixes as its MEMBER
   * request names them) and gives it a slot: start(id) runs it like any other.
   */
  addNode(id: number, key: KeyPair, address: string, prefixes: readonly string[]): void {
    writeSeedFile(join(this.dir, `node${id}.key`), key.seed, true);
    mkdirSync(join(this.dir, `node${id}`), { recursive: true });
    const cfg: NodeConfigFile = {
      id,
      genesis: "genesis.json",
      keyFile: `node${id}.key`,
      dataDir: `node${id}`,
      tickMs: 50,
      logLevel: "info",
      member: { address, prefixes: [...prefixes] },
    };
    writeFileSync(join(this.dir, `node${id}.json`), JSON.stringify(cfg, null, 2) + "\n");
    this.procs[id] = null;
    this.logs[id] = [];
    this.clients[id] = new NodeClient(address);
  }

  startAll(): void {
    for (let i = 0; i < this.genesis.nodes.length; i++) this.start(i);
  }

  kill(id: number, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const p = this.procs[id];
    this.procs[id] = null;
    // A process that ended by a signal has signalCode set and exitCode null.
    if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
    return new Promise((r) => {
      p.once("exit", () => r());
      p.kill(signal);
    });
  }

  /** Resolves when node `id`'s process has ended by itself (a failpoint), within `timeoutMs`. */
  exited(id: number, timeoutMs: number): Promise<void> {
    const p = this.procs[id];
    if (!p) return Promise.resolve();
    const done = () => {
      if (this.procs[id] === p) this.procs[id] = null;
    };
    if (p.stderr!.closed) return Promise.resolve(done());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node ${id} still running`)), timeoutMs);
      // "close", not "exit": its last words on stderr are read by then.
      p.once("close", () => {
        clearTimeout(timer);
        done();
        resolve();
      });
    });
  }

  /** Freezes a node's process (SIGSTOP): it keeps its sockets but answers nothing, like a hung node. */
  pause(id: number): void {
    this.procs[id]?.kill("SIGSTOP");
  }

  /** Lets a paused node run again (SIGCONT). */
  resume(id: number): void {
    this.procs[id]?.kill("SIGCONT");
  }

  logsOf(id: number): string {
    return this.logs[id]!.join("");
  }

  /** Writes the tail (`chars` characters) of every node's log to stderr: what a failed test shows. */
  printLogs(chars = 1500): void {
    for (let i = 0; i < this.logs.length; i++)
      process.stderr.write(`--- node ${i}\n${this.logsOf(i).slice(-chars)}\n`);
  }

  /** Waits until every node reports the same height and root (all must be running). */
  converged(timeoutMs: number, what = "all nodes at the same height and root"): Promise<void> {
    return this.waitFor(
      async () => {
        const st = await Promise.all(this.clients.map((x) => x.status()));
        return st.every((s) => s.height === st[0]!.height && bytesEqual(s.root, st[0]!.root));
      },
      timeoutMs,
      what,
    );
  }

  async waitFor(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      try {
        if (await cond()) return;
      } catch {
        /* not ready yet */
      }
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Waits until every running node answers Status. */
  async ready(timeoutMs = 20_000): Promise<void> {
    for (let i = 0; i < this.procs.length; i++)
      if (this.procs[i])
        await this.waitFor(async () => (await this.clients[i]!.status()).node === i, timeoutMs, `node ${i}`);
  }

  async stop(): Promise<void> {
    // A paused process would not act on SIGTERM.
    for (let i = 0; i < this.procs.length; i++) this.resume(i);
    await Promise.all(this.procs.map((_, i) => this.kill(i, "SIGTERM")));
    for (const c of this.clients) c.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
