// Calls of chosen methods counted from their start until their status is sent or they are
// cancelled, per caller address and in all. For a unary call that is until its asker has taken the
// whole reply: grpc-js sends the status once the reply's write has completed, and an asker that
// does not read holds the write up. So a reply nobody reads keeps its place, and a bound on these
// counts bounds the replies a node holds for such askers (node/partition-sync.ts, GetChunk).

import * as grpc from "@grpc/grpc-js";

/** The caller's address without its port (`getPeer()` gives `host:port`). */
export function hostOf(peer: string): string {
  return peer.replace(/:\d+$/, "");
}

export class UnfinishedCalls {
  private all = 0;
  private readonly byHost = new Map<string, number>();

  /** `paths`: the methods counted, as gRPC paths (`/arbor.v1.Arbor/GetChunk`). */
  constructor(private readonly paths: ReadonlySet<string>) {}

  /** Counted calls not finished, in all. */
  get count(): number {
    return this.all;
  }

  /** Counted calls from `host` not finished. */
  from(host: string): number {
    return this.byHost.get(host) ?? 0;
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
      const finish = () => {
        if (done) return;
        done = true;
        this.all--;
        const left = this.from(host) - 1;
        if (left > 0) this.byHost.set(host, left);
        else this.byHost.delete(host);
      };
      return new grpc.ServerInterceptingCall(call, {
        start: (next) => next({ onCancel: finish }),
        sendStatus: (status, next) => {
          finish();
          next(status);
        },
      });
    };
  }
}
