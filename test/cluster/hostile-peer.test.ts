// A hostile member on the peer wire. Node 3 of a 4-node cluster is never started; in its place this
// test dials nodes 0–2 with node 3's key and, for a while, sends what a faulty validator can: hellos
// from keys outside the membership or with bad signatures, idle and duplicate streams, batches that
// do not decode, garbage and mutated frames on every channel (consensus, ledger, unknown ones),
// validly signed votes for blocks that do not exist in rounds near and far, floods of catch-up and
// certificate requests, and header signatures over the wrong hash. Meanwhile a client writes
// through the cluster. The three honest nodes (a quorum) must commit every write, stay up, and agree
// on one root; then the real node 3 starts and catches up. A failure prints the PRNG seed.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { PeerFrameSchema } from "../../proto/gen/arbor/v1/peer_pb.js";
import { Cluster } from "./cluster.js";
import { ArborClient } from "../../client/index.js";
import { Prng } from "../tob/sim/prng.js";
import { bytesEqual, concatBytes, utf8 } from "../../node/common/bytes.js";
import { chainId } from "../../node/ledger/genesis.js";
import { generateKeyPair, signWith, type KeyPair } from "../../node/keys.js";
import { helloMessage, CHANNEL_CONSENSUS, CHANNEL_LEDGER } from "../../node/net/peer-net.js";
import { encodePeerBatch } from "../../node/net/peer-batch.js";
import { encodeMessage, voteSigningBytes, type Message } from "../../node/tob/core/index.js";
import { encodeCertRequest } from "../../node/cert-sync.js";
import { encodeHeaderSig } from "../../node/certifier.js";
import { GRPC_MAX_MESSAGE_BYTES } from "../../proto/grpc.js";
import { HEADER_TAG } from "../../node/common/tags.js";
import { Writer } from "../../node/common/codec.js";
import { sha256 } from "../../node/common/hash.js";
import { baseRuleCall } from "../../node/common/system-calls.js";

const HOSTILE = 3;
const HONEST = [0, 1, 2];
const FLOOD_MS = 8_000;
const WRITES = 24;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One dialed Peer.Connect stream, as the node's own dialer opens it. */
function dial(address: string): grpc.ClientDuplexStream<Uint8Array, Uint8Array> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), {
    "grpc.max_send_message_length": GRPC_MAX_MESSAGE_BYTES * 2,
  });
  const call = client.makeBidiStreamRequest(
    "/arbor.v1.Peer/Connect",
    (b: Uint8Array) => Buffer.from(toBinary(PeerFrameSchema, create(PeerFrameSchema, { payload: b }))),
    (b: Buffer) => fromBinary(PeerFrameSchema, b).payload,
  );
  call.on("error", () => undefined);
  call.on("close", () => client.close());
  return call;
}

/** Resolves with the server's challenge, the first message on the stream. */
function challenge(call: grpc.ClientDuplexStream<Uint8Array, Uint8Array>): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    call.once("data", (nonce: Uint8Array) => resolve(nonce));
    call.once("error", reject);
  });
}

/** True once the server ends the stream (a refused hello), false if it is still open after `ms`. */
function endedWithin(call: grpc.ClientDuplexStream<Uint8Array, Uint8Array>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    const done = () => {
      clearTimeout(t);
      resolve(true);
    };
    call.once("end", done);
    call.once("error", done);
  });
}

async function hello(
  address: string,
  key: KeyPair,
  serverKey: Uint8Array,
  chain: Uint8Array,
  corrupt = false,
): Promise<grpc.ClientDuplexStream<Uint8Array, Uint8Array>> {
  const call = dial(address);
  const nonce = await challenge(call);
  const sig = signWith(key, helloMessage(chain, serverKey, nonce));
  if (corrupt) sig[0]! ^= 1;
  call.write(concatBytes(key.publicKey, sig));
  return call;
}

const frame = (channel: number, payload: Uint8Array) => concatBytes(new Uint8Array([channel]), payload);

function mutate(rng: Prng, b: Uint8Array): Uint8Array {
  const out = b.slice(0, rng.chance(0.2) ? rng.int(0, b.length) : b.length);
  for (let i = rng.int(1, 4); i > 0 && out.length > 0; i--)
    out[rng.int(0, out.length - 1)]! ^= 1 << rng.int(0, 7);
  return out;
}

