// Calls of chosen methods counted from their start until their status is sent or they are
// cancelled, per caller address and in all. For a unary call that is until its asker has taken the
// whole reply: grpc-js sends the status once the reply's write has completed, and an asker that
// does not read holds the write up. So a reply nobody reads keeps its place, and a bound on these
// counts bounds the replies a node holds for such askers (node/partition-sync.ts, GetChunk).
//
// Optionally the replies are weighed too (their encoded bytes, counted while not taken), so
// handlers can refuse new work while too many bytes wait for askers that do not read (`room`); and
// a reply not taken within a deadline has its stream reset, which frees both its bytes and its
// place: an asker that never reads cannot hold a slot, nor memory, for longer than that.

import http2 from "node:http2";
import * as grpc from "@grpc/grpc-js";

/** The caller's address without its port (`getPeer()` gives `host:port`). */
export function hostOf(peer: string): string {
  return peer.replace(/:\d+$/, "");
}

export interface UnfinishedOptions {
  /** weigh each reply by its encoded length (`bytes`, `bytesFrom`, `room`) */
  readonly weigh?: boolean;
  /** reset a call's stream when its reply is not taken this long after it was handed over */
  readonly takeTimeoutMs?: number;
}

/** The HTTP/2 stream under a server call: grpc-js keeps it on its innermost call object. */
function streamOf(call: unknown): http2.ServerHttp2Stream | undefined {
  let c = call as { stream?: http2.ServerHttp2Stream; nextCall?: unknown } | undefined;
  for (let depth = 0; c !== undefined && depth < 8; depth++) {
    if (c.stream !== undefined && typeof c.stream.close === "function") return c.stream;
    c = c.nextCall as typeof c;
  }
  return undefined;
}

export class UnfinishedCalls {
  private all = 0;
  private readonly byHost = new Map<string, number>();
  private allBytes = 0;
  private readonly bytesByHost = new Map<string, number>();
  /** replies whose stream was reset because their asker did not take them in time (diagnostics) */
  reset = 0;

  /** `paths`: the methods counted, as gRPC paths (`/arbor.v1.Arbor/GetChunk`). */
  constructor(
    private readonly paths: ReadonlySet<string>,
    private readonly opts: UnfinishedOptions = {},
  ) {}

  /** Counted calls not finished, in all. */
  get count(): number {
    return this.all;
  }

  /** Counted calls from `host` not finished. */
  from(host: string): number {
    return this.byHost.get(host) ?? 0;
  }

  /** Bytes of replies handed over and not taken yet, in all (with `weigh`). */
  get bytes(): number {
    return this.allBytes;
  }

  /** The same for `host`. */
  bytesFrom(host: string): number {
    return this.bytesByHost.get(host) ?? 0;
  }

  /**
   * Why a new call from `host` should be refused now (`rpc/busy`): past `total` bytes of replies
   * not taken in all, or `perHost` of them for that address; null when there is room.
   */
  room(host: string, total: number, perHost: number): string | null {
    if (this.allBytes >= total)
      return `rpc/busy: ${this.allBytes} bytes of replies wait for their askers to take them (at most ${total}); retry`;
    if (this.bytesFrom(host) >= perHost)
      return `rpc/busy: ${this.bytesFrom(host)} bytes of replies to ${host} are not taken yet (at most ${perHost} per address); read them, then retry`;
    return null;
  }

  /** The server interceptor that counts (add it to the gRPC server's options). */
  interceptor(): grpc.ServerInterceptor {
    return (method, call) => {
      // Not counted: the call itself, untouched (grpc-js uses only its interface; no wrapper on
      // the hot paths).
      if (!this.paths.has(method.path)) return call as grpc.ServerInterceptingCall;
      const host = hostOf(call.getPeer());
      this.all++;
      this.byHost.set(host, this.from(host) + 1);
      let done = false;
      let weight = 0;
      let timer: NodeJS.Timeout | null = null;
      const finish = () => {
        if (done) return;
        done = true;
        if (timer !== null) clearTimeout(timer);
        this.all--;
        bump(this.byHost, host, -1);
        this.allBytes -= weight;
        bump(this.bytesByHost, host, -weight);
      };
      const handedOver = (message: unknown) => {
        if (this.opts.weigh) {
          const n = (method.responseSerialize(message) as Uint8Array).length;
          weight += n;
          this.allBytes += n;
          bump(this.bytesByHost, host, n);
        }
        const ms = this.opts.takeTimeoutMs;
        if (ms !== undefined && timer === null) {
          timer = setTimeout(() => {
            if (done) return;
            this.reset++;
            // Reset, not a status: a status would wait behind the very bytes nobody reads.
            streamOf(call)?.close(http2.constants.NGHTTP2_CANCEL);
            finish();
          }, ms);
          timer.unref();
        }
      };
      return new grpc.ServerInterceptingCall(call, {
        start: (next) => next({ onCancel: finish }),
        sendMessage: (message, next) => {
          if (!done) handedOver(message);
          next(message);
        },
        sendStatus: (status, next) => {
          finish();
          next(status);
        },
      });
    };
  }
}

function bump(m: Map<string, number>, key: string, by: number): void {
  const v = (m.get(key) ?? 0) + by;
  if (v > 0) m.set(key, v);
  else m.delete(key);
}
