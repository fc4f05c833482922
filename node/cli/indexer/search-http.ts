// The index's search endpoint: `GET /search?q=TEXT&limit=N&domain=D` answers
// `{hits: [{key, height, text_snippet}], height}`. Anything malformed is a 400 with
// `{error: {code, message}}`; a failing search is a 500 of the same shape, and one past the bound on
// searches at once, or on a search's time, a 503. The indexer goes on either way. The answers are not proofs: the SDK re-reads every hit (client/search.ts).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ArborError } from "../../common/errors.js";
import type { SearchHit, SearchQuery } from "./index-db.js";
import { parseSearch } from "./search-query.js";
import { MAX_CONCURRENT_SEARCHES, MAX_HTTP_CONNECTIONS, MAX_URL_BYTES, SEARCH_TIMEOUT_MS } from "./limits.js";

/** Request headers read at most: a search needs none of its own. */
const MAX_HEADERS = 50;

export type Searcher = (q: SearchQuery) => Promise<{ hits: SearchHit[]; height: bigint }>;

export interface SearchServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(text);
}

function fail(res: ServerResponse, status: number, code: string, message: string): void {
  send(res, status, { error: { code, message } });
}

/** How soon a client refused `search/busy` may try again, in seconds (the Retry-After header). */
const BUSY_RETRY_AFTER_S = 1;

/** Searches running now (MAX_CONCURRENT_SEARCHES), per server. */
interface Running {
  n: number;
}

async function handle(
  search: Searcher,
  running: Running,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const raw = req.url ?? "/";
  if (Buffer.byteLength(raw) > MAX_URL_BYTES)
    return fail(res, 414, "search/url-too-long", `a search URL is at most ${MAX_URL_BYTES} bytes`);
  const url = new URL(raw, "http://index.invalid");
  if (url.pathname !== "/search")
    return fail(res, 404, "search/not-found", "the one endpoint is GET /search");
  if (req.method !== "GET") return fail(res, 405, "search/method", "search with GET");
  let q: SearchQuery;
  try {
    q = parseSearch(url.searchParams);
  } catch (e) {
    if (e instanceof ArborError) return fail(res, 400, e.code, e.message.slice(e.code.length + 2));
    throw e;
  }
  if (running.n >= MAX_CONCURRENT_SEARCHES) {
    res.setHeader("retry-after", String(BUSY_RETRY_AFTER_S));
    return fail(res, 503, "search/busy", `${MAX_CONCURRENT_SEARCHES} searches are running: retry`);
  }
  running.n++;
  try {
    const r = await search(q);
    send(res, 200, { hits: r.hits, height: r.height });
  } catch (e) {
    if (e instanceof ArborError && e.code === "search/timeout")
      return fail(res, 503, e.code, e.message.slice(e.code.length + 2));
    throw e;
  } finally {
    running.n--;
  }
}

/** Serves `search` on host:port (port 0: any free port; the one taken is in the result). */
export async function serveSearch(search: Searcher, host: string, port: number): Promise<SearchServer> {
  const running: Running = { n: 0 };
  const server: Server = createServer((req, res) => {
    req.resume(); // a search has no body; whatever is sent is drained, not kept
    handle(search, running, req, res).catch((e: unknown) => {
      if (!res.headersSent) fail(res, 500, "search/failed", e instanceof Error ? e.message : String(e));
    });
  });
  server.maxHeadersCount = MAX_HEADERS;
  server.maxConnections = MAX_HTTP_CONNECTIONS;
  server.requestTimeout = SEARCH_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    host,
    port: addr.port,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
