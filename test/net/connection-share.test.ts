// Fair shares of a port's connections (node/net/connection-share.ts): a cap per address, and at the
// total cap a newcomer from a less busy address takes the busiest address's oldest place.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, connect, type Socket } from "node:net";
import { shareConnections } from "../../node/net/connection-share.js";

const until = async (f: () => boolean, what: string) => {
  for (let i = 0; i < 300 && !f(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(f(), what);
};

test("per-address caps, and at the total cap the busiest address gives way to a less busy one", async () => {
  const server = createServer(() => undefined);
  const shares = shareConnections(server, 3, 2);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const open = (from: string) => {
    const s = connect({ port, host: "127.0.0.1", localAddress: from });
    const state = { socket: s, closed: false };
    s.on("error", () => undefined);
    s.on("close", () => (state.closed = true));
    return state;
  };
  const all: { socket: Socket; closed: boolean }[] = [];
  try {
    const a1 = open("127.0.0.1");
    const a2 = open("127.0.0.1");
    all.push(a1, a2);
    await until(() => shares.open() === 2, "two from one address");
    const a3 = open("127.0.0.1");
    all.push(a3);
    await until(() => a3.closed, "a third from the same address is closed");
    const b1 = open("127.0.0.2");
    all.push(b1);
    await until(() => shares.open() === 3, "the total cap reached");
    const c1 = open("127.0.0.3");
    all.push(c1);
    await until(() => a1.closed, "the busiest address's oldest connection made room");
    assert.equal(shares.evicted(), 1);
    assert.ok(!a2.closed && !b1.closed && !c1.closed);
    const d1 = open("127.0.0.4");
    all.push(d1);
    await until(() => d1.closed, "every address holds one: the newcomer is refused");
    assert.ok(!a2.closed && !b1.closed && !c1.closed);
    assert.equal(shares.open(), 3);
  } finally {
    for (const s of all) s.socket.destroy();
    await new Promise((r) => server.close(r));
  }
});
