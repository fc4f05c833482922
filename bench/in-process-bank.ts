// An in-process banking ledger for benchmarks: one whole tree, domain `bank` created by `owner`
// and its operations deployed; requests are signed with a fresh proof and applied in blocks. No
// network, no disk: what the ledger itself costs.
import { genesisEntries } from "../node/ledger/key-index.js";
import { loadBuiltOp, systemGenesisRecords } from "../node/exec/built-ops.js";
import { genesisBook } from "../node/ledger/code-book.js";
import { Writer } from "../node/common/codec.js";
import { MAX_REQUEST_LIFETIME_BLOCKS } from "../node/common/limits.js";
import { generateKeyPair, signWith, type KeyPair } from "../node/keys.js";
import { Ledger, type BlockOutcome } from "../node/ledger/ledger.js";
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

/** The key of account `i`. */
export const acct = (i: number) => `bank/accounts/a${i}`;

/** Options of an InProcessBank (both default to what a node does). */
export interface InProcessBankOptions {
  /** the domain's owner (default: a fresh key); two banks with the same owner start alike */
  readonly owner?: KeyPair;
  /** false: the ledger records no key changes (LedgerStart.keyIndex; benchmarks of its cost) */
  readonly keyIndex?: boolean;
}

export class InProcessBank {
  readonly owner: KeyPair;
  /** the chain id requests are signed for (no genesis document here: any fixed 32 bytes) */
  readonly chain = new Uint8Array(32);
  readonly history = HistoryTree.genesis(Partition.whole(), 1 << 16, systemGenesisRecords());
  readonly ledger: Ledger;
  private nonce = 0n;
  private height = 0n;

  /** `label` names the bench in setup errors; `gasLimit` goes into every request. */
  constructor(
    private readonly label: string,
    private readonly gasLimit: bigint,
    opts: InProcessBankOptions = {},
  ) {
    this.owner = opts.owner ?? generateKeyPair();
    this.ledger = new Ledger(this.history, createExecutor(), { verify: nodeEd25519Verify }, undefined, {
      chain: this.chain,
      height: 0n,
      decided: [],
      ...genesisBook(systemGenesisRecords()),
      index: genesisEntries(systemGenesisRecords()),
      ...(opts.keyIndex === undefined ? {} : { keyIndex: opts.keyIndex }),
    });
    this.block([
      this.request(
        this.owner,
        ".root_rule",
        [".base_rule_template", "bank/.base_rule", "bank/.owner"],
        new Writer().string("bank").bytes(this.owner.publicKey).finish(),
      ),
    ]);
    const deploy = new Writer().varint(3);
    for (const op of ["open", "mint", "transfer"])
      deploy
        .string(`bank/${op}`)
        .u8(1)
        .bytes(loadBuiltOp(`banking/${op}`));
    this.block([
      this.request(
        this.owner,
        "bank/.base_rule",
        ["bank/.owner", "bank/open", "bank/mint", "bank/transfer"],
        deploy.finish(),
      ),
    ]);
  }

  /**
   * The proof a request carries, as the SDK builds it: its touched keys' leaves with their
   * siblings; the operation's record (by hash) only when it touches no key (a touched operation
   * key comes with its value).
   */
  proofFor(op: string, keys: readonly string[]): Uint8Array {
    const withOp = keys.length === 0 && !keys.includes(op);
    return encodeProof(
      prove(this.history.tree, sortKeys(withOp ? [op, ...keys] : keys).map(keyPath), {
        leafSiblings: true,
        hashOnly: withOp ? [keyPath(op)] : [],
      }),
    );
  }

  /** An unsigned request body against the current state. */
  body(signer: KeyPair, op: string, touched: readonly string[], args: Uint8Array): Uint8Array {
    const keys = sortKeys(touched);
    return encodeRequestBody({
      op,
      touched: keys,
      proof: this.proofFor(op, keys),
      args,
      gasLimit: this.gasLimit,
      caller: signer.publicKey,
      nonce: this.nonce++,
      validUntil: this.height + BigInt(MAX_REQUEST_LIFETIME_BLOCKS - 1),
    });
  }

  /** A signed request against the current state. */
  request(signer: KeyPair, op: string, touched: readonly string[], args: Uint8Array): Uint8Array {
    const b = this.body(signer, op, touched, args);
    return assembleSignedRequest(b, signWith(signer, requestSigningMessage(this.chain, b)));
  }

  /** Applies one block; every request in it must be accepted (it is setup, or the measured work). */
  block(requests: Uint8Array[]): BlockOutcome {
    const out = this.ledger.applyBlock(++this.height, requests);
    for (const r of out.receipts)
      if (r.status !== "accepted") throw new Error(`${this.label} setup: ${r.reason} ${r.message}`);
    return out;
  }
}
