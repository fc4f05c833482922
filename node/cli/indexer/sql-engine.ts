// The one thing the indexer needs of a SQL database: run a statement, and run several in one
// transaction. Two engines implement it (embedded PGlite, a PostgreSQL server through `pg`) and
// the indexer sends both the same SQL, so what one finds the other finds.

/** Runs one statement with $1, $2… parameters; rows come back as objects by column name. */
export type Query = <R = Record<string, unknown>>(sql: string, params?: readonly unknown[]) => Promise<R[]>;

export interface SqlEngine {
  readonly name: "pglite" | "postgres";
  readonly query: Query;
  /** Runs `body` in one transaction: all its statements take effect, or none (also after kill -9). */
  transaction<T>(body: (q: Query) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface EngineChoice {
  /** a directory for the embedded engine */
  readonly data?: string | undefined;
  /** a postgres:// URL for a server */
  readonly postgres?: string | undefined;
}

/** Opens the engine the options name (exactly one of them). Engines load on demand. */
export async function openEngine(c: EngineChoice): Promise<SqlEngine> {
  if (c.postgres !== undefined) return (await import("./pg-engine.js")).openPostgres(c.postgres);
  if (c.data === undefined) throw new Error("openEngine needs data or postgres");
  return (await import("./pglite-engine.js")).openPglite(c.data);
}
