// A full garbage collection on demand, for tests that assert what memory is (not) kept alive:
// node:v8 turns the flag on at run time and a fresh context hands out the function.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

setFlagsFromString("--expose-gc");
const collect = runInNewContext("gc") as () => void;

/** Collects garbage after the current job: weak references are only cleared between jobs. */
export async function fullGc(): Promise<void> {
  await new Promise((r) => setImmediate(r));
  collect();
}

/** Heap bytes in use after a full collection. */
export async function heapUsedAfterGc(): Promise<number> {
  await fullGc();
  return process.memoryUsage().heapUsed;
}
