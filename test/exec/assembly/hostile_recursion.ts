// Recurses without bound: the call-stack budget (stack-limit) must stop it.
import { done } from "../../../ops/assembly/sdk";

function down(n: u64): u64 {
  return down(n + 1) + 1;
}

export function run(): i32 {
  down(0);
  return done();
}
