// bench:tob process entry (benchmark only). Two modes:
//   node dist/bench/tob-node.js node CONFIG.json   a consensus-only node: TobShell + PeerNet (the
//       real shell, LevelDB with fsync, authenticated gRPC peer streams) with a no-op application
//       that only tells the load client which of its requests were delivered;
//   node dist/bench/tob-node.js sink PORT          the far end of the transport probe: counts the
//       frames of one gRPC bidirectional stream.
// Prints "ready" on stdout once it serves.
import * as grpc from "@grpc/grpc-js";
import { readFileSync } from "node:fs";
import { CHANNEL_OPTIONS } from "../proto/grpc.js";
import { fromHex, toHex } from "../node/common/bytes.js";
import { keyPairFromSeed, signWith } from "../node/keys.js";
import { installNodeSha256, nodeEd25519Verify } from "../node/platform.js";
import { CHANNEL_CONSENSUS, PeerNet } from "../node/net/peer-net.js";
import { TobShell } from "../node/tob/shell.js";
import { TOB_MAX_GOSSIP_REQUESTS, TOB_MAX_REQUEST_BYTES } from "../node/common/limits.js";
import { LOAD_SERVICE, SINK_SERVICE, decodeBatch, encodeSeqs, requestOrigin } from "./tob-wire.js";

export interface TobNodeConfig {
  readonly index: number;
  readonly seed: string;
  readonly chain: string;
  /** Every validator, in genesis order: hex public key and address. */
  readonly nodes: readonly { readonly publicKey: string; readonly address: string }[];
  readonly dir: string;
  readonly tickMs: number;
}

async function listen(server: grpc.Server, address: string): Promise<void> {
  await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (e, port) =>
      e ? reject(e) : resolve(port),
    ),
  );
}

async function runNode(cfg: TobNodeConfig): Promise<void> {
  installNodeSha256(); // as the real node does
  const self = keyPairFromSeed(fromHex(cfg.seed));
  const chain = fromHex(cfg.chain);
  const keys = cfg.nodes.map((n) => n.publicKey);
  const loads = new Set<grpc.ServerDuplexStream<Uint8Array, Uint8Array>>();
  const net = new PeerNet({
    chain,
    self,
    peers: cfg.nodes.map((n) => ({ publicKey: fromHex(n.publicKey), address: n.address })),
    isAllowed: (hex) => keys.includes(hex),
    onFrame: (from, channel, payload) => {
      if (channel === CHANNEL_CONSENSUS) shell.message(from, payload);
    },
  });
  const shell = await TobShell.open({
    dir: cfg.dir,
    core: {
      networkId: chain,
      signer: { publicKey: self.publicKey, sign: (m) => signWith(self, m) },
      verifier: { verify: nodeEd25519Verify },
      genesisValidators: keys.map(fromHex),
    },
    tickMs: cfg.tickMs,
    appliedHeight: 0,
    send: (to, bytes, bulk) => {
      for (const p of to) net.send(p, CHANNEL_CONSENSUS, bytes, bulk);
    },
    // The no-op application: report our own requests back to the load client, nothing else.
    deliver: async (d) => {
      const mine: number[] = [];
      for (const r of d.requests) {
        const o = requestOrigin(r);
        if (o && o.node === cfg.index) mine.push(o.seq);
      }
      if (mine.length > 0) for (const s of loads) s.write(encodeSeqs(mine));
    },
  });
  const server = new grpc.Server(CHANNEL_OPTIONS);
  const peer = net.service();
  server.addService(peer.definition, peer.implementation);
  server.addService(LOAD_SERVICE, {
    submit: (call: grpc.ServerDuplexStream<Uint8Array, Uint8Array>) => {
      loads.add(call);
      call.on("data", (b: Uint8Array) => {
        try {
          shell.submit(decodeBatch(b, TOB_MAX_GOSSIP_REQUESTS, TOB_MAX_REQUEST_BYTES));
        } catch {
          call.destroy(new Error("malformed batch"));
        }
      });
      const gone = () => loads.delete(call);
      call.on("end", () => {
        gone();
        call.end();
      });
      call.on("error", gone);
      call.on("close", gone);
    },
  });
  await listen(server, cfg.nodes[cfg.index]!.address);
  net.start();
  shell.start((e) => {
    process.stderr.write(`consensus storage failed: ${String(e)}\n`);
    process.exit(70);
  });
  const stop = async () => {
    net.close();
    await shell.close();
    server.forceShutdown();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
  // The bench asks for status lines on stdin ("status\n"): height and pool size.
  process.stdin.on("data", () => {
    const s = shell.status();
    process.stdout.write(`status ${JSON.stringify({ ...s, peers: net.connectedPeers().length })}\n`);
  });
  process.stdout.write(`ready ${toHex(self.publicKey).slice(0, 8)}\n`);
}

async function runSink(port: number): Promise<void> {
  const server = new grpc.Server(CHANNEL_OPTIONS);
  server.addService(SINK_SERVICE, {
    sink: (call: grpc.ServerDuplexStream<Uint8Array, Uint8Array>) => {
      let frames = 0;
      let bytes = 0;
      call.on("data", (b: Uint8Array) => {
        frames++;
        bytes += b.length;
      });
      call.on("end", () => {
        call.write(new TextEncoder().encode(JSON.stringify({ frames, bytes })));
        call.end();
      });
    },
  });
  await listen(server, `127.0.0.1:${port}`);
  process.on("SIGTERM", () => process.exit(0));
  process.stdout.write("ready\n");
}

const [mode, arg] = process.argv.slice(2);
if (mode === "node") void runNode(JSON.parse(readFileSync(arg!, "utf8")) as TobNodeConfig);
else if (mode === "sink") void runSink(Number(arg));
else {
  process.stderr.write("usage: tob-node.js node CONFIG.json | sink PORT\n");
  process.exit(2);
}
