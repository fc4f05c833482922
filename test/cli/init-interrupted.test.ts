// `arbor init` (and `npm start`'s first run) interrupted midway leaves no genesis.json: the genesis is
// written last and atomically, and its presence is what marks a cluster directory complete. So a run
// killed while writing keys and configs is simply created afresh next time, instead of a cluster
// that has a genesis but lacks a node's key or config.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initCluster } from "../../node/cli/init.js";
import { chainId, genesisFromJson } from "../../node/ledger/genesis.js";
import { bytesEqual } from "../../node/common/bytes.js";

test("a failure while writing node files leaves no genesis; the next init completes the directory", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbor-init-"));
  try {
    // node3.json cannot be written (a directory stands there): the run fails partway.
    mkdirSync(join(dir, "node3.json"));
    await assert.rejects(initCluster({ dir, nodes: 4, basePort: 0 }));
    assert.ok(existsSync(join(dir, "node0.json")), "the run got partway");
    assert.ok(!existsSync(join(dir, "genesis.json")), "no genesis: the directory is not a cluster yet");
    rmSync(join(dir, "node3.json"), { recursive: true });
    // No --force needed: without a genesis there is no cluster to protect.
    const r = await initCluster({ dir, nodes: 4, basePort: 0 });
    const g = genesisFromJson(readFileSync(join(dir, "genesis.json"), "utf8"));
    assert.equal(g.nodes.length, 4);
    assert.ok(bytesEqual(chainId(g), r.chain), "the genesis written is the one planned");
    for (const f of ["node0.key", "node3.key", "node3.json", "client.key"])
      assert.ok(existsSync(join(dir, f)), f);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
