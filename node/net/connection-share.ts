// Fair shares of a listening port's connections (node/net/fair-slots.ts): at most `perHost` from
// one address, at most `max` in all; when all are taken, a newcomer from an address holding fewer
// than the busiest address takes that address's oldest connection's place. One host, or a few,
// cannot lock everyone else out of the browser API or the metrics port by holding polite
// keep-alive connections.
import type { Server, Socket } from "node:net";
import { FairSlots } from "./fair-slots.js";

export interface ConnectionShares {
  /** connections open now, in all (diagnostics and tests) */
  readonly open: () => number;
  /** connections closed to make room for a newcomer from a less busy address */
  readonly evicted: () => number;
}

export function shareConnections(server: Server, max: number, perHost: number): ConnectionShares {
  const slots = new FairSlots(max, perHost);
  server.on("connection", (socket: Socket) => {
    const release = slots.take(socket.remoteAddress ?? "", () => socket.destroy());
    if (typeof release === "string") return void socket.destroy();
    socket.once("close", release);
  });
  return { open: () => slots.count, evicted: () => slots.evicted };
}
