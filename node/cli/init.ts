// `arbor init`: writes everything a local cluster needs into one directory — node keys, the
// genesis (nodes on 127.0.0.1, balanced prefixes, the built system operations as records),
// per-node configs and a client key — so that `arbor up --dir DIR` can run it. `--tls` adds a CA
// and node certificates (node/cli/tls-certs.ts); `--hosts` names one host per node instead of
// 127.0.0.1, for nodes on machines of their own (docs/operations.md), and `--compose FILE` writes a
// Docker Compose file running such a cluster one node per container (node/cli/compose.ts).
import { DEFAULT_RETENTION_BLOCKS, MAX_RETENTION_BLOCKS, retentionOf } from "../ledger/genesis.js";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { toHex } from "../common/bytes.js";
import { ArborError } from "../common/errors.js";
import { MAX_HISTORY_T, TOB_MAX_VALIDATORS } from "../common/limits.js";
import { chainId, type Genesis } from "../ledger/genesis.js";
import { generateKeyPair } from "../keys.js";
import { systemGenesisRecords } from "../exec/built-ops.js";
import { intFlag, parseArgs, requireString, UsageError, type FlagKind } from "./args.js";
import { Output } from "./output.js";
import { BUILD_OPS_SCRIPT, BUILT_OPS, PACKAGE_ROOT } from "./paths.js";
import { composeNodes, renderCompose } from "./compose.js";
import { writeSeedFile } from "./keyfile.js";
import { freePorts, planCluster, writeClusterFiles } from "./cluster-files.js";
import { issueClusterCerts, TLS_DIR } from "./tls-certs.js";

export const DEFAULT_BASE_PORT = 7400;
export const DEFAULT_T = 256;
/**
 * Node i's Prometheus metrics port is base port + METRICS_PORT_OFFSET + i (7400 → 8400): past the
 * gRPC ports of any cluster of at most TOB_MAX_VALIDATORS nodes on the same base.
 */
export const METRICS_PORT_OFFSET = 1000;
/** Node i's browser API port (node/web-api.ts) is base port + WEB_PORT_OFFSET + i (7400 → 9400). */
export const WEB_PORT_OFFSET = 2000;

export interface InitOptions {
  readonly dir: string;
  readonly nodes: number;
  /** copies of every prefix (default f+1: at least one correct holder of everything) */
  readonly replication?: number;
  readonly T?: number;
  /** blocks back past values stay readable (0: forever) */
  readonly retention?: number;
  /** first gRPC port (metrics and browser API ports from it + their offsets); 0 picks free ports for all */
  readonly basePort?: number;
  readonly name?: string;
  readonly tickMs?: number;
  readonly force?: boolean;
  /** issue a CA and node certificates and turn TLS on in every node's config */
  readonly tls?: boolean;
  /** node i's host name or IP at index i (default 127.0.0.1); nodes then listen on every interface */
  readonly hosts?: readonly string[];
}

export interface InitResult {
  readonly dir: string;
  readonly genesis: Genesis;
  readonly chain: Uint8Array;
  readonly clientPublicKey: Uint8Array;
  /** node i's Prometheus metrics port (on 127.0.0.1) at index i */
  readonly metricsPorts: readonly number[];
  /** node i's browser API port (on 127.0.0.1) at index i */
  readonly webPorts: readonly number[];
  /** whether the nodes serve TLS (certificates in DIR/tls) */
  readonly tls: boolean;
}

export class InitError extends ArborError {}

/** Files `arbor init` writes; only these are removed by --force. */
function isClusterFile(name: string): boolean {
  return (
    name === "genesis.json" ||
    name === "client.key" ||
    name === TLS_DIR ||
    /^node\d+(\.json|\.key)?$/.test(name)
  );
}

export function defaultReplication(n: number): number {
  return Math.floor((n - 1) / 3) + 1;
}

