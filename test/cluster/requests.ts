// Building signed requests against a live cluster straight from the node API: find the holders of
// each key, GET proofs from them, join the proofs into one against the newest root, sign. Also the
// banking domain as the cluster tests use it: deployed, called and read through the node API.
import assert from "node:assert/strict";
import { Cluster } from "./cluster.js";
import { decodeProof, encodeProof } from "../../node/store/core/proof-codec.js";
import { extendProof, mergeProofs } from "../../node/store/core/combine.js";
import { keyPath } from "../../node/store/core/path.js";
import { Partition } from "../../node/store/core/partition.js";
import { decodeStatement } from "../../node/ledger/statement.js";
import {
  assembleSignedRequest,
  encodeRequestBody,
  requestSigningMessage,
  sortKeys,
} from "../../node/ledger/request.js";
import { generateKeyPair, signWith, type KeyPair } from "../../node/keys.js";
import { DEFAULT_REQUEST_LIFETIME_BLOCKS } from "../../node/common/limits.js";
import { bytesEqual, toHex } from "../../node/common/bytes.js";
import type { ProofNode } from "../../node/store/core/proof.js";
import { baseRuleCall, createDomainCall, type OpCall } from "../../node/common/system-calls.js";
import { provenState } from "../../node/store/core/proof.js";
import { decodeReceipt, type Receipt } from "../../node/ledger/receipt.js";
import { BankCalls, decodeAccount, loadBankingOps } from "../../examples/banking/bank.js";

export function holders(c: Cluster, key: string): number[] {
  const p = keyPath(key);
  return c.genesis.nodes.filter((n) => new Partition(n.prefixes).holdsKey(p)).map((n) => n.id);
}

/**
 * One proof for all keys, against the newest root among the answers. Answers from nodes a block
 * apart cannot always be joined (Algorithm 1 needs the newest proof's stubs unchanged in the older
 * one), and a holder may not have applied the newest block yet: then ask again, as the SDK does.
 */
