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
