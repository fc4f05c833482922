// Peer streams: control frames leave before bulk ones. A vote queued behind a burst of large gossip
// must not wait for all of it (node/net/peer-net.ts).

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { servePeer } from "./peer-server.js";
import { CHANNEL_CONSENSUS, CHANNEL_LEDGER, PeerNet } from "../../node/net/peer-net.js";
import { generateKeyPair } from "../../node/keys.js";
import { toHex } from "../../node/common/bytes.js";
import { MAX_PEER_BULK_QUEUE_BYTES } from "../../node/common/limits.js";

const MiB = 1024 * 1024;

test("a control frame queued after 24 MiB of bulk frames arrives first; every frame arrives, each class in order", async () => {
  const chain = new Uint8Array(randomBytes(32));
  const a = generateKeyPair();
  const b = generateKeyPair();
  const got: { channel: number; tag: number; bytes: number }[] = [];
  let allArrived: () => void = () => undefined;
  const arrived = new Promise<void>((r) => (allArrived = r));
  const BULK = 24;
  const receiver = new PeerNet({
    chain,
    self: b,
    peers: [],
    isAllowed: (hex) => hex === toHex(a.publicKey),
    onFrame: (_from, channel, payload) => {
      got.push({ channel, tag: payload[0]!, bytes: payload.length });
      if (got.length === BULK + 2) allArrived();
    },
  });
  const { server, port } = await servePeer(receiver);
  const sender = new PeerNet({
    chain,
    self: a,
    peers: [{ publicKey: b.publicKey, address: `127.0.0.1:${port}` }],
    isAllowed: () => true,
    onFrame: () => undefined,
  });
  try {
    sender.start();
    const to = toHex(b.publicKey);
    assert.ok(BULK * MiB <= MAX_PEER_BULK_QUEUE_BYTES, "the burst fits the bulk queue");
    // All queued in one turn, before the stream is up: the burst first, then a vote-sized frame
    // and a header-signature-sized one.
    for (let i = 0; i < BULK; i++) sender.send(to, CHANNEL_CONSENSUS, new Uint8Array(MiB).fill(i), true);
    sender.send(to, CHANNEL_CONSENSUS, new Uint8Array(120).fill(200));
    sender.send(to, CHANNEL_LEDGER, new Uint8Array(110).fill(201));
    await arrived;
    assert.deepEqual(
      got.slice(0, 2).map((g) => [g.channel, g.tag, g.bytes]),
      [
        [CHANNEL_CONSENSUS, 200, 120],
        [CHANNEL_LEDGER, 201, 110],
      ],
      "the control frames came first",
    );
    assert.deepEqual(
      got.slice(2).map((g) => g.tag),
      Array.from({ length: BULK }, (_, i) => i),
      "then the bulk frames, in order",
    );
  } finally {
    sender.close();
    receiver.close();
    server.forceShutdown();
  }
});
