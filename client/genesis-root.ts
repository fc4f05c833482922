// The roots of the genesis tree and of the genesis index, computed from the genesis document
// (height 0 has no certificate).
import { MerkleTree } from "../node/store/core/tree.js";
import { genesisRecords, type Genesis } from "../node/ledger/genesis.js";
import { genesisEntries } from "../node/ledger/key-index.js";
import { OrderedIndex } from "../node/store/core/ordered-index.js";

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

const indexCache = new WeakMap<Genesis, Uint8Array>();

/** The root of the ordered index at height 0 (docs/protocol.md §15): the genesis records' changes. */
export function genesisIndexRoot(g: Genesis): Uint8Array {
  let r = indexCache.get(g);
  if (!r) {
    r = OrderedIndex.of(genesisEntries(genesisRecords(g))).rootHash();
    indexCache.set(g, r);
  }
  return r;
}
