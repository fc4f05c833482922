// .base_rule — the operation every domain starts with (root_rule copies it to NAME/.base_rule).
// The domain's owner, and only the owner, may create, replace or remove any record of the domain,
// operations and the owner record itself included.
//
// args:    varint n ≥ 1 ‖ n × (key: string ‖ u8 kind ‖ (value: bytes, if kind = 1))   kind 0 = remove
// touched: "DOMAIN/.owner" (read) and every key listed (each at most once)
// Keys outside the domain are refused by the host (domain-violation), not here.
import { args, callerIs, domain, done, fail, get, remove, set } from "./sdk";

export function run(): i32 {
  const d = domain();
  if (d.length == 0) fail(".base_rule must live inside a domain");
  const owner = get(d + "/.owner");
  if (owner == null) fail("the domain has no owner record");
  if (!callerIs(owner!)) fail("only the domain owner may use .base_rule");
  const a = args();
  const n = a.length();
  if (n == 0) fail("no writes given");
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const key = a.string();
    if (seen.has(key)) fail("key listed twice: " + key);
    seen.add(key);
    const kind = a.u8();
    if (kind == 1) set(key, a.bytes());
    else if (kind == 0) remove(key);
    else fail("write kind must be 0 (remove) or 1 (set)");
  }
  a.end();
  return done();
}
