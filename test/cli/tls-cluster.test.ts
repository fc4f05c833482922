// A TLS cluster on loopback, as a user makes one: `arbor init --tls` issues the CA and node
// certificates, `arbor up` runs four node processes that talk to each other over TLS. The nodes
// are laid out one per host (`--hosts` with four loopback addresses: each node listens on every
// interface and its certificate names its own address); `arbor health` probes each. An SDK
// client given the CA writes and reads; one without TLS, or trusting another CA, gets no answer
// and says why; the CLI finds the cluster's CA by itself with --dir and takes --tls-ca with
// --endpoints; the nodes agree. Needs `openssl` (skipped without it).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ArborClient, generateKey, NodeConnection } from "../../client/index.js";
import { genesisFromJson, type Genesis } from "../../node/ledger/genesis.js";
import { utf8 } from "../../node/common/bytes.js";
import { CliCluster, run, runJson } from "./helpers.js";

const hasOpenssl = spawnSync("openssl", ["version"]).status === 0;
const HOSTS = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"];
let c: CliCluster;
let genesis: Genesis;
let ca: Buffer;
let otherDir: string;
const clients: ArborClient[] = [];

before(async () => {
  if (!hasOpenssl) return;
  c = await CliCluster.create(4, 2, ["--tls", "--hosts", HOSTS.join(",")]);
  await c.start();
  genesis = genesisFromJson(readFileSync(join(c.dir, "genesis.json"), "utf8"));
  ca = readFileSync(join(c.dir, "tls", "ca.pem"));
  otherDir = mkdtempSync(join(tmpdir(), "arbor-other-ca-"));
  const r = spawnSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"].concat([
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "1",
      "-subj",
      "/CN=another CA",
    ]),
    { cwd: otherDir },
  );
  assert.equal(r.status, 0, String(r.stderr));
});

after(async () => {
  for (const cl of clients) cl.close();
  await c?.stop();
  if (otherDir) rmSync(otherDir, { recursive: true, force: true });
});

async function client(o: Partial<Parameters<typeof ArborClient.connect>[0]>): Promise<ArborClient> {
  const cl = await ArborClient.connect({ genesis, key: generateKey(), ...o });
  clients.push(cl);
  return cl;
}

test("arbor init --tls turns TLS on in every node config", { skip: !hasOpenssl }, () => {
  const cfg = JSON.parse(readFileSync(join(c.dir, "node2.json"), "utf8")) as {
    tls?: unknown;
    listen?: string;
  };
  assert.deepEqual(cfg.tls, { cert: "tls/node2.pem", key: "tls/node2.key", ca: "tls/ca.pem" });
  assert.match(cfg.listen ?? "", /^0\.0\.0\.0:\d+$/);
  assert.deepEqual(
    genesis.nodes.map((n) => n.address.replace(/:\d+$/, "")),
    HOSTS,
  );
});

test("arbor health: every node's health service says SERVING over TLS", { skip: !hasOpenssl }, async () => {
  for (const n of genesis.nodes) {
    const r = await run(["health", "--config", join(c.dir, `node${n.id}.json`)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /SERVING/);
    assert.doesNotMatch(r.stderr, /DEP0123/);
  }
});

test("an SDK client with the CA writes and reads", { skip: !hasOpenssl }, async () => {
  const cl = await client({ tls: { ca } });
  assert.equal((await cl.createDomain("tls")).receipt.status, "accepted");
  assert.equal((await cl.writeRecords("tls", [["tls/k", utf8("over tls")]])).receipt.status, "accepted");
  assert.deepEqual((await cl.get(["tls/k"])).get("tls/k"), utf8("over tls"));
  // The genesis can be learned over TLS too, pinned to the chain.
  const learned = await client({
    genesis: undefined,
    endpoints: [genesis.nodes[3]!.address],
    chainId: cl.chain,
    tls: { ca: ca.toString("utf8"), serverName: "localhost" },
  });
  assert.deepEqual((await learned.get(["tls/k"])).get("tls/k"), utf8("over tls"));
});

test("a plaintext client, or one trusting another CA, gets no answer", { skip: !hasOpenssl }, async () => {
  const plain = await client({ timeoutMs: 10_000 });
  await assert.rejects(plain.get(["tls/k"]), (e: Error & { code?: string }) => {
    assert.equal(e.code, "client/no-valid-answer");
    assert.match(e.message, /UNAVAILABLE/);
    return true;
  });
  // One connection trusting another CA: the node's certificate does not verify.
  const conn = new NodeConnection(genesis.nodes[0]!.address, 10_000, {
    ca: readFileSync(join(otherDir, "ca.pem")),
  });
  await assert.rejects(conn.status(10_000), /unable to verify the first certificate/);
  conn.close();
  const other = await client({ timeoutMs: 10_000, tls: { ca: readFileSync(join(otherDir, "ca.pem")) } });
  await assert.rejects(other.get(["tls/k"]), (e: Error & { code?: string }) => {
    assert.equal(e.code, "client/no-valid-answer");
    assert.match(e.message, /unable to verify the first certificate/);
    return true;
  });
});

test(
  "the CLI: --dir uses the cluster's CA; --endpoints needs --tls-ca; the nodes agree",
  { skip: !hasOpenssl },
  async () => {
    const s = await runJson<{ agree: boolean; nodes: Array<{ reachable: boolean }> }>(["status", ...c.flags]);
    assert.equal(s.agree, true);
    assert.equal(s.nodes.filter((n) => n.reachable).length, 4);
    const endpoint = genesis.nodes[0]!.address;
    const withCa = await runJson<{ agree: boolean }>([
      "status",
      "--endpoints",
      endpoint,
      "--tls-ca",
      join(c.dir, "tls", "ca.pem"),
    ]);
    assert.equal(withCa.agree, true);
    const without = await run(["status", "--endpoints", endpoint], { timeoutMs: 60_000 });
    assert.notEqual(without.code, 0);
    assert.match(without.stderr, /if the nodes serve TLS, give --tls-ca FILE/);
    const bad = await run(["status", "--endpoints", endpoint, "--tls-ca", join(c.dir, "genesis.json")]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /cli\/bad-tls-ca/);
  },
);
