// How this node, when it leads, weighs the requests it proposes (node/tob/core/packing.ts): by the
// gas each declares, by its size, and by what the operation it calls was seen to use in applied
// blocks. A request weighs its weight under the block's rule or PACKING_GAS_PER_REQUEST_BYTE per
// byte, whichever is more; it is heavy — proposed after light ones, in a bounded share — when it
// weighs more than LIGHT_REQUEST_GAS, or its operation recently used LIGHT_USED_GAS or more per
// call, or its operation was not seen yet and it declares more than LIGHT_USED_GAS. So an
// operation that loops is held back however little it declares, a burst of large requests goes
// after small ones, and calls of operations known to be cheap are not held up behind either. Local
// knowledge: it differs between nodes (a restart forgets it) and decides no verdict.

import {
  HEAVY_GAS_PER_PROPOSAL,
  LIGHT_REQUEST_GAS,
  LIGHT_USED_GAS,
  MAX_GAS_HISTORY_OPERATIONS,
  PACKING_GAS_PER_REQUEST_BYTE,
} from "./common/limits.js";
import { peekGas } from "./ledger/request.js";
import { requestWeight } from "./ledger/request-weight.js";
import type { Receipt } from "./ledger/receipt.js";
import type { RequestWeigher, RequestWeight } from "./tob/core/index.js";

const NOTHING: RequestWeight = { gas: 0n, group: "" };

export class GasWeigher implements RequestWeigher {
  /** Per operation key, the gas its calls used, decayed by an eighth a call (most recent last). */
  private readonly used = new Map<string, bigint>();

  /** `moduleBytes`: the size of the module an operation key holds now, as the node's ledger knows it. */
  constructor(private readonly moduleBytes: (opKey: string) => number | undefined = () => undefined) {}

  /**
   * As the block's budget counts it (node/ledger/request-weight.ts), with the module the key holds
   * now, or by its size if that is more.
   */
  weigh(req: Uint8Array): RequestWeight {
    const g = peekGas(req);
    if (g === null) return NOTHING;
    const declared = requestWeight(g.gasLimit, this.moduleBytes(g.op) ?? 0);
    // At most the heavy share, which one request of any size must always fit.
    let bySize = BigInt(req.length) * PACKING_GAS_PER_REQUEST_BYTE;
    if (bySize > HEAVY_GAS_PER_PROPOSAL) bySize = HEAVY_GAS_PER_PROPOSAL;
    return { gas: bySize > declared ? bySize : declared, declared, group: g.op, validUntil: g.validUntil };
  }

  heavy(w: RequestWeight): boolean {
    if (w.gas > LIGHT_REQUEST_GAS) return true;
    const u = this.used.get(w.group);
    // An operation not seen yet is light only if it declares little: a new one may loop.
    return u === undefined ? (w.declared ?? w.gas) > LIGHT_USED_GAS : u >= LIGHT_USED_GAS;
  }

  /** What a block's calls used (receipt i is request i's). */
  learn(requests: readonly Uint8Array[], receipts: readonly Receipt[]): void {
    for (let i = 0; i < requests.length; i++) {
      const r = receipts[i];
      if (r === undefined || r.gasUsed === 0n) continue;
      const g = peekGas(requests[i]!);
      if (g !== null) this.observe(g.op, r.gasUsed);
    }
  }

  /** Whether calls of `op` declaring LIGHT_USED_GAS are now held back (for tests). */
  isHeavy(op: string): boolean {
    return this.heavy({ gas: 0n, group: op });
  }

  private observe(op: string, gasUsed: bigint): void {
    const before = this.used.get(op);
    const decayed = before === undefined ? 0n : before - before / 8n;
    const now = gasUsed > decayed ? gasUsed : decayed;
    this.used.delete(op); // re-inserted last: the map's order is the eviction order
    this.used.set(op, now);
    if (this.used.size > MAX_GAS_HISTORY_OPERATIONS) {
      const oldest = this.used.keys().next().value;
      if (oldest !== undefined) this.used.delete(oldest);
    }
  }
}
