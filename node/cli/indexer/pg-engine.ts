// A PostgreSQL server through `pg`: a small pool; a transaction holds one connection from BEGIN
// to COMMIT (or ROLLBACK on any error), so a crash between them leaves the database as it was.
import pg from "pg";
import type { Query, SqlEngine } from "./sql-engine.js";

/** Connections: one writer, and searches beside it. */
const POOL_SIZE = 4;

/** The indexer's SQL casts bigints to text both ways; bytes go as Buffers, which `pg` sends as bytea. */
function param(v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array && !Buffer.isBuffer(v))
    return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return v;
}

export async function openPostgres(url: string): Promise<SqlEngine> {
  const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE });
  // An idle connection's error (the server restarting) must not crash the indexer.
  pool.on("error", () => undefined);
  const over =
    (c: pg.Pool | pg.PoolClient): Query =>
    async <R>(sql: string, params: readonly unknown[] = []) =>
      (await c.query(sql, params.map(param))).rows as R[];
  await pool.query("SELECT 1");
  return {
    name: "postgres",
    query: over(pool),
    async transaction(body) {
      const c = await pool.connect();
      try {
        await c.query("BEGIN");
        const out = await body(over(c));
        await c.query("COMMIT");
        return out;
      } catch (e) {
        await c.query("ROLLBACK").catch(() => undefined);
        throw e;
      } finally {
        c.release();
      }
    },
    close: () => pool.end(),
  };
}
