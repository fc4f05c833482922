// The two calls every user makes of the system operations, built in one place (docs/protocol.md §9):
// which operation runs, the records it touches, and its argument bytes. `.root_rule` creates a domain
// for an owner; a domain's `.base_rule` lets that owner write, replace or remove the domain's records.

import { Writer } from "./codec.js";
import { BASE_RULE_TEMPLATE_KEY, ROOT_RULE_KEY, baseRuleKey, ownerKey } from "./system-keys.js";

/** An operation call before it is signed: what an EXECUTE names. */
export interface OpCall {
  readonly op: string;
  readonly touched: string[];
  readonly args: Uint8Array;
}

/** `.root_rule` creating domain `name` owned by `owner` (a 32-byte Ed25519 public key). */
export function createDomainCall(name: string, owner: Uint8Array): OpCall {
  return {
    op: ROOT_RULE_KEY,
    touched: [BASE_RULE_TEMPLATE_KEY, baseRuleKey(name), ownerKey(name)],
    args: new Writer().string(name).bytes(owner).finish(),
  };
}

/** `domain`'s `.base_rule` setting each key to its value, or removing it where the value is null. */
export function baseRuleCall(
  domain: string,
  writes: ReadonlyArray<readonly [string, Uint8Array | null]>,
): OpCall {
  const w = new Writer().varint(writes.length);
  for (const [k, v] of writes) {
    w.string(k);
    if (v === null) w.u8(0);
    else w.u8(1).bytes(v);
  }
  return {
    op: baseRuleKey(domain),
    touched: [ownerKey(domain), ...writes.map(([k]) => k)],
    args: w.finish(),
  };
}
