// Keys of the system records the executor's system operations rely on (docs/abi.md §7). Genesis
// holds the compiled .root_rule at ROOT_RULE_KEY and the compiled .base_rule at
// BASE_RULE_TEMPLATE_KEY; .root_rule copies the template into every domain it creates.

export const ROOT_RULE_KEY = ".root_rule";
export const BASE_RULE_TEMPLATE_KEY = ".base_rule_template";

/** The base rule of a domain. */
export function baseRuleKey(domain: string): string {
  return `${domain}/.base_rule`;
}

/** The record holding a domain owner's 32-byte Ed25519 public key. */
export function ownerKey(domain: string): string {
  return `${domain}/.owner`;
}
