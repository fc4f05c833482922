// `arbor up --dir DIR`: runs a cluster made by `arbor init` in the foreground until Ctrl-C or
// SIGTERM, which stop every node gracefully; the data stays in DIR for the next `arbor up`.
// `--log-format text` (the default) shows the nodes' logs as readable lines, `json` as they are.
import { isAbsolute, relative, resolve as resolvePath } from "node:path";
import { logFormatFlag, parseArgs, UsageError, type FlagKind } from "./args.js";
import { Supervisor } from "./supervisor.js";
import { DEFAULT_DIR } from "./connect.js";

const FLAGS: Record<string, FlagKind> = { dir: "string", quiet: "bool", "log-format": "string" };

/** A directory as a user would type it: relative when under the working directory, else absolute. */
function shownDir(dir: string): string {
  const r = relative(process.cwd(), dir);
  return r === "" ? "." : r.startsWith("..") || isAbsolute(r) ? resolvePath(dir) : r;
}

/** Stops the supervisor on SIGINT/SIGTERM; resolves with the exit code once every node is down. */
export function serveUntilSignal(sup: Supervisor, say: (l: string) => void): Promise<number> {
  return new Promise((resolve) => {
    let signalled = false;
    const stop = (sig: string) => {
      if (signalled) return;
      signalled = true;
      say(`${sig}: stopping ${sup.running} node(s)…`);
      void sup.stop().then(() => {
        say(`stopped; data kept in ${shownDir(sup.dir)}`);
        resolve(0);
      });
    };
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => stop("SIGTERM"));
    // Every node died on its own: nothing left to serve.
    void sup.allExited().then(() => {
      if (!signalled && !sup.stopping) {
        say("every node has exited");
        resolve(1);
      }
    });
  });
}

/** Prints the nodes' Prometheus metrics URLs, when their configs name metrics ports. */
export function sayMetrics(sup: Supervisor, say: (l: string) => void): void {
  const urls = sup.genesis.nodes.flatMap((n) => {
    const m = sup.metricsAddress(n.id);
    return m === undefined ? [] : [`http://${m}/metrics`];
  });
  if (urls.length > 0) say(`Prometheus metrics: ${urls.join(", ")}`);
}

export async function upCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, FLAGS);
  if (a.positional.length > 0) throw new UsageError(`up takes no arguments (got "${a.positional[0]}")`);
  const dir = a.strings.get("dir") ?? DEFAULT_DIR;
  const say = (l: string) => process.stdout.write(`arbor | ${l}\n`);
  const sup = new Supervisor(dir, { quiet: a.bools.has("quiet"), logFormat: logFormatFlag(a) });
  await sup.checkPorts();
  say(`starting ${sup.genesis.nodes.length} node(s) from ${sup.dir}`);
  sup.start();
  const served = serveUntilSignal(sup, say);
  try {
    await sup.waitReady();
    say(`cluster ready: ${sup.genesis.nodes.map((n) => n.address).join(", ")} (Ctrl-C stops it)`);
    sayMetrics(sup, say);
  } catch (e) {
    say(`${e instanceof Error ? e.message : String(e)}; stopping`);
    await sup.stop();
    return 1;
  }
  return served;
}
