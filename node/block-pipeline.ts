// The post-consensus block pipeline: applies each committed block in order, seals it into the
// node's header (node/ledger/seal.ts), commits the store with the block's receipts, decided ids,
// modules and header in one batch, signs the header and hands the signature to certification.
// It owns the state clients are served (root, timestamp, height) and the hash chain of own headers.

import { toHex } from "./common/bytes.js";
import { APPLY_SLICE_MS, APPLY_STEP_REQUESTS, STORE_SYNC_EVERY_BLOCKS } from "./common/limits.js";
import type { Ledger, BlockOutcome } from "./ledger/ledger.js";
import { headerHash, headerSigningMessage, type Header } from "./ledger/header.js";
import { sealHeader, type SealedChange } from "./ledger/seal.js";
import { decidedIdsSlot, encodeDecidedIds } from "./ledger/decided-ids.js";
import type { GenesisNode } from "./ledger/genesis.js";
import {
  MEMBERS_EXTRA_KEY,
  SCHEDULE_EXTRA_KEY,
  encodeMemberState,
  encodeSchedule,
  type Membership,
} from "./membership.js";
import type { MemberOutcome } from "./ledger/member-apply.js";
import { codeRecords } from "./code-book-store.js";
import { indexRecords, pruneValues } from "./index-store.js";
import type { IndexedChange } from "./ledger/key-index.js";
import type { Receipt } from "./ledger/receipt.js";
import { keyPath } from "./store/core/path.js";
import type { HeaderCertifier } from "./certifier.js";
import type { OwnSignature } from "./certification.js";
import type { ReceiptStore } from "./receipt-store.js";
import type { ReceiptBook } from "./receipts.js";
import type { ReadGate } from "./read-gate.js";
import type { LevelStore } from "./store/level-store.js";
import { signWith, type KeyPair } from "./keys.js";
import { failpoint } from "./failpoints.js";
import { reconfigHeight, type Delivery } from "./tob/core/index.js";
import type { Logger } from "./log.js";
import type { MetricsHooks } from "./metrics.js";

/**
 * The state clients are served: the root and timestamp after the last applied block, and the
 * height of the newest header (an empty block has none and changes neither root nor timestamp,
 * so statements keep naming the height before it: every height a client is shown is certified).
 */
export interface ServedView {
  readonly root: Uint8Array;
  readonly timestamp: bigint;
  readonly height: bigint;
}

export interface PipelineDeps {
  readonly chain: Uint8Array;
  readonly me: GenesisNode;
  readonly key: KeyPair;
  readonly store: LevelStore;
  readonly ledger: Ledger;
  readonly membership: Membership;
  readonly certifier: HeaderCertifier;
  readonly receiptStore: ReceiptStore;
  readonly receipts: ReceiptBook;
  readonly reads: ReadGate;
  /** the consensus learns a validator-set change the block decided */
  readonly setValidators: (fromHeight: number, keys: Uint8Array[]) => void;
  /** a membership change this block decided, once committed (peers to dial, prefixes to take on) */
  readonly membershipChanged: (o: MemberOutcome) => void;
  /** the own header signature, to broadcast */
  readonly signed: (s: OwnSignature) => void;
  readonly log: Logger;
  /** counts blocks, their requests' outcomes and times (node/metrics.ts) */
  readonly metrics: MetricsHooks;
  /** what a block's requests used, once applied (what the node's proposals learn from) */
  readonly gasSeen?: (requests: readonly Uint8Array[], receipts: readonly Receipt[]) => void;
  /** blocks back past values stay readable (the genesis retention; 0: forever) */
  readonly retention: number;
  /**
   * Called right after a block with a header is committed, before anything else is written
   * (node/snapshot/snapshot-maker.ts): `previous` is the height of the header before it, `epoch`
   * the block's consensus epoch.
   */
  readonly committed?: (height: bigint, previous: bigint, epoch: number) => void;
}

export class BlockPipeline {
  private servedView: ServedView;
  private applied: bigint;
  private lastHeaderHash: Uint8Array;
  /** The newest block's key changes while its batch is being written (queries read them). */
  private unsaved: readonly IndexedChange[] = [];
  /** The background prune of old receipts and headers; the next commit waits for it. */
  private pruning: Promise<void> = Promise.resolve();