export async function initCluster(o: InitOptions): Promise<InitResult> {
  const dir = resolve(o.dir);
  const n = o.nodes;
  const k = o.replication ?? defaultReplication(n);
  if (existsSync(join(dir, "genesis.json"))) {
    if (!o.force)
      throw new InitError(
        "init/exists",
        `${dir} already holds a cluster (use --force to replace it and its data)`,
      );
    for (const f of readdirSync(dir))
      if (isClusterFile(f)) rmSync(join(dir, f), { recursive: true, force: true });
  }
  if (o.hosts !== undefined) checkHosts(o.hosts, n);
  const system = loadSystemOps();
  const basePort = o.basePort ?? DEFAULT_BASE_PORT;
  const { ports, metricsPorts, webPorts } = await clusterPorts(basePort, n);
  const plan = planCluster({
    name: o.name ?? "local",
    T: o.T ?? DEFAULT_T,
    replication: k,
    ...(o.retention === undefined ? {} : { retention: o.retention }),
    ports,
    ...(o.hosts === undefined ? {} : { hosts: o.hosts }),
    records: system,
  });
  if (o.tls)
    issueClusterCerts(
      dir,
      plan.genesis.name,
      plan.genesis.nodes.map((nd) => nd.address.replace(/:\d+$/, "")),
    );
  // The client key before the cluster files: the genesis, written last, marks the directory complete.
  const client = generateKeyPair();
  mkdirSync(dir, { recursive: true });
  writeSeedFile(join(dir, "client.key"), client.seed, true);
  writeClusterFiles(dir, plan, {
    tickMs: o.tickMs ?? 50,
    metricsPorts,
    webPorts,
    bindAll: o.hosts !== undefined,
    tls: o.tls === true,
  });
  const genesis = plan.genesis;
  return {
    dir,
    genesis,
    chain: chainId(genesis),
    clientPublicKey: client.publicKey,
    metricsPorts,
    webPorts,
    tls: o.tls === true,
  };
}

/** Writes the compose file at `file` for the cluster in `dir`, paths relative to the file. */
export function writeCompose(dir: string, genesis: Genesis, file: string): void {
  const from = dirname(file);
  const posix = (p: string) => p.split(sep).join("/");
  const text = renderCompose(composeNodes(dir, genesis), {
    clusterDir: posix(relative(from, dir)),
    context: posix(relative(from, PACKAGE_ROOT)) || ".",
  });
  writeFileSync(file, text);
}

/** One distinct host name or IP address per node, each usable in a certificate and an address. */
function checkHosts(hosts: readonly string[], n: number): void {
  if (hosts.length !== n) throw new UsageError(`--hosts names ${hosts.length} hosts for ${n} nodes`);
  if (new Set(hosts).size !== n) throw new UsageError("--hosts names a host twice");
  for (const h of hosts)
    if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(h))
      throw new UsageError(`--hosts: "${h}" is not a host name or IPv4 address`);
}

/** The n nodes' gRPC, metrics and browser API ports: consecutive from the base, or free ones for base 0. */
async function clusterPorts(
  base: number,
  n: number,
): Promise<{ ports: number[]; metricsPorts: number[]; webPorts: number[] }> {
  if (base === 0) {
    const all = await freePorts(3 * n);
    return { ports: all.slice(0, n), metricsPorts: all.slice(n, 2 * n), webPorts: all.slice(2 * n) };
  }
  if (base + WEB_PORT_OFFSET + n - 1 > 65535)
    throw new UsageError(
      "--base-port leaves too few ports below 65536 (metrics and browser API ports included)",
    );
  const from = (b: number) => Array.from({ length: n }, (_, i) => b + i);
  return {
    ports: from(base),
    metricsPorts: from(base + METRICS_PORT_OFFSET),
    webPorts: from(base + WEB_PORT_OFFSET),
  };
}

