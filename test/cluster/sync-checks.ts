// What the sync tests ask of a node that took on or re-synced a partition: keys written in batches
// through the SDK, proven alone by that node with their values against the root it signs, and the
// node at another's height and root.
import assert from "node:assert/strict";
import type { Cluster } from "./cluster.js";
import type { ArborClient } from "../../client/index.js";
import { bytesEqual, utf8 } from "../../node/common/bytes.js";
import { decodeProof } from "../../node/store/core/proof-codec.js";
import { provenState } from "../../node/store/core/proof.js";
import { keyPath } from "../../node/store/core/path.js";
import { decodeStatement } from "../../node/ledger/statement.js";

/** Writes `batches` batches of 40 keys `DOMAIN/kN` (batch `from` on), each valued "value of KEY". */
export async function writeKeys(
  client: ArborClient,
  domain: string,
  from: number,
  batches: number,
): Promise<string[]> {
  const keys: string[] = [];
  for (let b = from; b < from + batches; b++) {
    const batch = Array.from({ length: 40 }, (_, i) => `${domain}/k${b * 40 + i}`);
    await client.writeRecords(
      domain,
      batch.map((k) => [k, utf8(`value of ${k}`)] as const),
    );
    keys.push(...batch);
  }
  return keys;
}

/** Node `id` alone proves every key of `keys` with its value against the root it signs. */
export async function provesAlone(c: Cluster, id: number, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 32) {
    const ask = keys.slice(i, i + 32);
    const reply = await c.clients[id]!.get(ask, false);
    const proof = decodeProof(reply.proof);
    assert.ok(bytesEqual(proof.rootLabel, decodeStatement(reply.statement).root), "against the signed root");
    for (const k of ask) {
      const s = provenState(proof.root, keyPath(k));
      assert.ok(s.covered && s.present && s.value !== null, `${k} proven with its value by node ${id}`);
      assert.deepEqual(s.value, utf8(`value of ${k}`));
    }
  }
}

/** Waits (up to 60 s) until nodes `a` and `b` are at one height with one root. */
export async function sameRoot(c: Cluster, a: number, b: number, what: string): Promise<void> {
  await c.waitFor(
    async () => {
      const [x, y] = await Promise.all([c.clients[a]!.status(), c.clients[b]!.status()]);
      return x.height === y.height && bytesEqual(x.root, y.root);
    },
    60_000,
    what,
  );
}

/** A node started with --join that has caught up: it serves, and fetches no piece. */
export async function joined(c: Cluster, id: number): Promise<void> {
  await c.waitFor(
    async () => {
      const st = await c.clients[id]!.status().catch(() => null);
      return st !== null && !st.joining && st.acquiringPieces === 0n;
    },
    120_000,
    `node ${id} to catch up and serve`,
  );
}
