// Loads the exactly-once id set a node kept with its blocks (node/ledger/applied-ids.ts): one
// record per height slot, written in the block's own commit, so after a crash the set is exactly
// that of the last committed block.

import { MAX_REQUEST_LIFETIME_BLOCKS } from "./common/limits.js";
import { appliedIdsSlot, decodeAppliedIds, type AppliedId } from "./ledger/applied-ids.js";
import type { LevelStore } from "./store/level-store.js";

/** Every applied id still inside its lifetime at the store's height (expired slots are skipped). */
export async function loadAppliedIds(store: LevelStore): Promise<AppliedId[]> {
  const height = store.height;
  const slots = await Promise.all(
    Array.from({ length: MAX_REQUEST_LIFETIME_BLOCKS }, (_, i) => store.extra(appliedIdsSlot(BigInt(i)))),
  );
  const out: AppliedId[] = [];
  for (const bytes of slots) {
    if (bytes === undefined) continue;
    const rec = decodeAppliedIds(bytes);
    if (rec.height > height) continue; // cannot happen: written with its block
    for (const a of rec.applied) if (a.validUntil > height) out.push(a);
  }
  return out;
}
