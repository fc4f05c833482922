// Peer streams count current members only: a node that was removed or evicted may keep answering
// on its stream, but it is not one of this node's connected peers (arbor status, metrics).

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { servePeer } from "./peer-server.js";
import { CHANNEL_CONSENSUS, PeerNet, helloMessage } from "../../node/net/peer-net.js";
import { generateKeyPair, signWith } from "../../node/keys.js";
import { toHex } from "../../node/common/bytes.js";
import { PEER_HELLO_TIMEOUT_MS } from "../../node/common/limits.js";
import { serviceDefinition } from "../../proto/grpc.js";
import { Peer, PeerFrameSchema, type PeerFrame } from "../../proto/gen/arbor/v1/peer_pb.js";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";

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

test(
  "a dialer that never says hello is cut off after PEER_HELLO_TIMEOUT_MS",
  { timeout: 30_000 },
  async () => {
    const refused: string[] = [];
    const receiver = new PeerNet({
      chain: new Uint8Array(32),
      self: generateKeyPair(),
      peers: [],
      isAllowed: () => true,
      onFrame: () => undefined,
      onRefused: (why) => refused.push(why),
    });
    const { server, port } = await servePeer(receiver);
    const Client = grpc.makeGenericClientConstructor(serviceDefinition(Peer), "Peer");
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as {
      connect(): grpc.ClientDuplexStream<unknown, unknown>;
      close(): void;
    };
    try {
      const t0 = Date.now();
      const call = client.connect();
      call.on("data", () => undefined); // the challenge, left unanswered
      await new Promise<void>((resolve) => {
        call.on("end", resolve);
        call.on("error", () => resolve());
      });
      const took = Date.now() - t0;
      assert.ok(took >= PEER_HELLO_TIMEOUT_MS - 100, `ended after ${took} ms`);
      assert.deepEqual(refused, ["peer/bad-hello"]);
    } finally {
      client.close();
      receiver.close();
      server.forceShutdown();
    }
  },
);

test("a second stream from one peer's key replaces the first", { timeout: 30_000 }, async () => {
  const chain = new Uint8Array(32).fill(3);
  const server = generateKeyPair();
  const dialer = generateKeyPair();
  const receiver = new PeerNet({
    chain,
    self: server,
    peers: [],
    isAllowed: (hex) => hex === toHex(dialer.publicKey),
    onFrame: () => undefined,
  });
  const { server: grpcServer, port } = await servePeer(receiver);
  const Client = grpc.makeGenericClientConstructor(serviceDefinition(Peer), "Peer");
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as {
    connect(): grpc.ClientDuplexStream<PeerFrame, PeerFrame>;
    close(): void;
  };
  // A stream that answers the challenge with a good hello, and says when the server ends it.
  const open = () => {
    const call = client.connect();
    const ended = new Promise<void>((resolve) => {
      call.on("end", () => resolve());
      call.on("error", () => resolve());
    });
    call.on("data", (f: PeerFrame) => {
      const sig = signWith(dialer, helloMessage(chain, server.publicKey, f.payload));
      call.write(create(PeerFrameSchema, { payload: new Uint8Array([...dialer.publicKey, ...sig]) }));
    });
    return { call, ended };
  };
  try {
    const first = open();
    const inbound = () => (receiver as unknown as { inboundOf: Map<string, unknown> }).inboundOf;
    while (inbound().size === 0) await new Promise((r) => setTimeout(r, 10));
    const second = open();
    await first.ended; // the server ended the older stream
    assert.equal(inbound().size, 1);
    second.call.end();
  } finally {
    client.close();
    receiver.close();
    grpcServer.forceShutdown();
  }
});
