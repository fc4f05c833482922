// `arbor node --config FILE`: runs one node in the foreground until SIGTERM or SIGINT.
import { resolve } from "node:path";
import { loadConfig } from "./config.js";
import { createLogger, type LogFormat } from "./log.js";
import { ArborNode } from "./node.js";
import { mallocArenaWarning } from "./node-env.js";

/** How often a node logs its memory (resident set and V8 heap), so growth shows in its log. */
const MEMORY_LOG_MS = 30_000;

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

/**
 * `logFormat` (from `--log-format`) overrides the config file's, and `dataDir` (`--data-dir`: a
 * container's data volume) its data directory; `join` (`--join`) holds clients off until the node
 * has caught up.
 */
export async function runNode(
  configPath: string,
  o: { logFormat?: LogFormat; dataDir?: string; join?: boolean } = {},
): Promise<void> {
  const cfg = loadConfig(configPath);
  const log = createLogger({ node: cfg.id }, cfg.logLevel, undefined, o.logFormat ?? cfg.logFormat);
  const arenaWarning = mallocArenaWarning();
  if (arenaWarning !== undefined) log.warn(arenaWarning);
  const node = new ArborNode({
    genesis: cfg.genesis,
    id: cfg.id,
    key: cfg.key,
    dataDir: o.dataDir === undefined ? cfg.dataDir : resolve(o.dataDir),
    listen: cfg.listen,
    metricsListen: cfg.metricsListen,
    webListen: cfg.webListen,
    webOrigins: cfg.webOrigins,
    tls: cfg.tls,
    tickMs: cfg.tickMs,
    log,
    ...(cfg.member ? { member: cfg.member } : {}),
    byzantine: cfg.byzantine,
    join: o.join === true,
  });
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal: sig });
    void node.close().then(
      () => process.exit(0),
      (e) => {
        log.error("shutdown failed", { error: String(e) });
        process.exit(1);
      },
    );
  };
  const memory = setInterval(() => {
    const m = process.memoryUsage();
    log.info("memory", {
      rssMiB: mib(m.rss),
      heapUsedMiB: mib(m.heapUsed),
      heapTotalMiB: mib(m.heapTotal),
      externalMiB: mib(m.external),
      arrayBuffersMiB: mib(m.arrayBuffers),
    });
  }, MEMORY_LOG_MS);
  memory.unref();
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  await node.start();
}
