// Loads the exactly-once id set a node kept with its blocks (node/ledger/decided-ids.ts): one
// record per height slot, written in the block's own commit, so after a crash the set is exactly
// that of the last committed block.

import { MAX_REQUEST_LIFETIME_BLOCKS } from "./common/limits.js";
import { decidedIdsSlot, decodeDecidedIds, type DecidedId } from "./ledger/decided-ids.js";
import type { LevelStore } from "./store/level-store.js";

/** Every decided id still inside its lifetime at the store's height (expired slots are skipped). */
export async function loadDecidedIds(store: LevelStore): Promise<DecidedId[]> {
  const height = store.height;
  const slots = await Promise.all(
    Array.from({ length: MAX_REQUEST_LIFETIME_BLOCKS }, (_, i) => store.extra(decidedIdsSlot(BigInt(i)))),
  );
  const out: DecidedId[] = [];
  for (const bytes of slots) {
    if (bytes === undefined) continue;
    const rec = decodeDecidedIds(bytes);
    if (rec.height > height) continue; // cannot happen: written with its block
    for (const a of rec.decided) if (a.validUntil > height) out.push(a);
  }
  return out;
}
