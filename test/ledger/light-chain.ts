// A synthetic certified header chain for light-client tests and measurements: N blocks over a
// real tree, certified by 4 validators, with one eviction decided halfway (effective a few blocks
// later). Served from memory through the light client's HeaderSource interface.
import { generateKeyPair, signWith, type KeyPair } from "../../node/keys.js";
import {
  encodeCertifiedHeader,
  headerHash,
  headerSigningMessage,
  quorum,
  validatorsHash,
  type Header,
  type Validator,
} from "../../node/ledger/header.js";
import { chainId, type Genesis } from "../../node/ledger/genesis.js";
import { MerkleTree } from "../../node/store/core/tree.js";
import type { HeaderSource } from "../../client/light.js";
import type { Transition } from "../../client/transition.js";
import { encodeValidators } from "../../node/ledger/validators-codec.js";
import { utf8 } from "../../node/common/bytes.js";

export interface Chain {
  readonly genesis: Genesis;
  readonly tree: MerkleTree;
  readonly headers: Uint8Array[];
  readonly transitions: Array<{ decided: bigint; fromHeight: bigint; item: Transition }>;
  readonly source: HeaderSource;
  readonly allHeaderBytes: number;
}

/** A genesis of `keys` (node i has key i), every node holding everything, with no records. */
export function genesisOf(name: string, keys: readonly KeyPair[]): Genesis {
  return {
    name,
    T: 64,
    replication: keys.length,
    nodes: keys.map((k, id) => ({
      id,
      publicKey: k.publicKey,
      address: `127.0.0.1:${9000 + id}`,
      prefixes: [""],
    })),
    records: [],
  };
}

/** The certified-header bytes of `header` signed by `signers` (validator i signs with keys[i]). */
export function certifyHeader(
  header: Header,
  signers: readonly Validator[],
  keys: readonly KeyPair[],
): Uint8Array {
  const message = headerSigningMessage(header);
  return encodeCertifiedHeader({
    header,
    signatures: signers.map((v) => ({ signer: v.id, signature: signWith(keys[v.id]!, message) })),
  });
}

/** `signers(n)`: how many of a set of n sign each header (default 2f+1; fewer makes a forged chain). */
export function buildChain(
  blocks: number,
  evictAt: number,
  delay = 9,
  signers: (n: number) => number = quorum,
): Chain {
  const keys: KeyPair[] = Array.from({ length: 4 }, () => generateKeyPair());
  const genesis = genesisOf("light", keys);
  const chain = chainId(genesis);
  const all: Validator[] = keys.map((k, id) => ({ id, publicKey: k.publicKey }));
  const after: Validator[] = all.filter((v) => v.id !== 3);
  const fromHeight = BigInt(evictAt + delay);
  const tree = new MerkleTree();
  const headers: Uint8Array[] = [];
  const transitions: Chain["transitions"] = [];
  let previous: Uint8Array = new Uint8Array(32);
  let total = 0;
  for (let h = 1; h <= blocks; h++) {
    tree.set(`light/k${h % 97}`, utf8(`v${h}`));
    const set = BigInt(h) >= fromHeight ? after : all;
    const decided = h === evictAt;
    const header: Header = {
      chain,
      height: BigInt(h),
      timestamp: BigInt(h),
      root: tree.rootLabel,
      receiptsRoot: new Uint8Array(32),
      indexRoot: new Uint8Array(32),
      validatorsHash: validatorsHash(set),
      previous,
      nextValidatorsHash: decided ? validatorsHash(after) : new Uint8Array(32),
      nextFromHeight: decided ? fromHeight : 0n,
    };
    const bytes = certifyHeader(header, set.slice(0, signers(set.length)), keys);
    headers.push(bytes);
    total += bytes.length;
    previous = headerHash(header);
    if (decided)
      transitions.push({
        decided: BigInt(h),
        fromHeight,
        item: { certificate: bytes, next: encodeValidators(after) },
      });
  }
  const source: HeaderSource = {
    transitions: async (after, until) =>
      transitions.filter((t) => t.decided > after && t.fromHeight <= until).map((t) => t.item),
    header: async (height) => headers[Number(height) - 1]!,
  };
  return { genesis, tree, headers, transitions, source, allHeaderBytes: total };
}
