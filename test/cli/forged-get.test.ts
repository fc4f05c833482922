// A lying node caught by the SDK: node 3 of a 4-node cluster (k = 2) is replaced by a test double —
// a gRPC server at node 3's address, holding node 3's real key, whose GET replies are correctly
// signed statements about a forged tree (a record with a made-up balance, hence a made-up root).
// Reads through the SDK still return the true value via the honest holder; the forged statement
// is kept as evidence; and when the double is the only holder left, the read fails verification
// (client/forged-root) instead of returning the forged value; the liar is then no longer asked, and a
// key whose every holder was caught lying fails at once (client/all-holders-excluded).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { Cluster } from "../cluster/cluster.js";
import {
  Arbor,
  GetReplySchema,
  GetRequestSchema,
  TaggedGetReplySchema,
  type GetRequest,
  type TaggedGetRequest,
} from "../../proto/gen/arbor/v1/client_pb.js";
import { CHANNEL_OPTIONS, serviceDefinition } from "../../proto/grpc.js";
import { ArborClient } from "../../client/index.js";
import { Bank, decodeAccount, loadBankingOps } from "../../examples/banking/bank.js";
import { MerkleTree } from "../../node/store/core/tree.js";
import { prove } from "../../node/store/core/proof.js";
import { encodeProof } from "../../node/store/core/proof-codec.js";
import { keyPath } from "../../node/store/core/path.js";
import { chainId } from "../../node/ledger/genesis.js";
import { encodeStatement, proofDigest, statementSigningMessage } from "../../node/ledger/statement.js";
import { signWith } from "../../node/keys.js";
import { bytesEqual } from "../../node/common/bytes.js";
import { Partition } from "../../node/store/core/partition.js";

const LIAR = 3;
const FORGED_BALANCE = 1_000_000_000n;
let c: Cluster;
let double: grpc.Server;
let client: ArborClient;
let gets = 0;

/** Holders of a key by the genesis partitions (the SDK's holders() leaves out nodes caught lying). */
function holdersOf(key: string): string {
  const p = keyPath(key);
  return c.genesis.nodes
    .filter((n) => new Partition(n.prefixes).holdsKey(p))
    .map((n) => n.id)
    .join();
}

/** Node 3's GET: a proof from a tree where every asked key holds a rich account, signed with node 3's key. */
async function forgedGet(req: GetRequest): Promise<ReturnType<typeof create<typeof GetReplySchema>>> {
  gets++;
  const honest = await c.clients[0]!.status(); // a plausible height and timestamp
  const fake = new Uint8Array(40);
  fake.fill(7, 0, 32);
  new DataView(fake.buffer).setBigUint64(32, FORGED_BALANCE);
  const tree = new MerkleTree();
  for (const k of req.keys) tree.set(k, fake);
  const proof = encodeProof(
    prove(tree, req.keys.map(keyPath), { values: !req.hashesOnly, leafSiblings: req.forExecute }),
  );
  const statement = encodeStatement({
    chain: chainId(c.genesis),
    node: LIAR,
    height: honest.height,
    timestamp: honest.timestamp,
    root: tree.rootLabel,
    proofDigest: proofDigest(proof),
  });
  return create(GetReplySchema, {
    statement,
    proof,
    signature: signWith(c.keys[LIAR]!, statementSigningMessage(statement)),
  });
}

