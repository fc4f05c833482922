// Operator surfaces of a real one-node cluster (node/metrics.ts, the health service, node/log.ts):
// /metrics serves every named metric and its counters move with requests, the text passes
// `promtool check metrics` (skipped, saying so, when promtool is not installed), the standard
// grpc.health.v1.Health service says SERVING and turns NOT_SERVING on shutdown, and
// `--log-format text` gives readable lines while a bad format is refused with a clear error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { Cluster } from "../cluster/cluster.js";
import { Signer, submitVia, receiptStatus } from "../cluster/requests.js";
import { loadConfig } from "../../node/config.js";
import { createLogger } from "../../node/log.js";
import { nodeProcessEnv } from "../../node/node-env.js";

const BIN = new URL("../../node/bin.js", import.meta.url).pathname;

/** Every metric docs/operations.md names (prom-client's defaults checked by two of theirs). */
const NAMES = [
  "arbor_applied_height",
  "arbor_consensus_round",
  "arbor_commit_latency_seconds",
  "arbor_block_requests",
  "arbor_block_apply_seconds",
  "arbor_requests_admitted_total",
  "arbor_requests_refused_total",
  "arbor_requests_accepted_total",
  "arbor_requests_rejected_total",
  "arbor_get_replies_total",
  "arbor_peer_messages_refused_total",
  "arbor_peers_connected",
  "arbor_store_bytes",
  "arbor_sync_stubs_remaining",
  "arbor_snapshot_height",
  "arbor_snapshot_bytes",
  "nodejs_eventloop_lag_seconds",
  "process_resident_memory_bytes",
];

async function scrape(port: number): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type") ?? "", /^text\/plain/);
  return r.text();
}

/** The value of one sample (`name` with its labels as written, e.g. `x_total{reason="replay"}`). */
function sample(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(name + " "));
  return line === undefined ? NaN : Number(line.slice(name.length + 1));
}

async function withNode(body: (c: Cluster) => Promise<void>): Promise<void> {
  const c = await Cluster.create({ n: 1, k: 1, metrics: true });
  c.startAll();
  try {
    await c.ready();
    await body(c);
  } catch (e) {
    c.printLogs();
    throw e;
  } finally {
    await c.stop();
  }
}

test("a node serves its metrics; counters move with requests; promtool accepts them", async (t) => {
  await withNode(async (c) => {
    const port = c.metricsPorts[0]!;
    const before = await scrape(port);
    for (const n of NAMES) assert.match(before, new RegExp(`^# TYPE ${n} `, "m"), `${n} is served`);
    const signer = new Signer(c);
    const req = await signer.createDomain("metrics");
    assert.equal(receiptStatus(await submitVia(c, req)), "accepted");
    assert.equal((await c.clients[0]!.execute(req)).reason, "replay");
    assert.equal((await c.clients[0]!.execute(new Uint8Array([1, 2, 3]))).reason, "malformed-request");
    const after = await scrape(port);
    assert.equal(sample(after, "arbor_requests_admitted_total"), 1);
    assert.equal(sample(after, "arbor_requests_accepted_total"), 1);
    assert.equal(sample(after, 'arbor_requests_refused_total{reason="replay"}'), 1);
    assert.equal(sample(after, 'arbor_requests_refused_total{reason="malformed-request"}'), 1);
    assert.ok(sample(after, "arbor_get_replies_total") >= 1, "the signer's proof read counted");
    assert.ok(sample(after, "arbor_applied_height") >= 1);
    assert.ok(sample(after, "arbor_block_requests_count") >= 1);
    assert.ok(sample(after, "arbor_commit_latency_seconds_count") >= 1);
    assert.ok(sample(after, "arbor_store_bytes") > 0);
    assert.equal(sample(after, "arbor_peers_connected"), 0);
    assert.equal(sample(after, "arbor_snapshot_height"), 0, "no snapshot before height 1,024");
    assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
    const promtool = spawnSync("promtool", ["check", "metrics"], { input: after, encoding: "utf8" });
    if (promtool.error) {
      t.skip("promtool is not installed (Debian package prometheus): the exposition format is not checked");
      return;
    }
    assert.equal(promtool.status, 0, `promtool check metrics:\n${promtool.stdout}${promtool.stderr}`);
  });
});

