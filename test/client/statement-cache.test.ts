// Node statements are verified once per process, whichever client checks them first: a second
// client sees the verified statement without a verification, while other bytes under the same
// signature, or another key, are verified (and refused) as before.

import { test } from "node:test";
import assert from "node:assert/strict";
import { StatementChecker } from "../../client/verify.js";
import { generateKey, sign, useEd25519, nativeEd25519, type Ed25519 } from "../../client/crypto.js";
import { VerificationError } from "../../client/errors.js";
import {
  encodeStatement,
  ROOT_STATEMENT_DIGEST,
  statementSigningMessage,
} from "../../node/ledger/statement.js";
import type { GenesisNode } from "../../node/ledger/genesis.js";

const chain = new Uint8Array(32).fill(7);

/** Node 3's root statement at height 41 for a root filled with `fill`. */
const rootStatement = (fill: number) =>
  encodeStatement({
    chain,
    node: 3,
    height: 41n,
    timestamp: 9n,
    root: new Uint8Array(32).fill(fill),
    proofDigest: ROOT_STATEMENT_DIGEST,
  });

function counting(): { impl: Ed25519; count: () => number } {
  const base = nativeEd25519()!;
  let n = 0;
  return {
    impl: { ...base, verify: (k, m, s) => (n++, base.verify(k, m, s)) },
    count: () => n,
  };
}

test("a statement verified by one client is not verified again by another in the process", (t) => {
  const c = counting();
  useEd25519(c.impl);
  t.after(() => useEd25519(nativeEd25519()!));
  const key = generateKey();
  const node = { id: 3, publicKey: key.publicKey } as GenesisNode;
  const bytes = rootStatement(1);
  const sig = sign(key, statementSigningMessage(bytes));
  const a = new StatementChecker(chain);
  const b = new StatementChecker(chain);
  assert.equal(a.check(node, bytes, sig).height, 41n);
  assert.equal(c.count(), 1);
  assert.equal(b.check(node, bytes, sig).height, 41n);
  assert.equal(c.count(), 1, "the second client reuses the process's verification");

  // The same signature over other bytes (another root) is checked, and refused.
  const other = rootStatement(2);
  assert.throws(
    () => b.check(node, other, sig),
    (e) => e instanceof VerificationError && e.code === "client/bad-signature",
  );
  assert.equal(c.count(), 2);

  // Another key with the same id (another chain's node 3): verified on its own, and refused.
  const impostor = { id: 3, publicKey: generateKey().publicKey } as GenesisNode;
  assert.throws(
    () => b.check(impostor, bytes, sig),
    (e) => e instanceof VerificationError && e.code === "client/bad-signature",
  );
  assert.equal(c.count(), 3);
});
