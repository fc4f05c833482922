// bench:tob — the total-order broadcast alone, on a 4-node loopback cluster of real processes (the
// real TobShell: LevelDB with fsync before sends, authenticated gRPC peer streams; the application
// is a no-op, see tob-node.ts). A load client submits 300-byte opaque requests over a gRPC stream
// to every node and hears back from each node when it delivered them. Reported:
//   - transport limit: 300-byte messages/s over one gRPC bidirectional stream between two processes;
//   - ordered requests/s at saturation (closed loop, a large window of requests in flight);
//   - commit latency p50/p99 (submission → delivery at the node that took the request) at half
//     that rate (open loop).
// Medians of three measurement windows each. Last line: the JSON summary.
import * as grpc from "@grpc/grpc-js";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CHANNEL_OPTIONS } from "../proto/grpc.js";
import { toHex } from "../node/common/bytes.js";
import { generateKeyPair } from "../node/keys.js";
import { freePort } from "../test/cluster/cluster.js";
import { machineLine, median, progress } from "./machine.js";
import type { TobNodeConfig } from "./tob-node.js";
import { LOAD_SERVICE, SINK_SERVICE, decodeSeqs, encodeBatch, makeRequest } from "./tob-wire.js";
import { nodeProcessEnv } from "../node/node-env.js";

const N = 4;
const TICK_MS = Number(process.env.ARBOR_BENCH_TICK_MS ?? 50);
const WINDOW_S = Number(process.env.ARBOR_BENCH_WINDOW_S ?? 3);
const IN_FLIGHT = Number(process.env.ARBOR_BENCH_IN_FLIGHT ?? 20_000);
const BATCH = 256;
const ENTRY = new URL("./tob-node.js", import.meta.url).pathname;
/** Extra node flags for the child processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof". */
const CHILD_FLAGS = (process.env.ARBOR_BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Duplex = grpc.ClientDuplexStream<Uint8Array, Uint8Array>;

function spawnEntry(args: string[]): { proc: ChildProcess; lines: (prefix: string) => Promise<string> } {
  const proc = spawn(process.execPath, [...CHILD_FLAGS, ENTRY, ...args], {
    stdio: ["pipe", "pipe", "inherit"],
    env: nodeProcessEnv(),
  });
  let buf = "";
  const waiters: { prefix: string; resolve: (l: string) => void }[] = [];
  proc.stdout!.on("data", (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiters.findIndex((x) => line.startsWith(x.prefix));
      if (w >= 0) waiters.splice(w, 1)[0]!.resolve(line);
    }
  });
  return {
    proc,
    lines: (prefix) => new Promise((resolve) => waiters.push({ prefix, resolve })),
  };
}

function client(address: string, def: grpc.ServiceDefinition, method: string): Duplex {
  const C = grpc.makeGenericClientConstructor(def, "Bench");
  const c = new C(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS) as unknown as Record<
    string,
    () => Duplex
  >;
  return c[method]!();
}

async function writeAll(s: Duplex, b: Uint8Array): Promise<void> {
  if (!s.write(b)) await new Promise<void>((r) => s.once("drain", () => r()));
}

// --- 1. transport limit ----------------------------------------------------------------------

async function transportOnce(port: number, seconds: number): Promise<number> {
  const s = client(`127.0.0.1:${port}`, SINK_SERVICE, "sink");
  const reply = new Promise<{ frames: number }>((resolve, reject) => {
    s.on("data", (b: Uint8Array) => resolve(JSON.parse(new TextDecoder().decode(b)) as { frames: number }));
    s.on("error", reject);
  });
  const msg = randomBytes(300);
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) for (let i = 0; i < 64; i++) await writeAll(s, msg);
  s.end();
  const { frames } = await reply;
  return frames / ((performance.now() - t0) / 1000);
}

async function transport(): Promise<number> {
  const port = await freePort();
  const sink = spawnEntry(["sink", String(port)]);
  await sink.lines("ready");
  await transportOnce(port, 0.5); // warm-up
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) runs.push(await transportOnce(port, 2));
  sink.proc.kill("SIGTERM");
  progress(`transport: ${runs.map((r) => Math.round(r)).join(", ")} msgs/s`);
  return median(runs);
}

// --- 2. the cluster --------------------------------------------------------------------------

