// Typed banking over the Arbor SDK: the record format of the banking operations
// (examples/banking/ops/assembly/) and helpers to set the domain up, open accounts, mint, transfer
// and read balances with a proof. A Bank acts as the key of the client it wraps: the domain owner
// mints, an account's owner transfers from it.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import type { ArborClient, TrustedReceipt } from "../../client/client.js";
import { Writer } from "../../node/common/codec.js";
import { bytesEqual } from "../../node/common/bytes.js";
import { ArborError } from "../../node/common/errors.js";
import { ownerKey } from "../../node/common/system-keys.js";
import type { OpCall } from "../../node/common/system-calls.js";

/** The banking ops compiled by `npm run build:ops` (this file runs as dist/examples/banking/bank.js). */
export const BANKING_WASM_DIR = fileURLToPath(new URL("../../../build/ops/banking/", import.meta.url));

export const OP_NAMES = ["open", "mint", "transfer"] as const;
export type OpName = (typeof OP_NAMES)[number];

/** owner key (32 bytes) ‖ balance (u64 big-endian) */
export const ACCOUNT_BYTES = 40;

export interface Account {
  readonly owner: Uint8Array;
  readonly balance: bigint;
}

export class BankError extends ArborError {}

/**
 * The banking calls of `domain` as pure values (the argument encodings of docs/protocol.md §9):
 * the one place that says which records each operation touches and how its arguments are laid out.
 */
export class BankCalls {
  constructor(readonly domain = "bank") {}

  op(name: OpName): string {
    return `${this.domain}/${name}`;
  }

  account(name: string): string {
    return `${this.domain}/accounts/${name}`;
  }

  open(name: string): OpCall {
    const key = this.account(name);
    return { op: this.op("open"), touched: [key], args: new Writer().string(key).finish() };
  }

  /** Domain owner only. */
  mint(name: string, amount: bigint): OpCall {
    const key = this.account(name);
    return {
      op: this.op("mint"),
      touched: [ownerKey(this.domain), key],
      args: new Writer().string(key).varint64(amount).finish(),
    };
  }

  transfer(from: string, to: string, amount: bigint): OpCall {
    const [a, b] = [this.account(from), this.account(to)];
    return {
      op: this.op("transfer"),
      touched: [a, b],
      args: new Writer().string(a).string(b).varint64(amount).finish(),
    };
  }

  /** The records that deploy every banking operation through the domain's base rule. */
  deployWrites(ops = loadBankingOps()): Array<[string, Uint8Array]> {
    return OP_NAMES.map((n) => [this.op(n), ops.get(n)!]);
  }
}

export function decodeAccount(v: Uint8Array): Account {
  if (v.length !== ACCOUNT_BYTES)
    throw new BankError("bank/bad-account", `an account record is ${ACCOUNT_BYTES} bytes, not ${v.length}`);
  return {
    owner: v.slice(0, 32),
    balance: new DataView(v.buffer, v.byteOffset, v.byteLength).getBigUint64(32),
  };
}

export function loadBankingOps(dir = BANKING_WASM_DIR): Map<OpName, Uint8Array> {
  const m = new Map<OpName, Uint8Array>();
  for (const n of OP_NAMES) {
    try {
      m.set(n, new Uint8Array(readFileSync(join(dir, `${n}.wasm`))));
    } catch {
      throw new BankError(
        "bank/ops-not-built",
        `${join(dir, `${n}.wasm`)} is missing: run \`npm run build:ops\``,
      );
    }
  }
  return m;
}

export interface SetupResult {
  readonly createdDomain: boolean;
  readonly deployed: OpName[];
}

export interface BalanceProof {
  readonly balance: bigint;
  readonly owner: Uint8Array;
  /** the state root and height the value was proven against (checked against a certified root) */
  readonly root: Uint8Array;
  readonly height: bigint;
  readonly proof: Uint8Array;
}

/** One change of an account, from its verified history. */
export interface AccountChange {
  readonly number: bigint;
  readonly height: bigint;
  /** the balance it set; null when the answering node does not keep values (or it removed the account) */
  readonly balance: bigint | null;
}

export class Bank {
  readonly calls: BankCalls;

  constructor(
    readonly client: ArborClient,
    readonly domain = "bank",
  ) {
    this.calls = new BankCalls(domain);
  }

  op(name: OpName): string {
    return this.calls.op(name);
  }

  account(name: string): string {
    return this.calls.account(name);
  }

