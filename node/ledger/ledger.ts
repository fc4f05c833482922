// The ledger's deterministic core: applies the requests of a committed block, in order, to the
// T-history-aware tree through the metered executor, and returns one receipt per request. The
// pipeline per request: decode and bounds → signature → lifetime → replay → proof → compatibility
// (touched keys, and the operation's own key when the proof shows it) → the operation's module (from
// the proof, from the code book by the hash the proof shows, or by the operation table when the
// proof does not show the record) → metered execution (domain rule inside) → new modules and
// operation-table entries into the code book → apply → receipt. Same input, same receipts and root on every
// correct node, whatever its partition.

import { bytesEqual, bytesToLatin1 } from "../common/bytes.js";
import { evictedKey } from "../common/system-keys.js";
import { ArborError, ensures, expects, invariant } from "../common/errors.js";
import { sha256 } from "../common/hash.js";
import type { Executor } from "../exec/core/executor.js";
import type { TouchedRecord } from "../exec/core/io.js";
import { HistoryTree } from "../store/core/history.js";
import { keyPath } from "../store/core/path.js";
import { provenState, type ProvenState } from "../store/core/proof.js";
import { decodeProof, type DecodedProof } from "../store/core/proof-codec.js";
import type { ReceiptReason } from "./reasons.js";
import { boundReceiptMessage, encodeReceipt, encodeWrites, type Receipt } from "./receipt.js";
import { ReceiptTree } from "./receipts-root.js";
import { DecidedIds, type DecidedId } from "./decided-ids.js";
import { CodeBook, type BookEntry, type OperationEntry } from "./code-book.js";
import { recordWrites, type IndexedChange } from "./key-index.js";
import { OrderedIndex, type IndexEntry } from "../store/core/ordered-index.js";
import {
  checkLifetime,
  PUBLIC_KEY_BYTES,
  requestSigningMessage,
  SIGNATURE_BYTES,
  type SignedComplaint,
  type SignedRequest,
} from "./request.js";
import { decodeAnyRequest, type AnySignedRequest } from "./any-request.js";
import type { SignedMember } from "./member-request.js";
import { judgeMemberChange, type MembershipContext, type MemberOutcome } from "./member-apply.js";
import { verifyEvidence, type EvidenceContext } from "./evidence.js";
import { Writer } from "../common/codec.js";
import { BLOCK_GAS_BUDGET, MAX_VERIFIED_REQUESTS, TOB_MAX_BLOCK_REQUESTS } from "../common/limits.js";
import { requestWeight } from "./request-weight.js";
import type { SignatureVerifier } from "../common/signature-verifier.js";

export interface BlockOutcome {
  readonly height: bigint;
  readonly receipts: readonly Receipt[];
  readonly encodedReceipts: readonly Uint8Array[];
  /** the receipts' Merkle tree, whose root the header commits to */
  readonly receiptTree: ReceiptTree;
  readonly root: Uint8Array;
  readonly timestamp: number;
  /** nodes this block evicted (proven complaints), in order */
  readonly evicted: readonly number[];
  /** the membership change this block made (a MEMBER request), if any: at most one per block */
  readonly member: MemberOutcome | null;
  /** the requests this block decided, with their lifetimes: stored with the block (exactly-once) */
  readonly decided: readonly DecidedId[];
  /** modules this block added to the code book: stored with the block */
  readonly modules: readonly BookEntry[];
  /** the operation-table entries this block set or cleared, in order: stored with the block */
  readonly operations: readonly OperationEntry[];
  /** every key change this block made, in order: stored with the block (histories) */
  readonly changes: readonly IndexedChange[];
  /** the ordered index's root after the block, which the header commits to */
  readonly indexRoot: Uint8Array;
}

