// The index in SQL: creating it (with the genesis records at height 0), reading back what a
// restarted indexer resumes from, writing one verified block — its records, its keys' entries and
// the new height in one transaction — and searching the records.
import { ArborError } from "../../common/errors.js";
import { toHex, utf8 } from "../../common/bytes.js";
import type { IndexEntry } from "../../store/core/ordered-index.js";
import type { SqlEngine, Query } from "./sql-engine.js";
import { SCHEMA, SCHEMA_VERSION } from "./schema.js";
import { firstSegment, valueText } from "./value-text.js";
import { MAX_SNIPPET_CHARS, RESUME_PAGE_ROWS, SEARCH_STATEMENT_TIMEOUT_MS } from "./limits.js";

/** PostgreSQL's SQLSTATE of a statement cancelled by its statement_timeout. */
const QUERY_CANCELED = "57014";

/** A live key's record as the block left it. `value` null: no node gave it (only its hash is kept). */
export interface RecordRow {
  readonly key: string;
  readonly height: bigint;
  readonly writer: Uint8Array;
  readonly requestId: Uint8Array;
  readonly valueHash: Uint8Array;
  readonly value: Uint8Array | null;
}

/** What one verified block changes: each changed key's new entry, and its record (or removal). */
export interface BlockWrite {
  readonly height: bigint;
  readonly entries: readonly IndexEntry[];
  readonly records: readonly RecordRow[];
  readonly removed: readonly string[];
}

export interface SearchQuery {
  readonly text: string;
  readonly limit: number;
  readonly domain?: string | undefined;
}

export interface SearchHit {
  readonly key: string;
  readonly height: bigint;
  readonly text_snippet: string;
}

const ZERO32 = new Uint8Array(32);
const DECODER = new TextDecoder();

/** PostgreSQL text cannot hold U+0000; such a key keeps its entry but gets no record row. */
function storableKey(key: string): boolean {
  return !key.includes("\u0000");
}