  /**
   * Creates the domain (or reuses it when this client's key owns it) and deploys the operations
   * whose code differs from what is there. Returns what it had to do.
   */
  async setup(ops = loadBankingOps()): Promise<SetupResult> {
    const ownerRecord = ownerKey(this.domain);
    const now = await this.client.get([ownerRecord, ...OP_NAMES.map((n) => this.op(n))]);
    const owner = now.get(ownerRecord) ?? null;
    let createdDomain = false;
    if (owner === null) {
      await this.client.createDomain(this.domain);
      createdDomain = true;
    } else if (!bytesEqual(owner, this.client.key.publicKey))
      throw new BankError("bank/not-owner", `domain "${this.domain}" exists and belongs to another key`);
    const deployed = OP_NAMES.filter((n) => {
      const have = now.get(this.op(n)) ?? null;
      return have === null || !bytesEqual(have, ops.get(n)!);
    });
    // One request deploys them all (the base rule takes a list of writes).
    if (deployed.length > 0)
      await this.client.writeRecords(
        this.domain,
        deployed.map((n) => [this.op(n), ops.get(n)!] as const),
      );
    return { createdDomain, deployed };
  }

  /** Opens an account owned by this client's key (balance 0). */
  openAccount(name: string): Promise<TrustedReceipt> {
    return this.client.transact(this.calls.open(name));
  }

  /** Domain owner only: creates `amount` in an account. */
  mint(name: string, amount: bigint): Promise<TrustedReceipt> {
    return this.client.transact(this.calls.mint(name, amount));
  }

  transferArgs(from: string, to: string, amount: bigint): Uint8Array {
    return this.calls.transfer(from, to, amount).args;
  }

  /**
   * Moves money out of an account this client owns. `retry` (default) re-reads and tries again
   * when another request changed one of the two accounts first; without it that refusal is
   * returned to the caller as RequestRejected("record-changed").
   */
  transfer(
    from: string,
    to: string,
    amount: bigint,
    opts: { retry?: boolean; proof?: Uint8Array } = {},
  ): Promise<TrustedReceipt> {
    const o = this.calls.transfer(from, to, amount);
    if (opts.proof !== undefined) return this.client.execute({ ...o, proof: opts.proof });
    return opts.retry === false ? this.client.execute(o) : this.client.transact(o);
  }

  /** A proof (for EXECUTE) covering the transfer op and the given accounts, read now. */
  async transferProof(names: readonly string[]): Promise<Uint8Array> {
    return (
      await this.client.read([this.op("transfer"), ...names.map((n) => this.account(n))], {
        forExecute: true,
      })
    ).proof;
  }

  /** Balances of several accounts read at once, with one proof against a certified root. */
  async balances(
    names: readonly string[],
  ): Promise<{ accounts: Map<string, Account | null>; root: Uint8Array; height: bigint; proof: Uint8Array }> {
    const r = await this.client.read(names.map((n) => this.account(n)));
    const accounts = new Map<string, Account | null>();
    for (const n of names) {
      const v = r.values.get(this.account(n)) ?? null;
      accounts.set(n, v === null ? null : decodeAccount(v));
    }
    return { accounts, root: r.root, height: r.height, proof: r.proof };
  }

  /**
   * An account's changes, newest first, each with the balance it set, every one chained by the SDK
   * to the account's history head in a certified index root (none can be left out). Asked of the
   * nodes that hold the account first: only they keep the values (another node gives their hashes,
   * and `balance` is then null, as it is for a removal).
   */
  async history(name: string): Promise<AccountChange[]> {
    const key = this.account(name);
    let last: unknown = null;
    for (const node of [...this.client.holders(key), undefined]) {
      try {
        const out: AccountChange[] = [];
        for await (const v of this.client.historyAll(key, node === undefined ? {} : { node }))
          out.push({
            number: v.number,
            height: v.height,
            balance: v.value === undefined ? null : decodeAccount(v.value).balance,
          });
        return out;
      } catch (e) {
        last = e;
      }
    }
    throw last;
  }

  /** The accounts of the domain (their names), the listing proven complete page by page. */
  async accountNames(): Promise<Array<{ name: string; changes: bigint; height: bigint }>> {
    const prefix = this.account("");
    const out: Array<{ name: string; changes: bigint; height: bigint }> = [];
    for await (const e of this.client.listAll(prefix))
      out.push({ name: e.key.slice(prefix.length), changes: e.changes, height: e.height });
    return out;
  }

  async balance(name: string): Promise<BalanceProof> {
    const b = await this.balances([name]);
    const a = b.accounts.get(name);
    if (!a) throw new BankError("bank/no-account", `no account ${this.account(name)}`);
    return { balance: a.balance, owner: a.owner, root: b.root, height: b.height, proof: b.proof };
  }
}
