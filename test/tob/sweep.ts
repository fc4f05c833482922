// Shared body of the CI simulator sweeps (one file per n so the two run in parallel).

import { test } from "node:test";
import assert from "node:assert/strict";
import { runSeed } from "./sim/scenario.js";

/** Seeds per n in CI; the manual sweep (npm run sim -- --from 1 --count 2000 --n 4,7) runs more. */
export const CI_SEEDS = Number(process.env["TOB_SIM_SEEDS"] ?? 150);

export function sweep(n: number, firstSeed = 1): void {
  test(`simulator sweep: n=${n}, f=${Math.floor((n - 1) / 3)} Byzantine, seeds ${firstSeed}..${firstSeed + CI_SEEDS - 1}`, () => {
    const failures: string[] = [];
    let reconfigs = 0;
    let twinRuns = 0;
    let twinEvidence = 0;
    for (let seed = firstSeed; seed < firstSeed + CI_SEEDS; seed++) {
      const r = runSeed({ seed, n });
      if (r.reconfig) reconfigs++;
      if (r.twins.length > 0) {
        twinRuns++;
        twinEvidence += r.evidence;
      }
      if (!r.ok)
        failures.push(
          `seed ${seed}: ${r.error}\n    replay: npm run sim -- --seed ${seed} --n ${n} --verbose`,
        );
    }
    assert.deepEqual(failures, [], failures.join("\n"));
    assert.ok(reconfigs > 0, "some runs exercised a validator-set change");
    assert.ok(twinRuns > 0, "some runs had Twins");
    assert.ok(twinEvidence > 0, "correct nodes caught Twins equivocating (double proposals or votes)");
  });
}
