// `arbor explorer`: serves the explorer page (node/cli/explorer-server.ts) on a local port and
// prints its address, with the chain id pinned in it (#chain=…): the page checks every answer of
// the nodes against that chain. The nodes' browser API addresses come from the cluster's node
// configs (`--dir`, their `webListen`) or from `--web host:port,…` (one per node, in id order).
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { toHex } from "../common/bytes.js";
import { chainId, type Genesis } from "../ledger/genesis.js";
import { parseArgs, UsageError } from "./args.js";
import { TARGET_FLAGS, connect, resolveTarget } from "./connect.js";
import { ExplorerServer } from "./explorer-server.js";

/** Where the page is served without --listen: loopback, any free port. */
export const DEFAULT_EXPLORER_LISTEN = "127.0.0.1:0";

/** Each node's browser API base URL, from --web or the node configs of --dir. */
function webUrls(
  g: Genesis,
  web: string | undefined,
  dir: string | undefined,
): { id: number; url: string }[] {
  const ids = g.nodes.map((n) => n.id).sort((a, b) => a - b);
  if (web !== undefined) {
    const list = web.split(",").filter((w) => w !== "");
    if (list.length !== ids.length || list.some((w) => !/^[^\s:/]+:\d{1,5}$/.test(w)))
      throw new UsageError(`--web needs one host:port per node (${ids.length}), in node id order`);
    return ids.map((id, i) => ({ id, url: `http://${list[i]}` }));
  }
  if (dir === undefined)
    throw new UsageError("with --endpoints, give --web host:port,… (each node's webListen)");
  return ids.flatMap((id) => {
    const file = join(dir, `node${id}.json`);
    const c = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as { webListen?: unknown }) : {};
    if (typeof c.webListen !== "string") return [];
    // A node listening on every interface is reached on loopback.
    return [{ id, url: `http://${c.webListen.replace(/^(0\.0\.0\.0|\[::\]):/, "127.0.0.1:")}` }];
  });
}

export async function explorerCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, { ...TARGET_FLAGS, listen: "string", web: "string" });
  if (a.positional.length > 0) throw new UsageError(`explorer takes no arguments (got "${a.positional[0]}")`);
  const listen = a.strings.get("listen") ?? DEFAULT_EXPLORER_LISTEN;
  const m = /^(.+):(\d{1,5})$/.exec(listen);
  if (!m || Number(m[2]) > 65535) throw new UsageError("--listen is host:port");
  const t = resolveTarget(a);
  let genesis = t.genesis;
  if (genesis === undefined) {
    // With --endpoints the genesis is learned (and checked against --chain) by the SDK.
    const c = await connect(t);
    genesis = c.genesis;
    c.close();
  }
  const nodes = webUrls(genesis, a.strings.get("web"), t.dir);
  if (nodes.length === 0)
    throw new UsageError(
      "no node has a browser API: set webListen in the node configs (arbor init does) or give --web",
    );
  const chain = toHex(chainId(genesis));
  const server = new ExplorerServer({ chain, nodes });
  const port = await server.listen(m[1]!, Number(m[2]));
  process.stdout.write(`arbor explorer: http://${m[1]}:${port}/#chain=${chain}\n`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return -1; // serves until a signal
}