/** Where a ledger starts: the last sealed block and the decided ids kept with the blocks before. */
export interface LedgerStart {
  /** the chain id (genesis.ts chainId): every request's signature covers it */
  readonly chain: Uint8Array;
  readonly height: bigint;
  readonly decided: Iterable<DecidedId>;
  /**
   * The code book's modules: the genesis modules and those stored with the blocks before. Every
   * node must start with the same book (a missing genesis module would change verdicts).
   */
  readonly modules: Iterable<Uint8Array>;
  /** The operation table: the genesis records' entries, then those stored with the blocks before. */
  readonly operations: Iterable<OperationEntry>;
  /** The ordered index: the genesis records' entries, then those stored with the blocks before (or built already). */
  readonly index: Iterable<IndexEntry> | OrderedIndex;
  /**
   * False: record no changes (the index stays as it started). Only benchmarks set it, to
   * measure what the index costs: a node's headers would then differ from every other node's.
   */
  readonly keyIndex?: boolean;
}

/** Why a request is refused at the door (before the broadcast); null when it may be broadcast. */
export type AdmissionVerdict =
  | { readonly ok: true; readonly request: AnySignedRequest }
  | { readonly ok: false; readonly id: Uint8Array; readonly reason: ReceiptReason; readonly message: string };

/** What complaints are judged against, and whether the membership can take an eviction now. */
export interface TrustContext extends EvidenceContext {
  /**
   * Why evicting `ids` in block `height` cannot be carried out now (it would leave no validator,
   * or too many validator-set changes are pending), or null. Deterministic, like the rest.
   */
  refuseEviction?(height: bigint, ids: readonly number[]): string | null;
  /** what membership changes are judged against; without it MEMBER requests are refused */
  readonly membership?: MembershipContext;
}

/** A block being applied in steps (Ledger.startBlock). */
export interface BlockRun {
  /** every request has been applied (finish may be called) */
  readonly done: boolean;
  /** applies the next requests, at most `max` (at least one) */
  step(max: number): void;
  /** seals the block and returns its outcome */
  finish(): BlockOutcome;
}

export class Ledger {
  /** the chain id every request signature covers (LedgerStart.chain) */
  private readonly chain: Uint8Array;
  private readonly decidedIds: DecidedIds;
  /** the last sealed block: admission judges lifetimes against the next one */
  private sealedHeight: bigint;
  private evicted: number[] = [];
  private member: MemberOutcome | null = null;
  private decided: DecidedId[] = [];
  private modules: BookEntry[] = [];
  private operations: OperationEntry[] = [];
  private changes: IndexedChange[] = [];
  /** Weights of the block's requests that ran so far (request-weight.ts; BLOCK_GAS_BUDGET bounds it). */
  private blockGas = 0n;
  private running = false;
  /** every module written so far, by hash (code-book.ts) */
  readonly code: CodeBook;
  /** every key ever written, in order, with its value hash and history head (key-index.ts) */
  readonly index: OrderedIndex;
  private readonly keyIndex: boolean;
  /**
   * Ids of requests whose signatures verified at the door (admitted from a client, or gossiped by
   * a peer), oldest first: when one of them is applied, or comes again, its signature is not
   * verified again. A signature's validity is a function of
   * the request's bytes alone, and the id is their SHA-256, so the verdict is the one a fresh
   * check would give on every node. Bounded (MAX_VERIFIED_REQUESTS); an entry goes when used.
   */
  private readonly verified = new Set<string>();

  constructor(
    readonly history: HistoryTree,
    private readonly executor: Executor,
    private readonly verifier: SignatureVerifier,
    /** what complaints are judged against; without it complaints are refused */
    private readonly trust: TrustContext | undefined,
    start: LedgerStart,
  ) {
    this.chain = start.chain;
    this.sealedHeight = start.height;
    this.decidedIds = new DecidedIds(start.height, start.decided);
    this.code = new CodeBook(start.modules, start.operations);
    this.index = start.index instanceof OrderedIndex ? start.index : OrderedIndex.of(start.index);
    this.keyIndex = start.keyIndex ?? true;
  }

  /** Ids remembered for exactly-once (diagnostics and tests). */
  get rememberedIds(): number {
    return this.decidedIds.size;
  }

  /**
   * Form, bounds, signature, lifetime and replay: the checks a node makes before broadcasting a
   * request. The lifetime is judged against the next block (the earliest that can carry it).
   */
  admit(bytes: Uint8Array): AdmissionVerdict {
    const a = this.check(bytes, false, this.sealedHeight + 1n);
    if (a.ok) this.markVerified(a.request.id);
    return a;
  }

