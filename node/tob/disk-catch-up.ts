// Catch-up below what the consensus core keeps in memory: the core answers a peer's sync request
// from its last TOB_RETAINED_BLOCKS delivered blocks; a peer further behind (down for a while, or
// starting from an empty disk) is answered here from the shell's storage, which holds every
// delivered block. The answer has the core's shape (sync.ts): a run of consecutive blocks of the
// asked epoch and the certificate of the last, checked by the asker like any other; `more` tells
// it to ask on from the next height. The end of an epoch older than the core's kept tails is
// certified by that epoch's tail, which the shell stores for every epoch. Disk reads are bounded
// per peer and in total.

import { DISK_CATCH_UP_IN_FLIGHT, DISK_CATCH_UP_PEER_INTERVAL_MS } from "../common/limits.js";
import {
  decodeBlock,
  decodeMessage,
  encodeMessage,
  KIND_TAGS,
  type Block,
  type EpochTail,
  type QC,
  type TobCore,
} from "./core/index.js";
import { answerFrom, joinsAnswer } from "./core/sync.js";
import { blockSizeBound } from "./core/wire.js";
import { PeerReadLimit } from "../common/peer-read-limit.js";

export class DiskCatchUp {
  private readonly reads = new PeerReadLimit(DISK_CATCH_UP_IN_FLIGHT, DISK_CATCH_UP_PEER_INTERVAL_MS, () =>
    Date.now(),
  );

  constructor(
    private readonly core: TobCore,
    private readonly readBlock: (height: number) => Promise<Uint8Array | undefined>,
    /** an earlier epoch's tail from storage (the core keeps the last few only) */
    private readonly readTail: (epoch: number) => Promise<EpochTail | undefined>,
    private readonly send: (to: readonly string[], bytes: Uint8Array) => void,
  ) {}

  /**
   * Takes a peer's message if it is a sync request for heights the core no longer holds (answered
   * from storage, or dropped past the bounds); false: the core handles it.
   */
  take(from: string, bytes: Uint8Array): boolean {
    if (bytes[1] !== KIND_TAGS.syncRequest) return false;
    let epoch: number;
    let fromHeight: number;
    try {
      const m = decodeMessage(bytes);
      if (m.kind !== "syncRequest") return false;
      ({ epoch, fromHeight } = m);
    } catch {
      return false; // the core refuses it with its reason
    }
    const view = this.core.catchUpView();
    // The core answers from memory: its retained blocks, and the tails of the last few epochs.
    const inMemory =
      fromHeight >= view.retainedFrom && (epoch === view.epoch || view.tail(epoch) !== undefined);
    if (fromHeight < 1 || epoch > view.epoch || inMemory) return false;
    // Not a validator's: the core refuses it, counted (`tob/unknown-peer`), as it does in memory.
    if (!view.knows(from)) return false;
    // Past the bounds the request is dropped: the asker retries on its own schedule.
    this.reads.run(from, () => this.answer(from, epoch, fromHeight));
    return true;
  }

  private async answer(to: string, epoch: number, fromHeight: number): Promise<void> {
    const chain: Block[] = [];
    // Read until a block does not join the answer (answerFrom cuts there, its QC certifying the
    // cut), so large blocks are not all read into memory for an answer that cannot carry them.
    let bytes = 0;
    for (let h = fromHeight; ; h++) {
      const raw = await this.readBlock(h);
      if (!raw) break;
      const b = decodeBlock(raw);
      if (b.epoch !== epoch) break;
      const size = blockSizeBound(b);
      const joins = joinsAnswer(chain.length, bytes, size);
      chain.push(b);
      if (!joins) break;
      bytes += size;
    }
    if (chain.length === 0) return;
    // The end of an earlier epoch is certified by its tail (as the core answers it).
    const tail =
      epoch < this.core.catchUpView().epoch
        ? (this.core.catchUpView().tail(epoch) ?? (await this.readTail(epoch)))
        : undefined;
    let tipQC: QC | null = null;
    if (tail && chain[chain.length - 1]!.height === tail.lastHeight) {
      for (const b of tail.blocks) if (b.height > tail.lastHeight) chain.push(b);
      tipQC = tail.qc;
    }
    const a = answerFrom(chain, tipQC);
    if (a.blocks.length === 0 || !a.qc) return;
    // Always `more`: the asker goes on from the next height, here or at the core.
    this.send([to], encodeMessage({ kind: "syncResponse", epoch, blocks: a.blocks, qc: a.qc, more: true }));
  }
}
