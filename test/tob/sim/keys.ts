// Signature schemes for the simulator. SimKeys is a cheap keyed-hash stand-in: a signature is a MAC
// under the signer's secret, checked by an oracle that knows every secret. Simulated Byzantine nodes
// get only their own Signer, so they cannot forge others' signatures — the property consensus needs.
// Ed25519Keys uses node:crypto for the real thing (one run in the test suite).

import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { toHex } from "../../../node/common/bytes.js";
import type { Signer, SignatureVerifier } from "../../../node/tob/core/index.js";

export interface KeyRing {
  readonly publicKeys: readonly Uint8Array[];
  signer(i: number): Signer;
  readonly verifier: SignatureVerifier;
}

function h(...parts: Uint8Array[]): Uint8Array {
  const x = createHash("sha256");
  for (const p of parts) x.update(p);
  return new Uint8Array(x.digest());
}

export function simKeys(seed: number, n: number): KeyRing {
  const secrets: Uint8Array[] = [];
  const publicKeys: Uint8Array[] = [];
  const byPub = new Map<string, Uint8Array>();
  for (let i = 0; i < n; i++) {
    const secret = h(new TextEncoder().encode(`sim-secret/${seed}/${i}`));
    const pub = h(new TextEncoder().encode("sim-public"), secret);
    secrets.push(secret);
    publicKeys.push(pub);
    byPub.set(toHex(pub), secret);
  }
  const mac = (secret: Uint8Array, msg: Uint8Array): Uint8Array => {
    const a = h(secret, msg);
    const out = new Uint8Array(64);
    out.set(a);
    out.set(h(a, secret), 32);
    return out;
  };
  return {
    publicKeys,
    signer: (i) => ({ publicKey: publicKeys[i]!, sign: (m) => mac(secrets[i]!, m) }),
    verifier: {
      verify(pk, msg, sig) {
        const s = byPub.get(toHex(pk));
        if (!s || sig.length !== 64) return false;
        const want = mac(s, msg);
        for (let i = 0; i < 64; i++) if (want[i] !== sig[i]) return false;
        return true;
      },
    },
  };
}

const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

/** Raw 32-byte Ed25519 public key of a KeyObject. */
export function rawPublicKey(k: KeyObject): Uint8Array {
  const der = new Uint8Array(k.export({ format: "der", type: "spki" }));
  return der.slice(der.length - 32);
}

/** node:crypto Ed25519 verifier over raw 32-byte keys (key objects cached). */
export function ed25519Verifier(): SignatureVerifier {
  const cache = new Map<string, KeyObject>();
  return {
    verify(pk, msg, sig) {
      if (pk.length !== 32 || sig.length !== 64) return false;
      const id = toHex(pk);
      let k = cache.get(id);
      if (!k) {
        const der = new Uint8Array(SPKI_PREFIX.length + 32);
        der.set(SPKI_PREFIX);
        der.set(pk, SPKI_PREFIX.length);
        try {
          k = createPublicKey({ key: Buffer.from(der), format: "der", type: "spki" });
        } catch {
          return false;
        }
        cache.set(id, k);
      }
      return verify(null, msg, k, sig);
    },
  };
}

const PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

/** Ed25519 private key object from a 32-byte seed. */
export function ed25519FromSeed(seed32: Uint8Array): KeyObject {
  const der = new Uint8Array(PKCS8_PREFIX.length + 32);
  der.set(PKCS8_PREFIX);
  der.set(seed32, PKCS8_PREFIX.length);
  return createPrivateKey({ key: Buffer.from(der), format: "der", type: "pkcs8" });
}

/** Real Ed25519 keys derived from the run's seed (so the run still replays exactly). */
export function ed25519Keys(seed: number, n: number): KeyRing {
  const privs = Array.from({ length: n }, (_, i) =>
    ed25519FromSeed(h(new TextEncoder().encode(`sim-ed25519/${seed}/${i}`))),
  );
  const publicKeys = privs.map((k) => rawPublicKey(createPublicKey(k)));
  return {
    publicKeys,
    signer: (i) => ({ publicKey: publicKeys[i]!, sign: (m) => new Uint8Array(sign(null, m, privs[i]!)) }),
    verifier: ed25519Verifier(),
  };
}
