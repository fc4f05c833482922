// `npm run sweep:crash -- [--from N] [--count M]`: the seeded crash sweep (test/cluster/crash-sweep.ts)
// over seeds N .. N+M-1 (default 1 .. 200). Prints one line per seed, the seed and rerun command of
// any failure, and one JSON line last; exits 1 when a seed failed.
import { crashSweep } from "./crash-sweep.js";

function flag(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0) {
    console.error(`--${name} takes a whole number`);
    process.exit(2);
  }
  return v;
}

const from = flag("from", 1);
const count = flag("count", 200);
const t0 = Date.now();
console.log(`crash sweep: seeds ${from}..${from + count - 1} on a 4-node cluster under steady load`);
const r = await crashSweep({
  from,
  count,
  log: (l) => console.log(`${((Date.now() - t0) / 1000).toFixed(0).padStart(5)}s  ${l}`),
});
console.log(
  JSON.stringify({
    sweep: "crash",
    from,
    seeds: r.seeds,
    fired: r.fired,
    failed: r.failures.map((f) => f.seed),
    decided: r.decided,
    seconds: Math.round((Date.now() - t0) / 1000),
  }),
);
process.exit(r.failures.length > 0 ? 1 : 0);
