// The embedded engine: PostgreSQL compiled to WebAssembly (PGlite), kept in a directory, so an
// index needs nothing installed. One connection, used by one indexer process.
import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import type { Query, SqlEngine } from "./sql-engine.js";

export async function openPglite(dir: string): Promise<SqlEngine> {
  mkdirSync(dir, { recursive: true });
  const db = await PGlite.create(dir);
  const over =
    (run: { query: PGlite["query"] }): Query =>
    async <R>(sql: string, params: readonly unknown[] = []) =>
      (
        await run.query<R>(
          sql,
          params.map((v) => (typeof v === "bigint" ? v.toString() : v)),
        )
      ).rows;
  return {
    name: "pglite",
    query: over(db),
    transaction: (body) => db.transaction((tx) => body(over(tx))),
    close: () => db.close(),
  };
}
