// A node config's `tls` section (node/net/tls.ts): accepted with a certificate, its key and a CA
// as `arbor init --tls` issues them; refused with a stable code when malformed, unreadable, not
// PEM, or when the key is not the certificate's. Needs `openssl` (skipped without it).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import { loadConfig } from "../../node/config.js";
import { planCluster, writeClusterFiles } from "../../node/cli/cluster-files.js";
import { issueClusterCerts, subjectAltNames } from "../../node/cli/tls-certs.js";

const hasOpenssl = spawnSync("openssl", ["version"]).status === 0;
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "arbor-tls-config-"));
  if (!hasOpenssl) return;
  const plan = planCluster({
    name: "tls-test",
    T: 16,
    replication: 1,
    ports: [7400, 7401],
    hosts: ["127.0.0.1", "node1.example"],
    records: [],
  });
  issueClusterCerts(dir, plan.genesis.name, ["127.0.0.1", "node1.example"]);
  writeClusterFiles(dir, plan, { tickMs: 50, tls: true });
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** node0.json with its tls section replaced by `tls` (undefined: removed). */
function configWith(tls: unknown): string {
  const path = join(dir, "node0-variant.json");
  const base = {
    id: 0,
    genesis: "genesis.json",
    keyFile: "node0.key",
    dataDir: "node0",
  };
  writeFileSync(path, JSON.stringify(tls === undefined ? base : { ...base, tls }));
  return path;
}

const good = { cert: "tls/node0.pem", key: "tls/node0.key", ca: "tls/ca.pem" };

test("subject alternative names: the node's host, plus localhost and 127.0.0.1", () => {
  assert.equal(subjectAltNames("127.0.0.1"), "DNS:localhost,IP:127.0.0.1");
  assert.equal(subjectAltNames("10.0.0.7"), "DNS:localhost,IP:127.0.0.1,IP:10.0.0.7");
  assert.equal(subjectAltNames("arbor-node0"), "DNS:localhost,IP:127.0.0.1,DNS:arbor-node0");
});

test("init's certificates load, name the node's host and chain to the CA", { skip: !hasOpenssl }, () => {
  const c = loadConfig(join(dir, "node0.json"));
  assert.ok(c.tls);
  assert.equal(loadConfig(configWith(undefined)).tls, undefined);
  const ca = new X509Certificate(c.tls.ca);
  const n1 = new X509Certificate(loadConfig(join(dir, "node1.json")).tls!.cert);
  assert.ok(n1.verify(ca.publicKey), "signed by the CA");
  assert.ok(n1.checkHost("node1.example"));
  assert.ok(n1.checkIP("127.0.0.1"));
  assert.equal(n1.checkHost("node0.example"), undefined);
  assert.match(ca.subject, /tls-test/);
});

test("malformed tls sections are refused with config/bad-tls", { skip: !hasOpenssl }, () => {
  for (const bad of [
    "tls/node0.pem",
    null,
    [],
    { cert: "tls/node0.pem", key: "tls/node0.key" },
    { ...good, ca: 7 },
    { ...good, cert: "" },
    { ...good, verify: false },
  ])
    assert.throws(() => loadConfig(configWith(bad)), { code: "config/bad-tls" }, JSON.stringify(bad));
});

test(
  "unreadable, non-PEM and mismatched files are refused with their own codes",
  { skip: !hasOpenssl },
  () => {
    assert.throws(() => loadConfig(configWith({ ...good, ca: "tls/missing.pem" })), {
      code: "config/tls-unreadable",
      message: /tls\.ca: cannot read .*missing\.pem/,
    });
    writeFileSync(join(dir, "tls", "garbage.pem"), "not a certificate\n");
    assert.throws(() => loadConfig(configWith({ ...good, cert: "tls/garbage.pem" })), {
      code: "config/bad-tls-cert",
    });
    assert.throws(() => loadConfig(configWith({ ...good, ca: "tls/garbage.pem" })), {
      code: "config/bad-tls-cert",
      message: /tls\.ca/,
    });
    assert.throws(() => loadConfig(configWith({ ...good, key: "tls/garbage.pem" })), {
      code: "config/bad-tls-key",
    });
    assert.throws(() => loadConfig(configWith({ ...good, key: "tls/node1.key" })), {
      code: "config/tls-key-mismatch",
    });
    copyFileSync(join(dir, "tls", "node0.pem"), join(dir, "tls", "copy.pem"));
    assert.equal(loadConfig(configWith({ ...good, cert: "tls/copy.pem" })).tls !== undefined, true);
  },
);
