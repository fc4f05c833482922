// The code book on disk (node/ledger/code-book.ts): each module a block added is written in that
// block's batch, so after a crash the book is exactly that of the last committed block; genesis
// modules are not stored (they come from the genesis document at every start).
//
// Application key (under the store's application prefix): 'c' ‖ SHA-256(module) → module.

import { Writer } from "./common/codec.js";
import { isModuleValue, type BookEntry } from "./ledger/code-book.js";
import type { AppRecord, LevelStore } from "./store/level-store.js";

const K_CODE = 0x63; // 'c'

function codeKey(hash: Uint8Array): Uint8Array {
  return new Writer(33).u8(K_CODE).raw(hash).finish();
}

/** The records that store a block's new modules. */
export function codeRecords(modules: readonly BookEntry[]): AppRecord[] {
  return modules.map((m) => ({ key: codeKey(m.hash), value: m.code }));
}

/** The modules a node starts its code book with: the genesis modules, then every stored one. */
export async function loadModules(
  store: LevelStore,
  genesis: ReadonlyArray<{ value: Uint8Array }>,
): Promise<Uint8Array[]> {
  const out = genesis.filter((r) => isModuleValue(r.value)).map((r) => r.value);
  const stored = await store.appRange(Uint8Array.of(K_CODE), Uint8Array.of(K_CODE + 1));
  for (const r of stored) out.push(r.value);
  return out;
}