/** One batch of hostile frames for a node at consensus round `round`, height `height`. */
/** Gossiped "requests" that are not requests; the first few are kept to look for later. */
const junkSent: Uint8Array[] = [];
function junk(rng: Prng): Uint8Array {
  const r = rng.bytes(rng.int(1, 1200));
  if (junkSent.length < 8) junkSent.push(r);
  return r;
}

function hostileBatch(rng: Prng, key: KeyPair, chain: Uint8Array, round: number, height: bigint): Uint8Array {
  const frames: Uint8Array[] = [];
  const vote = (r: number): Message => {
    const blockId = rng.bytes(32);
    return {
      kind: "vote",
      vote: {
        epoch: 0,
        round: r,
        blockId,
        signer: HOSTILE,
        sig: signWith(key, voteSigningBytes(chain, 0, r, blockId)),
      },
    };
  };
  const votes = [round, round + 1, round + rng.int(2, 200)].map((r) => encodeMessage(vote(r)));
  const sync = encodeMessage({ kind: "syncRequest", epoch: 0, fromHeight: 1 });
  const certRequest = encodeCertRequest({ from: 1n, count: 64 });
  const hash = rng.bytes(32);
  const h = height + BigInt(rng.int(-3, 3));
  const headerSig = encodeHeaderSig({
    height: h < 1n ? 1n : h,
    hash,
    signer: HOSTILE,
    signature: signWith(key, concatBytes(utf8(HEADER_TAG), hash)),
  });
  for (const v of votes) frames.push(frame(CHANNEL_CONSENSUS, v), frame(CHANNEL_CONSENSUS, mutate(rng, v)));
  frames.push(
    frame(CHANNEL_CONSENSUS, sync),
    frame(CHANNEL_CONSENSUS, mutate(rng, sync)),
    frame(CHANNEL_CONSENSUS, rng.bytes(rng.int(1, 300))),
    frame(CHANNEL_CONSENSUS, encodeMessage({ kind: "requests", requests: [junk(rng)] })),
    frame(CHANNEL_LEDGER, certRequest),
    frame(CHANNEL_LEDGER, mutate(rng, certRequest)),
    frame(CHANNEL_LEDGER, headerSig),
    frame(CHANNEL_LEDGER, mutate(rng, headerSig)),
    frame(
      CHANNEL_LEDGER,
      new Writer(64).u8(3).varint(2).bytes(rng.bytes(40)).bytes(new Uint8Array(0)).finish(),
    ),
    frame(CHANNEL_LEDGER, rng.bytes(rng.int(1, 300))),
    frame(rng.int(2, 255), rng.bytes(rng.int(0, 100))),
  );
  return encodePeerBatch(frames);
}

