// .root_rule — the genesis operation that creates domains. Lives at key ".root_rule" (root domain,
// so it may write anywhere but the system domain; the host enforces that).
//
// args:    name: string ‖ owner: bytes (32-byte Ed25519 public key)
// touched: ".base_rule_template" (read: the base rule's code, placed at genesis),
//          "NAME/.base_rule" and "NAME/.owner" (both must be absent: the domain must not exist)
// writes:  NAME/.base_rule = the template's bytes; NAME/.owner = the owner key
//
// A name is 1–64 bytes of [A-Za-z0-9_-.], must not begin with '.' (reserved for the system: the
// system domain ".arbor" and the root records), and cannot contain '/' (one level per call).
import { args, done, fail, get, has, set } from "./sdk";

const TEMPLATE_KEY = ".base_rule_template";
const MAX_NAME_BYTES = 64;

function checkName(name: string): void {
  if (name.length == 0) fail("domain name is empty");
  if (name.includes("/")) fail("domain name contains '/'");
  if (name == ".arbor") fail("the system domain .arbor cannot be created");
  if (name.charCodeAt(0) == 0x2e) fail("domain names beginning with '.' are reserved");
  if (name.length > MAX_NAME_BYTES) fail("domain name is longer than 64 bytes");
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const ok =
      (c >= 0x30 && c <= 0x39) ||
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) ||
      c == 0x2d ||
      c == 0x2e ||
      c == 0x5f;
    if (!ok) fail("domain name has a character outside [A-Za-z0-9_-.]");
  }
}

export function run(): i32 {
  const a = args();
  const name = a.string();
  const owner = a.bytes();
  a.end();
  checkName(name);
  if (owner.length != 32) fail("owner key must be 32 bytes");
  const baseKey = name + "/.base_rule";
  const ownerKey = name + "/.owner";
  if (has(baseKey) || has(ownerKey)) fail("domain already exists: " + name);
  const template = get(TEMPLATE_KEY);
  if (template == null) fail("no base rule template at " + TEMPLATE_KEY);
  set(baseKey, template!);
  set(ownerKey, owner);
  return done();
}
