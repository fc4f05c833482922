// Tries to carry state from one call to the next through a global, static memory and the heap.
// Every call must see a fresh instance state, so the written value is always the same.
import { args, done, set, Encoder } from "../../../ops/assembly/sdk";

let calls: u32 = 0;
const table = new StaticArray<u32>(4);

export function run(): i32 {
  calls++;
  unchecked((table[0] += 1));
  const key = args().string();
  set(
    key,
    new Encoder()
      .varint(<u64>calls)
      .varint(<u64>unchecked(table[0]))
      .finish(),
  );
  return done();
}
