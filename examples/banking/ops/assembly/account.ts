// Banking records. An account lives at "DOMAIN/accounts/NAME" (NAME non-empty, no '/') and holds
//   owner: 32-byte Ed25519 public key ‖ balance: u64, 8 bytes big-endian        (40 bytes)
// The domain owner's key is "DOMAIN/.owner" (written by .root_rule). Amounts in arguments are
// canonical varints (so they cannot be negative); all arithmetic is exact u64 with overflow checks.
import { bytesToU64, domain, fail, getBytes } from "../../../../ops/assembly/sdk";

export const ACCOUNT_BYTES = 40;

export class Account {
  constructor(
    public owner: Uint8Array,
    public balance: u64,
  ) {}

  encode(): Uint8Array {
    const out = new Uint8Array(ACCOUNT_BYTES);
    memory.copy(out.dataStart, this.owner.dataStart, 32);
    store<u64>(out.dataStart + 32, bswap<u64>(this.balance));
    return out;
  }
}

let prefix: string | null = null;

/** "DOMAIN/accounts/", computed once per call. */
function accountPrefix(): string {
  let p = prefix;
  if (p == null) {
    p = domain() + "/accounts/";
    prefix = p;
  }
  return p!;
}

/** Aborts unless `key` names an account of this op's domain. */
export function checkAccountKey(key: string): void {
  const p = accountPrefix();
  if (!key.startsWith(p)) fail("not an account key of this domain: " + key);
  if (key.length == p.length) fail("empty account name: " + key);
  for (let i = p.length; i < key.length; i++)
    if (key.charCodeAt(i) == 0x2f) fail("account name contains '/': " + key);
}

export function readAccount(key: string): Account {
  checkAccountKey(key);
  const v = getBytes(key);
  if (v.length != ACCOUNT_BYTES) fail("malformed account record: " + key);
  return new Account(v.subarray(0, 32), bytesToU64(v, 32));
}

export function ownerKey(): string {
  return domain() + "/.owner";
}
