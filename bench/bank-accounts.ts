// Bench setup shared by the cluster benches: the banking domain deployed by `owner`, then
// `accounts` accounts opened (account i belongs to users[i % users.length]) and minted over the
// node API in signed batches — fast, and not part of what is measured.
import type { Genesis } from "../node/ledger/genesis.js";
import type { KeyPair } from "../node/keys.js";
import { ArborClient } from "../client/index.js";
import { Bank } from "../examples/banking/bank.js";
import { LoadClient, type Job } from "./load.js";
import { loadBuiltOp } from "../node/exec/built-ops.js";
import { Writer } from "../node/common/codec.js";
import { sha256 } from "../node/common/hash.js";

/** Requests signed against one proof and submitted together during setup. */
const SETUP_BATCH = 200;

export async function openBankAccounts(o: {
  genesis: Genesis;
  nodes: number;
  owner: KeyPair;
  users: readonly KeyPair[];
  accounts: number;
  account: (i: number) => string;
  amount: number;
  /** setup batches signed and submitted concurrently (default 1: one after the other) */
  inflight?: number;
  /** called after each batch with the phase and how many of its requests have been accepted */
  onProgress?: (phase: "open" | "mint", done: number) => void;
}): Promise<void> {
  const admin = await ArborClient.connect({ genesis: o.genesis, key: o.owner });
  try {
    const ops = new Map((["open", "mint", "transfer"] as const).map((n) => [n, loadBuiltOp(`banking/${n}`)]));
    await new Bank(admin).setup(ops);
  } finally {
    admin.close();
  }
  const load = new LoadClient(o.genesis);
  load.subscribe(0);
  try {
    // Jobs are built a batch at a time (a million accounts would not fit as one array of jobs);
    // concurrent batches touch different accounts.
    const run = async (phase: "open" | "mint", job: (i: number) => Job) => {
      let next = 0;
      let done = 0;
      const worker = async () => {
        for (;;) {
          const from = next;
          if (from >= o.accounts) return;
          next = Math.min(o.accounts, from + SETUP_BATCH);
          const batch: Job[] = [];
          for (let i = from; i < next; i++) batch.push(job(i));
          const proof = await load.proofForJobs(batch);
          const signed = load.sign(batch, proof);
          const rs = await Promise.all(signed.map((s, k) => load.submit(s, sha256(s), k % o.nodes)));
          for (const r of rs) if (r.status !== "accepted") throw new Error(`setup: ${r.reason} ${r.message}`);
          done += batch.length;
          o.onProgress?.(phase, done);
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, o.inflight ?? 1) }, worker));
    };
    await run("open", (i) => ({
      op: "bank/open",
      touched: [o.account(i)],
      args: new Writer().string(o.account(i)).finish(),
      signer: o.users[i % o.users.length]!,
    }));
    await run("mint", (i) => ({
      op: "bank/mint",
      touched: ["bank/.owner", o.account(i)],
      args: new Writer().string(o.account(i)).varint(o.amount).finish(),
      signer: o.owner,
    }));
  } finally {
    load.close();
  }
}
