// Listings and histories when nodes misbehave: a node that never answers gets its share of the
// call's time and no more (the next node is asked), and one node's refusal of a query is not
// believed alone: the call ends with a refusal only when f+1 nodes give it alike. Closing the
// client ends its calls at once.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { ArborClient } from "../../client/index.js";
import { QUERY_ATTEMPT_MIN_MS } from "../../client/limits.js";
import { fakeNodes } from "./fake-nodes.js";

type Behaviour = "hang" | "refuse" | "other-refusal";

/** Replaces every node's List call: the i-th node asked behaves as `plan[i]`. */
function scripted(client: ArborClient, plan: readonly Behaviour[]): number[] {
  const asked: number[] = [];
  for (let id = 0; id < 4; id++) {
    const conn = client.node(id) as unknown as { list: () => Promise<never> };
    conn.list = () => {
      const b = plan[asked.length] ?? "hang";
      asked.push(id);
      if (b === "hang") return new Promise<never>(() => undefined);
      const text = b === "refuse" ? "list/bad-prefix: no such prefix" : "list/bad-limit: too many";
      return Promise.reject(
        Object.assign(new Error(text), { code: grpc.status.INVALID_ARGUMENT, details: text }),
      );
    };
  }
  return asked;
}

test("a hanging node costs its share of the time, then f+1 refusals alike end the call with their code", async () => {
  const f = fakeNodes({ "d/a": "1" });
  const client = await ArborClient.connect({ genesis: f.genesis });
  try {
    const asked = scripted(client, ["hang", "refuse", "refuse"]);
    const t0 = Date.now();
    await assert.rejects(client.list("d/", { limit: 10, timeoutMs: 8_000 }), { code: "list/bad-prefix" });
    const took = Date.now() - t0;
    assert.equal(asked.length, 3, "the silent node, then two that refused alike");
    assert.ok(took >= QUERY_ATTEMPT_MIN_MS && took < 6_000, `took ${took} ms`);
  } finally {
    client.close();
  }
});

test("one node's refusal is not believed: the others are asked, and refusals that differ end as client/no-valid-answer", async () => {
  const f = fakeNodes({ "d/a": "1" });
  const client = await ArborClient.connect({ genesis: f.genesis });
  try {
    const asked = scripted(client, ["refuse", "other-refusal", "hang", "hang"]);
    await assert.rejects(
      client.list("d/", { limit: 10, timeoutMs: 1_000 }),
      (e: unknown) =>
        (e as { code?: string }).code === "client/no-valid-answer" &&
        /list\/bad-prefix/.test((e as Error).message) &&
        /list\/bad-limit/.test((e as Error).message),
    );
    assert.ok(asked.length >= 3, `asked ${asked.length} nodes`);
  } finally {
    client.close();
  }
});

test("close() ends a call in flight at once, with client/closed", async () => {
  const f = fakeNodes({ "d/a": "1" });
  const client = await ArborClient.connect({ genesis: f.genesis });
  scripted(client, ["hang", "hang", "hang", "hang"]);
  const t0 = Date.now();
  const call = client.list("d/", { limit: 10, timeoutMs: 20_000 });
  setTimeout(() => client.close(), 100);
  await assert.rejects(call, { code: "client/closed" });
  assert.ok(Date.now() - t0 < 2_000);
});
