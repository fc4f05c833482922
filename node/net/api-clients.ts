// Unary calls from a node to other nodes' client API (GetChunk for a prefix being taken on,
// GetSnapshot and GetHeaders for a snapshot sync): one channel per address, kept until closed.

import * as grpc from "@grpc/grpc-js";
import { Arbor } from "../../proto/gen/arbor/v1/client_pb.js";
import { CHANNEL_OPTIONS, serviceDefinition } from "../../proto/grpc.js";

type Unary<Q, R> = (q: Q, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: R) => void) => void;

export class ApiClients {
  private readonly clients = new Map<string, grpc.Client & Record<string, unknown>>();

  constructor(private readonly credentials: grpc.ChannelCredentials) {}

  /** Calls `method` (the generated client's name, e.g. "getChunk") at `address`, within `timeoutMs`. */
  call<Q, R>(address: string, method: string, request: Q, timeoutMs: number): Promise<R> {
    let c = this.clients.get(address);
    if (!c) {
      const C = grpc.makeGenericClientConstructor(serviceDefinition(Arbor), "Arbor");
      c = new C(address, this.credentials, CHANNEL_OPTIONS) as grpc.Client & Record<string, unknown>;
      this.clients.set(address, c);
    }
    const client = c;
    return new Promise<R>((resolve, reject) =>
      (client[method] as Unary<Q, R>).call(client, request, { deadline: Date.now() + timeoutMs }, (e, r) =>
        e ? reject(e) : resolve(r),
      ),
    );
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
