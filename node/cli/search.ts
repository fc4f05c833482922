// `arbor search TEXT --index URL [--limit N] [--domain D]`: asks an index (`arbor index`) and prints
// only the hits the SDK re-read and verified; keys the index named that did not match are counted.
import { intFlag, parseArgs, requireString, UsageError } from "./args.js";
import { Output, showValue } from "./output.js";
import { READ_FLAGS, withReadingClient } from "./connect.js";
import { DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT } from "../../client/search.js";

const FLAGS = { ...READ_FLAGS, index: "string", limit: "string", domain: "string" } as const;

export async function searchCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, FLAGS);
  if (a.positional.length === 0) throw new UsageError("search needs the TEXT to find");
  const text = a.positional.join(" ");
  const index = requireString(a, "index");
  const limit = intFlag(a, "limit", DEFAULT_SEARCH_LIMIT, 1, MAX_SEARCH_LIMIT);
  const domain = a.strings.get("domain");
  const out = new Output(a.bools.has("json"));
  return withReadingClient(a, async (c) => {
    const r = await c.search(text, { index, limit, ...(domain === undefined ? {} : { domain }) });
    const width = Math.max(0, ...r.hits.map((h) => h.key.length));
    for (const h of r.hits) out.line(`${h.key.padEnd(width)}  ${showValue(h.value)}`);
    out.line(
      `${r.hits.length} verified hit${r.hits.length === 1 ? "" : "s"} (index at height ${r.indexHeight})` +
        (r.dropped.length > 0
          ? `; ${r.dropped.length} named by the index did not verify and were dropped`
          : ""),
    );
    out.doc({
      hits: r.hits.map((h) => ({ key: h.key, value: h.text, indexedHeight: h.indexedHeight })),
      dropped: r.dropped,
      indexHeight: r.indexHeight,
      verified: true,
    });
    return 0;
  });
}
