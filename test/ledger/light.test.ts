// The light client verifies a read after many blocks and a validator-set change while
// downloading only the transition header and the target header; forged headers and proofs fail.
import { test } from "node:test";
import assert from "node:assert/strict";
import { LightClient } from "../../client/light.js";
import { buildChain } from "./light-chain.js";
import { prove } from "../../node/store/core/proof.js";
import { encodeProof } from "../../node/store/core/proof-codec.js";
import { keyPath } from "../../node/store/core/path.js";
import { utf8 } from "../../node/common/bytes.js";
import { VerificationError } from "../../client/errors.js";
import { installNodeSha256 } from "../../node/platform.js";
import { ValidatorHistory } from "../../client/validator-history.js";
import { chainId } from "../../node/ledger/genesis.js";

installNodeSha256();

test("a light client verifies a read after 1,000 blocks and an eviction, downloading two headers", async () => {
  const c = buildChain(1000, 500);
  const light = new LightClient(c.genesis, c.source);
  const key = "light/k7";
  const value = await light.verifyRead(key, encodeProof(prove(c.tree, [keyPath(key)])), 1000n);
  assert.deepEqual(value, c.tree.get(key));
  assert.equal(light.headersDownloaded, 2);
  assert.ok(
    light.bytesDownloaded < c.allHeaderBytes / 100,
    `${light.bytesDownloaded} of ${c.allHeaderBytes}`,
  );
});

test("forged headers, transitions and proofs are refused", async () => {
  const c = buildChain(60, 20);
  // A header altered after certification.
  const tampered = {
    ...c.source,
    header: async (h: bigint) => {
      const b = new Uint8Array(c.headers[Number(h) - 1]!);
      b[45]! ^= 1; // inside the root
      return b;
    },
  };
  await assert.rejects(
    new LightClient(c.genesis, tampered).header(50n),
    VerificationError,
    "tampered header",
  );
  // A transition whose announced next set is not the one the header commits to.
  const badNext = {
    ...c.source,
    transitions: async (a: bigint, u: bigint) =>
      (await c.source.transitions(a, u)).map((t) => {
        const next = new Uint8Array(t.next);
        next[next.length - 1]! ^= 1;
        return { ...t, next };
      }),
  };
  await assert.rejects(new LightClient(c.genesis, badNext).header(50n), VerificationError, "forged next set");
  // Without the transition, a header of the new set cannot be verified.
  const skipTransition = { ...c.source, transitions: async () => [] };
  await assert.rejects(
    new LightClient(c.genesis, skipTransition).header(50n),
    VerificationError,
    "skipped transition",
  );
  // A proof against another tree.
  const other = buildChain(60, 20);
  other.tree.set("light/k1", utf8("forged"));
  await assert.rejects(
    new LightClient(c.genesis, c.source).verifyRead(
      "light/k1",
      encodeProof(prove(other.tree, [keyPath("light/k1")])),
      60n,
    ),
    VerificationError,
    "foreign proof",
  );
});

test("a header at the height that decided a change, then one after the change: the transition is still stepped through", async () => {
  const c = buildChain(60, 20);
  const light = new LightClient(c.genesis, c.source);
  // Height 20 decided the change (effective from 29); its header alone does not bring the next set.
  assert.equal((await light.header(20n)).header.height, 20n);
  assert.equal(light.transitionsDownloaded, 0);
  assert.equal((await light.header(50n)).header.height, 50n);
  assert.equal(light.transitionsDownloaded, 1);
  assert.equal(light.headersDownloaded, 3);
  // Asked again, the newest header costs nothing; one before the set it trusts now cannot be checked.
  await light.header(50n);
  assert.equal(light.headersDownloaded, 3);
  await assert.rejects(light.header(25n), { code: "light/before-trusted-set" });
});

test("headers and transitions signed by only f+1 validators are refused by the light client and the validator history", async () => {
  const fPlusOne = (n: number) => Math.floor((n - 1) / 3) + 1;
  const c = buildChain(60, 20, 9, fPlusOne);
  await assert.rejects(new LightClient(c.genesis, c.source).header(10n), VerificationError, "f+1 header");
  await assert.rejects(new LightClient(c.genesis, c.source).header(50n), VerificationError, "f+1 transition");
  const history = new ValidatorHistory(c.genesis, chainId(c.genesis));
  assert.throws(() => history.learn(c.transitions.map((t) => t.item)), { code: "client/bad-transition" });
  // The same chain with 2f+1 signatures passes both.
  const good = buildChain(60, 20, 9);
  assert.equal((await new LightClient(good.genesis, good.source).header(50n)).header.height, 50n);
  const ok = new ValidatorHistory(good.genesis, chainId(good.genesis));
  ok.learn(good.transitions.map((t) => t.item));
  assert.equal(ok.setAt(50n).length, 3);
});
