// The node's health service (node/health-service.ts): known services answer and stream their
// changes; unknown names, however long and however many, are answered without being kept.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { service as healthDefinition } from "grpc-health-check";
import { HealthService } from "../../node/health-service.js";

type HealthClient = grpc.Client & {
  check(req: { service: string }, cb: (e: grpc.ServiceError | null, r?: { status: string }) => void): void;
  watch(req: { service: string }): grpc.ClientReadableStream<{ status: string }>;
};

async function serve(h: HealthService): Promise<{ client: HealthClient; server: grpc.Server }> {
  const server = new grpc.Server();
  h.addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  const Client = grpc.makeGenericClientConstructor(healthDefinition, "Health");
  return {
    client: new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as HealthClient,
    server,
  };
}

const check = (c: HealthClient, service: string) =>
  new Promise<{ status?: string; code?: number; details?: string }>((resolve) =>
    c.check({ service }, (e, r) => resolve(e ? { code: e.code, details: e.details } : { status: r!.status })),
  );

function firstStatus(s: grpc.ClientReadableStream<{ status: string }>): Promise<string> {
  return new Promise((resolve, reject) => {
    s.once("data", (m: { status: string }) => resolve(m.status));
    s.once("error", reject);
  });
}

test("check and watch: known services, changes streamed; unknown names answered, never kept", async () => {
  const h = new HealthService({ "": "NOT_SERVING", "arbor.v1.Arbor": "NOT_SERVING" });
  const { client, server } = await serve(h);
  try {
    assert.deepEqual(await check(client, ""), { status: "NOT_SERVING" });
    const long = "x".repeat(1024 * 1024);
    const unknown = await check(client, long);
    assert.equal(unknown.code, grpc.status.NOT_FOUND);
    assert.match(unknown.details!, /^health\/unknown-service: /);
    assert.ok(unknown.details!.length < 200, "the refusal does not repeat a 1 MiB name");

    const w = client.watch({ service: "" });
    assert.equal(await firstStatus(w), "NOT_SERVING");
    const next = firstStatus(w);
    h.setStatus("", "SERVING");
    assert.equal(await next, "SERVING");
    w.cancel();

    for (let i = 0; i < 50; i++) {
      const u = client.watch({ service: `gone-${i}-${"y".repeat(10_000)}` });
      const ended = new Promise<void>((resolve) => u.once("end", () => resolve()));
      assert.equal(await firstStatus(u), "SERVICE_UNKNOWN");
      await ended; // the node ends it: an open stream would hold its request
    }
    const kept = h as unknown as { watches: Map<string, Set<unknown>>; slots: { count: number } };
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual([...kept.watches.keys()], ["", "arbor.v1.Arbor"], "no unknown name kept");
    assert.equal(kept.slots.count, 0, "every watch gone with its caller");
    assert.deepEqual(await check(client, ""), { status: "SERVING" });
  } finally {
    client.close();
    server.forceShutdown();
  }
});
