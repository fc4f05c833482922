// Verifying readers for bench:node's GET phase, run in worker threads: one thread cannot verify
// replies (Ed25519 — once per statement, which a node signs once per height —, proof against the
// signed root, certified root) as fast as one node serves them, so the readers are
// spread over threads. Each thread runs `readers` concurrent loops against one node for `ms`
// milliseconds and reports how many replies it verified; the caller measures the process's CPU.
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { ArborClient } from "../client/index.js";
import { NodeConnection } from "../client/transport.js";
import { genesisFromJson, genesisToJson, type Genesis } from "../node/ledger/genesis.js";
import { installNodeSha256, nodeEd25519Verify } from "../node/platform.js";
import { decodeStatement, statementSigningMessage } from "../node/ledger/statement.js";
import { decodeProof } from "../node/store/core/proof-codec.js";
import { bytesEqual, toHex } from "../node/common/bytes.js";

const EMPTY = new Uint8Array(0);

interface Task {
  readonly genesisJson: string;
  readonly node: number;
  readonly keys: readonly string[];
  readonly readers: number;
  readonly ms: number;
}

async function read(t: Task): Promise<number> {
  installNodeSha256();
  const genesis = genesisFromJson(t.genesisJson);
  const node = genesis.nodes.find((n) => n.id === t.node)!;
  const conn = new NodeConnection(node.address); // the SDK's connection: reads over one GetStream
  const client = await ArborClient.connect({ genesis });
  let replies = 0;
  const verified = new Map<string, Uint8Array>();
  const end = Date.now() + t.ms;
  const loop = async () => {
    while (Date.now() < end) {
      const k = t.keys[Math.floor(Math.random() * t.keys.length)]!;
      const r = await conn.get([k]);
      const st = decodeStatement(r.statement);
      // The node signs one root statement per height: verified once, as the SDK does.
      const sig = toHex(r.signature);
      if (!bytesEqual(verified.get(sig) ?? EMPTY, r.statement)) {
        if (!nodeEd25519Verify(node.publicKey, statementSigningMessage(r.statement), r.signature))
          throw new Error("bad statement");
        if (verified.size >= 1024) verified.delete(verified.keys().next().value!);
        verified.set(sig, r.statement);
      }
      if (!bytesEqual(decodeProof(r.proof).rootLabel, st.root)) throw new Error("proof not against the root");
      const cert = await client.certifiedHeader(st.height);
      if (cert.header.root.length !== 32) throw new Error("no certified root");
      replies++;
    }
  };
  await Promise.all(Array.from({ length: t.readers }, loop));
  client.close();
  conn.close();
  return replies;
}

/** Runs `threads` reader threads against node `node`; resolves with the replies they verified. */
export async function readInThreads(
  genesis: Genesis,
  node: number,
  keys: readonly string[],
  threads: number,
  readers: number,
  ms: number,
): Promise<number> {
  const task: Task = { genesisJson: genesisToJson(genesis), node, keys, readers, ms };
  const results = await Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<number>((resolve, reject) => {
          const w = new Worker(new URL(import.meta.url), { workerData: task });
          w.once("message", resolve);
          w.once("error", reject);
        }),
    ),
  );
  return results.reduce((a, r) => a + r, 0);
}

if (!isMainThread && parentPort) parentPort.postMessage(await read(workerData as Task));