type HealthClient = grpc.Client & {
  check(req: { service: string }, cb: (e: grpc.ServiceError | null, r: { status: string }) => void): void;
  watch(req: { service: string }): grpc.ClientReadableStream<{ status: string }>;
};

test("the gRPC health service says SERVING, and NOT_SERVING once the node is stopping", async () => {
  await withNode(async (c) => {
    const Health = grpc.makeGenericClientConstructor(healthService, "Health");
    const h = new Health(
      c.genesis.nodes[0]!.address,
      grpc.credentials.createInsecure(),
    ) as unknown as HealthClient;
    const check = (service: string) =>
      new Promise<string>((res, rej) => h.check({ service }, (e, r) => (e ? rej(e) : res(r.status))));
    try {
      assert.equal(await check(""), "SERVING");
      assert.equal(await check("arbor.v1.Arbor"), "SERVING");
      await assert.rejects(
        check("no.such.Service"),
        (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND,
      );
      const seen: string[] = [];
      const notServing = new Promise<void>((res) => {
        const w = h.watch({ service: "" });
        w.on("data", (m: { status: string }) => {
          seen.push(m.status);
          if (m.status === "NOT_SERVING") res();
        });
        w.on("error", () => res());
      });
      await new Promise((r) => setTimeout(r, 200)); // the watch's first answer
      c.procs[0]!.kill("SIGTERM");
      await notServing;
      assert.deepEqual(seen, ["SERVING", "NOT_SERVING"]);
    } finally {
      h.close();
    }
  });
});

test("--log-format text gives readable lines; a bad format is a usage error; the config checks it", async () => {
  const c = await Cluster.create({ n: 1, k: 1 });
  const config = join(c.dir, "node0.json");
  try {
    const bad = spawnSync(process.execPath, [BIN, "node", "--config", config, "--log-format", "xml"], {
      encoding: "utf8",
      env: nodeProcessEnv(),
    });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^arbor: usage: --log-format must be one of json, text \(got "xml"\)/);
    const p = spawn(process.execPath, [BIN, "node", "--config", config, "--log-format", "text"], {
      stdio: ["ignore", "ignore", "pipe"],
      env: nodeProcessEnv(),
    });
    let err = "";
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`no "node started" line:\n${err}`)), 20_000);
      p.stderr.on("data", (d: Buffer) => {
        err += d.toString();
        if (/node started/.test(err)) {
          clearTimeout(timer);
          res();
        }
      });
    });
    await new Promise((r) => {
      p.once("exit", r);
      p.kill("SIGTERM");
    });
    assert.match(
      err,
      /^\d{4}-\d\d-\d\dT[\d:.]+Z INFO {2}node started {2}node=0 id=0 listen=127\.0\.0\.1:\d+ /m,
    );
    assert.doesNotMatch(err, /^\{/m, "no JSON lines");
    writeFileSync(config, JSON.stringify({ ...JSON.parse(readFileSync(config, "utf8")), logFormat: "xml" }));
    assert.throws(() => loadConfig(config), {
      code: "log/bad-format",
      message: /logFormat must be one of json, text/,
    });
  } finally {
    await c.stop();
  }
});

test("both log formats carry the same fields", () => {
  const lines: string[] = [];
  for (const format of ["json", "text"] as const)
    createLogger({ node: 1 }, "info", (l) => lines.push(l), format).warn("slow peer", {
      ms: 12n,
      who: "a b",
    });
  assert.match(
    lines[0]!,
    /^\{"t":"[^"]+","level":"warn","msg":"slow peer","node":1,"ms":"12","who":"a b"\}\n$/,
  );
  assert.match(lines[1]!, /^\S+Z WARN {2}slow peer {2}node=1 ms=12 who="a b"\n$/);
});
