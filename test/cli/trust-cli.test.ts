// The trust commands and the SDK's light mode on real 4-node clusters (k = 2). On an honest
// cluster with a few dozen blocks: `arbor headers` verifies a read from the genesis downloading one
// header, far fewer bytes than all headers; `arbor audit` finds every node consistent; `arbor
// complain` refuses a file that is not evidence, and the nodes reject evidence that proves nothing;
// a light-mode client verifies reads against a real node, moves to another node when one serves
// tampered headers, and fails rather than trust a root no node can certify; a tampered proof fails
// the light client. Then, on a cluster where node 3 signs forged GET roots: `arbor audit` catches
// it and writes the evidence, and `arbor complain --evidence` that file evicts it (and files the
// repair that gives its prefixes to the others).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cluster } from "../cluster/cluster.js";
import { run } from "./helpers.js";
import {
  ArborClient,
  LightClient,
  NodeConnection,
  nodeHeaderSource,
  VerificationError,
  type HeaderSource,
} from "../../client/index.js";
import { fromUtf8, utf8 } from "../../node/common/bytes.js";
import { sha256 } from "../../node/common/hash.js";
import { decodeEvidence, encodeEvidence } from "../../node/ledger/evidence.js";
import { decodeCertifiedHeader } from "../../node/ledger/header.js";
import { decodeStatement } from "../../node/ledger/statement.js";
import { decodeProof, encodeProof } from "../../node/store/core/proof-codec.js";
import type { ProofNode } from "../../node/store/core/proof.js";

const BLOCKS = 30;
let scratch: string;

before(() => {
  scratch = mkdtempSync(join(tmpdir(), "arbor-trust-cli-"));
});

