// The repository's compose.yaml and Dockerfile stay true to what `arbor init` makes: compose.yaml
// is exactly what `arbor init --nodes 4 --hosts arbor-node0,… --tls --dir deploy --compose
// compose.yaml` writes at the repository root; it parses as YAML (prettier's parser, already a
// dev dependency); every file it mounts is one init wrote and every port it publishes one a node
// config listens on; the Dockerfile runs what the compose file mounts. Docker itself is not run.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import * as prettier from "prettier";
import { CONFIG_IN_CONTAINER, DATA_IN_CONTAINER } from "../../node/cli/compose.js";
import { genesisFromJson } from "../../node/ledger/genesis.js";
import { ROOT, run } from "./helpers.js";

const hasOpenssl = spawnSync("openssl", ["version"]).status === 0;
const HOSTS = ["arbor-node0", "arbor-node1", "arbor-node2", "arbor-node3"];
let work: string;
let generated: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), "arbor-compose-"));
  if (!hasOpenssl) return;
  const r = await run(
    [
      "init",
      "--nodes",
      "4",
      "--hosts",
      HOSTS.join(","),
      "--tls",
      "--dir",
      "deploy",
      "--compose",
      "compose.yaml",
    ],
    { cwd: work },
  );
  assert.equal(r.code, 0, r.stderr);
  generated = readFileSync(join(work, "compose.yaml"), "utf8");
});

after(() => rmSync(work, { recursive: true, force: true }));

const committed = () => readFileSync(join(ROOT, "compose.yaml"), "utf8");

test(
  "compose.yaml is what arbor init --compose writes (but the build context)",
  { skip: !hasOpenssl },
  () => {
    // Made elsewhere, the build context points back at the repository; at its root it is ".".
    const context = /^ {4}build: "(.*)"$/m.exec(generated)![1]!;
    assert.ok(
      existsSync(join(work, context, "Dockerfile")),
      `the build context ${context} has the Dockerfile`,
    );
    assert.equal(generated.replaceAll(`build: "${context}"`, 'build: "."'), committed());
  },
);

test("compose.yaml parses as YAML and is formatted", async () => {
  const text = committed();
  assert.equal(await prettier.format(text, { parser: "yaml" }), text);
  await assert.rejects(prettier.format("services:\n  a: [\n", { parser: "yaml" }));
});

test(
  "every mounted file is one arbor init wrote; every port one a config listens on",
  { skip: !hasOpenssl },
  () => {
    const dir = join(work, "deploy");
    const genesis = genesisFromJson(readFileSync(join(dir, "genesis.json"), "utf8"));
    assert.deepEqual(
      genesis.nodes.map((n) => n.address.replace(/:\d+$/, "")),
      HOSTS,
    );
    const text = committed();
    const services = [...text.matchAll(/^ {2}([a-z0-9-]+):$/gm)].map((m) => m[1]);
    assert.deepEqual(services, HOSTS);
    const volumes = [...text.matchAll(/^ {2}([a-z0-9-]+): \{\}$/gm)].map((m) => m[1]);
    assert.deepEqual(
      volumes,
      HOSTS.map((h) => `${h}-data`),
    );
    for (const [id, host] of HOSTS.entries()) {
      const block = text.slice(text.indexOf(`  ${host}:\n`)).split(/\n {2}\S/)[0]!;
      const mounts = [...block.matchAll(/- "\.\/deploy\/([^:]+):([^:]+):ro"/g)].map((m) => [m[1]!, m[2]!]);
      const cfg = JSON.parse(readFileSync(join(dir, `node${id}.json`), "utf8")) as {
        genesis: string;
        keyFile: string;
        listen: string;
        metricsListen: string;
        webListen: string;
        tls: { cert: string; key: string; ca: string };
      };
      for (const [file] of mounts) assert.ok(existsSync(join(dir, file)), `${host} mounts ${file}`);
      assert.deepEqual(mounts[0], [`node${id}.json`, CONFIG_IN_CONTAINER]);
      // The config's relative paths resolve, in the container, to the files mounted next to it.
      const inContainer = new Map(mounts.map(([f, c]) => [c, f]));
      for (const f of [cfg.genesis, cfg.keyFile, cfg.tls.ca, cfg.tls.cert, cfg.tls.key])
        assert.equal(inContainer.get(`/etc/arbor/${f}`), f, `${host}: ${f}`);
      assert.match(block, new RegExp(`- "${host}-data:${DATA_IN_CONTAINER}"`));
      const ports = [...block.matchAll(/- "(?:127\.0\.0\.1:)?(\d+):(\d+)"/g)].map((m) => [m[1], m[2]]);
      const port = (hp: string) => hp.replace(/^.*:/, "");
      assert.deepEqual(
        ports,
        [cfg.listen, cfg.metricsListen, cfg.webListen].map((a) => [port(a), port(a)]),
      );
      assert.equal(genesis.nodes[id]!.address, `${host}:${port(cfg.listen)}`);
      assert.match(
        block,
        new RegExp(`"127\\.0\\.0\\.1:${port(cfg.metricsListen)}:`),
        "metrics on loopback only",
      );
    }
  },
);

test("the Dockerfile runs the arbor bin on the mounted config and data volume", () => {
  const d = readFileSync(join(ROOT, "Dockerfile"), "utf8");
  const bin = (
    JSON.parse(readFileSync(join(ROOT, "node", "package.json"), "utf8")) as { bin: { arbor: string } }
  ).bin.arbor;
  assert.match(d, new RegExp(`^ENTRYPOINT \\["node", "node/${bin.replace(".", "\\.")}"\\]$`, "m"));
  assert.match(
    d,
    new RegExp(
      `^CMD \\["node", "--config", "${CONFIG_IN_CONTAINER}", "--data-dir", "${DATA_IN_CONTAINER}"\\]$`,
      "m",
    ),
  );
  assert.match(d, new RegExp(`^VOLUME \\["${DATA_IN_CONTAINER}"\\]$`, "m"));
  assert.match(d, new RegExp(`"health", "--config", "${CONFIG_IN_CONTAINER}"`));
  assert.match(d, /^USER node$/m);
  assert.match(d, /^EXPOSE 7400 8400 9400$/m);
  assert.match(d, /^FROM node:20-bookworm-slim AS build$/m);
});

test("--compose needs a cluster made with --hosts", async () => {
  const r = await run(["init", "--nodes", "1", "--base-port", "0", "--dir", "plain", "--compose", "c.yaml"], {
    cwd: work,
  });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--compose needs --hosts/);
  assert.equal(existsSync(join(work, "plain")), false, "nothing written");
});
