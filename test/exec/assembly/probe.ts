// ABI probe: touches every part of the SDK so its compiled imports and exports can be checked
// against node/exec/core/abi.ts. Writes sha256(args) to the first touched key and, when the args
// carry (public key, signature), whether the signature over "probe" verifies.
import {
  args,
  argBytes,
  caller,
  done,
  ed25519Verify,
  has,
  log,
  opKey,
  set,
  sha256,
  fail,
  utf8,
  domain,
  Encoder,
} from "../../../ops/assembly/sdk";

export function run(): i32 {
  log("probe running");
  const a = args();
  if (a.remaining == 0) fail("probe needs arguments");
  const key = a.string();
  const pk = a.bytes();
  const sig = a.bytes();
  a.end();
  const ok = ed25519Verify(pk, utf8("probe"), sig);
  const e = new Encoder();
  e.raw(sha256(argBytes()))
    .u8(ok ? 1 : 0)
    .u8(has(key) ? 1 : 0)
    .raw(caller())
    .string(opKey())
    .string(domain());
  set(key, e.finish());
  return done();
}