export class IndexDb {
  private constructor(
    readonly engine: SqlEngine,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * Opens the index for chain `chain` (hex), creating its tables, and the genesis records at
   * height 0, the first time. An index of another chain is refused.
   */
  static async open(
    engine: SqlEngine,
    chain: string,
    genesis: { entries: readonly IndexEntry[]; records: readonly { key: string; value: Uint8Array }[] },
    log: (line: string) => void = () => undefined,
  ): Promise<IndexDb> {
    const db = new IndexDb(engine, log);
    await engine.transaction(async (q) => {
      for (const s of SCHEMA) await q(s);
      const [state] = await q<{ chain: string; schema_version: number }>(
        "SELECT chain, schema_version FROM arbor_index_state WHERE id = 1",
      );
      if (state) {
        if (state.chain !== chain)
          throw new ArborError("index/other-chain", `this index follows chain ${state.chain}, not ${chain}`);
        if (state.schema_version !== SCHEMA_VERSION)
          throw new ArborError(
            "index/schema-version",
            `this index has schema ${state.schema_version}; this indexer writes ${SCHEMA_VERSION}`,
          );
        return;
      }
      const byKey = new Map(genesis.records.map((r) => [r.key, r.value]));
      const records = genesis.entries.flatMap((e) => {
        const value = byKey.get(e.key);
        return value && e.valueHash
          ? [{ key: e.key, height: 0n, writer: ZERO32, requestId: ZERO32, valueHash: e.valueHash, value }]
          : [];
      });
      await db.writeRows(q, { height: 0n, entries: genesis.entries, records, removed: [] });
      await q("INSERT INTO arbor_index_state (id, schema_version, chain, height) VALUES (1, $1, $2, 0)", [
        SCHEMA_VERSION,
        chain,
      ]);
    });
    return db;
  }

  async height(): Promise<bigint> {
    const [r] = await this.engine.query<{ height: string }>(
      "SELECT height::text AS height FROM arbor_index_state WHERE id = 1",
    );
    return BigInt(r!.height);
  }

  /** Every key's entry, paged by key: what the follower is rebuilt from. */
  async *entries(): AsyncGenerator<IndexEntry> {
    let after: Uint8Array | null = null;
    for (;;) {
      const rows: {
        key: Uint8Array;
        value_hash: Uint8Array | null;
        changes: string;
        height: string;
        head: Uint8Array;
      }[] = await this.engine.query(
        `SELECT key, value_hash, changes::text AS changes, height::text AS height, head
             FROM arbor_entries WHERE $1::bytea IS NULL OR key > $1::bytea ORDER BY key LIMIT $2`,
        [after, RESUME_PAGE_ROWS],
      );
      for (const r of rows)
        yield {
          key: DECODER.decode(r.key),
          valueHash: r.value_hash ? new Uint8Array(r.value_hash) : null,
          changes: BigInt(r.changes),
          height: BigInt(r.height),
          head: new Uint8Array(r.head),
        };
      if (rows.length < RESUME_PAGE_ROWS) return;
      after = rows[rows.length - 1]!.key;
    }
  }

  /**
   * Writes a verified block in one transaction. The height must move forward from where the index
   * is: a block written twice (two indexers on one database) fails, and nothing of it is kept.
   */
  async writeBlock(b: BlockWrite): Promise<void> {
    await this.engine.transaction(async (q) => {
      const moved = await q(
        "UPDATE arbor_index_state SET height = $1::bigint WHERE id = 1 AND height < $1::bigint RETURNING id",
        [b.height],
      );
      if (moved.length !== 1)
        throw new ArborError("index/not-next", `block ${b.height} is not after the index's height`);
      await this.writeRows(q, b);
    });
  }

  private async writeRows(q: Query, b: BlockWrite): Promise<void> {
    for (const e of b.entries)
      await q(
        `INSERT INTO arbor_entries (key, value_hash, changes, height, head)
           VALUES ($1, $2, $3::bigint, $4::bigint, $5)
         ON CONFLICT (key) DO UPDATE SET value_hash = EXCLUDED.value_hash, changes = EXCLUDED.changes,
           height = EXCLUDED.height, head = EXCLUDED.head`,
        [utf8(e.key), e.valueHash, e.changes, e.height, e.head],
      );
    for (const key of b.removed)
      if (storableKey(key)) await q("DELETE FROM arbor_records WHERE key = $1", [key]);
    for (const r of b.records) {
      if (!storableKey(r.key)) {
        this.log(
          `key ${JSON.stringify(r.key)} holds U+0000: its entry is kept, its record is not searchable`,
        );
        continue;
      }
      await q(
        `INSERT INTO arbor_records (key, domain, height, writer, request_id, value_hash, value, text)
           VALUES ($1, $2, $3::bigint, $4, $5, $6, $7, $8)
         ON CONFLICT (key) DO UPDATE SET domain = EXCLUDED.domain, height = EXCLUDED.height,
           writer = EXCLUDED.writer, request_id = EXCLUDED.request_id, value_hash = EXCLUDED.value_hash,
           value = EXCLUDED.value, text = EXCLUDED.text`,
        [
          r.key,
          firstSegment(r.key),
          r.height,
          toHex(r.writer),
          toHex(r.requestId),
          r.valueHash,
          r.value,
          r.value === null ? null : valueText(r.value),
        ],
      );
    }
  }

  /**
   * Records whose text matches `websearch_to_tsquery('simple', text)`, best ranked first (ties by
   * key in byte order, so every engine gives the same order), and the index's height. The height
   * is read first and outside the search's transaction (one round trip fewer): the hits are at least
   * that fresh. The search runs at most SEARCH_STATEMENT_TIMEOUT_MS where the engine can cancel it.
   */
  async search(s: SearchQuery): Promise<{ hits: SearchHit[]; height: bigint }> {
    const height = await this.height();
    const rows = await this.engine
      .transaction(async (q) => {
        // Local to this transaction: the writer's statements are not bounded by it.
        await q("SELECT set_config('statement_timeout', $1, true)", [String(SEARCH_STATEMENT_TIMEOUT_MS)]);
        return q<{ key: string; height: string; snippet: string | null }>(
          `SELECT key, height::text AS height,
                  ts_headline('simple', text, query, 'StartSel="", StopSel="", MaxWords=24, MinWords=8') AS snippet
             FROM arbor_records, websearch_to_tsquery('simple', $1) AS query
            WHERE tsv @@ query AND ($2::text IS NULL OR domain = $2::text)
            ORDER BY ts_rank(tsv, query) DESC, key COLLATE "C"
            LIMIT $3`,
          [s.text, s.domain ?? null, s.limit],
        );
      })
      .catch((e: unknown) => {
        if ((e as { code?: unknown }).code !== QUERY_CANCELED) throw e;
        throw new ArborError(
          "search/timeout",
          `the search ran over ${SEARCH_STATEMENT_TIMEOUT_MS} ms: narrow it`,
        );
      });
    return {
      hits: rows.map((r) => ({
        key: r.key,
        height: BigInt(r.height),
        text_snippet: (r.snippet ?? "").slice(0, MAX_SNIPPET_CHARS),
      })),
      height,
    };
  }

  /** Every record row, in key byte order (for checks and tests). */
  async records(): Promise<
    {
      key: string;
      domain: string;
      height: bigint;
      writer: string;
      request_id: string;
      value_hash: Uint8Array;
      value: Uint8Array | null;
      text: string | null;
    }[]
  > {
    const rows = await this.engine.query<{
      key: string;
      domain: string;
      height: string;
      writer: string;
      request_id: string;
      value_hash: Uint8Array;
      value: Uint8Array | null;
      text: string | null;
    }>(
      `SELECT key, domain, height::text AS height, writer, request_id, value_hash, value, text
         FROM arbor_records ORDER BY key COLLATE "C"`,
    );
    return rows.map((r) => ({
      ...r,
      height: BigInt(r.height),
      value_hash: new Uint8Array(r.value_hash),
      value: r.value === null ? null : new Uint8Array(r.value),
    }));
  }
}
