// Learning the genesis from endpoints without a pinned chain: every endpoint given is asked, and
// endpoints that serve different chains are refused (`client/chain-mismatch`, naming them) rather
// than the first answer being believed; endpoints that agree (or a single one) give the genesis.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { ArborClient } from "../../client/index.js";
import { serviceDefinition } from "../../proto/grpc.js";
import { Arbor, GenesisReplySchema } from "../../proto/gen/arbor/v1/client_pb.js";
import { genesisToJson, chainId } from "../../node/ledger/genesis.js";
import { bytesEqual } from "../../node/common/bytes.js";
import { fakeNodes } from "./fake-nodes.js";

/** A server that answers Genesis only, with `json`. */
async function genesisServer(json: string): Promise<{ address: string; stop: () => void }> {
  const server = new grpc.Server();
  server.addService(serviceDefinition(Arbor), {
    genesis: (_call: unknown, done: grpc.sendUnaryData<unknown>) =>
      done(null, create(GenesisReplySchema, { genesisJson: json })),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { address: `127.0.0.1:${port}`, stop: () => server.forceShutdown() };
}

test("unpinned endpoints that disagree on the chain are refused; endpoints that agree give the genesis", async () => {
  const real = fakeNodes({}).genesis;
  const fake = fakeNodes({}).genesis;
  const a = await genesisServer(genesisToJson(real));
  const b = await genesisServer(genesisToJson(real));
  const liar = await genesisServer(genesisToJson(fake));
  try {
    await assert.rejects(
      ArborClient.connect({ endpoints: [liar.address, a.address], timeoutMs: 5_000 }),
      (e: unknown) =>
        (e as { code?: string }).code === "client/chain-mismatch" &&
        (e as Error).message.includes(liar.address) &&
        (e as Error).message.includes(a.address),
    );
    const ok = await ArborClient.connect({ endpoints: [a.address, b.address], timeoutMs: 5_000 });
    try {
      assert.ok(bytesEqual(ok.chain, chainId(real)));
    } finally {
      ok.close();
    }
    // Pinned, the liar is passed over and the next endpoint of the pinned chain is used.
    const pinned = await ArborClient.connect({
      endpoints: [liar.address, a.address],
      chainId: chainId(real),
      timeoutMs: 5_000,
    });
    pinned.close();
  } finally {
    a.stop();
    b.stop();
    liar.stop();
  }
});