test(
  "a hostile member on the peer wire neither stops nor splits the honest quorum",
  { timeout: 240_000 },
  async () => {
    const seed = Number(process.env.ARBOR_TEST_SEED ?? Date.now() % 1_000_000);
    const rng = new Prng(seed);
    const c = await Cluster.create({ n: 4, k: 2, tickMs: 20, metrics: true });
    const chain = chainId(c.genesis);
    const key = c.keys[HOSTILE]!;
    type Stream = grpc.ClientDuplexStream<Uint8Array, Uint8Array>;
    /** every stream opened, to cancel at the end */
    const streams: Stream[] = [];
    /** the accepted ones (the newest to each node), which carry the hostile traffic */
    const accepted: Stream[] = [];
    const client = await ArborClient.connect({ genesis: c.genesis });
    try {
      for (const i of HONEST) c.start(i);
      await c.waitFor(
        async () => {
          await Promise.all(HONEST.map((i) => c.clients[i]!.status()));
          return true;
        },
        30_000,
        "the honest nodes to answer",
      );
      const serverKey = (i: number) => c.keys[i]!.publicKey;
      const address = (i: number) => c.genesis.nodes[i]!.address;

      // Hellos the nodes must refuse: a key outside the membership, a bad signature.
      const stranger = await hello(address(0), generateKeyPair(), serverKey(0), chain);
      assert.equal(await endedWithin(stranger, 5_000), true, "a stranger's stream is ended");
      const forged = await hello(address(1), key, serverKey(1), chain, true);
      assert.equal(await endedWithin(forged, 5_000), true, "a hello with a bad signature is ended");
      // A stream that never says hello, and three streams per node from the same key: each newer
      // one replaces the one before (the node ends it), so only the last to each node stays.
      streams.push(stranger, forged, dial(address(2)));
      const replaced: Stream[] = [];
      const replacedEnded: Promise<boolean>[] = [];
      for (const i of HONEST)
        for (let j = 0; j < 3; j++) {
          const s = await hello(address(i), key, serverKey(i), chain);
          if (j < 2) {
            replaced.push(s);
            replacedEnded.push(endedWithin(s, 10_000));
          } else accepted.push(s);
        }
      for (const ended of replacedEnded)
        assert.equal(await ended, true, "an older stream from the same key is ended");
      streams.push(...replaced, ...accepted);

      const writes = (async () => {
        await client.createDomain("hostile");
        for (let i = 0; i < WRITES; i++)
          await client.writeRecords("hostile", [[`hostile/k${i}`, utf8(`v${i}`)]]);
      })();
      const until = Date.now() + FLOOD_MS;
      let sent = 0;
      while (Date.now() < until) {
        const st = await c.clients[0]!.status();
        for (const s of accepted) {
          s.write(
            rng.chance(0.1)
              ? rng.bytes(rng.int(1, 2000))
              : hostileBatch(rng, key, chain, Number(st.consensusRound), st.height),
          );
          sent++;
        }
        await sleep(10);
      }
      // The accepted streams did reach the consensus: a client's request gossiped on one is ordered.
      const gossiped = await client.prepare(
        baseRuleCall("hostile", [["hostile/gossiped", utf8("by the peer")]]),
      );
      accepted[0]!.write(
        encodePeerBatch([
          frame(CHANNEL_CONSENSUS, encodeMessage({ kind: "requests", requests: [gossiped] })),
        ]),
      );
      const ordered = await client.receipt(sha256(gossiped), 30_000);
      assert.equal(ordered.receipt.status, "accepted");
      // One message over the gRPC bound: that stream fails, the node does not.
      accepted[accepted.length - 1]!.write(new Uint8Array(GRPC_MAX_MESSAGE_BYTES + 1024));
      await writes;
      assert.ok(sent > 100, `only ${sent} hostile batches sent`);

      for (const i of HONEST) assert.equal(c.procs[i]!.exitCode, null, `node ${i} is running`);
      // Each refusal is counted by its reason, on the nodes' metrics.
      for (const i of HONEST) {
        const text = await (await fetch(`http://127.0.0.1:${c.metricsPorts[i]!}/metrics`)).text();
        const refused = text
          .split("\n")
          .filter((l) => l.startsWith("arbor_peer_messages_refused_total{"))
          .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
        assert.ok(refused > 0, `node ${i} counted no refused peer message`);
      }
      const tops = await Promise.all(HONEST.map((i) => c.clients[i]!.status()));
      const before = tops[0]!.height;
      await c.waitFor(
        async () => {
          const st = await Promise.all(HONEST.map((i) => c.clients[i]!.status()));
          return st.every((s) => s.height === st[0]!.height && bytesEqual(s.root, st[0]!.root));
        },
        30_000,
        "the honest nodes to agree on one root",
      );
      // The junk gossiped as requests never entered a block: no node has a receipt for it.
      for (const j of junkSent)
        await assert.rejects(c.clients[0]!.waitReceipt(sha256(j), 500), "junk gossip was ordered");
      const got = await client.get([`hostile/k${WRITES - 1}`, "hostile/gossiped"]);
      assert.deepEqual(got.get(`hostile/k${WRITES - 1}`), utf8(`v${WRITES - 1}`));
      assert.deepEqual(got.get("hostile/gossiped"), utf8("by the peer"));

      // The hostile streams go; the real node 3 starts and catches up with the others.
      for (const s of streams) s.cancel();
      c.start(HOSTILE);
      await c.waitFor(
        async () => (await c.clients[HOSTILE]!.status()).height >= before,
        60_000,
        "node 3 to catch up",
      );
    } catch (e) {
      console.log(`# hostile peer seed ${seed} (ARBOR_TEST_SEED=${seed} replays the traffic)`);
      c.printLogs();
      throw e;
    } finally {
      for (const s of streams) s.cancel();
      client.close();
      await c.stop();
    }
  },
);
