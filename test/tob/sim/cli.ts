// Replays or sweeps simulator seeds.
//   npm run sim -- --seed 42 [--n 7] [--verbose] [--ed25519]   replay one seed
//   npm run sim -- --from 1 --count 2000 --n 4,7                 sweep seeds
// Exits non-zero if any seed fails, printing each failing seed with its replay command.

import { runSeed, type RunResult } from "./scenario.js";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

const ns = (arg("n") ?? "4").split(",").map(Number);
const single = arg("seed");
const from = Number(arg("from") ?? single ?? 1);
const count = single !== undefined ? 1 : Number(arg("count") ?? 100);
const verbose = flag("verbose");
const keys = flag("ed25519") ? "ed25519" : "sim";

const failures: RunResult[] = [];
let runs = 0;
let worst = 0;
const t0 = Date.now();
for (const n of ns) {
  for (let seed = from; seed < from + count; seed++) {
    const r = runSeed({ seed, n, keys, log: verbose ? (l) => console.log(l) : undefined });
    runs++;
    worst = Math.max(worst, r.maxLatency);
    if (single !== undefined || verbose) console.log(JSON.stringify(r));
    if (!r.ok) {
      failures.push(r);
      console.log(
        `FAIL seed=${seed} n=${n}: ${r.error}\n  replay: npm run sim -- --seed ${seed} --n ${n} --verbose`,
      );
    }
  }
}
const secs = ((Date.now() - t0) / 1000).toFixed(1);
console.log(
  JSON.stringify({
    sim: "tob",
    runs,
    n: ns,
    seeds: `${from}..${from + count - 1}`,
    failures: failures.length,
    worstLatencyTicks: worst,
    seconds: Number(secs),
  }),
);
process.exit(failures.length === 0 ? 0 : 1);
