// The peer handshake vector (docs/vectors/peer.json): node 1 dials node 0 of the genesis vector's
// chain and answers node 0's challenge; mutations the server refuses.
import { bytesEqual, toHex, utf8 } from "../../node/common/bytes.js";
import { Reader } from "../../node/common/codec.js";
import { sha256 } from "../../node/common/hash.js";
import { signWith } from "../../node/keys.js";
import { helloMessage } from "../../node/net/peer-net.js";
import { codeOf, flip, keyOf, verifiedByAll, type Verdict } from "./common.js";
import { CHAIN, VALIDATORS } from "./signed.js";

const SERVER = keyOf("node 0").publicKey;
const CHALLENGE = sha256(utf8("vector challenge"));

/** `ok`, or why node 0 refuses a hello to `challenge` (the checks of node/net/peer-net.ts). */
export function judgeHello(hello: Uint8Array, chain = CHAIN): Verdict {
  let key: Uint8Array, sig: Uint8Array;
  try {
    const r = new Reader(hello);
    key = r.copy(32);
    sig = r.copy(64);
    r.end("hello");
  } catch (e) {
    return codeOf(e);
  }
  if (bytesEqual(key, SERVER) || !VALIDATORS.some((v) => bytesEqual(v.publicKey, key))) return "unknown-key";
  return verifiedByAll(key, helloMessage(chain, SERVER, CHALLENGE), sig) ? "ok" : "bad-signature";
}

function hello(signer: string, chain: Uint8Array): Uint8Array {
  const k = keyOf(signer);
  const out = new Uint8Array(96);
  out.set(k.publicKey);
  out.set(signWith(k, helloMessage(chain, SERVER, CHALLENGE)), 32);
  return out;
}

export function peerVector(): Record<string, unknown> {
  const good = hello("node 1", CHAIN);
  const list: Array<[string, Uint8Array, string]> = [
    ["a signature byte flipped", flip(good, -1), "bad-signature"],
    ["signed for another chain", hello("node 1", sha256(utf8("another chain"))), "bad-signature"],
    ["a key outside the membership", hello("stranger", CHAIN), "unknown-key"],
    ["a byte missing", good.subarray(0, 95), "decode/truncated"],
  ];
  return {
    comment:
      "The peer handshake (docs/protocol.md §8) on the genesis vector's chain: node 0 (the server) sends a 32-byte challenge; node 1 answers its public key and its signature over 'arbor:peer:v2' ‖ chain id ‖ server key ‖ challenge. Mutations are refused; `refused` is a label of this file, not a code a node sends: a decode code (the server ends the stream with status OK), 'unknown-key' (a key outside the membership: PERMISSION_DENIED peer/not-a-member; the server's own key: ended with OK; checked before the signature) or 'bad-signature' (ended with OK).",
    serverKey: toHex(SERVER),
    challenge: toHex(CHALLENGE),
    signingMessage: toHex(helloMessage(CHAIN, SERVER, CHALLENGE)),
    hello: toHex(good),
    mutations: list.map(([what, bytes, refused]) => {
      const got = judgeHello(bytes);
      if (got !== refused) throw new Error(`peer mutation "${what}": ${got}, not ${refused}`);
      return { what, hello: toHex(bytes), refused };
    }),
  };
}
