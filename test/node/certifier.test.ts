// Certificate sync, checked on receipt: a certificate is stored only when it is for the node's own
// header at that height and carries 2f+1 valid signatures of that height's validators; the node
// knows the lowest height it lacks; hostile sync frames are typed decode errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Level } from "level";
import { HeaderCertifier } from "../../node/certifier.js";
import {
  decodeCertReply,
  decodeCertRequest,
  encodeCertReply,
  encodeCertRequest,
} from "../../node/cert-sync.js";
import { generateKeyPair, signWith } from "../../node/keys.js";
import {
  decodeCertifiedHeader,
  headerHash,
  headerSigningMessage,
  validatorsHash,
  type Header,
} from "../../node/ledger/header.js";
import { nodeEd25519Verify } from "../../node/exec/host-crypto.js";
import { DecodeError } from "../../node/common/errors.js";
import { CERT_SYNC_HEADERS } from "../../node/common/limits.js";
import { installNodeSha256 } from "../../node/platform.js";

installNodeSha256();
const keys = [0, 1, 2, 3].map(() => generateKeyPair());
const validators = keys.map((k, id) => ({ id, publicKey: k.publicKey }));
const headerAt = (height: bigint, salt = 0): Header => ({
  chain: new Uint8Array(32),
  height,
  timestamp: height,
  root: new Uint8Array(32).fill(salt),
  receiptsRoot: new Uint8Array(32),
  indexRoot: new Uint8Array(32),
  validatorsHash: validatorsHash(validators),
  previous: new Uint8Array(32),
  nextValidatorsHash: new Uint8Array(32),
  nextFromHeight: 0n,
});
const certOf = (h: Header, signers: number[]) => ({
  header: h,
  signatures: signers.map((s) => ({ signer: s, signature: signWith(keys[s]!, headerSigningMessage(h)) })),
});

