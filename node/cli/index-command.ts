// `arbor index --data DIR | --postgres URL [--listen HOST:PORT] [--once]`: follows the certified
// blocks into a searchable SQL index (docs/index.md) and serves searches over HTTP. Runs until
// Ctrl-C or SIGTERM; a write in flight completes or rolls back, so the next start resumes cleanly.
import { parseArgs, UsageError } from "./args.js";
import { TARGET_FLAGS, withClient } from "./connect.js";
import { openEngine } from "./indexer/open-engine.js";
import { Indexer } from "./indexer/indexer.js";
import { serveSearch } from "./indexer/search-http.js";

const FLAGS = {
  ...TARGET_FLAGS,
  data: "string",
  postgres: "string",
  listen: "string",
  once: "bool",
} as const;
const DEFAULT_LISTEN = "127.0.0.1:0";
/** How often the height reached is printed. */
const PROGRESS_EVERY_MS = 2_000;

function listenFlag(s: string): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(s);
  if (!m || Number(m[2]) > 65535) throw new UsageError(`--listen wants HOST:PORT, not "${s}"`);
  return { host: m[1]!.replace(/^\[(.*)\]$/, "$1"), port: Number(m[2]) };
}

export async function indexCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, FLAGS);
  if (a.positional.length > 0) throw new UsageError(`index takes no arguments (got "${a.positional[0]}")`);
  const data = a.strings.get("data");
  const postgres = a.strings.get("postgres");
  if ((data === undefined) === (postgres === undefined))
    throw new UsageError("give --data DIR or --postgres URL");
  const listen = listenFlag(a.strings.get("listen") ?? DEFAULT_LISTEN);
  const log = (line: string) => process.stderr.write(`arbor index: ${line}\n`);
  return withClient(a, async (client) => {
    const engine = await openEngine({ data, postgres });
    try {
      const indexer = await Indexer.open(client, engine, log);
      log(`${engine.name} index at height ${indexer.height}`);
      const server = await serveSearch((q) => indexer.search(q), listen.host, listen.port);
      log(
        `search at http://${server.host.includes(":") ? `[${server.host}]` : server.host}:${server.port}/search`,
      );
      const stop = () => indexer.stop();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      const progress = setInterval(() => log(`height ${indexer.height}`), PROGRESS_EVERY_MS);
      try {
        if (a.bools.has("once")) await indexer.catchUp();
        else await indexer.run();
      } finally {
        clearInterval(progress);
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        await server.close();
      }
      log(`stopped at height ${indexer.height} (${indexer.written} blocks written)`);
      if (a.bools.has("json"))
        process.stdout.write(JSON.stringify({ height: indexer.height.toString() }) + "\n");
      return 0;
    } finally {
      await engine.close();
    }
  });
}
