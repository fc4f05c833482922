// A node's simulated durable storage: exactly what the persist intents wrote, in canonical bytes,
// and nothing else. A crash discards the core; a restart decodes these bytes into a new one.

import { toHex } from "../../../node/common/bytes.js";
import { invariant } from "../../../node/common/errors.js";
import { TOB_DEDUP_WINDOW, TOB_DELIVER_WINDOW, TOB_RETAINED_BLOCKS } from "../../../node/common/limits.js";
import {
  decodeBlock,
  decodeEpochState,
  decodeSafety,
  encodeBlock,
  encodeEpochState,
  encodeSafety,
  type PersistBatch,
  type Restored,
} from "../../../node/tob/core/index.js";

export class Disk {
  safety: Uint8Array | null = null;
  epoch: Uint8Array | null = null;
  /** Ledger blocks by height; heights are contiguous from `base + 1`. */
  readonly ledger = new Map<number, Uint8Array>();
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
    for (const b of p.blocks) {
      invariant(b.height === this.top + 1, `ledger append at ${b.height} after ${this.top}`);
      this.ledger.set(b.height, encodeBlock(b));
      this.top = b.height;
    }
    for (const b of p.tree) this.tree.set(toHex(b.id), { height: b.height, bytes: encodeBlock(b) });
    if (p.treeFloor !== null)
      for (const [k, v] of this.tree) if (v.height <= p.treeFloor) this.tree.delete(k);
  }

  /** What a restarting node reads back; undefined on first boot. */
  restore(): Restored | undefined {
    if (!this.safety || !this.epoch) return undefined;
    const keep = Math.max(TOB_RETAINED_BLOCKS, TOB_DEDUP_WINDOW + TOB_DELIVER_WINDOW);
    const blocks = [];
    for (let h = Math.max(1, this.top - keep + 1); h <= this.top; h++)
      blocks.push(decodeBlock(this.ledger.get(h)!));
    const tree = [...this.tree.values()].map((v) => decodeBlock(v.bytes));
    return {
      safety: decodeSafety(this.safety),
      epoch: decodeEpochState(this.epoch),
      ledger: blocks,
      appliedHeight: this.applied,
      tree,
    };
  }
}
