// Searching an off-chain index (docs/index.md) without trusting it: the index's HTTP answer only
// names keys; every named key is re-read with a verified GET, and a hit is returned only when its
// verified current value contains the query's words. A lying index can hide results, or name keys
// that do not match (they are dropped), but it can never forge a hit: each value returned was
// proven against a certified root. Uses only `fetch`, so no database client comes with the SDK.
import { ArborError } from "../node/common/errors.js";
import { MAX_TOUCHED_KEYS } from "../node/common/limits.js";
import type { CallOptions } from "./deadline.js";

/** Hits asked of an index by default, and at most (what an index serves). */
export const DEFAULT_SEARCH_LIMIT = 20;
export const MAX_SEARCH_LIMIT = 100;
/** Bytes of an index's answer read at most: 100 hits with their snippets and keys fit well within. */
export const MAX_SEARCH_REPLY_BYTES = 1024 * 1024;
/** Characters a query may have (as the index allows). */
export const MAX_SEARCH_QUERY_CHARS = 512;
/** How long the index has to answer, when the call gives no deadline. */
const SEARCH_INDEX_TIMEOUT_MS = 10_000;

export interface SearchOptions extends CallOptions {
  /** the index's base URL, e.g. http://127.0.0.1:8080 (its /search endpoint is asked) */
  readonly index: string;
  /** hits asked of the index (1..100, default 20); verification can only leave fewer */
  readonly limit?: number;
  /** only keys whose first segment (before '/') is this */
  readonly domain?: string;
}

/** A verified hit: the key's current value, read with a proof, contains the query's words. */
export interface VerifiedHit {
  readonly key: string;
  readonly value: Uint8Array;
  readonly text: string;
  /** the height of the key's last change, as the index claims it (not verified) */
  readonly indexedHeight: bigint;
}

export interface SearchResult {
  readonly hits: VerifiedHit[];
  /** keys the index named whose verified value does not match (a stale or lying index) */
  readonly dropped: string[];
  /** the height the index had reached, as it claims */
  readonly indexHeight: bigint;
}

type VerifiedGet = (keys: readonly string[], opts?: CallOptions) => Promise<Map<string, Uint8Array | null>>;

const DECODER = new TextDecoder("utf-8", { fatal: true });

/** The words of a text as the index's 'simple' configuration sees them: letters and digits, lowercased. */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

interface Group {
  readonly all: string[];
  readonly none: string[][];
}

/**
 * The query in web-search syntax, read as websearch_to_tsquery reads it: groups split by a bare
 * `or`, each requiring its words and excluding what a `-` stands before. A `-` negates the next word
 * or quoted phrase even with spaces between (`- foo` excludes foo), and each further `-` negates
 * again (`--foo` requires foo); a `-` before `or` makes it a word. A quoted phrase counts as its
 * words (their order is not checked: a looser test can only keep, never invent, a hit whose value
 * was proven).
 */
export function parseQuery(q: string): Group[] {
  const groups: Group[] = [{ all: [], none: [] }];
  let neg = false;
  let dashed = false;
  for (const m of q.matchAll(/(-)|"([^"]*)"|([^\s"-][^\s"]*)/g)) {
    if (m[1] !== undefined) {
      neg = !neg;
      dashed = true;
      continue;
    }
    const raw = m[2] ?? m[3] ?? "";
    if (!dashed && m[3] !== undefined && raw.toLowerCase() === "or") {
      groups.push({ all: [], none: [] });
      continue;
    }
    const ws = words(raw);
    if (ws.length === 0) continue; // punctuation alone: a pending `-` goes on to the next word
    const g = groups[groups.length - 1]!;
    if (neg) g.none.push(ws);
    else g.all.push(...ws);
    neg = false;
    dashed = false;
  }
  return groups.filter((g) => g.all.length > 0 || g.none.length > 0);
}

/** True when the text satisfies the query: some group's words all occur and none of its exclusions does. */
export function matchesQuery(text: string, q: string): boolean {
  const have = new Set(words(text));
  return parseQuery(q).some(
    (g) => g.all.every((w) => have.has(w)) && !g.none.some((ws) => ws.every((w) => have.has(w))),
  );
}