before(async () => {
  c = await Cluster.create({ n: 4, k: 2 });
  for (const id of [0, 1, 2]) c.start(id);
  double = new grpc.Server(CHANNEL_OPTIONS);
  double.addService(serviceDefinition(Arbor), {
    get: (call: grpc.ServerUnaryCall<GetRequest, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      forgedGet(call.request).then(
        (r) => cb(null, r),
        (e: Error) => cb({ code: grpc.status.INTERNAL, details: e.message }),
      );
    },
    // The SDK reads over GetStream: the double lies there too.
    getStream: (call: grpc.ServerDuplexStream<TaggedGetRequest, unknown>) => {
      call.on("data", (t: TaggedGetRequest) => {
        forgedGet(t.request ?? create(GetRequestSchema, {})).then(
          (reply) => call.write(create(TaggedGetReplySchema, { tag: t.tag, reply })),
          (e: Error) =>
            call.write(
              create(TaggedGetReplySchema, { tag: t.tag, code: grpc.status.INTERNAL, message: e.message }),
            ),
        );
      });
      call.on("end", () => call.end());
      call.on("error", () => undefined);
    },
  });
  await new Promise<void>((res, rej) =>
    double.bindAsync(c.genesis.nodes[LIAR]!.address, grpc.ServerCredentials.createInsecure(), (e) =>
      e ? rej(e) : res(),
    ),
  );
  await c.ready();
  client = await ArborClient.connect({ genesis: c.genesis });
});

after(async () => {
  client?.close();
  double?.forceShutdown();
  await c?.stop();
});

test("a forged GET reply is rejected by verification; reads succeed through the honest holder, then fail rather than lie", async () => {
  const bank = new Bank(client);
  await bank.setup(loadBankingOps());
  // An account stored by node 2 and the liar only.
  let name = "";
  for (let i = 0; name === ""; i++) if (holdersOf(bank.account(`v${i}`)) === `2,${LIAR}`) name = `v${i}`;
  await bank.openAccount(name);
  await bank.mint(name, 77n);

  gets = 0;
  const fresh = await ArborClient.connect({ genesis: c.genesis });
  try {
    const read = await fresh.read([bank.account(name)]);
    assert.equal(decodeAccount(read.values.get(bank.account(name))!).balance, 77n);
    // Both holders are asked at once; the honest answer can verify before the double is reached
    // (the certificate of its height may be verified already in this process).
    for (let i = 0; i < 100 && gets === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(gets > 0, "the double was asked");
    assert.ok(
      read.statements.every((s) => s.node !== LIAR),
      "no answer of the liar was used",
    );
    // Caught: its signed statement contradicts the certified root at its height; it is kept as
    // evidence for a complaint, and the liar is not asked again.
    // The read returns with the first valid answer; the liar's may still be on its way.
    for (let i = 0; i < 100 && !fresh.excluded.has(LIAR); i++) await new Promise((r) => setTimeout(r, 50));
    const lie = [...fresh.evidence].reverse().find((s) => s.node === LIAR && s.statement.height > 0n);
    assert.ok(lie, "forged statement kept as evidence");
    const cert = await fresh.certifiedHeader(lie.statement.height);
    assert.ok(!bytesEqual(cert.header.root, lie.statement.root));
    // (The read returned with the honest answer; the liar's is judged a moment later.)
    await c.waitFor(async () => fresh.suspects.length > 0, 10_000, "the liar to be caught");
    assert.deepEqual(
      fresh.suspects.map((s) => s.accused),
      [LIAR],
    );
    assert.ok(fresh.excluded.has(LIAR));
  } finally {
    fresh.close();
  }

  // Only the liar is left to ask (the cluster halts, but its certified past stays readable): a
  // client that never met it asks it, catches the forgery, and fails rather than return it.
  await c.kill(2);
  const last = await ArborClient.connect({ genesis: c.genesis });
  try {
    await assert.rejects(last.read([bank.account(name)]));
    assert.deepEqual(
      last.suspects.map((s) => s.accused),
      [LIAR],
      "the read failed because the liar was caught (client/forged-root), not for want of an answer",
    );
    // Every holder excluded (node 2 by hand here): the read fails at once instead of waiting.
    last.excluded.add(2);
    await assert.rejects(last.read([bank.account(name)]), { code: "client/all-holders-excluded" });
    // Keys held by honest nodes 0 and 1 still read fine.
    let other = "";
    for (let i = 0; other === ""; i++) if (holdersOf(bank.account(`w${i}`)) === "0,1") other = `w${i}`;
    assert.equal((await last.read([bank.account(other)])).values.get(bank.account(other)), null);
  } finally {
    last.close();
  }
});