  /**
   * Form, bounds and signature only: what a request gossiped by a peer must pass to enter the
   * pool. Unlike lifetime and replay they do not depend on how far this node has applied, so a
   * node that lags (catching up) still takes its peers' requests for the blocks it proposes.
   */
  signedAlright(bytes: Uint8Array): boolean {
    // Every kind holds a caller key and a signature: shorter junk (a peer's flood of it) is refused
    // before a decode that would throw.
    if (bytes.length < PUBLIC_KEY_BYTES + SIGNATURE_BYTES) return false;
    const s = this.signed(bytes, false);
    // A late copy of a decided request is refused `replay` by its block without a verification:
    // remembering it would only hold a place until it is pushed out. An expired one is not
    // remembered either (it may have been decided long ago: see awaitsBlock).
    if (s.ok && s.request.validUntil > this.sealedHeight && !this.decidedIds.has(s.request.id))
      this.markVerified(s.request.id);
    return s.ok;
  }

  /**
   * Whether no applied block has carried this request since its signature was checked at the door,
   * while its lifetime was open and it was not decided (a block's apply takes the id out of
   * `verified`). Then no verdict of it is stored: a wait for its receipt need not read the store,
   * since the block that carries it brings the receipt. False when unknown (forgotten, or never seen).
   */
  awaitsBlock(id: Uint8Array): boolean {
    return this.verified.has(bytesToLatin1(id));
  }

  /** Ids whose signature verified at the door: not verified again (MAX_VERIFIED_REQUESTS, oldest out). */
  private markVerified(id: Uint8Array): void {
    const k = bytesToLatin1(id);
    if (this.verified.has(k)) return;
    if (this.verified.size >= MAX_VERIFIED_REQUESTS)
      this.verified.delete(this.verified.values().next().value!);
    this.verified.add(k);
  }

  /** Decodes a request and checks its signature (once per id: see `verified`, `decidedIds`). */
  private signed(bytes: Uint8Array, atApply: boolean): AdmissionVerdict {
    let req: AnySignedRequest;
    try {
      req = decodeAnyRequest(bytes);
    } catch (e) {
      return {
        ok: false,
        id: sha256(bytes),
        reason: "malformed-request",
        message: e instanceof Error ? e.message : String(e),
      };
    }
    // At apply the entry is used up; at the door (a resubmission, a peer's gossip) it stays.
    const idKey = bytesToLatin1(req.id);
    const admitted = atApply ? this.verified.delete(idKey) : this.verified.has(idKey);
    // A decided id's bytes passed this very check when they were decided (only requests past the
    // signature are remembered), so a copy is not verified again: the verdict below is the same,
    // and replaying old requests at a node costs it a hash and a lookup, not a verification.
    const known = admitted || this.decidedIds.has(req.id);
    if (
      !known &&
      !this.verifier.verify(req.caller, requestSigningMessage(this.chain, req.body), req.signature)
    )
      return {
        ok: false,
        id: req.id,
        reason: "bad-signature",
        message:
          "signature does not verify (over this chain's id and the body: signed for another chain, by another key, or altered)",
      };
    return { ok: true, request: req };
  }

  /**
   * The admission checks for a block at `height`; `atApply`: the signature of a request admitted
   * here is not checked again.
   */
  private check(bytes: Uint8Array, atApply: boolean, height: bigint): AdmissionVerdict {
    const s = this.signed(bytes, atApply);
    if (!s.ok) return s;
    const req = s.request;
    const life = checkLifetime(req.validUntil, height);
    if (life) return { ok: false, id: req.id, ...life };
    if (this.decidedIds.has(req.id))
      return { ok: false, id: req.id, reason: "replay", message: "request already decided" };
    return { ok: true, request: req };
  }

  /** Applies a committed block and seals its root. */
  applyBlock(height: bigint, requests: readonly Uint8Array[]): BlockOutcome {
    const run = this.startBlock(height, requests);
    run.step(requests.length);
    return run.finish();
  }

