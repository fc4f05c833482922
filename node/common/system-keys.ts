// The keys of the records Arbor itself gives meaning to, in one place (docs/protocol.md §10):
// the root records genesis holds for the system operations, the per-domain records `.root_rule`
// creates, and the system domain `.arbor/…` that only genesis and the ledger write.

/** The system domain: membership, parameters and evictions. No operation may write inside it. */
export const SYSTEM_DOMAIN = ".arbor";
/** The operation that creates domains (a genesis record). */
export const ROOT_RULE_KEY = ".root_rule";
/** The module `.root_rule` copies into every domain it creates as its `.base_rule` (a genesis record). */
export const BASE_RULE_TEMPLATE_KEY = ".base_rule_template";
/** Prefix of the genesis members' records, `.arbor/nodes/<id>`. */
export const SYSTEM_NODES_PREFIX = ".arbor/nodes/";
/** The chain's parameters (name, T, replication), written at genesis. */
export const SYSTEM_PARAMS_KEY = ".arbor/params";
/** Prefix of the records that mark nodes evicted, `.arbor/evicted/<id>`. */
export const EVICTED_PREFIX = ".arbor/evicted/";

/** The base rule of a domain: the operation its owner writes the domain's records through. */
export function baseRuleKey(domain: string): string {
  return `${domain}/.base_rule`;
}

/** The record holding a domain owner's 32-byte Ed25519 public key. */
export function ownerKey(domain: string): string {
  return `${domain}/.owner`;
}

/** A genesis member's record: its id, key, address and prefixes. */
export function memberKey(id: number): string {
  return `${SYSTEM_NODES_PREFIX}${id}`;
}

/** The system record that marks a node evicted. */
export function evictedKey(id: number): string {
  return `${EVICTED_PREFIX}${id}`;
}