interface Cluster {
  dir: string;
  nodes: ReturnType<typeof spawnEntry>[];
  addresses: string[];
}

async function startCluster(): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), "arbor-tob-bench-"));
  const keys = Array.from({ length: N }, () => generateKeyPair());
  const addresses: string[] = [];
  for (let i = 0; i < N; i++) addresses.push(`127.0.0.1:${await freePort()}`);
  const chain = toHex(randomBytes(32));
  const nodes = [];
  for (let i = 0; i < N; i++) {
    const cfg: TobNodeConfig = {
      index: i,
      seed: toHex(keys[i]!.seed),
      chain,
      nodes: keys.map((k, j) => ({ publicKey: toHex(k.publicKey), address: addresses[j]! })),
      dir: join(dir, `node${i}`),
      tickMs: TICK_MS,
    };
    mkdirSync(cfg.dir, { recursive: true });
    writeFileSync(join(dir, `node${i}.json`), JSON.stringify(cfg));
    nodes.push(spawnEntry(["node", join(dir, `node${i}.json`)]));
  }
  await Promise.all(nodes.map((n) => n.lines("ready")));
  for (;;) {
    const st = await Promise.all(nodes.map((n) => status(n)));
    if (st.every((s) => s.peers === N - 1)) break;
    await sleep(100);
  }
  return { dir, nodes, addresses };
}

async function status(
  n: ReturnType<typeof spawnEntry>,
): Promise<{ peers: number; committedHeight: number; pending: number }> {
  const line = n.lines("status ");
  n.proc.stdin!.write("status\n");
  return JSON.parse((await line).slice(7)) as { peers: number; committedHeight: number; pending: number };
}

// --- 3. load ---------------------------------------------------------------------------------

class Load {
  private readonly streams: Duplex[];
  private readonly sentAt = new Float64Array(1 << 22);
  private readonly mask = (1 << 22) - 1;
  private readonly filler = new Uint8Array(randomBytes(300));
  private seq = 0;
  private rr = 0;
  sent = 0;
  delivered = 0;
  /** Latencies (ms) of requests sent within [from, to). */
  window: { from: number; to: number; lat: number[] } | null = null;

  constructor(addresses: string[]) {
    this.streams = addresses.map((a) => client(a, LOAD_SERVICE, "submit"));
    for (const s of this.streams) {
      s.on("data", (b: Uint8Array) => this.onDelivered(decodeSeqs(b)));
      s.on("error", () => undefined);
    }
  }

  private onDelivered(seqs: Uint32Array): void {
    const now = performance.now();
    const w = this.window;
    for (const q of seqs) {
      const t = this.sentAt[q & this.mask]!;
      this.delivered++;
      if (w && t >= w.from && t < w.to) w.lat.push(now - t);
    }
  }

  /** Sends `count` fresh requests to the next node, in one frame. */
  async send(count: number): Promise<void> {
    const node = this.rr++ % this.streams.length;
    const reqs = [];
    const now = performance.now();
    for (let i = 0; i < count; i++) {
      const q = this.seq++;
      this.sentAt[q & this.mask] = now;
      reqs.push(makeRequest(node, q, this.filler));
    }
    this.sent += count;
    await writeAll(this.streams[node]!, encodeBatch(reqs));
  }

  close(): void {
    for (const s of this.streams) s.end();
  }
}

/** Closed loop: keeps IN_FLIGHT requests outstanding; returns ordered requests/s per window. */
async function saturate(load: Load): Promise<number[]> {
  let stop = false;
  const pump = (async () => {
    while (!stop) {
      const room = IN_FLIGHT - (load.sent - load.delivered);
      if (room >= BATCH) await load.send(BATCH);
      else await sleep(1);
    }
  })();
  await sleep(2000); // warm-up
  const rates: number[] = [];
  for (let w = 0; w < 3; w++) {
    const d0 = load.delivered;
    const t0 = performance.now();
    await sleep(WINDOW_S * 1000);
    rates.push((load.delivered - d0) / ((performance.now() - t0) / 1000));
    progress(`saturation window ${w + 1}: ${Math.round(rates[w]!)} requests/s ordered`);
  }
  stop = true;
  await pump;
  // Drain what is in flight before the next phase.
  for (let i = 0; i < 200 && load.delivered < load.sent; i++) await sleep(50);
  return rates;
}