  /**
   * Applies a committed block a few requests at a time (`step`), so that a shell can do other
   * work between steps; `finish` seals it. The receipts and the root do not depend on how the
   * block is cut. One block at a time: until `finish`, the tree holds a state inside the block,
   * which must not be served (nor may another block start).
   */
  startBlock(height: bigint, requests: readonly Uint8Array[]): BlockRun {
    expects(!this.running, "a block is already being applied");
    expects(height > this.sealedHeight, "blocks are applied in height order");
    expects(requests.length <= TOB_MAX_BLOCK_REQUESTS, "a decided block is within the block bound");
    const startTime = this.history.now;
    this.running = true;
    this.evicted = [];
    this.member = null;
    this.decided = [];
    this.modules = [];
    this.operations = [];
    this.changes = [];
    this.blockGas = 0n;
    const receipts: Receipt[] = [];
    let next = 0;
    let finished = false;
    return {
      get done() {
        return next >= requests.length;
      },
      step: (max: number): void => {
        invariant(!finished, "the block is finished");
        const end = Math.min(requests.length, next + Math.max(1, max));
        for (; next < end; next++) receipts.push(this.applyOne(height, next, requests[next]!));
      },
      finish: (): BlockOutcome => {
        invariant(!finished && next >= requests.length, "the block is not fully applied");
        finished = true;
        this.running = false;
        const root = this.history.seal();
        this.decidedIds.seal(height);
        this.sealedHeight = height;
        const encodedReceipts = receipts.map(encodeReceipt);
        ensureOutcome(height, receipts, requests.length, this.history.now - startTime);
        return {
          height,
          receipts,
          encodedReceipts,
          receiptTree: ReceiptTree.of(encodedReceipts),
          root,
          timestamp: this.history.now,
          evicted: this.evicted,
          member: this.member,
          decided: this.decided,
          modules: this.modules,
          operations: this.operations,
          changes: this.changes,
          indexRoot: this.index.rootHash(),
        };
      },
    };
  }

  private applyOne(height: bigint, index: number, bytes: Uint8Array): Receipt {
    const a = this.check(bytes, true, height);
    if (!a.ok) return rejected(a.id, height, index, a.reason, a.message, 0n);
    // From here on the request gets its verdict, accepted or not, and it is final: the same
    // bytes are a replay until they expire.
    this.remember(a.request);
    if (a.request.kind === "complain") return this.applyComplaint(height, index, a.request);
    if (a.request.kind === "member") return this.applyMember(height, index, a.request);
    const req = a.request;
    const no = (reason: ReceiptReason, message: string, gasUsed = 0n) =>
      rejected(req.id, height, index, reason, message, gasUsed);

    let proof: DecodedProof;
    try {
      proof = decodeProof(req.proof);
    } catch (e) {
      return no("bad-proof", e instanceof ArborError ? e.message : String(e));
    }
    const opPath = keyPath(req.op);
    const paths = req.touched.map(keyPath);
    const op = provenState(proof.root, opPath);
    // A proof that shows the operation's record pins that version (checked for compatibility
    // like a touched record); one that does not runs the module the record holds now.
    const checked = req.touched.includes(req.op) || !op.covered ? paths : [...paths, opPath];
    const verdict = this.history.check(proof.root, proof.rootLabel, checked);
    if (!verdict.ok) return no(verdict.reason, `${verdict.reason} for ${describePath(req, verdict.path)}`);

    const module = this.moduleOf(req.op, op);
    if (typeof module === "string") return no("op-missing", module);
    const { code, codeHash } = module;
    const records: TouchedRecord[] = [];
    for (let i = 0; i < req.touched.length; i++) {
      const s = provenState(proof.root, paths[i]!);
      if (s.covered && s.present && s.value === null)
        return no("value-not-in-proof", `${req.touched[i]} is only a hash in the proof`);
      records.push({ key: req.touched[i]!, value: s.covered && s.present ? s.value : null });
    }
    // Counted by the limit the caller declared, not the gas used (a leader packs blocks by the
    // limits, so a correct leader's block never meets this; only a faulty one's is cut here), or
    // by its module's size if more: compiling a module the cache no longer holds is not metered.
    const weight = requestWeight(req.gasLimit, code.length);
    if (this.blockGas + weight > BLOCK_GAS_BUDGET)
      return no(
        "block-gas-full",
        `a weight of ${weight} would take the block's gas past ${BLOCK_GAS_BUDGET} (${this.blockGas} taken)`,
      );
    this.blockGas += weight;
    let result: ReturnType<Executor["execute"]>;
    try {
      result = this.executor.execute({
        opKey: req.op,
        code,
        codeHash,
        records,
        args: req.args,
        caller: req.caller,
        gasLimit: req.gasLimit,
      });
    } catch (e) {
      // The executor refuses inputs that break its contract; admission already bounds them, so
      // this is a defence: the apply loop must never throw on a request.
      if (e instanceof ArborError) return no("malformed-request", e.message);
      throw e;
    }
    if (!result.ok) return no(result.reason, result.message, result.gasUsed);
    const book = this.code.plan(result.writes);
    if (book === null)
      return no(
        "code-book-full",
        `the modules written would take the code book past its bound`,
        result.gasUsed,
      );
    this.history.apply(proof.root, checked, result.writes, req.id);
    if (this.keyIndex)
      this.changes.push(
        ...recordWrites(this.index, result.writes, { height, index, requestId: req.id, signer: req.caller }),
      );
    this.code.apply(book);
    this.modules.push(...book.modules);
    this.operations.push(...book.operations);
    return {
      status: "accepted",
      requestId: req.id,
      height,
      index,
      gasUsed: result.gasUsed,
      timestamp: BigInt(this.history.now),
      writesDigest: sha256(encodeWrites(result.writes)),
    };
  }

