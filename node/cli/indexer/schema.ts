// The index's tables (the same SQL for both engines). `arbor_records` is what searches read: one
// row per live key. `arbor_entries` and `arbor_index_state` are what a restarted indexer resumes
// from: every key's ordered-index entry (removed keys included, as the certified index keeps them)
// and the height reached, written in the same transaction as the block's records.

export const SCHEMA_VERSION = 1;

export const SCHEMA: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS arbor_index_state (
     id integer PRIMARY KEY CHECK (id = 1),
     schema_version integer NOT NULL,
     chain text NOT NULL,
     height bigint NOT NULL)`,
  // Keys as bytes: a key may hold U+0000, which PostgreSQL text cannot, and resuming must be exact.
  `CREATE TABLE IF NOT EXISTS arbor_entries (
     key bytea PRIMARY KEY,
     value_hash bytea,
     changes bigint NOT NULL,
     height bigint NOT NULL,
     head bytea NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS arbor_records (
     key text PRIMARY KEY,
     domain text NOT NULL,
     height bigint NOT NULL,
     writer text NOT NULL,
     request_id text NOT NULL,
     value_hash bytea NOT NULL,
     value bytea,
     text text,
     tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(text, ''))) STORED)`,
  `CREATE INDEX IF NOT EXISTS arbor_records_tsv ON arbor_records USING GIN (tsv)`,
  `CREATE INDEX IF NOT EXISTS arbor_records_domain ON arbor_records (domain)`,
];