function bad(code: string, message: string): never {
  throw new ArborError(code, message);
}

/** The index's answer, bounded and checked for shape (its content is not trusted). */
async function askIndex(
  text: string,
  o: SearchOptions,
  limit: number,
): Promise<{ hits: { key: string; height: bigint }[]; height: bigint }> {
  const url = new URL("search", o.index.endsWith("/") ? o.index : o.index + "/");
  url.searchParams.set("q", text);
  url.searchParams.set("limit", String(limit));
  if (o.domain !== undefined) url.searchParams.set("domain", o.domain);
  const res = await fetch(url, { signal: AbortSignal.timeout(o.timeoutMs ?? SEARCH_INDEX_TIMEOUT_MS) });
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > MAX_SEARCH_REPLY_BYTES)
    bad("search/reply-too-large", `the index's answer exceeds ${MAX_SEARCH_REPLY_BYTES} bytes`);
  const body = await readBounded(res);
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    bad("search/bad-reply", `the index answered ${res.status} with text that is not JSON`);
  }
  const d = doc as { hits?: unknown; height?: unknown; error?: { code?: unknown; message?: unknown } };
  if (!res.ok) {
    const code = typeof d.error?.code === "string" ? d.error.code : `http-${res.status}`;
    bad("search/index-refused", `the index refused the search (${code}: ${String(d.error?.message ?? "")})`);
  }
  if (!Array.isArray(d.hits) || d.hits.length > limit || !/^\d+$/.test(String(d.height)))
    bad("search/bad-reply", "the index's answer is not {hits: [...], height}");
  const hits = d.hits.map((h: unknown) => {
    const x = h as { key?: unknown; height?: unknown };
    if (typeof x?.key !== "string" || !/^\d+$/.test(String(x.height)))
      bad("search/bad-reply", "a hit is not {key, height, text_snippet}");
    return { key: x.key, height: BigInt(String(x.height)) };
  });
  return { hits, height: BigInt(String(d.height)) };
}

async function readBounded(res: Response): Promise<string> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  if (res.body)
    for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
      n += c.length;
      if (n > MAX_SEARCH_REPLY_BYTES)
        bad("search/reply-too-large", `the index's answer exceeds ${MAX_SEARCH_REPLY_BYTES} bytes`);
      chunks.push(c);
    }
  const all = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return new TextDecoder().decode(all);
}

/** Searches the index, then keeps only the hits the chain confirms (see the file's header). */
export async function searchVerified(
  get: VerifiedGet,
  text: string,
  o: SearchOptions,
): Promise<SearchResult> {
  const limit = o.limit ?? DEFAULT_SEARCH_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT)
    bad("search/bad-limit", `limit is a whole number in 1..${MAX_SEARCH_LIMIT}`);
  if (text.trim() === "" || text.length > MAX_SEARCH_QUERY_CHARS)
    bad("search/bad-query", `a query has 1..${MAX_SEARCH_QUERY_CHARS} characters`);
  if (!parseQuery(text).some((g) => g.all.length > 0))
    bad("search/bad-query", "a query needs a word to find");
  const answer = await askIndex(text, o, limit);
  const named = [...new Map(answer.hits.map((h) => [h.key, h])).values()];
  // One read proves at most MAX_TOUCHED_KEYS keys; a full page of hits takes two.
  const values = new Map<string, Uint8Array | null>();
  for (let i = 0; i < named.length; i += MAX_TOUCHED_KEYS) {
    const part = named.slice(i, i + MAX_TOUCHED_KEYS).map((h) => h.key);
    for (const [k, v] of await get(part, o)) values.set(k, v);
  }
  const hits: VerifiedHit[] = [];
  const dropped: string[] = [];
  for (const h of named) {
    const v = values.get(h.key);
    let t: string | null = null;
    if (v)
      try {
        t = DECODER.decode(v);
      } catch {
        t = null;
      }
    const inDomain = o.domain === undefined || h.key.split("/")[0] === o.domain;
    if (v && t !== null && inDomain && matchesQuery(t, text))
      hits.push({ key: h.key, value: v, text: t, indexedHeight: h.height });
    else dropped.push(h.key);
  }
  return { hits, dropped, indexHeight: answer.height };
}
