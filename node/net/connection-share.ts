// Fair shares of a listening port's connections: at most `perHost` from one address, at most `max`
// in all; when all are taken, a newcomer from an address holding fewer than the busiest address
// takes that address's oldest connection's place. One host, or a few, cannot lock everyone else
// out of the browser API or the metrics port by holding polite keep-alive connections.
import type { Server } from "node:net";
import type { Socket } from "node:net";

export interface ConnectionShares {
  /** connections open now, in all (diagnostics and tests) */
  readonly open: () => number;
  /** connections closed to make room for a newcomer from a less busy address */
  readonly evicted: () => number;
}

export function shareConnections(server: Server, max: number, perHost: number): ConnectionShares {
  if (!(max > 0 && perHost > 0)) throw new RangeError("connection shares must be positive");
  const byHost = new Map<string, Set<Socket>>();
  let total = 0;
  let evicted = 0;
  server.on("connection", (socket: Socket) => {
    const host = socket.remoteAddress ?? "";
    const have = byHost.get(host)?.size ?? 0;
    if (have >= perHost) return void socket.destroy();
    if (total >= max) {
      let busiest: Set<Socket> | undefined;
      for (const s of byHost.values()) if (busiest === undefined || s.size > busiest.size) busiest = s;
      if (busiest === undefined || busiest.size <= have + 1) return void socket.destroy();
      evicted++;
      // Its own close handler gives the place back; the newcomer takes it now.
      busiest.values().next().value?.destroy();
    }
    let mine = byHost.get(host);
    if (mine === undefined) byHost.set(host, (mine = new Set()));
    const set = mine;
    set.add(socket);
    total++;
    socket.once("close", () => {
      set.delete(socket);
      total--;
      if (set.size === 0 && byHost.get(host) === set) byHost.delete(host);
    });
  });
  return { open: () => total, evicted: () => evicted };
}
