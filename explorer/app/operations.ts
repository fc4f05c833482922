// Which keys of a shown listing page hold an operation: a record whose value is a WebAssembly module
// (it starts with the magic bytes 0x00 0x61 0x73 0x6d). A listing carries only value hashes, so the
// values are read by verified GETs (trust.ts), batched per node holding the keys: the reading node
// when it holds them, else the other holders in turn. A key no holder answered for verifiably is
// never marked. Bounded: at most OPERATION_CHECK_KEYS keys, OPERATION_GET_BATCH per GET.
import type { Verifier } from "./trust.js";

/** Most keys of one page whose values are read to find the operations. */
export const OPERATION_CHECK_KEYS = 20;
/** Keys asked per GET (a value may be up to a module's size). */
export const OPERATION_GET_BATCH = 10;
/** The first bytes of a WebAssembly binary ("\0asm"). */
export const WASM_MAGIC: readonly number[] = [0x00, 0x61, 0x73, 0x6d];

/** The nodes the page can read from, and which one it reads from first. */
export interface Readers {
  readonly reading: number;
  verifierOf(id: number): Promise<Verifier>;
}

/** Whether a value is a WebAssembly module (by its magic bytes). */
export function isModule(value: Uint8Array | null): boolean {
  return value !== null && value.length >= WASM_MAGIC.length && WASM_MAGIC.every((b, i) => value[i] === b);
}

/** The nodes holding `key`: the reading node first when it does, then the others by id. */
function holdersOf(v: Verifier, readers: Readers, key: string): number[] {
  const ids = v.genesis.nodes.map((n) => n.id).filter((id) => v.holds(id, key));
  return [...ids.filter((id) => id === readers.reading), ...ids.filter((id) => id !== readers.reading)];
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

export interface OperationCheck {
  /** the keys whose verified value is a module */
  readonly operations: ReadonlySet<string>;
  /** how many keys no holder answered for verifiably (not marked either way) */
  readonly unchecked: number;
}

/** Which of `keys` (the first OPERATION_CHECK_KEYS) hold a module, by their verified values. */
export async function operationKeys(
  v: Verifier,
  readers: Readers,
  keys: readonly string[],
): Promise<OperationCheck> {
  const candidates = new Map(keys.slice(0, OPERATION_CHECK_KEYS).map((k) => [k, holdersOf(v, readers, k)]));
  const operations = new Set<string>();
  let checked = 0;
  let pending = [...candidates.keys()];
  // Each round asks every pending key's next holder; a key whose batch failed moves to its next one.
  while (pending.length > 0) {
    const byHolder = new Map<number, string[]>();
    for (const k of pending) {
      const id = candidates.get(k)!.shift();
      if (id !== undefined) byHolder.set(id, [...(byHolder.get(id) ?? []), k]);
    }
    const failed: string[] = [];
    const asks = [...byHolder].flatMap(([id, ks]) =>
      chunks(ks, OPERATION_GET_BATCH).map(async (batch) => {
        try {
          const node = await readers.verifierOf(id);
          const values = await node.values(batch);
          checked += values.length;
          for (const r of values) if (isModule(r.value)) operations.add(r.key);
        } catch {
          failed.push(...batch);
        }
      }),
    );
    await Promise.all(asks);
    pending = failed;
  }
  return { operations, unchecked: candidates.size - checked };
}
