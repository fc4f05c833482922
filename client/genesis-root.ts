// The root of the genesis tree, computed from the genesis document (height 0 has no certificate).
import { MerkleTree } from "../node/store/core/tree.js";
import { genesisRecords, type Genesis } from "../node/ledger/genesis.js";

const cache = new WeakMap<Genesis, Uint8Array>();

export function genesisRoot(g: Genesis): Uint8Array {
  let r = cache.get(g);
  if (!r) {
    const t = new MerkleTree();
    for (const rec of genesisRecords(g)) t.set(rec.key, rec.value);
    r = t.rootLabel;
    cache.set(g, r);
  }
  return r;
}
