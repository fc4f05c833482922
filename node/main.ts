// `arbor node --config FILE`: runs one node in the foreground until SIGTERM or SIGINT.
import { resolve } from "node:path";
import { loadConfig } from "./config.js";
import { createLogger, type LogFormat } from "./log.js";
import { ArborNode } from "./node.js";
import { mallocArenaWarning } from "./node-env.js";
import { beginResync } from "./snapshot/resync-marker.js";

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
  const dataDir = o.dataDir === undefined ? cfg.dataDir : resolve(o.dataDir);
  const arenaWarning = mallocArenaWarning();
  if (arenaWarning !== undefined) log.warn(arenaWarning);
  const make = (join: boolean, onBehind: () => void) =>
    new ArborNode({
      genesis: cfg.genesis,
      id: cfg.id,
      key: cfg.key,
      dataDir,
      listen: cfg.listen,
      metricsListen: cfg.metricsListen,
      webListen: cfg.webListen,
      webOrigins: cfg.webOrigins,
      tls: cfg.tls,
      tickMs: cfg.tickMs,
      log,
      ...(cfg.member ? { member: cfg.member } : {}),
      byzantine: cfg.byzantine,
      join,
      onBehind,
    });
  let stopping = false;
  let node: ArborNode;
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
    let m: NodeJS.MemoryUsage;
    try {
      m = process.memoryUsage();
    } catch (e) {
      // It reads /proc: with every file descriptor taken (EMFILE) it throws, which must not stop the node.
      return log.warn("memory usage unreadable", { error: String(e) });
    }
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
  // A node behind every peer's block retention is closed, its databases deleted (its safety state
  // kept aside) and started again, to install a snapshot (node/snapshot/resync-marker.ts).
  let join = o.join === true;
  for (;;) {
    let behind!: () => void;
    const fellBehind = new Promise<void>((r) => (behind = r));
    node = make(join, behind);
    await node.start();
    await fellBehind;
    if (stopping) return;
    await node.close();
    if (stopping) return;
    await beginResync(dataDir);
    join = true;
  }
}
