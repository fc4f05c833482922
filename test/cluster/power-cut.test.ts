// The whole federation loses power at once: every node killed with SIGKILL while SDK clients keep
// transferring, then all restarted. Then two of four nodes (more than f) killed at once: the
// cluster stops committing until they are back. Each time it resumes by itself, and nothing is
// lost or applied twice: every transfer a client was told was accepted is in the balances, every
// one whose outcome the client never heard is settled from the nodes' receipts, the balances equal
// exactly what the accepted transfers imply, the money adds up, and the nodes agree on the root.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withSdkCluster } from "./sdk-cluster.js";
import { assertBooks, bankWithAccounts, TransferStream } from "./transfer-stream.js";
import type { Cluster } from "./cluster.js";

const ACCOUNTS = 6;
const MINTED = 1000n;
/** Accepted transfers waited for in each phase. */
const PER_PHASE = 8;

async function acceptedIn(stream: TransferStream, phase: string, n: number): Promise<void> {
  const t0 = Date.now();
  while (stream.accepted(phase) < n) {
    assert.ok(
      Date.now() - t0 < 90_000,
      `only ${stream.accepted(phase)} of ${n} transfers accepted (${phase})`,
    );
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function killAndRestart(c: Cluster, ids: readonly number[], downMs: number): Promise<void> {
  await Promise.all(ids.map((id) => c.kill(id)));
  await new Promise((r) => setTimeout(r, downMs));
  for (const id of ids) c.start(id);
  await c.ready(60_000);
}

test(
  "every node killed at once under load, then two of four: the cluster resumes, nothing accepted is lost or applied twice",
  { timeout: 300_000 },
  async () => {
    await withSdkCluster({ n: 4, k: 2, tickMs: 20 }, async (c, client) => {
      const names = Array.from({ length: ACCOUNTS }, (_, i) => `p${i}`);
      const bank = await bankWithAccounts(client, names, MINTED);
      const stream = new TransferStream(client, bank, names);
      stream.start(3);
      try {
        await acceptedIn(stream, "start", PER_PHASE);
        stream.enter("after-power-cut");
        await killAndRestart(c, [0, 1, 2, 3], 300);
        await acceptedIn(stream, "after-power-cut", PER_PHASE);
        stream.enter("after-two-down");
        await killAndRestart(c, [0, 1], 1_500);
        await acceptedIn(stream, "after-two-down", PER_PHASE);
      } finally {
        await stream.stop();
      }
      await c.converged(60_000);
      await assertBooks(bank, names, MINTED, [stream]);
    });
  },
);