  /** Size of the module the operation table names for `opKey` now (undefined: none). */
  moduleBytes(opKey: string): number | undefined {
    const hash = this.code.operation(opKey);
    return hash && this.code.get(hash)?.length;
  }

  /**
   * The module a request runs: the one its proof shows for the operation's record (carried, or
   * named by value hash and taken from the code book), else the one the record holds now (the
   * operation table). A string says why there is none (`op-missing`).
   */
  private moduleOf(opKey: string, op: ProvenState): { code: Uint8Array; codeHash: Uint8Array } | string {
    if (op.covered) {
      if (!op.present) return `the proof shows no record ${opKey}`;
      const code = op.value ?? this.code.get(op.valueHash);
      if (code === undefined) return `${opKey} holds no module this ledger has seen written`;
      return { code, codeHash: op.valueHash };
    }
    const codeHash = this.code.operation(opKey);
    const code = codeHash && this.code.get(codeHash);
    if (!codeHash || !code) return `${opKey} holds no operation module`;
    return { code, codeHash };
  }

  private remember(req: AnySignedRequest): void {
    this.decidedIds.add(req.id, req.validUntil);
    this.decided.push({ id: req.id, validUntil: req.validUntil });
  }

  /**
   * A MEMBER request: judged by member-apply.ts against the membership context; an accepted one
   * writes the member records of the system domain (the ledger writes them, not an operation)
   * and is reported with the block, which changes the validator set from a later height.
   */
  private applyMember(height: bigint, index: number, req: SignedMember): Receipt {
    const no = (reason: ReceiptReason, message: string) =>
      rejected(req.id, height, index, reason, message, 0n);
    const ctx = this.trust?.membership;
    if (!this.trust || !ctx) return no("member-refused", "this chain does not take membership changes");
    let proof: DecodedProof;
    try {
      proof = decodeProof(req.proof);
    } catch (e) {
      return no("bad-proof", e instanceof ArborError ? e.message : String(e));
    }
    const busy = this.member !== null || this.evicted.length > 0;
    const v = judgeMemberChange(
      req,
      proof,
      height,
      busy,
      ctx,
      this.trust.validatorsAt(height),
      this.trust.chain,
      this.verifier,
      (paths) => this.history.check(proof.root, proof.rootLabel, paths),
    );
    if (!v.ok) return no(v.reason, v.message);
    return this.applySystemWrites(height, index, req, proof, v.paths, v.writes, () => {
      this.member = v.outcome;
    });
  }

