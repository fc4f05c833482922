// The files of a loopback cluster: node keys, a genesis with balanced prefixes, and one config per
// node, laid out as `arbor up` and the node processes read them. `arbor init` writes a cluster with
// these functions, and so does the test harness (test/cluster/cluster.ts), so a test cluster is
// set up exactly the way a user's is.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createServer } from "node:net";
import { randomInt } from "node:crypto";
import { ArborError } from "../common/errors.js";
import { writeFileDurably } from "../data-format.js";
import { assignPrefixes, genesisToJson, validateGenesis, type Genesis } from "../ledger/genesis.js";
import { generateKeyPair, type KeyPair } from "../keys.js";
import type { NodeConfigFile } from "../config.js";
import { writeSeedFile } from "./keyfile.js";
import { CA_CERT, nodeCert, nodeKey } from "./tls-certs.js";

export interface ClusterPlan {
  readonly genesis: Genesis;
  /** node id i's key pair at index i */
  readonly keys: KeyPair[];
}

export interface PlanOptions {
  readonly name: string;
  readonly T: number;
  /** copies of every prefix */
  readonly replication: number;
  /** blocks back past values stay readable (0: forever; default the genesis default) */
  readonly retention?: number;
  /** one gRPC port per node; their number is the number of nodes */
  readonly ports: readonly number[];
  /** node i's host name or IP address at index i (default: 127.0.0.1 for all) */
  readonly hosts?: readonly string[];
  /** the genesis records (the system operations) */
  readonly records: Genesis["records"];
}

/** Fresh node keys and the genesis naming them, validated. */
export function planCluster(o: PlanOptions): ClusterPlan {
  const prefixes = assignPrefixes(o.ports.length, o.replication);
  const keys = prefixes.map(() => generateKeyPair());
  const genesis: Genesis = {
    name: o.name,
    T: o.T,
    replication: o.replication,
    ...(o.retention === undefined ? {} : { retention: o.retention }),
    nodes: prefixes.map((p, id) => ({
      id,
      publicKey: keys[id]!.publicKey,
      address: `${o.hosts?.[id] ?? "127.0.0.1"}:${o.ports[id]}`,
      prefixes: p,
    })),
    records: o.records,
  };
  validateGenesis(genesis);
  return { genesis, keys };
}

/**
 * The origins a loopback cluster's browser API answers: pages served from this machine on any port
 * (`arbor explorer` picks a free one). What they read is verified in the page, and only reads are served.
 */
export const LOCAL_WEB_ORIGINS = ["http://127.0.0.1:*", "http://localhost:*"] as const;

export interface NodeFileOptions {
  readonly tickMs: number;
  /** node i's Prometheus metrics port on 127.0.0.1 at index i; no metrics server when absent */
  readonly metricsPorts?: readonly number[];
  /** node i's browser API port on 127.0.0.1 at index i (node/web-api.ts); none when absent */
  readonly webPorts?: readonly number[];
  /**
   * Listen on every interface (0.0.0.0) instead of 127.0.0.1 — gRPC on the genesis address's port,
   * metrics and browser API on theirs: for nodes on hosts of their own (`arbor init --hosts`).
   */
  readonly bindAll?: boolean;
  /** write a `tls` section naming tls/ca.pem and tls/node<i>.pem / .key (node/cli/tls-certs.ts) */
  readonly tls?: boolean;
  /** test-only misbehaviour per node id (node/byzantine.ts); never set by `arbor init` */
  readonly byzantine?: Readonly<Record<number, NodeConfigFile["byzantine"]>>;
}

/**
 * Writes, for each node i, `node<i>.key` (mode 0600), the data directory `node<i>/` and
 * `node<i>.json`, then `genesis.json`, replacing files of those names. The genesis goes last and
 * atomically: its presence is what says a cluster directory is complete (`npm start` creates one
 * when it is missing), so a process killed midway leaves a directory that is created afresh.
 */
export function writeClusterFiles(dir: string, plan: ClusterPlan, o: NodeFileOptions): void {
  mkdirSync(dir, { recursive: true });
  for (let id = 0; id < plan.keys.length; id++) {
    writeSeedFile(join(dir, `node${id}.key`), plan.keys[id]!.seed, true);
    mkdirSync(join(dir, `node${id}`), { recursive: true });
    const byzantine = o.byzantine?.[id];
    const metricsPort = o.metricsPorts?.[id];
    const webPort = o.webPorts?.[id];
    const bind = o.bindAll ? "0.0.0.0" : "127.0.0.1";
    const port = plan.genesis.nodes[id]!.address.replace(/^.*:/, "");
    const cfg: NodeConfigFile = {
      id,
      genesis: "genesis.json",
      keyFile: `node${id}.key`,
      dataDir: `node${id}`,
      ...(o.bindAll ? { listen: `${bind}:${port}` } : {}),
      ...(o.tls ? { tls: { cert: nodeCert(id), key: nodeKey(id), ca: CA_CERT } } : {}),
      tickMs: o.tickMs,
      logLevel: "info",
      ...(metricsPort !== undefined ? { metricsListen: `${bind}:${metricsPort}` } : {}),
      ...(webPort !== undefined
        ? { webListen: `${bind}:${webPort}`, webOrigins: [...LOCAL_WEB_ORIGINS] }
        : {}),
      ...(byzantine ? { byzantine } : {}),
    };
    writeFileSync(join(dir, `node${id}.json`), JSON.stringify(cfg, null, 2) + "\n");
  }
  writeFileDurably(dir, "genesis.json", genesisToJson(plan.genesis));
}

/**
 * Where free ports are looked for: below the kernel's usual ephemeral range (32768–60999), so that
 * no other process's outgoing connection or bind to port 0 takes one between the check here and
 * the node's own bind (which made parallel test runs collide).
 */
const PORT_RANGE_LOW = 20_000;
const PORT_RANGE_HIGH = 32_000;
/** Candidates tried before giving up. */
const PORT_ATTEMPTS = 2_000;
/** Ports this process has handed out already: never handed out twice (at most the range's size). */
const handedOut = new Set<number>();

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

/** `n` distinct free TCP ports on 127.0.0.1, none handed out before by this process. */
export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let attempt = 0; ports.length < n; attempt++) {
    if (attempt >= PORT_ATTEMPTS)
      throw new ArborError(
        "ports/none-free",
        `no ${n} free ports in ${PORT_RANGE_LOW}..${PORT_RANGE_HIGH - 1}`,
      );
    const p = PORT_RANGE_LOW + randomInt(PORT_RANGE_HIGH - PORT_RANGE_LOW);
    if (handedOut.has(p) || ports.includes(p)) continue;
    if (await canListen(p)) ports.push(p);
  }
  for (const p of ports) handedOut.add(p);
  return ports;
}