  constructor(
    private readonly d: PipelineDeps,
    start: { view: ServedView; lastHeaderHash: Uint8Array },
  ) {
    this.servedView = start.view;
    this.applied = d.store.height;
    this.lastHeaderHash = start.lastHeaderHash;
  }

  get unsavedChanges(): readonly IndexedChange[] {
    return this.unsaved;
  }

  get view(): ServedView {
    return this.servedView;
  }

  /** The newest height applied (empty blocks included). */
  get appliedHeight(): bigint {
    return this.applied;
  }

  /** Resolves once the background prune has ended (before the store closes). */
  settled(): Promise<void> {
    return this.pruning;
  }

  /**
   * Applies one committed block, commits the store, signs receipts and the header. A block
   * without requests changes nothing a header commits to but the height: it gets no header, no
   * signature and no certification round (docs/protocol.md §7). The block is applied in slices of
   * at most APPLY_SLICE_MS, yielding to the event loop in between so that consensus messages,
   * admissions and the network keep flowing while a large block runs; the order and the results
   * are those of one synchronous pass. Reads wait for the block's end (ReadGate).
   */
  async apply(d: Delivery): Promise<void> {
    const height = BigInt(d.height);
    if (height <= this.d.store.height) return; // already applied before a restart
    const t0 = performance.now();
    const out = await this.run(height, d);
    this.d.gasSeen?.(d.requests, out.receipts);
    // Set before the waiting reads are let through: until the batch is on disk, they read these.
    this.unsaved = out.changes;
    const applySeconds = (performance.now() - t0) / 1000;
    this.applied = height;
    const previous = this.servedView.height;
    const empty = d.requests.length === 0;
    this.servedView = {
      root: out.root,
      timestamp: BigInt(out.timestamp),
      height: empty ? this.servedView.height : height,
    };
    this.d.reads.blockEnded();
    // Not fsync'd but every STORE_SYNC_EVERY_BLOCKS: the consensus log synced this block before
    // delivering it, and a restarted node replays from there whatever its store lost.
    const sync = height % BigInt(STORE_SYNC_EVERY_BLOCKS) === 0n;
    if (empty) {
      // No header: the store only moves to this height, and the certifier passes over it.
      await this.pruning;
      await this.d.store.commit(height, [], [], sync);
      failpoint("after-commit");
      this.d.certifier.headerless(height);
      return;
    }
    try {
      await this.commitSealed(height, d, out, sync, previous);
    } finally {
      this.unsaved = [];
    }
    const commitSeconds = (performance.now() - t0) / 1000;
    this.d.metrics.blockCommitted({ applySeconds, commitSeconds }, out.receipts);
  }

  private async run(height: bigint, d: Delivery): Promise<BlockOutcome> {
    const run = this.d.ledger.startBlock(height, d.requests);
    this.d.reads.blockStarted();
    try {
      for (let slice = 0; ; slice++) {
        const t0 = performance.now();
        do run.step(APPLY_STEP_REQUESTS);
        while (!run.done && performance.now() - t0 < APPLY_SLICE_MS);
        if (slice === 0) failpoint("apply");
        if (run.done) break;
        await new Promise<void>((r) => setImmediate(r));
      }
      return run.finish();
    } catch (e) {
      this.d.reads.abandon(); // the node is stopping (a failed block is fatal)
      throw e;
    }
  }

