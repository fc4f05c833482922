// The per-operation compute ceiling of the ledger, measured in process on one core: banking
// transfers on disjoint accounts applied in 1,000-request blocks (signature check, proof decode,
// compatibility, metered call, apply, seal), median µs per operation → operations per second.
import { loadBuiltOp, systemGenesisRecords } from "../node/exec/built-ops.js";
import { Writer } from "../node/common/codec.js";
import { generateKeyPair, signWith, type KeyPair } from "../node/keys.js";
import { Ledger } from "../node/ledger/ledger.js";
import { HistoryTree } from "../node/store/core/history.js";
import { Partition } from "../node/store/core/partition.js";
import { prove } from "../node/store/core/proof.js";
import { keyPath } from "../node/store/core/path.js";
import { encodeProof } from "../node/store/core/proof-codec.js";
import {
  assembleSignedRequest,
  encodeRequestBody,
  requestSigningMessage,
  sortKeys,
} from "../node/ledger/request.js";
import { createExecutor } from "../node/exec/index.js";
import { nodeEd25519Verify } from "../node/exec/host-crypto.js";
import { median, nowUs } from "./machine.js";

const acct = (i: number) => `bank/accounts/a${i}`;
const transferArgs = (a: number, b: number, amount: number) =>
  new Writer().string(acct(a)).string(acct(b)).varint(amount).finish();

export function ceiling(): number {
  const bank = generateKeyPair();
  const h = HistoryTree.genesis(Partition.whole(), 1 << 16, systemGenesisRecords());
  const ledger = new Ledger(h, createExecutor(), { ed25519Verify: nodeEd25519Verify });
  let nonce = 0n;
  let height = 0n;
  const req = (signer: KeyPair, op: string, touched: string[], args: Uint8Array) => {
    const keys = sortKeys(touched);
    const proof = encodeProof(prove(h.tree, sortKeys([op, ...keys]).map(keyPath), { leafSiblings: true }));
    const body = encodeRequestBody({
      op,
      touched: keys,
      proof,
      args,
      gasLimit: 1_000_000n,
      caller: signer.publicKey,
      nonce: nonce++,
    });
    return assembleSignedRequest(body, signWith(signer, requestSigningMessage(body)));
  };
  const block = (rs: Uint8Array[]) => {
    const out = ledger.applyBlock(++height, rs);
    for (const r of out.receipts)
      if (r.status !== "accepted") throw new Error(`ceiling setup: ${r.reason} ${r.message}`);
  };
  block([
    req(
      bank,
      ".root_rule",
      [".base_rule_template", "bank/.base_rule", "bank/.owner"],
      new Writer().string("bank").bytes(bank.publicKey).finish(),
    ),
  ]);
  const deploy = new Writer().varint(3);
  for (const op of ["open", "mint", "transfer"])
    deploy
      .string(`bank/${op}`)
      .u8(1)
      .bytes(loadBuiltOp(`banking/${op}`));
  block([
    req(bank, "bank/.base_rule", ["bank/.owner", "bank/open", "bank/mint", "bank/transfer"], deploy.finish()),
  ]);
  const n = 2000;
  const users = Array.from({ length: n }, () => generateKeyPair());
  block(users.map((u, i) => req(u, "bank/open", [acct(i)], new Writer().string(acct(i)).finish())));
  block(
    users.map((_, i) =>
      req(
        bank,
        "bank/mint",
        ["bank/.owner", acct(i)],
        new Writer().string(acct(i)).varint(1_000_000).finish(),
      ),
    ),
  );
  const times: number[] = [];
  for (let round = 0; round < 5; round++) {
    const rs = [];
    for (let i = 0; i < n; i += 2)
      rs.push(req(users[i]!, "bank/transfer", [acct(i), acct(i + 1)], transferArgs(i, i + 1, 1)));
    const t0 = nowUs();
    block(rs);
    times.push((nowUs() - t0) / rs.length);
  }
  return 1e6 / median(times);
}
