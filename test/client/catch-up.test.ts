// catchUp: a client with no past learns its freshness floor from the newest height a node proves
// certified (docs/protocol.md §8, "Fresh enough"). A node's Status claim counts only with a
// certificate that verifies; a silent node does not hold it; reads afterwards refuse older answers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ArborClient } from "../../client/index.js";
import { fakeNodes, serve, type FakeNodes, type ServeOptions } from "./fake-nodes.js";
import type { StatusReply, HeadersReply } from "../../proto/gen/arbor/v1/client_pb.js";
import { decodeCertifiedHeader, encodeCertifiedHeader } from "../../node/ledger/header.js";

const records = { "d/a": "1" };

type Conn = {
  status: () => Promise<StatusReply>;
  headers: (from: bigint) => Promise<HeadersReply>;
};

/** Node `id` claims `height` as its certified height ("silent": Status never answers). */
function claim(client: ArborClient, id: number, height: bigint | "silent"): void {
  const conn = client.node(id) as unknown as Conn;
  conn.status = () =>
    height === "silent"
      ? new Promise(() => undefined)
      : Promise.resolve({ certifiedHeight: height } as StatusReply);
}

/** Node `id` answers header requests with a certificate signed by itself alone. */
function forgeHeaders(client: ArborClient, f: FakeNodes, id: number): void {
  const conn = client.node(id) as unknown as Conn;
  conn.headers = (from: bigint) => {
    const c = decodeCertifiedHeader(f.certified(from));
    const forged = { ...c, signatures: c.signatures.slice(0, 1) };
    return Promise.resolve({ headers: [encodeCertifiedHeader(forged)] } as unknown as HeadersReply);
  };
}

test("catchUp takes the highest claim a certificate proves; a liar's higher claim is passed over", async () => {
  const f = fakeNodes(records);
  const client = await ArborClient.connect({ genesis: f.genesis });
  try {
    const opts: ServeOptions = { height: 1n };
    serve(client, f, opts);
    forgeHeaders(client, f, 3);
    claim(client, 0, 7n);
    claim(client, 1, 9n);
    claim(client, 2, 8n);
    claim(client, 3, 1_000_000n);
    assert.equal(await client.catchUp({ timeoutMs: 10_000 }), 9n);
    // Reads now refuse answers from before height 9 (a node replaying old replies)…
    await assert.rejects(client.read(["d/a"], { timeoutMs: 400 }), { code: "client/stale" });
    // …and take one at 9.
    opts.height = 9n;
    assert.equal((await client.read(["d/a"])).height, 9n);
  } finally {
    client.close();
  }
});

test("catchUp waits for n − f nodes and a short grace, not for a silent node", async () => {
  const f = fakeNodes(records);
  const client = await ArborClient.connect({ genesis: f.genesis });
  try {
    serve(client, f, { height: 1n });
    claim(client, 0, 5n);
    claim(client, 1, 6n);
    claim(client, 2, 6n);
    claim(client, 3, "silent");
    // Without the grace the silent node's Status would hold catchUp until its deadline (rejecting).
    assert.equal(await client.catchUp({ timeoutMs: 60_000 }), 6n);
  } finally {
    client.close();
  }
});

test("catchUp keeps the floor when no claim can be proven, and never lowers it", async () => {
  const f = fakeNodes(records);
  const client = await ArborClient.connect({ genesis: f.genesis });
  try {
    serve(client, f, { height: 1n });
    for (let id = 0; id < 4; id++) {
      forgeHeaders(client, f, id);
      claim(client, id, 50n);
    }
    assert.equal(await client.catchUp({ timeoutMs: 10_000 }), 0n);
    client.seenHeight = 12n;
    for (let id = 0; id < 4; id++) claim(client, id, 3n);
    assert.equal(await client.catchUp({ timeoutMs: 10_000 }), 12n);
  } finally {
    client.close();
  }
});
