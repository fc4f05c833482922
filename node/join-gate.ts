// `arbor node --join`: a node that catches up before it serves. Until the consensus core has seen
// that the node holds the cluster's chain (Status.caughtUp), the node has applied it to within
// JOIN_READY_LAG_BLOCKS, and its height is within that of what f+1 peers report
// (clusterHeightFloor), its health service says NOT_SERVING and its client API refuses every call
// but `Status` and `Genesis` with UNAVAILABLE and reason `node/joining`: a client or a load
// balancer goes to another node instead of reading an old state here. Without `--join` a node
// serves from the start (a whole cluster starting together has nothing to catch up on). A node
// that left the membership (removed or evicted) refuses the same calls for good, with reason
// `node/left`: its peers no longer talk to it, so it could only answer from the height it left at.

import * as grpc from "@grpc/grpc-js";
import { grpcError } from "../proto/grpc.js";
import { JOIN_READY_LAG_BLOCKS } from "./common/limits.js";

/** Calls a joining node still answers: what `arbor status` and a client's first contact need. */
const OPEN_WHILE_JOINING = new Set(["status", "genesis"]);

export interface JoinProgress {
  /** the consensus core has seen the node holds the cluster's chain */
  readonly caughtUp: boolean;
  readonly committedHeight: bigint;
  readonly appliedHeight: bigint;
}

/** Whether a node may serve: caught up, and applied to within the lag bound. */
export function joined(p: JoinProgress): boolean {
  return p.caughtUp && p.appliedHeight + BigInt(JOIN_READY_LAG_BLOCKS) >= p.committedHeight;
}

/**
 * The height the cluster is known to have reached, from the heights peers report (`Status`): the
 * `needed`-th highest, which `needed` peers report or pass — with `needed` = f+1, one of them is
 * correct. Null when fewer answered. The consensus's own caught-up flag can come early (peers that
 * are down or slow to answer its polls look like peers with nothing newer); a joining node opens
 * only once its own height is within JOIN_READY_LAG_BLOCKS of this too.
 */
export function clusterHeightFloor(reported: readonly bigint[], needed: number): bigint | null {
  if (needed < 1 || reported.length < needed) return null;
  const desc = [...reported].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
  return desc[needed - 1]!;
}

/** Whether a node at `height` is within the lag bound of the cluster's height floor. */
export function nearCluster(height: bigint, floor: bigint | null): boolean {
  return floor !== null && height + BigInt(JOIN_READY_LAG_BLOCKS) >= floor;
}

export class JoinGate {
  private joining: boolean;
  /** Why the node answers nothing any more (it left the membership), or null while it serves. */
  private leftBecause: string | null = null;

  constructor(join: boolean) {
    this.joining = join;
  }

  get isJoining(): boolean {
    return this.joining;
  }

  /** Whether the node left the membership (removed, or evicted): it serves no client again. */
  get hasLeft(): boolean {
    return this.leftBecause !== null;
  }

  open(): void {
    this.joining = false;
  }

  /**
   * The node is no longer a member: its peers refuse it, so its state stops at the height it
   * left, and every answer it could give would be of that old state. From now on it refuses every
   * call but `Status` and `Genesis` with UNAVAILABLE and reason `node/left`.
   */
  leave(because: string): void {
    this.leftBecause = because;
  }

  /** The service's handlers, each refusing while the node joins (unary calls and streams alike). */
  wrap(service: grpc.UntypedServiceImplementation): grpc.UntypedServiceImplementation {
    const out: grpc.UntypedServiceImplementation = {};
    for (const [name, handler] of Object.entries(service)) {
      if (OPEN_WHILE_JOINING.has(name)) {
        out[name] = handler;
        continue;
      }
      const h = handler as (call: unknown, cb?: unknown) => void;
      out[name] = ((call: { emit(event: "error", e: Error): boolean }, cb?: grpc.sendUnaryData<unknown>) => {
        if (!this.joining && this.leftBecause === null) return h(call, cb);
        const e =
          this.leftBecause !== null
            ? grpcError(grpc.status.UNAVAILABLE, `node/left: ${this.leftBecause}; ask another member`)
            : grpcError(grpc.status.UNAVAILABLE, "node/joining: this node is catching up; ask another");
        if (typeof cb === "function") return cb(e);
        // A stream ends with a status only by an "error" event: grpc-js sends nothing for a
        // destroyed server stream, and the client's stream would hang.
        call.emit("error", e);
      }) as grpc.UntypedHandleCall;
    }
    return out;
  }
}