test("synced certificates are checked against the own header and the validator set", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbor-cert-"));
  const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
  try {
    const c = new HeaderCertifier(db, 0, () => validators, { verify: nodeEd25519Verify });
    await c.load(1n, 0n);
    for (const h of [1n, 2n, 3n])
      c.own(headerAt(h), 0, signWith(keys[0]!, headerSigningMessage(headerAt(h))));
    assert.equal(c.missingFrom, 1n);
    assert.equal(
      c.adopt(certOf(headerAt(2n, 7), [1, 2, 3]), undefined),
      "not this node's header at that height",
    );
    assert.match(c.adopt(certOf(headerAt(2n), [1, 2]), undefined)!, /2 signatures, 3 needed/);
    const forged = certOf(headerAt(2n), [1, 2, 3]);
    const bad = {
      ...forged,
      signatures: [
        forged.signatures[0]!,
        forged.signatures[1]!,
        { signer: 3, signature: new Uint8Array(64) },
      ],
    };
    assert.match(c.adopt(bad, undefined)!, /bad signature of 3/);
    assert.equal(
      c.adopt(certOf(headerAt(4n), [1, 2, 3]), headerAt(4n)),
      "a height this node has not applied",
    );
    assert.equal(c.adopt(forged, undefined), null);
    assert.equal(c.missingFrom, 1n, "height 1 still lacks its certificate");
    assert.equal(await c.whenCertified(1n, 0), false);
    assert.equal(await c.whenCertified(2n, 0), true);
    // A height no longer pending is checked against the own header read from the store.
    assert.equal(c.adopt(certOf(headerAt(1n), [0, 2, 3]), headerAt(1n)), null);
    assert.equal(c.missingFrom, 3n);
    assert.deepEqual(
      c.uncertified(16).map((s) => s.height),
      [3n],
    );
    // After a restart the certifier knows the gap from what is stored.
    await c.flushed();
    const again = new HeaderCertifier(db, 0, () => validators, { verify: nodeEd25519Verify });
    await again.load(1n, 3n);
    assert.equal(again.missingFrom, 3n);
    assert.equal(again.latestCertified, 2n);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an empty block's height has no header: the gap passes it, a wait there ends with the next certificate", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbor-cert-"));
  const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
  try {
    const c = new HeaderCertifier(db, 0, () => validators, { verify: nodeEd25519Verify });
    await c.load(1n, 0n);
    c.own(headerAt(1n), 0, signWith(keys[0]!, headerSigningMessage(headerAt(1n))));
    c.headerless(2n);
    assert.equal(c.ownHeightNow, 2n);
    assert.equal(c.missingFrom, 1n);
    // A wait at the headerless height lasts until a later header is certified.
    const waiting = c.whenCertified(2n, 5_000);
    assert.equal(c.adopt(certOf(headerAt(1n), [1, 2, 3]), undefined), null);
    assert.equal(c.missingFrom, 3n, "the gap passes the headerless height");
    c.own(headerAt(3n), 0, signWith(keys[0]!, headerSigningMessage(headerAt(3n))));
    for (const s of [1, 2]) {
      const h = headerAt(3n);
      c.add({
        height: 3n,
        hash: headerHash(h),
        signer: s,
        signature: signWith(keys[s]!, headerSigningMessage(h)),
      });
    }
    assert.equal(await waiting, true);
    assert.equal(c.missingFrom, 4n);
    const served = (await c.range(2n, 1)).map((b) => decodeCertifiedHeader(b).header.height);
    assert.deepEqual(served, [3n], "GetHeaders from the headerless height serves the next header");
    assert.deepEqual(c.uncertified(16), []);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a signer whose header signature does not verify is not verified again at that height", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbor-cert-"));
  const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
  try {
    let verifies = 0;
    const c = new HeaderCertifier(db, 0, () => validators, {
      verify: (k, m, sig) => (verifies++, nodeEd25519Verify(k, m, sig)),
    });
    await c.load(1n, 0n);
    const h = headerAt(1n);
    c.own(h, 0, signWith(keys[0]!, headerSigningMessage(h)));
    const bad = signWith(keys[3]!, headerSigningMessage(headerAt(1n, 9)));
    for (let i = 0; i < 50; i++) c.add({ height: 1n, hash: headerHash(h), signer: 3, signature: bad });
    assert.equal(verifies, 2, "the own signature and signer 3's first");
    // Even its valid signature is not taken after that; the other two certify the header.
    c.add({
      height: 1n,
      hash: headerHash(h),
      signer: 3,
      signature: signWith(keys[3]!, headerSigningMessage(h)),
    });
    assert.equal(c.missingFrom, 1n);
    for (const s of [1, 2])
      c.add({
        height: 1n,
        hash: headerHash(h),
        signer: s,
        signature: signWith(keys[s]!, headerSigningMessage(h)),
      });
    assert.equal(c.missingFrom, 2n);
    assert.equal(verifies, 4);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("certificate-sync frames round-trip, and hostile ones are typed decode errors", () => {
  assert.deepEqual(decodeCertRequest(encodeCertRequest({ from: 5n, count: 3 })), { from: 5n, count: 3 });
  const certs = [new Uint8Array([1, 2, 3]), new Uint8Array(0)];
  assert.deepEqual(decodeCertReply(encodeCertReply(certs)), certs);
  assert.throws(
    () => decodeCertRequest(encodeCertRequest({ from: 5n, count: CERT_SYNC_HEADERS + 1 })),
    DecodeError,
  );
  const many = Array.from({ length: CERT_SYNC_HEADERS + 1 }, () => new Uint8Array(1));
  assert.throws(() => decodeCertReply(encodeCertReply(many)), DecodeError);
  for (let i = 0; i < 200; i++) {
    const junk = new Uint8Array(1 + (i % 40)).map((_, j) => (i * 131 + j * 17 + ((i * j) >> 3)) & 0xff);
    junk[0] = 2 + (i % 2);
    try {
      decodeCertRequest(junk);
    } catch (e) {
      assert.ok(e instanceof DecodeError, String(e));
    }
    try {
      decodeCertReply(junk);
    } catch (e) {
      assert.ok(e instanceof DecodeError, String(e));
    }
  }
});
