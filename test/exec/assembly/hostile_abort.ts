// Aborts with a message (the rejection must carry it) after tracing (a metered no-op).
import { fail, log } from "../../../ops/assembly/sdk";

export function run(): i32 {
  log("about to fail");
  fail("boom: the op refused");
  return 0;
}
