// In-process ledgers over real operations, for tests: genesis with the system operations,
// replicas with different partitions, and a client that reads proofs and signs requests.
import { genesisEntries } from "../../node/ledger/key-index.js";
import { readFileSync } from "node:fs";
import { Ledger, type BlockOutcome } from "../../node/ledger/ledger.js";
import type { EvidenceContext } from "../../node/ledger/evidence.js";
import { HistoryTree } from "../../node/store/core/history.js";
import { Partition } from "../../node/store/core/partition.js";
import { prove } from "../../node/store/core/proof.js";
import { encodeProof } from "../../node/store/core/proof-codec.js";
import { keyPath } from "../../node/store/core/path.js";
import { createExecutor } from "../../node/exec/index.js";
import { nodeEd25519Verify } from "../../node/exec/host-crypto.js";
import {
  assembleSignedRequest,
  encodeRequestBody,
  requestSigningMessage,
  sortKeys,
} from "../../node/ledger/request.js";
import { generateKeyPair, signWith, type KeyPair } from "../../node/keys.js";
import { Writer } from "../../node/common/codec.js";
import { DEFAULT_REQUEST_LIFETIME_BLOCKS } from "../../node/common/limits.js";
import { utf8 } from "../../node/common/bytes.js";
import { baseRuleCall, createDomainCall } from "../../node/common/system-calls.js";
import { systemGenesisRecords } from "../../node/exec/built-ops.js";
import { genesisBook } from "../../node/ledger/code-book.js";

export function opBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(`build/ops/${path}`));
}

/** The chain id of replicas made without a trust context (requests are signed for it). */
export const TEST_CHAIN = new Uint8Array(32).fill(0xc1);

export class Replicas {
  readonly ledgers: Ledger[];
  /** the chain id requests are signed for: the trust context's, else TEST_CHAIN */
  readonly chain: Uint8Array;
  height = 0n;
  constructor(
    partitions: string[][],
    T = 64,
    trust?: EvidenceContext,
    extra: Array<{ key: string; value: Uint8Array }> = [],
  ) {
    const records = [...systemGenesisRecords(), ...extra];
    const chain = (this.chain = trust?.chain ?? TEST_CHAIN);
    this.ledgers = partitions.map(
      (p) =>
        new Ledger(
          HistoryTree.genesis(new Partition(p), T, records),
          createExecutor(),
          { verify: nodeEd25519Verify },
          trust,
          {
            chain,
            height: 0n,
            decided: [],
            ...genesisBook(records),
            index: genesisEntries(records),
          },
        ),
    );
  }
  /** The first replica must hold everything: it serves the proofs. */
  get full(): Ledger {
    return this.ledgers[0]!;
  }
  /** A proof for an EXECUTE; `hashOnly`: keys given with their value hash only (the operation). */
  proof(keys: string[], hashOnly: string[] = []): Uint8Array {
    return encodeProof(
      prove(this.full.history.tree, keys.map(keyPath), {
        leafSiblings: true,
        hashOnly: hashOnly.map(keyPath),
      }),
    );
  }
  /** Applies one block on every replica and returns the outcomes (asserting nothing). */
  block(requests: Uint8Array[]): BlockOutcome[] {
    this.height++;
    return this.ledgers.map((l) => l.applyBlock(this.height, requests));
  }
}

export class TestClient {
  readonly key: KeyPair = generateKeyPair();
  private nonce = 0n;
  constructor(private readonly r: Replicas) {}
  request(
    op: string,
    touched: string[],
    args: Uint8Array,
    opts: {
      proof?: Uint8Array;
      gas?: bigint;
      validUntil?: bigint;
      withCode?: boolean;
      pinned?: boolean;
    } = {},
  ): Uint8Array {
    const keys = sortKeys(touched);
    // As the SDK does: the operation's record stays out of the proof (nodes run the module it
    // holds now, from the code book), unless the test pins it by its hash (`pinned`), carries
    // the module (`withCode`), or the request touches no key or its own operation's.
    const withOp = opts.withCode || opts.pinned || keys.length === 0 || keys.includes(op);
    const hashOnly = withOp && !opts.withCode && !keys.includes(op) ? [op] : [];
    const proof = opts.proof ?? this.r.proof(withOp ? [op, ...keys] : keys, hashOnly);
    const body = encodeRequestBody({
      op,
      touched: keys,
      proof,
      args,
      gasLimit: opts.gas ?? 10_000_000n,
      caller: this.key.publicKey,
      nonce: this.nonce++,
      validUntil: opts.validUntil ?? this.r.height + BigInt(DEFAULT_REQUEST_LIFETIME_BLOCKS),
    });
    return assembleSignedRequest(body, signWith(this.key, requestSigningMessage(this.r.chain, body)));
  }
  createDomain(name: string): Uint8Array {
    const call = createDomainCall(name, this.key.publicKey);
    return this.request(call.op, call.touched, call.args);
  }
  baseRule(domain: string, writes: Array<[string, Uint8Array | null]>): Uint8Array {
    const call = baseRuleCall(domain, writes);
    return this.request(call.op, call.touched, call.args);
  }
}

export const str = (s: string) => new Writer().string(s).finish();
export const text = utf8;
