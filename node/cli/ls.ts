// `arbor ls PREFIX [--after KEY] [--limit N] [--all] [--removed]`: the keys under a prefix, in
// UTF-8 byte order, each with its value hash, number of changes and the height of its last change.
// One page of --limit keys (default 100), or every page with --all; the SDK proves each page
// complete against the certified index root at the height it was answered at. Removed keys (which
// keep their history) are shown only with --removed.
import { toHex } from "../common/bytes.js";
import type { ListedKey, ListPage } from "../../client/queries.js";
import { intFlag, parseArgs, UsageError } from "./args.js";
import { Output, shortHex } from "./output.js";
import { READ_FLAGS, withReadingClient } from "./connect.js";

const FLAGS = { ...READ_FLAGS, after: "string", limit: "string", all: "bool", removed: "bool" } as const;

/** Keys per page without --limit: one screen for a single page, the most a node serves with --all. */
const PAGE = 100;
const PAGE_ALL = 1000;

export async function lsCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, FLAGS);
  if (a.positional.length !== 1)
    throw new UsageError(
      `ls needs one PREFIX${a.positional.length > 1 ? ` (got ${a.positional.length})` : ""}`,
    );
  const prefix = a.positional[0]!;
  const all = a.bools.has("all");
  const removed = a.bools.has("removed");
  const limit = intFlag(a, "limit", all ? PAGE_ALL : PAGE, 1, 1000);
  const after = a.strings.get("after");
  const out = new Output(a.bools.has("json"));
  return withReadingClient(a, async (c) => {
    const pages: ListPage[] = [];
    let page = await c.list(prefix, { after, limit });
    pages.push(page);
    // Pages never go back in height: each is complete at its height, and heights only rise.
    while (all && !page.done) {
      page = await c.list(prefix, { after: page.next!, limit, minHeight: page.height });
      pages.push(page);
    }
    const entries = pages.flatMap((p) => p.entries);
    const shown = entries.filter((e) => removed || e.valueHash !== null);
    const width = Math.max(0, ...shown.map((e) => e.key.length));
    for (const e of shown) out.line(row(e, width));
    out.line(summary(prefix, after, pages, shown.length, entries.length - shown.length));
    out.doc({
      prefix,
      after: after ?? null,
      keys: shown.map((e) => ({
        key: e.key,
        valueHash: e.valueHash === null ? null : toHex(e.valueHash),
        changes: e.changes,
        height: e.height,
      })),
      removedLeftOut: entries.length - shown.length,
      pages: pages.length,
      height: page.height,
      done: page.done,
      next: page.next,
    });
    return 0;
  });
}

function row(e: ListedKey, width: number): string {
  const hash = e.valueHash === null ? "removed" : shortHex(e.valueHash);
  const changes = `${e.changes} change${e.changes === 1n ? "" : "s"}`;
  return `${e.key.padEnd(width)}  ${hash.padEnd(12)}  ${changes.padStart(11)}  last at height ${e.height}`;
}

function summary(
  prefix: string,
  after: string | undefined,
  pages: readonly ListPage[],
  shown: number,
  leftOut: number,
): string {
  const last = pages[pages.length - 1]!;
  const first = pages[0]!.height;
  const where = `under ${JSON.stringify(prefix)}${after !== undefined ? ` after ${JSON.stringify(after)}` : ""}`;
  const proven =
    pages.length === 1
      ? `proven complete against the certified index root at height ${last.height}`
      : `${pages.length} pages, each proven complete against the certified index root at its height (${first}..${last.height})`;
  const hidden =
    leftOut > 0 ? ` (${leftOut} removed key${leftOut === 1 ? "" : "s"} not shown; --removed shows them)` : "";
  const more = last.done
    ? "no more keys follow"
    : `more keys follow: pass --after ${JSON.stringify(last.next)} for the next page (or --all)`;
  return `${shown} key${shown === 1 ? "" : "s"} ${where}${hidden}; ${proven}; ${more}`;
}