/** The system operations genesis needs, compiling them first when build/ops is missing. */
function loadSystemOps(): Array<{ key: string; value: Uint8Array }> {
  if (
    !existsSync(join(BUILT_OPS, "system", "root_rule.wasm")) ||
    !existsSync(join(BUILT_OPS, "system", "base_rule.wasm"))
  ) {
    process.stderr.write("arbor: compiling the system operations (build/ops is missing)…\n");
    const r = spawnSync(process.execPath, [BUILD_OPS_SCRIPT, "--quiet", "--only", "ops/assembly"], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    if (r.status !== 0)
      throw new InitError("init/ops-build-failed", "compiling the operations failed (see above)");
  }
  return systemGenesisRecords(BUILT_OPS);
}

const FLAGS: Record<string, FlagKind> = {
  nodes: "string",
  replication: "string",
  t: "string",
  retention: "string",
  "base-port": "string",
  "tick-ms": "string",
  name: "string",
  dir: "string",
  force: "bool",
  tls: "bool",
  hosts: "string",
  compose: "string",
  json: "bool",
};

export async function initCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, FLAGS);
  if (a.positional.length > 0) throw new UsageError(`init takes no arguments (got "${a.positional[0]}")`);
  const out = new Output(a.bools.has("json"));
  const nodes = intFlag(a, "nodes", 0, 1, TOB_MAX_VALIDATORS);
  if (nodes === 0) throw new UsageError("--nodes N is required");
  if (a.strings.has("compose") && !a.strings.has("hosts"))
    throw new UsageError("--compose needs --hosts (the hosts name the compose services)");
  const r = await initCluster({
    dir: requireString(a, "dir"),
    nodes,
    replication: a.strings.has("replication") ? intFlag(a, "replication", 1, 1, nodes) : undefined,
    T: intFlag(a, "t", DEFAULT_T, 1, MAX_HISTORY_T),
    retention: intFlag(a, "retention", DEFAULT_RETENTION_BLOCKS, 0, MAX_RETENTION_BLOCKS),
    basePort: intFlag(a, "base-port", DEFAULT_BASE_PORT, 0, 65535),
    tickMs: intFlag(a, "tick-ms", 50, 1, 10_000),
    name: a.strings.get("name"),
    force: a.bools.has("force"),
    tls: a.bools.has("tls"),
    hosts: a.strings.has("hosts") ? a.strings.get("hosts")!.split(",") : undefined,
  });
  const compose = a.strings.get("compose");
  if (compose !== undefined) writeCompose(r.dir, r.genesis, resolve(compose));
  const g = r.genesis;
  const f = Math.floor((g.nodes.length - 1) / 3);
  out.line(`initialised a ${g.nodes.length}-node cluster in ${r.dir}`);
  out.line(`  chain      ${toHex(r.chain)}`);
  out.line(
    `  tolerates  f = ${f} faulty node${f === 1 ? "" : "s"}; every prefix held by k = ${g.replication}; history T = ${g.T}; past values kept ${retentionOf(g) === 0 ? "forever" : `${retentionOf(g)} blocks`}`,
  );
  for (const nd of g.nodes)
    out.line(
      `  node ${nd.id}     ${nd.address}  metrics :${r.metricsPorts[nd.id]}  key ${toHex(nd.publicKey).slice(0, 16)}…  ${nd.prefixes.length} prefixes`,
    );
  out.line(`  client key ${join(r.dir, "client.key")} (public ${toHex(r.clientPublicKey).slice(0, 16)}…)`);
  if (r.tls)
    out.line(
      `  TLS        CA ${join(r.dir, TLS_DIR, "ca.pem")}; node certificates in ${join(r.dir, TLS_DIR)} (move ca.key offline)`,
    );
  if (compose !== undefined)
    out.line(`  compose    ${resolve(compose)} (docker compose -f ${compose} up; docs/operations.md)`);
  out.line(
    a.strings.has("hosts")
      ? `next: copy genesis.json, nodeI.json, nodeI.key${r.tls ? " and tls/ files" : ""} to host I and run \`arbor node --config nodeI.json\` there`
      : `next: arbor up --dir ${a.strings.get("dir")}`,
  );
  out.doc({
    dir: r.dir,
    chain: r.chain,
    T: g.T,
    replication: g.replication,
    retention: retentionOf(g),
    f,
    nodes: g.nodes.map((nd) => ({
      id: nd.id,
      address: nd.address,
      metricsPort: r.metricsPorts[nd.id],
      publicKey: nd.publicKey,
      prefixes: nd.prefixes,
    })),
    clientPublicKey: r.clientPublicKey,
    tls: r.tls,
  });
  return 0;
}
