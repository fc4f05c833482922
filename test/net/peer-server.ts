// A PeerNet's service on a gRPC server bound to a free loopback port, for peer-stream tests.
import * as grpc from "@grpc/grpc-js";
import { CHANNEL_OPTIONS } from "../../proto/grpc.js";
import type { PeerNet } from "../../node/net/peer-net.js";

export async function servePeer(net: PeerNet): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server(CHANNEL_OPTIONS);
  const svc = net.service();
  server.addService(svc.definition, svc.implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { server, port };
}
