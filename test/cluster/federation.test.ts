// A federation's life on a real cluster under a steady stream of bank transfers (4 nodes, k = 2,
// node 1 a liar that signs GET replies over a forged root): approvals short of the governance
// rule are refused (member-unauthorised); a 5th node is added and started with --join, catches up, answers verified reads for its partition and votes (the cluster commits with
// a genesis node down only with its vote); the dead node is removed and its prefixes dealt until
// k hold each (started again, it learns from its peers that it left and serves no client); a
// node's data directory is deleted and it comes back with --join; the liar is
// caught by an audit, evicted by a complaint, and a repair gets its prefixes back to k holders,
// who fetch them from the others. Throughout: every running node agrees on the root at equal
// heights, no accepted transfer is lost, and money is conserved.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { Cluster } from "./cluster.js";
import { freePort } from "./cluster.js";
import { joined } from "./sync-checks.js";
import { withSdkCluster } from "./sdk-cluster.js";
import { assertBooks, bankWithAccounts, TransferStream } from "./transfer-stream.js";
import { ArborClient, keyFromSeed, type TrustedReceipt } from "../../client/index.js";
import { Bank } from "../../examples/banking/bank.js";
import { generateKeyPair } from "../../node/keys.js";
import { assignPrefixes, type GenesisNode } from "../../node/ledger/genesis.js";
import { bytesEqual } from "../../node/common/bytes.js";
import { TOB_DELIVER_WINDOW } from "../../node/common/limits.js";

const LIAR = 1;
const ACCOUNTS = 12;
const MINTED = 1000n;

/** Waits until the nodes `ids` are at one height with one root, the stream held meanwhile. */
async function agree(
  c: Cluster,
  stream: TransferStream,
  ids: readonly number[],
  what: string,
): Promise<bigint> {
  await stream.pause();
  let height = 0n;
  try {
    await c.waitFor(
      async () => {
        const st = await Promise.all(ids.map((i) => c.clients[i]!.status()));
        height = st[0]!.height;
        return st.every((s) => s.height === st[0]!.height && bytesEqual(s.root, st[0]!.root));
      },
      60_000,
      what,
    );
  } finally {
    stream.resume();
  }
  return height;
}

/** Waits until the stream has had `n` more transfers accepted in the current phase. */
async function flows(c: Cluster, stream: TransferStream, phase: string, n: number): Promise<void> {
  stream.enter(phase);
  await c.waitFor(async () => stream.accepted(phase) >= n, 60_000, `${n} transfers accepted (${phase})`);
}

/** Waits until the nodes `ids` fetch no piece of their partitions (new holders after a repair). */
async function fetched(c: Cluster, ids: readonly number[], what: string): Promise<void> {
  await c.waitFor(
    async () =>
      (await Promise.all(ids.map((i) => c.clients[i]!.status()))).every((s) => s.acquiringPieces === 0n),
    120_000,
    what,
  );
}

/** Node `id`'s own answer for accounts it holds passes the SDK's full verification. */
async function servesVerifiedReads(client: ArborClient, bank: Bank, id: number, names: readonly string[]) {
  await client.refreshMembership(); // an added member's prefixes are known from its record
  const keys = names.map((n) => bank.account(n)).filter((k) => client.holders(k).includes(id));
  assert.ok(keys.length > 0, `node ${id} holds some accounts`);
  const { reads, s } = client as unknown as {
    reads: { checkAnswer(id: number, reply: unknown, keys: string[], minHeight: bigint): Promise<unknown> };
    s: { floorHeight: bigint };
  };
  // Asked at the client's floor (the node holds the read until it is there): a node that has just
  // caught up may still be a block or two behind what the client has seen.
  const minHeight = s.floorHeight;
  await reads.checkAnswer(id, await client.node(id).get(keys, { minHeight }), keys, minHeight);
}

function everyCellHeld(records: readonly GenesisNode[], k: number): void {
  for (let i = 0; i < 64; i++) {
    const cell = i.toString(2).padStart(6, "0");
    const holders = records.filter((r) => r.prefixes.some((p) => cell.startsWith(p))).length;
    assert.ok(holders >= k, `cell ${cell} held by ${holders}`);
  }
}

test(
  "a federation under a steady stream of transfers: join, remove, wipe and re-sync, evict and repair",
  { timeout: 600_000 },
  async () => {
    await withSdkCluster(
      { n: 4, k: 2, tickMs: 50, byzantine: { [LIAR]: "forge-get-root" } },
      async (c, client) => {
        const names = Array.from({ length: ACCOUNTS }, (_, i) => `p${i}`);
        const bank = await bankWithAccounts(client, names, MINTED);
        const stream = new TransferStream(client, bank, names);
        stream.start(3);
        try {
          await lifecycle(c, client, bank, stream, names);
        } finally {
          await stream.halt();
        }
      },
    );
  },
);

