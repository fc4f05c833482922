// Peer streams count current members only: a node that was removed or evicted may keep answering
// on its stream, but it is not one of this node's connected peers (arbor status, metrics).

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { servePeer } from "./peer-server.js";
import { CHANNEL_CONSENSUS, PeerNet } from "../../node/net/peer-net.js";
import { generateKeyPair } from "../../node/keys.js";
import { toHex } from "../../node/common/bytes.js";

test("a connected peer that stops being a member is no longer counted as connected", async () => {
  const chain = new Uint8Array(randomBytes(32));
  const a = generateKeyPair();
  const b = generateKeyPair();
  let arrived = 0;
  const receiver = new PeerNet({
    chain,
    self: b,
    peers: [],
    isAllowed: (hex) => hex === toHex(a.publicKey),
    onFrame: () => void arrived++,
  });
  const { server, port } = await servePeer(receiver);
  let member = true;
  const sender = new PeerNet({
    chain,
    self: a,
    peers: [{ publicKey: b.publicKey, address: `127.0.0.1:${port}` }],
    isAllowed: () => member,
    onFrame: () => undefined,
  });
  try {
    sender.start();
    sender.send(toHex(b.publicKey), CHANNEL_CONSENSUS, new Uint8Array([1]));
    while (arrived === 0 || sender.connectedPeers().length === 0) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(sender.connectedPeers(), [toHex(b.publicKey)]);
    member = false;
    assert.deepEqual(sender.connectedPeers(), [], "a non-member's open stream is not a connected peer");
  } finally {
    sender.close();
    receiver.close();
    server.forceShutdown();
  }
});