/** Open loop at `rate` requests/s; returns p50 and p99 (ms) per window and the achieved rates. */
async function atRate(
  load: Load,
  rate: number,
): Promise<{ p50: number[]; p99: number[]; achieved: number[] }> {
  const stepMs = 10;
  let stop = false;
  const pump = (async () => {
    let debt = 0;
    let next = performance.now();
    while (!stop) {
      debt += (rate * stepMs) / 1000;
      while (debt >= 1) {
        const k = Math.min(BATCH, Math.floor(debt));
        await load.send(k);
        debt -= k;
      }
      next += stepMs;
      await sleep(Math.max(0, next - performance.now()));
    }
  })();
  await sleep(3000); // steady state at this rate (the saturation phase leaves compaction behind)
  const out = { p50: [] as number[], p99: [] as number[], achieved: [] as number[] };
  for (let w = 0; w < 3; w++) {
    const from = performance.now();
    const d0 = load.delivered;
    load.window = { from, to: from + WINDOW_S * 1000, lat: [] };
    await sleep(WINDOW_S * 1000);
    out.achieved.push((load.delivered - d0) / ((performance.now() - from) / 1000));
    // Let the window's last requests land before reading its latencies.
    const win = load.window;
    await sleep(1500);
    const lat = win.lat.sort((a, b) => a - b);
    out.p50.push(lat[Math.floor(lat.length * 0.5)] ?? NaN);
    out.p99.push(lat[Math.floor(lat.length * 0.99)] ?? NaN);
    progress(
      `at ${Math.round(rate)}/s, window ${w + 1}: ${lat.length} requests, p50 ${out.p50[w]!.toFixed(1)} ms, p99 ${out.p99[w]!.toFixed(1)} ms`,
    );
  }
  stop = true;
  await pump;
  load.window = null;
  return out;
}

async function main(): Promise<void> {
  console.log(machineLine());
  console.log(`tick ${TICK_MS} ms; ${N} nodes; 300-byte requests; windows of ${WINDOW_S} s`);
  progress("transport probe");
  const transportMsgsPerSec = await transport();
  progress("starting the cluster");
  const c = await startCluster();
  const load = new Load(c.addresses);
  try {
    await load.send(1);
    while (load.delivered < 1) await sleep(10);
    // ARBOR_BENCH_RATE=R skips the saturation phase and measures latency at R/2 (for profiling).
    const fixed = Number(process.env.ARBOR_BENCH_RATE ?? 0);
    progress(fixed ? `fixed rate ${fixed}/s given` : "saturation (closed loop)");
    const sat = fixed ? [fixed] : await saturate(load);
    const requestsPerSec = median(sat);
    const half = requestsPerSec / 2;
    progress(`latency at half the saturation rate (${Math.round(half)}/s, open loop)`);
    const lat = await atRate(load, half);
    const st = await Promise.all(c.nodes.map((n) => status(n)));
    const p50Ms = median(lat.p50);
    const p99Ms = median(lat.p99);
    console.log(
      `transport: ${Math.round(transportMsgsPerSec)} msgs/s (300 bytes, one gRPC bidi stream, two processes)`,
    );
    console.log(
      `ordered at saturation: ${sat.map(Math.round).join(", ")} requests/s → median ${Math.round(requestsPerSec)}`,
    );
    console.log(
      `at ${Math.round(half)}/s: achieved ${lat.achieved.map(Math.round).join(", ")}/s; p50 ${lat.p50.map((x) => x.toFixed(1)).join(", ")} ms; p99 ${lat.p99.map((x) => x.toFixed(1)).join(", ")} ms`,
    );
    console.log(`committed heights: ${st.map((s) => s.committedHeight).join(", ")}`);
    console.log(
      JSON.stringify({
        bench: "tob",
        nodes: N,
        requestsPerSec: Math.round(requestsPerSec),
        p50Ms: Number(p50Ms.toFixed(1)),
        p99Ms: Number(p99Ms.toFixed(1)),
        transportMsgsPerSec: Math.round(transportMsgsPerSec),
      }),
    );
  } finally {
    load.close();
    await Promise.all(
      c.nodes.map(
        (n) =>
          new Promise<void>((r) => {
            n.proc.once("exit", () => r());
            n.proc.kill("SIGTERM");
          }),
      ),
    );
    rmSync(c.dir, { recursive: true, force: true });
  }
  process.exit(0);
}

void main();