/** Join, removal, wipe and eviction with the stream running; then the final account. */
async function lifecycle(
  c: Cluster,
  client: ArborClient,
  bank: Bank,
  stream: TransferStream,
  names: readonly string[],
): Promise<void> {
  await flows(c, stream, "before", 5);
  const approvers = c.keys.map((k) => keyFromSeed(k.seed));

  // A 5th node: added by a quorum's approval, started with --join.
  const key = generateKeyPair();
  const address = `127.0.0.1:${await freePort()}`;
  const prefixes = assignPrefixes(5, 2)[4]!;
  // Approvals short of the governance rule (a quorum of the validators) are refused, typed.
  await assert.rejects(
    client.changeMembership(
      { kind: "add", node: { id: 4, publicKey: key.publicKey, address, prefixes } },
      { approvers: approvers.slice(0, 2) },
    ),
    (e: unknown) => (e as { code?: string }).code === "member-unauthorised",
  );
  const added = await client.changeMembership(
    { kind: "add", node: { id: 4, publicKey: key.publicKey, address, prefixes } },
    { approvers },
  );
  c.addNode(4, key, address, prefixes);
  c.start(4, {}, ["--join"]);
  await flows(c, stream, "joining", 5);
  await joined(c, 4);
  await servesVerifiedReads(client, bank, 4, names);
  await agree(c, stream, [0, 1, 2, 3, 4], "node 4 at the others' root");

  // Past the first height of the 5-validator set, node 3 stops: commits need node 4's vote.
  const from = added.receipt.height + BigInt(TOB_DELIVER_WINDOW) + 1n;
  await c.waitFor(async () => (await c.clients[0]!.status()).height > from, 60_000, "the new set in force");
  await c.kill(3);
  await flows(c, stream, "node 3 down", 5);

  // The dead node is removed: its prefixes go to the others until k hold each.
  const removed = await client.changeMembership(
    { kind: "remove", id: 3 },
    { approvers: [...approvers, keyFromSeed(key.seed)] },
  );
  assert.equal(removed.receipt.status, "accepted");
  const afterRemoval = (await client.memberRecords()).records;
  assert.deepEqual(
    afterRemoval.map((r) => r.id),
    [0, 1, 2, 4],
  );
  everyCellHeld(afterRemoval, 2);
  await flows(c, stream, "removed", 5);
  await fetched(c, [0, 2, 4], "the new holders to fetch node 3's prefixes");
  await agree(c, stream, [0, 1, 2, 4], "the four members after the removal");

  // The removed node, started again, never applies the block that removed it (its peers refuse
  // it): it learns from f+1 of them that it left, and then serves no client an old state.
  c.start(3);
  await c.waitFor(
    async () => (await c.clients[3]!.status()).left,
    60_000,
    "the removed node to learn that it left",
  );
  await assert.rejects(c.clients[3]!.get([bank.account(names[0]!)]), /node\/left/);
  await c.kill(3);

  // Node 2 loses its disk and comes back with --join.
  await c.kill(2);
  rmSync(join(c.dir, "node2"), { recursive: true, force: true });
  c.start(2, {}, ["--join"]);
  await flows(c, stream, "node 2 wiped", 5);
  await joined(c, 2);
  await servesVerifiedReads(client, bank, 2, names);
  await agree(c, stream, [0, 1, 2, 4], "the wiped node re-synced");

  // The liar: caught by an audit, evicted by a complaint, its prefixes repaired.
  const auditor = await ArborClient.connect({ genesis: c.genesis });
  let evictedAt: TrustedReceipt["receipt"];
  try {
    // Reads of accounts the liar holds catch it (a read asks one holder: ask until it was the
    // liar); the audit then checks the statements collected against the certified headers.
    const liarKeys = names.map((n) => bank.account(n)).filter((k) => auditor.holders(k).includes(LIAR));
    let found: Array<{ readonly accused: number; readonly evidence: Uint8Array }> = [];
    const proven = () => [...found, ...auditor.suspects];
    for (let i = 0; i < 20 && !proven().some((s) => s.accused === LIAR); i++) {
      await auditor.get(liarKeys);
      found = await auditor.audit();
    }
    const against = proven().find((s) => s.accused === LIAR);
    assert.ok(against, "the audit proves the liar's misbehaviour");
    assert.ok(
      proven().every((s) => s.accused === LIAR),
      "no evidence against honest nodes",
    );
    evictedAt = (await auditor.complain(against.evidence, LIAR)).receipt;
    assert.equal(evictedAt.status, "accepted");
  } finally {
    auditor.close();
  }
  await flows(c, stream, "liar evicted", 5);
  // The repair is filed once the eviction is in force (past the reconfiguration height).
  const inForce = evictedAt.height + BigInt(TOB_DELIVER_WINDOW) + 1n;
  await c.waitFor(
    async () => (await c.clients[0]!.status()).height > inForce,
    60_000,
    "the eviction in force",
  );
  assert.deepEqual(await client.refreshMembership(), [LIAR], "the SDK learns the eviction");
  const repaired = await client.changeMembership({ kind: "repair" });
  assert.equal(repaired.receipt.status, "accepted");
  const afterRepair = (await client.memberRecords()).records;
  assert.deepEqual(
    afterRepair.map((r) => r.id),
    [0, 2, 4],
  );
  everyCellHeld(afterRepair, 2);
  await flows(c, stream, "repaired", 5);
  await fetched(c, [0, 2, 4], "the new holders to fetch the liar's prefixes");
  await agree(c, stream, [0, 2, 4], "the three members after the repair");

  // No accepted transfer lost, none applied unseen, money conserved.
  await stream.stop();
  await agree(c, stream, [0, 2, 4], "the three members at the end");
  await assertBooks(bank, names, MINTED, [stream]);
}
