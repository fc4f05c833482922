// Picks the engine a command line names: `--postgres URL` for a server, `--data DIR` for the
// embedded one. Engines load on demand, so an indexer on one never loads the other's package.
import { ArborError } from "../../common/errors.js";
import type { SqlEngine } from "./sql-engine.js";

export interface EngineChoice {
  /** a directory for the embedded engine */
  readonly data?: string | undefined;
  /** a postgres:// URL for a server */
  readonly postgres?: string | undefined;
}

/** Opens the engine the options name (exactly one of them). */
export async function openEngine(c: EngineChoice): Promise<SqlEngine> {
  if (c.postgres !== undefined) return (await import("./pg-engine.js")).openPostgres(c.postgres);
  if (c.data === undefined)
    throw new ArborError("index/no-engine", "give a data directory or a PostgreSQL URL");
  return (await import("./pglite-engine.js")).openPglite(c.data);
}
