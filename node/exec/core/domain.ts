// The domain rule (DESIGN §2), enforced by the host: an operation may write only keys inside its own
// domain (its key's prefix up to the last '/', sub-domains included; the root domain for a key
// without '/'), and only operations of the system domain may write the system domain's keys.

import { SYSTEM_DOMAIN } from "../../common/system-keys.js";

/** Domain of a key: its prefix up to the last '/', or "" (the root domain). */
export function domainOf(key: string): string {
  const i = key.lastIndexOf("/");
  return i < 0 ? "" : key.slice(0, i);
}

/** True when `key` lies in `domain` or one of its sub-domains. */
export function inDomain(key: string, domain: string): boolean {
  return (
    domain === "" ||
    (key.length > domain.length && key.startsWith(domain) && key.charCodeAt(domain.length) === 0x2f)
  );
}

export function isSystemDomain(domain: string): boolean {
  return domain === SYSTEM_DOMAIN || domain.startsWith(SYSTEM_DOMAIN + "/");
}

/** The predicate "an operation stored at `opKey` may write this key". */
export function writeRule(opKey: string): (key: string) => boolean {
  const d = domainOf(opKey);
  const system = isSystemDomain(d);
  return (key) => inDomain(key, d) && (system || !inDomain(key, SYSTEM_DOMAIN));
}

/** True when an operation stored at `opKey` may write `key`. */
export function mayWrite(opKey: string, key: string): boolean {
  return writeRule(opKey)(key);
}
