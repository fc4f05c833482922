// Catch-up. A node that sees a certificate for a block it lacks (or a message from a later epoch)
// asks a peer for its chain from just above its own committed height. The answer is a run of
// consecutive blocks and one QC certifying the last of them. One signature check suffices: the QC
// certifies the last block, whose embedded QC (checked by the correct nodes that voted for it)
// certifies its parent, and so on down the hash links. The receiver then feeds these certified
// blocks through the ordinary commit rule; nothing is taken on the responder's word.

import { bytesEqual } from "../../common/bytes.js";
import { TOB_MAX_SYNC_BLOCKS, TOB_MAX_SYNC_BYTES } from "../../common/limits.js";
import { blockSizeBound } from "./wire.js";
import { reject } from "./reject.js";
import type { Block, QC } from "./types.js";

export interface ChainAnswer {
  readonly blocks: Block[];
  readonly qc: QC | null;
  readonly more: boolean;
}

/**
 * Cuts a contiguous chain (each block the parent of the next) into one bounded answer: at most
 * TOB_MAX_SYNC_BLOCKS blocks and, past the first, at most TOB_MAX_SYNC_BYTES of them by their
 * encoded-size bound, so that an answer always fits one message (TOB_MAX_MESSAGE_BYTES) however
 * large its blocks. `tipQC` certifies the chain's last block, if known; otherwise the last block
 * is held back and the one before it is certified by the last block's embedded QC.
 */
export function answerFrom(chain: Block[], tipQC: QC | null): ChainAnswer {
  const n = answerLength(chain);
  if (n < chain.length) return { blocks: chain.slice(0, n), qc: chain[n]!.qc, more: true };
  if (chain.length === 0) return { blocks: [], qc: null, more: false };
  const last = chain[chain.length - 1]!;
  if (tipQC && bytesEqual(tipQC.blockId, last.id)) return { blocks: chain, qc: tipQC, more: false };
  if (chain.length === 1) return { blocks: [], qc: null, more: false };
  return { blocks: chain.slice(0, -1), qc: last.qc, more: false };
}

/**
 * Whether a block of `size` bytes (its encoded-size bound) joins an answer that already carries `n`
 * blocks of `bytes`: the first always does; then at most TOB_MAX_SYNC_BLOCKS blocks and
 * TOB_MAX_SYNC_BYTES bytes.
 */
export function joinsAnswer(n: number, bytes: number, size: number): boolean {
  return n === 0 || (n < TOB_MAX_SYNC_BLOCKS && bytes + size <= TOB_MAX_SYNC_BYTES);
}

/** How many of the chain's first blocks one answer may carry (at least one, when there is one). */
export function answerLength(chain: readonly Pick<Block, "qc" | "requests">[]): number {
  let n = 0;
  let bytes = 0;
  for (; n < chain.length; n++) {
    const size = blockSizeBound(chain[n]!);
    if (!joinsAnswer(n, bytes, size)) break;
    bytes += size;
  }
  return n;
}

/**
 * Checks the shape of a received answer against its (already verified) QC and returns the
 * certified prefix, ascending. Every block of it is then known certified.
 */
export function certifiedPrefix(epoch: number, blocks: readonly Block[], qc: QC): Block[] {
  let top = -1;
  for (let i = blocks.length - 1; i >= 0; i--)
    if (bytesEqual(blocks[i]!.id, qc.blockId)) {
      top = i;
      break;
    }
  if (top < 0) reject("tob/sync-unanchored", "no block of the answer is certified by its qc");
  const out = blocks.slice(0, top + 1);
  if (out[top]!.round !== qc.round) reject("tob/sync-shape", "qc round differs from the block's");
  for (let j = 0; j <= top; j++) {
    const b = out[j]!;
    if (b.epoch !== epoch || b.qc.epoch !== epoch) reject("tob/sync-shape", "block from another epoch");
    if (!bytesEqual(b.parentId, b.qc.blockId))
      reject("tob/sync-shape", "block's qc does not certify its parent");
    if (j === 0) continue;
    const p = out[j - 1]!;
    if (
      !bytesEqual(b.parentId, p.id) ||
      b.height !== p.height + 1 ||
      b.qc.round !== p.round ||
      b.round <= p.round
    )
      reject("tob/sync-shape", `answer is not one chain at height ${b.height}`);
  }
  return out;
}
