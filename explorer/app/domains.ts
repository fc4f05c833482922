// The domains of the chain, from verified listings: the index is listed page by page and a domain
// is the first segment of each present key `NAME/.base_rule` (the record `.root_rule` writes when it
// creates a domain, docs/abi.md). Bounded: the scan stops after DOMAIN_SCAN_KEYS keys and says so.
import type { Verifier } from "./trust.js";

/** Most keys the domain scan lists (every key of the chain is in the index). */
export const DOMAIN_SCAN_KEYS = 2_000;
/** Keys asked per listing page of the scan (the node's MAX_LIST_PAGE). */
export const DOMAIN_SCAN_PAGE = 1_000;

const BASE_RULE = "/.base_rule";

export interface DomainScan {
  readonly domains: readonly string[];
  /** keys listed; `complete` false when the scan stopped at DOMAIN_SCAN_KEYS */
  readonly scanned: number;
  readonly complete: boolean;
  /** the certified heights the pages were verified against, lowest and highest */
  readonly heights: readonly [bigint, bigint];
}

/** The domain of a listed key, when it is a domain's base rule. */
export function domainOf(key: string): string | null {
  if (!key.endsWith(BASE_RULE)) return null;
  const name = key.slice(0, -BASE_RULE.length);
  return name !== "" && !name.includes("/") ? name : null;
}

export async function scanDomains(v: Verifier): Promise<DomainScan> {
  const domains: string[] = [];
  let after: string | null = null;
  let scanned = 0;
  let low = -1n;
  let high = -1n;
  for (;;) {
    const limit = Math.min(DOMAIN_SCAN_PAGE, DOMAIN_SCAN_KEYS - scanned);
    const page = await v.list("", after, limit);
    low = low < 0n || page.height < low ? page.height : low;
    high = page.height > high ? page.height : high;
    scanned += page.entries.length;
    for (const e of page.entries) {
      const d = domainOf(e.key);
      if (d !== null && e.present) domains.push(d);
    }
    const last = page.entries[page.entries.length - 1];
    if (page.done || !last) return { domains, scanned, complete: true, heights: [low, high] };
    if (scanned >= DOMAIN_SCAN_KEYS) return { domains, scanned, complete: false, heights: [low, high] };
    after = last.key;
  }
}