  /** Applies writes the ledger itself makes (system records) and the accepted receipt. */
  private applySystemWrites(
    height: bigint,
    index: number,
    req: AnySignedRequest,
    proof: DecodedProof,
    paths: readonly Uint8Array[],
    writes: readonly { key: string; value: Uint8Array | null }[],
    done: () => void,
  ): Receipt {
    this.history.apply(proof.root, paths, writes, req.id);
    if (this.keyIndex)
      this.changes.push(
        ...recordWrites(this.index, writes, { height, index, requestId: req.id, signer: req.caller }),
      );
    // System records are not modules: a key that held one leaves the operation table.
    for (const w of writes) {
      const cleared = this.code.clear(w.key);
      if (cleared) this.operations.push(cleared);
    }
    done();
    return {
      status: "accepted",
      requestId: req.id,
      height,
      index,
      gasUsed: 0n,
      timestamp: BigInt(this.history.now),
      writesDigest: sha256(encodeWrites(writes)),
    };
  }

  /**
   * A COMPLAIN: the evidence must prove misbehaviour of a current node, and the proof must show
   * that node not yet evicted. Then `.arbor/evicted/<id>` is written (by the system: the domain
   * rule binds operations, not the ledger) and the node is reported evicted for this block.
   */
  private applyComplaint(height: bigint, index: number, req: SignedComplaint): Receipt {
    const no = (reason: ReceiptReason, message: string) =>
      rejected(req.id, height, index, reason, message, 0n);
    if (!this.trust) return no("bad-evidence", "this chain does not accept complaints");
    const verdict = verifyEvidence(req.evidence, this.trust);
    if (!verdict.ok) return no("bad-evidence", verdict.reason);
    const key = evictedKey(verdict.accused);
    let proof: DecodedProof;
    try {
      proof = decodeProof(req.proof);
    } catch (e) {
      return no("bad-proof", e instanceof ArborError ? e.message : String(e));
    }
    const path = keyPath(key);
    const v = this.history.check(proof.root, proof.rootLabel, [path]);
    if (!v.ok) return no(v.reason, `${v.reason} for ${key}`);
    const s = provenState(proof.root, path);
    if (s.covered && s.present) return no("already-evicted", `node ${verdict.accused} is already evicted`);
    if (this.evicted.includes(verdict.accused))
      return no("already-evicted", `node ${verdict.accused} is already evicted`);
    if (this.member !== null)
      return no("eviction-refused", "this block changed the membership already: complain again");
    const refused = this.trust.refuseEviction?.(height, [...this.evicted, verdict.accused]);
    if (refused) return no("eviction-refused", refused);
    const value = new Writer(80).u64(height).raw(verdict.offence).raw(sha256(req.evidence)).finish();
    return this.applySystemWrites(height, index, req, proof, [path], [{ key, value }], () => {
      this.evicted.push(verdict.accused);
    });
  }
}

/**
 * What a sealed block guarantees: one receipt per request, in order, all of this block, and the
 * logical time advanced by one per accepted request (rejected ones change no record).
 */
function ensureOutcome(
  height: bigint,
  receipts: readonly Receipt[],
  requests: number,
  advanced: number,
): void {
  ensures(receipts.length === requests, "one receipt per request");
  let accepted = 0;
  for (let i = 0; i < receipts.length; i++) {
    const r = receipts[i]!;
    ensures(r.height === height && r.index === i, "receipts are of this block, in request order");
    if (r.status === "accepted") accepted++;
  }
  ensures(advanced === accepted, "the logical time advances once per accepted request");
}

function rejected(
  id: Uint8Array,
  height: bigint,
  index: number,
  reason: ReceiptReason,
  message: string,
  gasUsed: bigint,
): Receipt {
  return {
    status: "rejected",
    requestId: id,
    height,
    index,
    gasUsed,
    reason,
    message: boundReceiptMessage(message),
  };
}

function describePath(req: SignedRequest, path: Uint8Array | undefined): string {
  if (path === undefined) return "the proof";
  const all = [...req.touched, req.op];
  return all.find((k) => bytesEqual(keyPath(k), path)) ?? "a key";
}
