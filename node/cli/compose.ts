// `arbor init --hosts H0,… --compose FILE`: a Docker Compose file running the cluster directory's
// nodes one per container, as they would run one per host. It is made from the node configs `arbor
// init` wrote, so every file it mounts and every port it publishes is one those configs name:
// each service (named after its node's genesis host, which is also its name on the compose
// network) gets its config as /etc/arbor/node.json — the image's default command runs that — its
// key, the shared genesis and its TLS files read-only next to it, and a named volume for its data
// (`arbor node --data-dir`). The image is the repository's Dockerfile. Metrics are published on the
// Docker host's loopback only: they have no authentication (docs/operations.md).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ArborError } from "../common/errors.js";
import type { Genesis } from "../ledger/genesis.js";
import type { NodeConfigFile } from "../config.js";

export class ComposeError extends ArborError {}

/** Where the image expects a node's config (its default command) and keeps its data. */
export const CONFIG_IN_CONTAINER = "/etc/arbor/node.json";
export const DATA_IN_CONTAINER = "/var/lib/arbor";
const CONFIG_DIR_IN_CONTAINER = "/etc/arbor";

export interface ComposeNode {
  readonly id: number;
  /** the genesis host: the service's name and host name */
  readonly host: string;
  /** files of the cluster directory the node reads, relative to it (config first) */
  readonly files: readonly string[];
  readonly grpcPort: number;
  readonly metricsPort: number | undefined;
  readonly webPort: number | undefined;
}

const portOf = (hostPort: string) => Number(hostPort.slice(hostPort.lastIndexOf(":") + 1));

/** A path of the cluster directory a container can mount: relative, inside it. */
function inside(path: string, what: string): string {
  if (path.startsWith("/") || path.split("/").includes(".."))
    throw new ComposeError("compose/path-outside", `${what} ${path} is not inside the cluster directory`);
  return path;
}

/** The nodes of the cluster in `dir`, from its node configs. */
export function composeNodes(dir: string, genesis: Genesis): ComposeNode[] {
  return genesis.nodes.map((n) => {
    const host = n.address.slice(0, n.address.lastIndexOf(":"));
    if (!/^[a-z0-9][a-z0-9-]*$/.test(host))
      throw new ComposeError(
        "compose/needs-hosts",
        `node ${n.id}'s host "${host}" cannot name a compose service: give \`arbor init --hosts\` names like arbor-node0`,
      );
    const cfg = JSON.parse(readFileSync(join(dir, `node${n.id}.json`), "utf8")) as NodeConfigFile;
    if (cfg.listen === undefined || !cfg.listen.startsWith("0.0.0.0:"))
      throw new ComposeError(
        "compose/needs-hosts",
        `node ${n.id} does not listen on every interface (make the cluster with \`arbor init --hosts\`)`,
      );
    const files = [
      `node${n.id}.json`,
      inside(cfg.genesis, "genesis"),
      inside(cfg.keyFile, "keyFile"),
      ...(cfg.tls
        ? [inside(cfg.tls.ca, "tls.ca"), inside(cfg.tls.cert, "tls.cert"), inside(cfg.tls.key, "tls.key")]
        : []),
    ];
    return {
      id: n.id,
      host,
      files,
      grpcPort: portOf(cfg.listen),
      metricsPort: cfg.metricsListen === undefined ? undefined : portOf(cfg.metricsListen),
      webPort: cfg.webListen === undefined ? undefined : portOf(cfg.webListen),
    };
  });
}

export interface ComposeOptions {
  /** the cluster directory, relative to the compose file's directory */
  readonly clusterDir: string;
  /** the repository (the image's build context), relative to the compose file's directory */
  readonly context: string;
}

const q = (s: string) => JSON.stringify(s);
const rel = (p: string) => (p.startsWith(".") || p.startsWith("/") ? p : `./${p}`);

/** The compose file's text. */
export function renderCompose(nodes: readonly ComposeNode[], o: ComposeOptions): string {
  const dir = rel(o.clusterDir === "" ? "." : o.clusterDir);
  const out = [
    `# Made by \`arbor init --hosts … --compose\` (node/cli/compose.ts) from the node configs in ${dir};`,
    "# make it again rather than edit it. One container per node, as one node per host:",
    '# docs/operations.md, "Deploying one node per host".',
    "name: arbor",
    "",
    "services:",
  ];
  for (const n of nodes) {
    const ports = [
      `${n.grpcPort}:${n.grpcPort}`,
      ...(n.metricsPort === undefined ? [] : [`127.0.0.1:${n.metricsPort}:${n.metricsPort}`]),
      ...(n.webPort === undefined ? [] : [`${n.webPort}:${n.webPort}`]),
    ];
    const [config, ...rest] = n.files;
    const mounts = [
      `${dir}/${config}:${CONFIG_IN_CONTAINER}:ro`,
      ...rest.map((f) => `${dir}/${f}:${CONFIG_DIR_IN_CONTAINER}/${f}:ro`),
      `${n.host}-data:${DATA_IN_CONTAINER}`,
    ];
    out.push(
      `  ${n.host}:`,
      `    image: ${q("${ARBOR_IMAGE:-arbor:latest}")}`,
      `    build: ${q(rel(o.context))}`,
      `    hostname: ${n.host}`,
      "    restart: unless-stopped",
      "    stop_grace_period: 30s",
      "    ports:",
      ...ports.map((p) => `      - ${q(p)}`),
      "    volumes:",
      ...mounts.map((m) => `      - ${q(m)}`),
    );
  }
  out.push("", "volumes:", ...nodes.map((n) => `  ${n.host}-data: {}`), "");
  return out.join("\n");
}
