// A node's simulated durable storage: exactly what the persist intents wrote, in canonical bytes,
// and nothing else. A crash discards the core; a restart hands these bytes to restoredFrom, the same
// restore code the LevelDB shell uses, and boots a new core from what it returns.

import { toHex } from "../../../node/common/bytes.js";
import { invariant } from "../../../node/common/errors.js";
import { TOB_DEDUP_WINDOW } from "../../../node/common/limits.js";
import {
  RESTORE_LEDGER_BLOCKS,
  encodeBlock,
  encodeEpochState,
  encodeSafety,
  restoredFrom,
  type PersistBatch,
  type Restored,
} from "../../../node/tob/core/index.js";

export class Disk {
  safety: Uint8Array | null = null;
  epoch: Uint8Array | null = null;
  /** Ledger blocks by height; heights are contiguous from `base + 1`. */
  readonly ledger = new Map<number, Uint8Array>();
  /** The digests each ledger block delivered, by height (PersistBatch.fresh). */
  readonly fresh = new Map<number, Uint8Array>();
  top = 0;
  /** Stored uncommitted blocks by id. */
  readonly tree = new Map<string, { height: number; bytes: Uint8Array }>();
  /** The application's durable progress (it applies synchronously in the simulator). */
  applied = 0;
  writes = 0;

  write(p: PersistBatch): void {
    this.writes++;
    if (p.safety) this.safety = encodeSafety(p.safety);
    if (p.epoch) this.epoch = encodeEpochState(p.epoch);
    p.blocks.forEach((b, i) => {
      invariant(b.height === this.top + 1, `ledger append at ${b.height} after ${this.top}`);
      this.ledger.set(b.height, encodeBlock(b));
      this.fresh.set(b.height, p.fresh[i]!);
      this.top = b.height;
    });
    for (const b of p.tree) this.tree.set(toHex(b.id), { height: b.height, bytes: encodeBlock(b) });
    if (p.treeFloor !== null)
      for (const [k, v] of this.tree) if (v.height <= p.treeFloor) this.tree.delete(k);
  }

  /** What a restarting node reads back (decoded by the shell's own restore code); undefined on first boot. */
  restore(): Restored | undefined {
    const ledger: Uint8Array[] = [];
    for (let h = Math.max(1, this.top - RESTORE_LEDGER_BLOCKS + 1); h <= this.top; h++)
      ledger.push(this.ledger.get(h)!);
    return restoredFrom({
      safety: this.safety ?? undefined,
      epoch: this.epoch ?? undefined,
      ledger,
      tree: [...this.tree.values()].map((v) => v.bytes),
      appliedHeight: this.applied,
      fresh: [...this.fresh]
        .filter(([h]) => h > this.top - TOB_DEDUP_WINDOW)
        .map(([height, digests]) => ({ height, digests })),
    });
  }
}