  private async commitSealed(
    height: bigint,
    d: Delivery,
    out: BlockOutcome,
    sync: boolean,
    previous: bigint,
  ): Promise<void> {
    const { membership, receiptStore } = this.d;
    // Exactly-once survives restarts: the ids this block applied are as durable as the block. The
    // slot's earlier ids (of height − k × MAX_REQUEST_LIFETIME_BLOCKS) have all expired, so a block
    // that decided none clears it rather than leave them in the store and its snapshots.
    const extras: Array<{ key: string; value: Uint8Array | null }> = [
      {
        key: decidedIdsSlot(height),
        value: out.decided.length > 0 ? encodeDecidedIds(height, out.decided) : null,
      },
    ];
    let change: { fromHeight: bigint; ids: readonly number[] } | null = null;
    let sealedChange: SealedChange | null = null;
    if (out.evicted.length > 0) {
      // Proven misbehaviour: the consensus drops the evicted from a height no node has reached.
      change = membership.evict(out.evicted, BigInt(reconfigHeight(d.height)), height);
      sealedChange = {
        fromHeight: change.fromHeight,
        validators: membership.validatorsAt(change.fromHeight),
      };
      extras.push({ key: SCHEDULE_EXTRA_KEY, value: encodeSchedule(membership.schedule) });
      extras.push({ key: MEMBERS_EXTRA_KEY, value: encodeMemberState(membership.state()) });
    }
    if (out.member) {
      // A decided membership change: validators come or go from a height no node has reached.
      change = membership.change(out.member, BigInt(reconfigHeight(d.height)), height);
      if (change)
        sealedChange = {
          fromHeight: change.fromHeight,
          validators: membership.validatorsAt(change.fromHeight),
        };
      extras.push({ key: SCHEDULE_EXTRA_KEY, value: encodeSchedule(membership.schedule) });
      extras.push({ key: MEMBERS_EXTRA_KEY, value: encodeMemberState(membership.state()) });
    }
    const header: Header = sealHeader({
      chain: this.d.chain,
      outcome: out,
      previous: this.lastHeaderHash,
      validators: membership.validatorsAt(height),
      change: sealedChange,
    });
    // Receipts and the own header go into the block's batch: a crash never leaves one without the other.
    await this.pruning;
    const { records, kept } = await receiptStore.prepare(
      out.receipts,
      out.encodedReceipts,
      out.receiptTree,
      (id) => this.d.receipts.peek(id),
      new Set(out.decided.map((x) => toHex(x.id))),
    );
    records.push(receiptStore.headerRecord(header));
    // The code book is as durable as the block that wrote it: it must never lag the tree.
    records.push(...codeRecords(out.modules, out.operations));
    // So are the index and the key histories: a query must never see a change the tree lacks.
    const partition = this.d.store.history.partition;
    records.push(...indexRecords(height, out.changes, (k) => partition.holdsKey(keyPath(k))));
    await this.d.store.commit(height, extras, records, sync);
    this.d.committed?.(height, previous, d.epoch);
    failpoint("after-commit");
    if (change) {
      failpoint("member-commit");
      const keys = change.ids.map((id) => membership.node(id)!.publicKey);
      this.d.setValidators(Number(change.fromHeight), keys);
      if (out.evicted.length > 0)
        this.d.log.warn("nodes evicted", {
          evicted: out.evicted,
          fromHeight: change.fromHeight,
          validators: change.ids,
        });
    }
    if (out.member) {
      this.d.log.info("membership changed", {
        change: out.member.kind,
        added: out.member.added.map((n) => n.id),
        removed: out.member.removed,
        reassigned: out.member.records.map((n) => ({ id: n.id, prefixes: n.prefixes })),
        ...(change ? { fromHeight: change.fromHeight, validators: change.ids } : {}),
      });
      this.d.membershipChanged(out.member);
    }
    this.lastHeaderHash = headerHash(header);
    const signature = signWith(this.d.key, headerSigningMessage(header));
    this.d.certifier.own(header, this.d.me.id, signature);
    this.d.certifier.forgetBelow(receiptStore.floor(height));
    failpoint("after-sign");
    this.d.signed({ height, hash: this.lastHeaderHash, signature });
    // Served with their inclusion paths; signed only for a client that asks for the early answer.
    for (const k of kept) this.d.receipts.add(k.id, k.proven);
    const windowStart = height - BigInt(this.d.retention);
    this.pruning = receiptStore
      .prune(height)
      .then(() =>
        this.d.retention > 0 && windowStart > 0n ? pruneValues(this.d.store, windowStart) : undefined,
      )
      .catch((e) => this.d.log.warn("pruning failed", { error: String(e) }));
    if (out.receipts.length > 0)
      this.d.log.debug("block applied", { height, requests: out.receipts.length, root: toHex(out.root) });
  }
}
