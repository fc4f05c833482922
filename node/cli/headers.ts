// `arbor headers [KEY] [--key-read KEY] [--height H]`: a light client from the genesis against the
// cluster. It verifies one read (default: `.root_rule`, a record every chain has) against the
// certified header at the proof's height, downloading only the headers that changed the validator
// set and the header it checks against, and compares what it downloaded with the bytes of every
// certified header up to that height — measured by asking a node for all of them, or, when that
// is not possible (or more than MEASURE_LIMIT headers), estimated as H × the size of header H; the
// output says which.
import { decodeCertifiedHeader, encodeCertifiedHeader } from "../ledger/header.js";
import { toHex } from "../common/bytes.js";
import { sha256 } from "../common/hash.js";
import { ROOT_RULE_KEY } from "../common/system-keys.js";
import type { ArborClient } from "../../client/client.js";
import { UnavailableError } from "../../client/errors.js";
import { heightFlag, parseArgs, UsageError } from "./args.js";
import { Output, shortHex } from "./output.js";
import { TARGET_FLAGS, withClient } from "./connect.js";
import { pollStatus } from "./status.js";

const FLAGS = { ...TARGET_FLAGS, "key-read": "string", height: "string" } as const;

export const DEFAULT_READ_KEY = ROOT_RULE_KEY;

/** Beyond this many headers the total is estimated rather than downloaded. */
const MEASURE_LIMIT = 20_000n;

export interface AllHeaders {
  readonly count: bigint;
  readonly bytes: number;
  /** measured: summed over the headers a node served; estimated: count × the size of the last one */
  readonly method: "measured" | "estimated";
  /** the node that served them (measured) */
  readonly node?: number;
  readonly why?: string;
}

/**
 * The bytes of the certified headers of heights 1..height (an empty block's height has none), asked
 * of the nodes (page by page) when feasible.
 */
async function allHeaders(c: ArborClient, height: bigint, first: number): Promise<AllHeaders> {
  if (height === 0n) return { count: 0n, bytes: 0, method: "measured" };
  const estimate = async (why: string): Promise<AllHeaders> => {
    const size = encodeCertifiedHeader(await c.certifiedHeader(height)).length;
    return { count: height, bytes: Number(height) * size, method: "estimated", why };
  };
  if (height > MEASURE_LIMIT) return estimate(`more than ${MEASURE_LIMIT} headers: not downloaded`);
  const ids = [first, ...c.nodes.map((n) => n.id).filter((id) => id !== first)];
  const problems: string[] = [];
  for (const id of ids) {
    try {
      let bytes = 0;
      let count = 0n;
      let next = 1n;
      while (next <= height) {
        const page = (await c.node(id).headers(next, 1024)).headers;
        if (page.length === 0) throw new Error(`no certified header at or after ${next}`);
        for (const b of page) {
          const h = decodeCertifiedHeader(b).header.height;
          if (h > height) {
            next = height + 1n;
            break;
          }
          if (h < next) throw new Error(`serves header ${h} where one from ${next} was expected`);
          bytes += b.length;
          count++;
          next = h + 1n;
        }
        if (page.length < 1024 && next <= height) throw new Error(`no certified header at or after ${next}`);
      }
      return { count, bytes, method: "measured", node: id };
    } catch (e) {
      problems.push(`node ${id}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return estimate(`no node served them all (${problems.join("; ")})`);
}

function ratio(x: number): string {
  return x < 10 ? x.toFixed(1) : x.toFixed(0);
}

function kb(n: number): string {
  return n < 10_000 ? `${n} bytes` : `${(n / 1024).toFixed(1)} KiB`;
}

export async function headersCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, FLAGS);
  if (a.positional.length > 1) throw new UsageError("headers reads one KEY (or --key-read KEY)");
  const flagKey = a.strings.get("key-read");
  if (flagKey !== undefined && a.positional.length > 0)
    throw new UsageError("give the key to read once: KEY or --key-read KEY");
  const key = flagKey ?? a.positional[0] ?? DEFAULT_READ_KEY;
  const asked = heightFlag(a, "height");
  const out = new Output(a.bools.has("json"));
  return withClient(
    a,
    async (c) => {
      const st = (await pollStatus(c)).filter((s) => s.reachable);
      if (st.length === 0) throw new UnavailableError("client/unavailable", "no node is reachable");
      const max = (xs: bigint[]) => xs.reduce((x, y) => (x > y ? x : y), 0n);
      const chainHeight = max(st.map((s) => s.height!));
      const certifiedHeight = max(st.map((s) => s.certifiedHeight ?? 0n));
      let target: bigint | undefined;
      if (asked !== undefined) {
        target = asked;
        if (target < 1n) throw new UsageError("--height must be at least 1 (height 0 is the genesis)");
        if (target > certifiedHeight)
          throw new UsageError(`--height ${target}: the newest certified height is ${certifiedHeight}`);
        // First: the light client moves forward only, so the older height comes before the read.
        await c.certifiedHeader(target);
      }
      // The read is at the height the answering node is at: nodes serve proofs of their current
      // state only. The SDK in light mode checks it against the certified header at that height.
      const r = await c.read([key]);
      const value = r.values.get(key) ?? null;
      const height = target ?? r.height;
      const s = c.lightStats();
      const all = await allHeaders(c, height, s.source);
      const answeredBy = [...new Set(r.statements.map((x) => x.node))].sort((x, y) => x - y);
      out.doc({
        chain: c.chain,
        key,
        read: {
          height: r.height,
          timestamp: r.timestamp,
          root: r.root,
          present: value !== null,
          valueBytes: value?.length ?? 0,
          valueSha256: value === null ? null : sha256(value),
          proofBytes: r.proof.length,
          answeredBy,
        },
        height,
        chainHeight,
        certifiedHeight,
        headersDownloaded: s.headers,
        bytesDownloaded: s.bytes,
        transitions: s.transitions,
        headerSource: s.source,
        failovers: s.failovers,
        allHeaders: all,
      });
      out.line(
        `light client from the genesis: chain ${toHex(c.chain).slice(0, 16)}…, ${c.nodes.length} validators at genesis`,
      );
      out.line(
        `read ${key} at height ${r.height}: ${value === null ? "absent" : `present (${value.length} bytes)`}, proof ${r.proof.length} bytes, ` +
          (r.height === 0n
            ? "checked against the genesis root"
            : `checked against the certified root ${shortHex(r.root)}`) +
          `; answered by node${answeredBy.length > 1 ? "s" : ""} ${answeredBy.join(", ")}`,
      );
      out.line(
        `headers downloaded: ${s.headers} (${s.bytes} bytes); validator-set transitions stepped through: ${s.transitions}` +
          (s.headers > 0
            ? `; headers from node ${s.source}${s.failovers ? ` after ${s.failovers} failover(s)` : ""}`
            : ""),
      );
      out.line(
        `chain height ${chainHeight} (newest certified ${certifiedHeight}); all ${all.count} certified headers up to height ${height}: ${kb(all.bytes)} ` +
          (all.method === "measured"
            ? `(measured: as node ${all.node} serves them)`
            : `(estimated: ${height} × the size of header ${height}; ${all.why})`),
      );
      if (all.bytes > 0)
        out.line(
          `the light client downloaded ${((100 * s.bytes) / all.bytes).toFixed(1)}% of that` +
            (s.bytes > 0 ? ` (${ratio(all.bytes / s.bytes)}× less)` : ""),
        );
      return 0;
    },
    { light: true },
  );
}
