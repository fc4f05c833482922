// The metrics port (node/metrics.ts) bounds its connections: past METRICS_MAX_CONNECTIONS a new one
// is closed at once, and slow or idle clients are cut off, so unfinished requests (a slowloris)
// cannot take the node's file descriptors. No cluster: a NodeMetrics over fixed sources.
import { test } from "node:test";
import { tmpdir } from "node:os";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import type { Server } from "node:http";
import {
  METRICS_HEADERS_TIMEOUT_MS,
  METRICS_IDLE_TIMEOUT_MS,
  METRICS_MAX_CONNECTIONS,
  METRICS_REQUEST_TIMEOUT_MS,
  NodeMetrics,
} from "../../node/metrics.js";

/** A NodeMetrics over fixed sources (7 frames dropped at the sender). */
function fixedMetrics(dataDir: string): NodeMetrics {
  return new NodeMetrics({
    appliedHeight: () => 0n,
    consensusRound: () => 0,
    peersConnected: () => 0,
    peerFramesDropped: () => 7,
    syncStubsRemaining: () => 0,
    newestSnapshot: () => ({ height: 0n, bytes: 0n }),
    dataDir,
  });
}

test("the metrics port closes connections past METRICS_MAX_CONNECTIONS and cuts slow ones off", async () => {
  const metrics = fixedMetrics("/nonexistent");
  const port = await metrics.listen("127.0.0.1:0");
  const sockets: Socket[] = [];
  try {
    const server = (metrics as unknown as { server: Server }).server;
    assert.equal(server.headersTimeout, METRICS_HEADERS_TIMEOUT_MS);
    assert.equal(server.requestTimeout, METRICS_REQUEST_TIMEOUT_MS);
    assert.equal(server.timeout, METRICS_IDLE_TIMEOUT_MS);
    for (let i = 0; i <= METRICS_MAX_CONNECTIONS; i++)
      sockets.push(
        await new Promise<Socket>((resolve) => {
          const s = connect(port, "127.0.0.1", () => resolve(s));
          s.on("error", () => {});
        }),
      );
    for (const s of sockets) s.write("GET /metrics HTTP/1.1\r\nHost: x\r\n");
    const closed = await Promise.race([
      new Promise<true>((r) => sockets.at(-1)!.once("close", () => r(true))),
      new Promise<false>((r) => setTimeout(() => r(false), 5_000)),
    ]);
    assert.ok(closed, "the connection past the bound is closed");
  } finally {
    for (const s of sockets) s.destroy();
    await metrics.close();
  }
});

test("frames dropped at the sender are served as a counter", async () => {
  const metrics = fixedMetrics(mkdtempSync(join(tmpdir(), "arbor-metrics-")));
  const port = await metrics.listen("127.0.0.1:0");
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { connection: "close" } });
    assert.match(await res.text(), /^arbor_peer_frames_dropped_total 7$/m);
  } finally {
    await metrics.close();
  }
});