export async function fetchProof(
  c: Cluster,
  keys: string[],
  alive: (id: number) => boolean = (id) => c.procs[id] !== null,
): Promise<Uint8Array> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetchOnce(c, keys, alive, attempt);
    } catch (e) {
      const retry =
        e instanceof Error &&
        (e.message.startsWith("proofs could not be combined") ||
          e.message.startsWith("behind") ||
          e.message.includes("UNAVAILABLE"));
      if (attempt >= 200 || !retry) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function fetchOnce(
  c: Cluster,
  keys: string[],
  alive: (id: number) => boolean,
  attempt: number,
): Promise<Uint8Array> {
  const groups = new Map<number, string[]>();
  for (const k of keys) {
    // Rotate through the live holders across attempts: one that lags is not asked again and again.
    const live = holders(c, k).filter(alive);
    if (live.length === 0) throw new Error(`no live holder for ${k}`);
    const h = live[attempt % live.length]!;
    groups.set(h, [...(groups.get(h) ?? []), k]);
  }
  const answers = await Promise.all(
    [...groups].map(async ([id, ks]) => {
      const r = await c.clients[id]!.get(ks);
      const st = decodeStatement(r.statement);
      // Read your writes: a holder that has not applied the newest block we saw is asked again.
      if (st.height < c.seenHeight)
        throw new Error(`behind: node ${id} at ${st.height}, seen ${c.seenHeight}`);
      if (st.height > c.readHeight) c.readHeight = st.height;
      return { ts: st.timestamp, root: decodeProof(r.proof).root, keys: ks };
    }),
  );
  answers.sort((a, b) => (a.ts > b.ts ? -1 : a.ts < b.ts ? 1 : 0));
  let proof: ProofNode = answers[0]!.root;
  for (const a of answers.slice(1)) {
    const x = decodeProof(encodeProof(a.root));
    const base = decodeProof(encodeProof(proof));
    if (bytesEqual(x.rootLabel, base.rootLabel)) proof = mergeProofs(proof, a.root);
    else {
      const e = extendProof(proof, a.root, a.keys.map(keyPath));
      if (!e.ok) throw new Error("proofs could not be combined (a record changed in between)");
      proof = e.proof;
    }
  }
  return encodeProof(proof);
}

export class Signer {
  readonly key: KeyPair = generateKeyPair();
  private nonce = 0n;
  constructor(private readonly c: Cluster) {}

  /**
   * `call` signed by this signer, against `proof` or a fresh one covering its records (not the
   * operation's: as the SDK does, nodes take its module from their operation table — so restarted
   * nodes must have kept it).
   */
  call(call: OpCall, proof?: Uint8Array): Promise<Uint8Array> {
    return this.request(call.op, call.touched, call.args, proof);
  }

  async request(op: string, touched: string[], args: Uint8Array, proof?: Uint8Array): Promise<Uint8Array> {
    const keys = sortKeys(touched);
    const p = proof ?? (await fetchProof(this.c, keys.length === 0 ? [op] : keys));
    const body = encodeRequestBody({
      op,
      touched: keys,
      proof: p,
      args,
      gasLimit: 10_000_000n,
      caller: this.key.publicKey,
      nonce: this.nonce++,
      validUntil:
        (this.c.readHeight > this.c.seenHeight ? this.c.readHeight : this.c.seenHeight) +
        BigInt(DEFAULT_REQUEST_LIFETIME_BLOCKS),
    });
    return assembleSignedRequest(body, signWith(this.key, requestSigningMessage(this.c.chain, body)));
  }

  createDomain(name: string): Promise<Uint8Array> {
    const call = createDomainCall(name, this.key.publicKey);
    return this.request(call.op, call.touched, call.args);
  }

  baseRule(domain: string, writes: Array<[string, Uint8Array | null]>): Promise<Uint8Array> {
    const call = baseRuleCall(domain, writes);
    return this.request(call.op, call.touched, call.args);
  }
}

/** The banking calls of domain "bank" (examples/banking/bank.ts). */
export const bank = new BankCalls("bank");

/**
 * Hands `req` to node `via` (which must admit it) and waits for its receipt. `crossCheck`: also
 * from the next node, which must hold the same receipt bytes (correct nodes agree on receipts).
 */
export async function submitVia(
  c: Cluster,
  req: Uint8Array,
  via = 0,
  o: { crossCheck?: boolean; timeoutMs?: number } = {},
): Promise<Receipt> {
  const ack = await c.clients[via]!.execute(req);
  assert.ok(ack.accepted, `not admitted: ${ack.reason} ${ack.message}`);
  const from = o.crossCheck ? [via, (via + 1) % c.clients.length] : [via];
  const [a, b] = await Promise.all(from.map((n) => c.clients[n]!.waitReceipt(ack.requestId, o.timeoutMs)));
  if (b) assert.equal(toHex(a!.receipt), toHex(b.receipt), "two nodes signed different receipts");
  return decodeReceipt(a!.receipt);
}

/** "accepted", or the reason a receipt gives. */
export function receiptStatus(r: Receipt): string {
  return r.status === "accepted" ? "accepted" : r.reason;
}

/** Creates domain "bank" owned by `owner` and deploys the banking operations into it. */
export async function deployBank(
  owner: Signer,
  submit: (req: Uint8Array) => Promise<Receipt>,
): Promise<void> {
  assert.equal(receiptStatus(await submit(await owner.createDomain(bank.domain))), "accepted", "create bank");
  const deploy = await owner.baseRule(bank.domain, bank.deployWrites(loadBankingOps()));
  assert.equal(receiptStatus(await submit(deploy)), "accepted", "deploy the banking operations");
}

/** An account's balance as one of its holders proves it; null when the proof shows no account. */
export async function provenBalance(c: Cluster, name: string): Promise<bigint | null> {
  const key = bank.account(name);
  const r = await c.clients[holders(c, key)[0]!]!.get([key], false);
  const s = provenState(decodeProof(r.proof).root, keyPath(key));
  return s.covered && s.present && s.value ? decodeAccount(s.value).balance : null;
}