after(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** A header source that flips one bit of the root in every header it serves. */
function tampering(src: HeaderSource): HeaderSource {
  return {
    transitions: (after, until) => src.transitions(after, until),
    header: async (h) => {
      const b = new Uint8Array(await src.header(h));
      b[45]! ^= 1; // chain (32), height (8), timestamp (1–2): byte 45 is in the root
      return b;
    },
  };
}

/** The same proof with the first value in it changed (the root changes with it). */
function alterValue(n: ProofNode): ProofNode {
  if (n.t === "internal") {
    const l = alterValue(n.left);
    return l !== n.left ? { ...n, left: l } : { ...n, right: alterValue(n.right) };
  }
  if (n.t === "leaf" && n.value !== null) {
    const value = utf8("forged");
    return { ...n, value, valueHash: sha256(value) };
  }
  return n;
}

describe("an honest cluster", () => {
  let c: Cluster;
  let writer: ArborClient;

  before(async () => {
    c = await Cluster.create({ n: 4, k: 2, tickMs: 20 });
    c.startAll();
    await c.ready();
    writer = await ArborClient.connect({ genesis: c.genesis });
    await writer.createDomain("tr");
    // One write at a time: each commits in a block of its own.
    for (let i = 0; (await c.clients[0]!.status()).certifiedHeight < BigInt(BLOCKS); i++)
      await writer.writeRecords("tr", [[`tr/k${i % 8}`, utf8(`v${i}`)]]);
  });

  after(async () => {
    writer?.close();
    await c?.stop();
  });

  test("arbor headers: one header downloaded from the genesis, far fewer bytes than all headers", async () => {
    const r = await run(["headers", "--dir", c.dir, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout);
    assert.equal(d.key, ".root_rule");
    assert.equal(d.read.present, true);
    assert.ok(BigInt(d.height) >= BigInt(BLOCKS), `height ${d.height}`);
    assert.equal(d.read.height, d.height);
    assert.equal(d.headersDownloaded, 1);
    assert.equal(d.transitions, 0);
    assert.equal(d.allHeaders.method, "measured");
    // Empty blocks' heights have no header: at most one header per height, and the read's is one.
    assert.ok(BigInt(d.allHeaders.count) > 0n && BigInt(d.allHeaders.count) <= BigInt(d.height));
    assert.ok(
      d.bytesDownloaded * 10 < d.allHeaders.bytes,
      `${d.bytesDownloaded} bytes downloaded, all headers ${d.allHeaders.bytes}`,
    );

    // The fifth certified header (empty blocks between writes have none).
    const fifth = decodeCertifiedHeader((await c.clients[0]!.headers(1n, 5)).headers[4]!).header.height;
    const t = await run(["headers", "tr/k3", "--height", String(fifth), "--dir", c.dir]);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /read tr\/k3 at height \d+: present \(\d+ bytes\)/);
    assert.match(
      t.stdout,
      /headers downloaded: 2 \(\d+ bytes\); validator-set transitions stepped through: 0/,
    );
    assert.match(
      t.stdout,
      new RegExp(
        `all 5 certified headers up to height ${fifth}: \\d+ bytes \\(measured: as node \\d serves them\\)`,
      ),
    );

    const bad = await run(["headers", "--height", "999999", "--dir", c.dir]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /newest certified height is \d+/);
  });

  test("arbor audit: every node consistent, exit 0, no evidence written", async () => {
    const r = await run(["audit", "--dir", c.dir, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout);
    assert.equal(d.clean, true);
    assert.deepEqual(
      d.nodes.map((n: { node: number; verdict: string }) => [n.node, n.verdict]),
      [0, 1, 2, 3].map((id) => [id, "consistent"]),
    );
    assert.deepEqual(d.evidence, []);
    assert.ok(!readdirSync(c.dir).some((f) => f.startsWith("evidence")));

    const t = await run(["audit", "--sample", "2", "--dir", c.dir]);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /audit of 2 of 4 nodes/);
    assert.match(t.stdout, /2\/2 answered; no contradiction found/);
  });

  test("arbor complain: a file that is not evidence is refused; evidence that proves nothing is rejected by the nodes", async () => {
    const garbage = join(scratch, "garbage.bin");
    writeFileSync(garbage, "not evidence at all\n");
    const r = await run(["complain", "--evidence", garbage, "--dir", c.dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is not Arbor evidence \(evidence\/unknown-kind: .*\); nothing was submitted/);
    assert.equal(r.stdout, "");

    // Submitted anyway: the ledger judges it, and the receipt says why it refused.
    const j = await run(["complain", "--evidence", garbage, "--accused", "1", "--dir", c.dir, "--json"]);
    assert.equal(j.code, 3, j.stderr);
    const d = JSON.parse(j.stdout);
    assert.equal(d.accepted, false);
    assert.equal(d.receipt.status, "rejected");
    assert.equal(d.receipt.reason, "bad-evidence");
    assert.match(d.receipt.message, /evidence\/unknown-kind/);
    assert.match(j.stderr, /complaint rejected: bad-evidence/);

    // Well-formed, signed, but no contradiction: one statement twice.
    const conn = new NodeConnection(c.genesis.nodes[1]!.address);
    try {
      const g = await conn.get([".root_rule"], { hashesOnly: true });
      const same = { statement: g.statement, signature: g.signature };
      const file = join(scratch, "same.bin");
      writeFileSync(file, encodeEvidence({ kind: "conflicting-statements", a: same, b: same }));
      const n = await run(["complain", "--evidence", file, "--dir", c.dir]);
      assert.equal(n.code, 3, n.stderr);
      assert.match(n.stdout, /conflicting-statements at height \d+, against node 1/);
      assert.match(n.stdout, /complain against node 1: rejected \(bad-evidence\) evidence\/no-contradiction/);
    } finally {
      conn.close();
    }

    const missing = await run(["complain", "--evidence", join(scratch, "nope.bin"), "--dir", c.dir]);
    assert.equal(missing.code, 2);
  });

  test("light mode: reads verified against certified headers; a node serving tampered headers is passed over; none trusted when all do", async () => {
    const light = await ArborClient.connect({ genesis: c.genesis, light: true });
    try {
      // Nothing writes any more: both clients see the last value written.
      const want = fromUtf8((await writer.get(["tr/k1"])).get("tr/k1")!);
      assert.match(want, /^v\d+$/);
      assert.equal(fromUtf8((await light.get(["tr/k1"])).get("tr/k1")!), want);
      const s = light.lightStats();
      assert.ok(
        s.headers >= 1 && s.transitions === 0 && s.trustedHeight >= BigInt(BLOCKS),
        `${s.headers} headers`,
      );
      assert.ok(s.bytes > 0);
      // Writes too: the receipt is trusted through the certified header the light client reaches.
      const d = await light.createDomain("lightw");
      assert.equal(d.receipt.status, "accepted");
      assert.equal(d.backing, "header");
      assert.equal(d.header?.header.height, d.receipt.height);
    } finally {
      light.close();
    }

    const oneBad = await ArborClient.connect({
      genesis: c.genesis,
      light: true,
      headerSource: (conn, id) => (id === 0 ? tampering(nodeHeaderSource(conn)) : nodeHeaderSource(conn)),
    });
    try {
      assert.ok((await oneBad.get(["tr/k2"])).get("tr/k2"));
      const s = oneBad.lightStats();
      assert.notEqual(s.source, 0);
      assert.ok(s.failovers >= 1);
    } finally {
      oneBad.close();
    }

    const allBad = await ArborClient.connect({
      genesis: c.genesis,
      light: true,
      headerSource: (conn) => tampering(nodeHeaderSource(conn)),
    });
    try {
      await assert.rejects(
        allBad.get(["tr/k2"]),
        (e: unknown) => e instanceof VerificationError && /client\/unverifiable-header/.test(e.message),
      );
    } finally {
      allBad.close();
    }
  });

  test("light client: a real node's proof verifies against its certified header; the same proof tampered does not", async () => {
    const conn = new NodeConnection(c.genesis.nodes[0]!.address);
    try {
      // A key node 0 holds in full, so its proof carries the value.
      const key = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `tr/k${i}`).find((k) => writer.holders(k).includes(0))!;
      const r = await conn.get([key]);
      const height = decodeStatement(r.statement).height;
      await c.waitFor(async () => (await conn.status()).certifiedHeight >= height, 10_000, "certificate");
      const lc = new LightClient(c.genesis, nodeHeaderSource(conn));
      assert.ok(await lc.verifyRead(key, r.proof, height));
      assert.equal(lc.headersDownloaded, 1);
      const forged = encodeProof(alterValue(decodeProof(r.proof).root));
      await assert.rejects(lc.verifyRead(key, forged, height), {
        name: "VerificationError",
        code: "light/root-mismatch",
      });
    } finally {
      conn.close();
    }
  });
});

describe("a node that signs forged GET roots", () => {
  const LIAR = 3;
  let b: Cluster;
  let writer: ArborClient;
  const keys: string[] = [];

  before(async () => {
    b = await Cluster.create({ n: 4, k: 2, T: 512, tickMs: 20, byzantine: { [LIAR]: "forge-get-root" } });
    b.startAll();
    await b.ready();
    writer = await ArborClient.connect({ genesis: b.genesis });
    await writer.createDomain("trust");
    for (let i = 0; keys.length < 2; i++)
      if (writer.holders(`trust/k${i}`).includes(LIAR)) keys.push(`trust/k${i}`);
    await writer.writeRecords(
      "trust",
      keys.map((k) => [k, utf8(k)] as const),
    );
  });

  after(async () => {
    writer?.close();
    await b?.stop();
  });

  test("arbor audit catches it and writes the evidence; arbor complain --evidence that file evicts it", async () => {
    const text = await run(["audit", "--dir", b.dir, "--key-read", keys[0]!]);
    assert.equal(text.code, 5, text.stderr);
    assert.match(
      text.stdout,
      new RegExp(
        ` ${LIAR}  \\S+ +CAUGHT +\\d+  [0-9a-f]{12}  signed root [0-9a-f]{12} at height \\d+; the certified root is [0-9a-f]{12}`,
      ),
    );
    const dflt = join(b.dir, `evidence-node${LIAR}.bin`);
    assert.match(text.stdout, new RegExp(`written to ${dflt.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`));
    assert.ok(existsSync(dflt));

    const out = join(scratch, "liar.bin");
    const r = await run(["audit", "--dir", b.dir, "--key-read", keys[0]!, "--evidence-out", out, "--json"]);
    assert.equal(r.code, 5, r.stderr);
    const d = JSON.parse(r.stdout);
    assert.equal(d.clean, false);
    for (const n of d.nodes as Array<{ node: number; verdict: string }>)
      assert.equal(n.verdict, n.node === LIAR ? "caught" : "consistent", `node ${n.node}`);
    assert.equal(d.evidence.length, 1);
    assert.equal(d.evidence[0].accused, LIAR);
    assert.equal(d.evidence[0].kind, "forged-statement");
    assert.equal(d.evidence[0].file, out);
    assert.equal(decodeEvidence(new Uint8Array(readFileSync(out))).kind, "forged-statement");

    const cp = await run(["complain", "--dir", b.dir, "--evidence", out, "--json"]);
    assert.equal(cp.code, 0, cp.stderr);
    const receipt = JSON.parse(cp.stdout);
    assert.equal(receipt.accepted, true);
    assert.equal(receipt.evidence.accused, LIAR);
    assert.equal(receipt.evicted, LIAR);
    assert.equal(receipt.receipt.status, "accepted");
    // The evicted node's prefixes are dealt to the others by the repair the command files.
    assert.equal(receipt.repair?.status, "accepted", JSON.stringify(receipt.repair));
    // (Whether the cluster goes on with n−1 nodes is not this test's business.)
  });
});
