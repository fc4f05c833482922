// bench:e2e's etcd peer: found on PATH or reported missing with the install line; when etcd is
// installed, a 3-member cluster moves money without creating or losing any, and its members die
// with the process that started them, even when that process fails.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { EtcdCluster, ETCD_INSTALL_HINT, findEtcd } from "../../bench/etcd-peer.js";
import { etcdPhase, openEtcdAccounts } from "../../bench/etcd-bank.js";

const bin = findEtcd();
const skip = bin === null ? "etcd is not installed (apt-get install etcd-server)" : false;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("without etcd on PATH the peer is reported missing with how to install it", () => {
  const path = process.env.PATH;
  try {
    process.env.PATH = "/nonexistent-dir";
    assert.equal(findEtcd(), null);
  } finally {
    process.env.PATH = path;
  }
  assert.match(ETCD_INSTALL_HINT, /apt-get install etcd-server/);
  assert.match(ETCD_INSTALL_HINT, /\/usr\/bin\/etcd/);
});

test("transfers on 3 etcd members commit and conserve the total", { skip }, async () => {
  const cluster = await EtcdCluster.start(bin!);
  const client = cluster.client();
  const dirs = cluster.dataDir;
  try {
    const l = { accounts: 40, account: (i: number) => `bank/accounts/a${i}` };
    await openEtcdAccounts(client, l, 1000);
    const p = await etcdPhase(client, l, { inflight: 8, phaseS: 2, warmS: 0.5, pids: cluster.pids });
    assert.equal(p.errors, 0);
    assert.ok(p.txnPerSec > 0, `no transfer committed: ${JSON.stringify(p)}`);
    assert.ok(Number.isFinite(p.cpuMsPerTxn) && p.cpuMsPerTxn > 0, `cpu per txn ${p.cpuMsPerTxn}`);
    let total = 0n;
    for (let i = 0; i < l.accounts; i++) total += BigInt((await client.get(l.account(i)).string())!);
    assert.equal(total, 40_000n);
  } finally {
    client.close();
    await cluster.stop();
  }
  for (const pid of cluster.pids) assert.equal(alive(pid), false, `member ${pid} still running`);
  assert.equal(existsSync(dirs), false);
});

test("members are killed and their data removed when the starting process fails", { skip }, async () => {
  const peer = new URL("../../bench/etcd-peer.js", import.meta.url).href;
  const script =
    `const { EtcdCluster, findEtcd } = await import(${JSON.stringify(peer)});` +
    `const c = await EtcdCluster.start(findEtcd());` +
    `console.log(JSON.stringify({ pids: c.pids, dir: c.dataDir }));` +
    `throw new Error("bench failed");`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  assert.notEqual(r.status, 0);
  const { pids, dir } = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { pids: number[]; dir: string };
  assert.equal(pids.length, 3);
  // SIGKILL is delivered at exit; the orphans are reaped by init shortly after.
  const until = Date.now() + 10_000;
  while (pids.some(alive) && Date.now() < until) await new Promise((res) => setTimeout(res, 50));
  for (const pid of pids) assert.equal(alive(pid), false, `member ${pid} outlived the bench`);
  assert.equal(existsSync(dir), false);
});
