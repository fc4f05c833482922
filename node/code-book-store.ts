// The code book on disk (node/ledger/code-book.ts): each module a block added, and each
// operation-table entry it set or cleared, is written in that block's batch, so after a crash the
// book is exactly that of the last committed block; genesis modules and entries are not stored
// (they come from the genesis document at every start).
//
// Application keys (under the store's application prefix):
//   'c' ‖ SHA-256(module) → module
//   'o' ‖ utf8(key)       → 32-byte module hash, or empty: the key no longer holds a module (kept,
//                           since a genesis entry would otherwise come back at the next start)

import { Writer } from "./common/codec.js";
import { fromUtf8, utf8 } from "./common/bytes.js";
import { genesisBook, type BookEntry, type OperationEntry } from "./ledger/code-book.js";
import type { AppRecord, LevelStore } from "./store/level-store.js";

const K_CODE = 0x63; // 'c'
const K_OPERATION = 0x6f; // 'o'

/** Record kinds every node holds alike (node/snapshot/). */
export const CODE_BOOK_KINDS: readonly number[] = [K_CODE, K_OPERATION];

function codeKey(hash: Uint8Array): Uint8Array {
  return new Writer(33).u8(K_CODE).raw(hash).finish();
}

function operationKey(key: string): Uint8Array {
  const k = utf8(key);
  return new Writer(1 + k.length).u8(K_OPERATION).raw(k).finish();
}

/** The records that store a block's new modules and operation-table changes (later ones win). */
export function codeRecords(
  modules: readonly BookEntry[],
  operations: readonly OperationEntry[],
): AppRecord[] {
  const out = modules.map((m) => ({ key: codeKey(m.hash), value: m.code }));
  for (const e of operations) out.push({ key: operationKey(e.key), value: e.hash ?? new Uint8Array(0) });
  return out;
}

/** What a node starts its code book with: the genesis modules and entries, then the stored ones. */
export async function loadCodeBook(
  store: LevelStore,
  genesis: ReadonlyArray<{ key: string; value: Uint8Array }>,
): Promise<{ modules: Uint8Array[]; operations: OperationEntry[] }> {
  const { modules, operations } = genesisBook(genesis);
  for (const r of await store.appRange(Uint8Array.of(K_CODE), Uint8Array.of(K_CODE + 1)))
    modules.push(r.value);
  for (const r of await store.appRange(Uint8Array.of(K_OPERATION), Uint8Array.of(K_OPERATION + 1)))
    operations.push({ key: fromUtf8(r.key.subarray(1)), hash: r.value.length === 0 ? null : r.value });
  return { modules, operations };
}
