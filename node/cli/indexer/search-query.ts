// What a search may ask, checked before any SQL runs: the text (web-search syntax: words, "quoted
// phrases", `or`, `-word`), a limit, and a domain. PostgreSQL's websearch_to_tsquery accepts any
// string, so syntax it would silently repair (an unclosed quote, a query of punctuation alone) is
// refused here, where the caller can be told.
import { ArborError } from "../../common/errors.js";
import { parseQuery } from "../../../client/search.js";
import type { SearchQuery } from "./index-db.js";
import { DEFAULT_SEARCH_LIMIT, MAX_DOMAIN_CHARS, MAX_QUERY_CHARS, MAX_SEARCH_LIMIT } from "./limits.js";

const WORD = /[\p{L}\p{N}]/u;

export function parseSearch(p: URLSearchParams): SearchQuery {
  for (const name of p.keys())
    if (name !== "q" && name !== "limit" && name !== "domain")
      throw new ArborError("search/bad-parameter", `unknown parameter "${name}" (q, limit, domain)`);
  for (const name of ["q", "limit", "domain"])
    if (p.getAll(name).length > 1) throw new ArborError("search/bad-parameter", `"${name}" given twice`);
  return {
    text: checkText(p.get("q")),
    limit: checkLimit(p.get("limit")),
    domain: checkDomain(p.get("domain")),
  };
}

export function checkText(q: string | null): string {
  if (q === null || q.trim() === "")
    throw new ArborError("search/bad-query", "q, the text to search for, is required");
  if (q.length > MAX_QUERY_CHARS)
    throw new ArborError("search/bad-query", `a query is at most ${MAX_QUERY_CHARS} characters`);
  if (/[\u0000-\u001f\u007f]/.test(q))
    throw new ArborError("search/bad-query", "a query holds no control characters");
  if ((q.match(/"/g)?.length ?? 0) % 2 === 1)
    throw new ArborError("search/bad-query", "a quoted phrase is not closed");
  if (!WORD.test(q)) throw new ArborError("search/bad-query", "a query needs at least one word");
  // `-foo` alone (or `bar or -foo`) would match every record without it: work for nothing.
  if (parseQuery(q).some((g) => g.all.length === 0))
    throw new ArborError(
      "search/bad-query",
      "a query (each side of an `or`) needs a word that is not excluded",
    );
  return q;
}

function checkLimit(s: string | null): number {
  if (s === null) return DEFAULT_SEARCH_LIMIT;
  if (!/^\d{1,4}$/.test(s) || Number(s) < 1 || Number(s) > MAX_SEARCH_LIMIT)
    throw new ArborError("search/bad-limit", `limit is a whole number in 1..${MAX_SEARCH_LIMIT}`);
  return Number(s);
}

function checkDomain(s: string | null): string | undefined {
  if (s === null) return undefined;
  if (s.length > MAX_DOMAIN_CHARS || s.includes("/") || /[\u0000]/.test(s))
    throw new ArborError("search/bad-domain", "domain is a key's first segment (no '/')");
  return s;
}
