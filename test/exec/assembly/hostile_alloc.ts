// Allocates without bound: the memory cap (memory-limit) or the gas limit must stop it.
import { done } from "../../../ops/assembly/sdk";

export function run(): i32 {
  let keep: Array<Uint8Array> = [];
  while (true) keep.push(new Uint8Array(1 << 20));
  return done();
}
