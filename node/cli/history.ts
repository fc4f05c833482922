// `arbor history KEY [--limit N] [--from-height H] [--to-height H]`: a key's changes, newest first
// (at most --limit, default 100), made in blocks from-height..to-height: each one's number, height,
// request, signer and the value it set (when the answering node keeps it; else its hash) or
// "removed". The SDK chains every change to the key's history head in the certified index root, so
// none can be left out. In JSON, `next` is the number of the next older change in range not shown.
import { toHex } from "../common/bytes.js";
import type { ArborClient, HistoryOptions } from "../../client/client.js";
import type { HistoryPage, KeyVersion } from "../../client/queries.js";
import type { HistoryCursor } from "../store/core/key-history.js";
import { heightFlag, intFlag, parseArgs, UsageError } from "./args.js";
import { Output, shortHex, showValue } from "./output.js";
import { READ_FLAGS, withReadingClient } from "./connect.js";

const FLAGS = {
  ...READ_FLAGS,
  limit: "string",
  "from-height": "string",
  "to-height": "string",
} as const;

const DEFAULT_LIMIT = 100;

interface Range {
  readonly from: bigint | undefined;
  readonly to: bigint | undefined;
}

interface Found {
  readonly changes: KeyVersion[];
  /** the height of the certified index root the key's head was proven in */
  readonly height: bigint;
  /** the number of the next older change in range, not shown (null: none) */
  readonly next: bigint | null;
}

/**
 * A page from the nodes that hold the key (they keep its history), asked in turn by the SDK: a
 * holder that is down, lacks the changes or whose page fails verification is passed over.
 */
function page(c: ArborClient, key: string, o: HistoryOptions): Promise<HistoryPage> {
  return c.history(key, o);
}

/**
 * Walks the history newest first, page by page, keeping the changes in range up to `limit`, then
 * looks one change further to say whether older ones in range remain.
 */
async function collect(c: ArborClient, key: string, limit: number, r: Range): Promise<Found> {
  const ranged = r.from !== undefined || r.to !== undefined;
  const pageSize = ranged ? 1000 : Math.min(1000, limit + 1);
  const changes: KeyVersion[] = [];
  let cursor: HistoryCursor | undefined;
  let height: bigint | undefined;
  for (;;) {
    const p = await page(c, key, { cursor, limit: pageSize, minHeight: height ?? 0n });
    height ??= p.height;
    for (const v of p.changes) {
      if (r.from !== undefined && v.height < r.from) return { changes, height, next: null };
      if (r.to !== undefined && v.height > r.to) continue;
      if (changes.length === limit) return { changes, height, next: v.number };
      changes.push(v);
    }
    if (!p.next) return { changes, height, next: null };
    cursor = p.next;
  }
}

export async function historyCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, FLAGS);
  if (a.positional.length !== 1)
    throw new UsageError(
      `history needs one KEY${a.positional.length > 1 ? ` (got ${a.positional.length})` : ""}`,
    );
  const key = a.positional[0]!;
  const limit = intFlag(a, "limit", DEFAULT_LIMIT, 1, 1000);
  const range: Range = { from: heightFlag(a, "from-height"), to: heightFlag(a, "to-height") };
  if (range.from !== undefined && range.to !== undefined && range.from > range.to)
    throw new UsageError(`--from-height ${range.from} is above --to-height ${range.to}`);
  const out = new Output(a.bools.has("json"));
  return withReadingClient(a, async (c) => {
    const f = await collect(c, key, limit, range);
    const width = String(f.changes[0]?.number ?? 0n).length;
    for (const v of f.changes) out.line(row(v, width));
    out.line(summary(key, f, range));
    out.doc({
      key,
      changes: f.changes.map((v) => ({
        number: v.number,
        height: v.height,
        index: v.index,
        requestId: toHex(v.requestId),
        signer: toHex(v.signer),
        valueHash: v.valueHash === null ? null : toHex(v.valueHash),
        value: v.value === undefined ? null : toHex(v.value),
      })),
      fromHeight: range.from ?? null,
      toHeight: range.to ?? null,
      height: f.height,
      done: f.next === null,
      next: f.next,
    });
    return 0;
  });
}

function row(v: KeyVersion, width: number): string {
  const what =
    v.valueHash === null
      ? "removed"
      : v.value !== undefined
        ? showValue(v.value)
        : `value hash ${shortHex(v.valueHash)} (the answering node does not keep the value)`;
  return (
    `#${String(v.number).padStart(width)}  height ${v.height}  request ${shortHex(v.requestId)}  ` +
    `signer ${shortHex(v.signer)}  ${what}`
  );
}

function summary(key: string, f: Found, r: Range): string {
  const inRange =
    r.from === undefined && r.to === undefined ? "" : ` made in heights ${r.from ?? 0n}..${r.to ?? "now"}`;
  const n = f.changes.length;
  const head = `the key's history head in the certified index root at height ${f.height}`;
  if (n === 0 && r.from === undefined && r.to === undefined)
    return `${JSON.stringify(key)} was never written (proven absent from the certified index root at height ${f.height})`;
  const more =
    f.next === null
      ? ""
      : `; older changes${inRange} not shown, from #${f.next} (raise --limit, up to 1000, or pass --to-height)`;
  return `${n} change${n === 1 ? "" : "s"} of ${JSON.stringify(key)}${inRange}, newest first, proven complete against ${head}${more}`;
}
