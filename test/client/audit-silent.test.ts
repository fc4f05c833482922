// An audit with one node that never answers: that node gets AUDIT_ANSWER_MS for its probe and its
// witnessed evidence (asked side by side), is reported `no-answer`, and the others' verdicts come
// well before the call's deadline (before, the silent node held the whole audit until the deadline
// and failed it). A node that answers its probe but withholds its evidence is named for it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ArborClient } from "../../client/index.js";
import { AUDIT_ANSWER_MS } from "../../client/limits.js";
import { fakeNodes, serve } from "./fake-nodes.js";

const SILENT = 2;

test("a node silent to the audit is reported no-answer after AUDIT_ANSWER_MS; the audit finishes", async () => {
  const f = fakeNodes({ ".root_rule": "rule" });
  const client = await ArborClient.connect({ genesis: f.genesis });
  try {
    serve(client, f);
    // Silent as a real call is: it fails only when the gRPC deadline the caller set passes.
    const hang = (ms: number) =>
      new Promise((_, reject) => setTimeout(() => reject(new Error("deadline exceeded")), ms));
    for (let id = 0; id < 4; id++) {
      const conn = client.node(id) as unknown as {
        evidence: (ms: number) => Promise<unknown>;
        get: (keys: string[], o: { timeoutMs: number }) => Promise<unknown>;
      };
      // Node 1 answers its probe but withholds its witnessed evidence.
      conn.evidence = (ms) => (id === SILENT || id === 1 ? hang(ms) : Promise.resolve({ items: [] }));
      if (id === SILENT) conn.get = (_keys, o) => hang(o.timeoutMs);
    }
    const t0 = Date.now();
    const report = await client.auditReport({ timeoutMs: 30_000 });
    const took = Date.now() - t0;
    // The probes and the evidence calls run side by side: one wait, not two.
    assert.ok(took < 2 * AUDIT_ANSWER_MS, `took ${took} ms`);
    const silent = report.nodes.find((n) => n.node === SILENT)!;
    assert.equal(silent.verdict, "no-answer");
    assert.ok(silent.evidenceMissing, "its evidence did not come either");
    for (const n of report.nodes.filter((x) => x.node !== SILENT))
      assert.notEqual(n.verdict, "no-answer", `node ${n.node}`);
    const withholding = report.nodes.find((n) => n.node === 1)!;
    assert.ok(withholding.evidenceMissing, "a node that withholds its evidence is named");
    assert.match(withholding.detail ?? "", /evidence its consensus witnessed did not come/);
    assert.equal(report.nodes.find((n) => n.node === 0)!.evidenceMissing, undefined);
  } finally {
    client.close();
  }
});
