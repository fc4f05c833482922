// The consensus core: a pure, synchronous state machine in the shape of etcd's raft. Inputs go in
// through step() (tick, message, propose, applied, setValidators); out comes one Step whose persist
// batch must be made durable before its sends and deliveries are released. Jolteon / DiemBFT-v4:
// rotating leaders, votes to the next leader, two-chain commit, timeout certificates for view change.
// See docs/consensus.md for the protocol and its safety argument.

import { bytesEqual } from "../../common/bytes.js";
import { ArborError, LimitError, ensures, expects, invariant } from "../../common/errors.js";
import { Writer } from "../../common/codec.js";
import { sha256 } from "../../common/hash.js";
import { TOB_GENESIS_TAG } from "../../common/tags.js";
import {
  TOB_DELIVER_WINDOW,
  TOB_LEADER_CACHE,
  TOB_LEADER_FAILURE_WINDOW,
  TOB_MAX_BLOCK_REQUESTS,
  TOB_MAX_EVIDENCE_PER_STEP,
  TOB_MAX_GOSSIP_REQUESTS,
  TOB_GOSSIP_MESSAGE_BYTES,
  TOB_MAX_INPUTS_PER_STEP,
  TOB_MAX_LOCAL_EVENTS_PER_STEP,
  TOB_MAX_REJECTS_PER_STEP,
  TOB_MAX_SCHEDULED_EPOCHS,
  TOB_MAX_SYNC_BLOCKS,
  TOB_RETAINED_BLOCKS,
  TOB_MAX_VOTE_ROUNDS_AHEAD,
  TOB_RETAINED_EPOCH_TAILS,
} from "../../common/limits.js";
import { EpochCerts } from "./certs.js";
import { proposalSigningBytes, timeoutSigningBytes, voteSigningBytes, type Signer } from "./crypto.js";
import type { SignatureVerifier } from "../../common/signature-verifier.js";
import { activeValidators, leaderAmong } from "./leaders.js";
import { CommittedChain, type Delivery } from "./committed-chain.js";
import { makeStep, type Effects, type Equivocation, type Rejected, type Send, type Step } from "./output.js";
import { RequestPool, blockDigests, requestDigest, type Pending } from "./pool.js";
import { WEIGHTLESS, gasAhead, pack, type PackCandidate, type RequestWeigher } from "./packing.js";
import { key, reject } from "./reject.js";
import type { EpochState, EpochTail, SafetyState, Schedule } from "./state.js";
import { answerFrom, certifiedPrefix } from "./sync.js";
import { BlockTree, type Root } from "./tree.js";
import type { Block, Message, QC, TC, Timeout, Vote } from "./types.js";
import { ValidatorSet, peerIdOf, type PeerId } from "./validators.js";
import { computeBlockId, decodeMessage, encodeMessage } from "./wire.js";
import { TOB_MAX_MESSAGE_BYTES } from "../../common/limits.js";

export interface Timing {
  /** Ticks a round lasts before this node times out, with no backoff. */
  readonly baseTimeoutTicks: number;
  /** Timeouts double per round without a QC, up to 2^maxBackoff times the base. */
  readonly maxBackoff: number;
  /** Least ticks between two catch-up requests to the same peer. */
  readonly syncRetryTicks: number;
  /** Requests still pending after this many ticks are gossiped again. */
  readonly regossipTicks: number;
  /**
   * An idle node (nothing to order) runs no round timer; instead it asks one peer, in turn, for
   * catch-up this often, so a node that missed the end of the last burst still learns it.
   */
  readonly idleSyncTicks: number;
  /**
   * Longest a heavy request is kept out of our proposals that carry light ones (packing.ts): past
   * it, it rides with them, so a steady stream of light requests cannot starve it.
   */
  readonly heavyWaitTicks: number;
}

export const DEFAULT_TIMING: Timing = {
  baseTimeoutTicks: 20,
  maxBackoff: 3,
  syncRetryTicks: 10,
  regossipTicks: 200,
  idleSyncTicks: 100,
  heavyWaitTicks: 100,
};

export interface CoreConfig {
  /** Distinguishes networks; covered by every signature. */
  readonly networkId: Uint8Array;
  readonly signer: Signer;
  readonly verifier: SignatureVerifier;
  /** The epoch-0 validator set (genesis). */
  readonly genesisValidators: readonly Uint8Array[];
  readonly timing?: Partial<Timing>;
  /** Most requests a proposal of ours carries (≤ TOB_MAX_BLOCK_REQUESTS). */
  readonly maxBlockRequests?: number;
  /**
   * The fill wait: a leader whose proposal would carry fewer requests than this, while the chain it
   * extends still has uncommitted requests (a burst is on, more are likely coming), holds it until
   * a `fill` input or its next tick, whichever is first (the shell sends `fill` a bounded time
   * later). Idle clusters never wait: a lone request extends a chain without requests. 0 or unset:
   * propose at once.
   */
  readonly fillRequests?: number;
  /** How our proposals weigh requests (packing.ts); unset: oldest first, no gas counted. */
  readonly weigher?: RequestWeigher;
  /**
   * Delivered blocks kept in memory to answer catch-up (default TOB_RETAINED_BLOCKS, at least
   * TOB_MAX_SYNC_BLOCKS); older ones are answered from the shell's storage. Tests lower it.
   */
  readonly retainedBlocks?: number;
}

/** What a restarted node hands back to the core: exactly what it persisted, plus the app's progress. */
export interface Restored {
  readonly safety: SafetyState;
  readonly epoch: EpochState;
  /** The last delivered blocks, ascending (at least TOB_DEDUP_WINDOW + TOB_DELIVER_WINDOW of them if the chain is that long). */
  readonly ledger: readonly Block[];
  /** Highest height the application has durably applied. */
  readonly appliedHeight: number;
  /** Stored uncommitted blocks (any order; those that no longer link are ignored). */
  readonly tree?: readonly Block[];
  /**
   * The duplicate filter's record: by height, the digests (latin1 strings) of the requests each
   * block delivered, for the heights of the window. Where a height has none (a store written
   * before these were kept), its block's requests are filtered again by replaying the tail.
   */
  readonly fresh?: ReadonlyMap<number, readonly string[]>;
}

export type Input =
  | { readonly type: "tick" }
  | { readonly type: "message"; readonly from: PeerId; readonly bytes: Uint8Array }
  /** Requests submitted to this node (by clients): pooled, gossiped, proposed when we lead. */
  | { readonly type: "propose"; readonly requests: readonly Uint8Array[] }
  /** The application has applied every delivered block up to `height`. */
  | { readonly type: "applied"; readonly height: number }
  /** The fill wait is over: a proposal held for more requests goes out now (CoreConfig.fillRequests). */
  | { readonly type: "fill" }
  /**
   * The validator set changes at `fromHeight` (see reconfigHeight). With `restore`, a restarted
   * application re-announces a change it persisted: one the consensus already knows or already
   * made is a no-op, one it lost (a crash between the two writes) is scheduled again.
   */
  | {
      readonly type: "setValidators";
      readonly fromHeight: number;
      readonly validators: readonly Uint8Array[];
      readonly restore?: boolean;
    };

/**
 * The height from which a validator-set change decided while applying block `h` takes effect. Any
 * height at least this large is deterministic: no node can have delivered it yet.
 */
export function reconfigHeight(h: number): number {
  return h + TOB_DELIVER_WINDOW + 1;
}

/** Id of the genesis block (height 0) of a network, from its id and first validator set. */
export function genesisIdOf(networkId: Uint8Array, validators: readonly Uint8Array[]): Uint8Array {
  const w = new Writer(64 + 32 * validators.length)
    .string(TOB_GENESIS_TAG)
    .bytes(networkId)
    .varint(validators.length);
  for (const v of validators) w.raw(v);
  return sha256(w.finish());
}

export interface Status {
  readonly epoch: number;
  /** Height of the committed block the current epoch builds on. */
  readonly epochStartHeight: number;
  readonly round: number;
  /**
   * The validator this node expects to lead its current round (the leader for a block extending
   * its high QC), or null while it lacks that block.
   */
  readonly leader: PeerId | null;
  readonly highQCRound: number;
  readonly lastVotedRound: number;
  readonly committedHeight: number;
  readonly deliveredHeight: number;
  readonly appliedHeight: number;
  readonly pending: number;
  readonly treeBlocks: number;
  readonly isValidator: boolean;
  /**
   * Since it started, this node has seen that it holds the cluster's chain: a live proposal
   * extended a block it holds, a peer's catch-up answer ended at its chain, or f+1 catch-up polls
   * in a row went unanswered (peers answer whenever they hold more). Not a safety property: a
   * node uses it to say when it has caught up (`arbor node --join`).
   */
  readonly caughtUp: boolean;
}

type Local =
  { readonly kind: "vote"; readonly vote: Vote } | { readonly kind: "timeout"; readonly timeout: Timeout };

export class TobCore {
  readonly me: PeerId;
  private readonly timing: Timing;
  private readonly maxBlockRequests: number;
  private readonly fillRequests: number;
  /** Round whose proposal is held for more requests, and the round whose fill wait is over. */
  private fillHeld = -1;
  private fillOver = -1;
  private now = 0;

  // Epoch.
  private es!: EpochState;
  private set!: ValidatorSet;
  private certs!: EpochCerts;
  private myIndex = -1;

  // Safety (persisted) and pacemaker (volatile).
  private safety!: SafetyState;
  private round = 0;
  private deadline = 0;
  private myTimeout: Timeout | null = null;
  /** Round of the QC that last committed blocks with requests (see maybePropose). */
  private announceRound = -1;

  // Blocks and certificates of the current epoch.
  private tree!: BlockTree;
  private readonly proposals = new Map<number, Block>();
  /** A valid proposal of the current round whose parent had not arrived yet: retried when it does. */
  private waiting: { block: Block; tc: TC | null; from: PeerId } | null = null;
  private readonly votes = new Map<number, Map<number, Vote>>();
  /** Per round kept in `votes` (same bound), the signers caught voting twice in it. */
  private readonly equivocators = new Map<number, Set<number>>();
  private readonly timeouts = new Map<number, Timeout>();
  private witness: { child: Block; qc: QC } | null = null;
  /** Eligible leaders after each recently seen block (by id; null: round-robin over all). */
  private readonly eligible = new Map<string, { parentRound: number; active: number[] | null }>();

  private readonly ledger: CommittedChain;
  private readonly pool: RequestPool;

  // Catch-up.
  private readonly asked = new Map<PeerId, number>();
  private syncPeer: PeerId | null = null;
  private cursor: number | null = null;
  /** Tick of the last catch-up poll (a starting node polls at once), and the validator index polled last. */
  private lastPoll = Number.NEGATIVE_INFINITY;
  private pollIndex = 0;
  /** Status.caughtUp, and the unanswered polls in a row that can set it. */
  private caughtUp = false;
  private silentPolls = 0;
  private answeredSincePoll = false;

  // The step being built.
  private local: Local[] = [];
  private safetyDirty = false;
  private epochDirty = false;
  private outBlocks: Block[] = [];
  private outFresh: Uint8Array[] = [];
  private outTree: Block[] = [];
  private treeFloor: number | null = null;
  private sends: Send[] = [];
  /** Requests to gossip, sent once at the end of the step (one message for many submissions). */
  private gossipOut: Uint8Array[] = [];
  private deliveries: Delivery[] = [];
  private evidence: Equivocation[] = [];
  private rejected: Rejected[] = [];
  private awaitingRelease = false;

  constructor(
    private readonly cfg: CoreConfig,
    restored?: Restored,
  ) {
    this.me = peerIdOf(cfg.signer.publicKey);
    this.timing = { ...DEFAULT_TIMING, ...cfg.timing };
    this.maxBlockRequests = Math.min(cfg.maxBlockRequests ?? TOB_MAX_BLOCK_REQUESTS, TOB_MAX_BLOCK_REQUESTS);
    this.fillRequests = Math.min(cfg.fillRequests ?? 0, this.maxBlockRequests);
    this.pool = new RequestPool(cfg.weigher);
    if (restored) {
      const es = restored.epoch;
      const last = restored.ledger[restored.ledger.length - 1];
      const first = restored.ledger[0];
      const base = first
        ? { id: first.parentId, height: first.height - 1 }
        : { id: es.genesisId, height: es.genesisHeight };
      this.ledger = new CommittedChain(
        base,
        restored.ledger,
        restored.appliedHeight,
        this.retainedBlocks,
        restored.fresh,
      );
      let root: Root = { id: es.genesisId, height: es.genesisHeight, round: 0 };
      if (last && last.height > es.genesisHeight) {
        invariant(last.epoch === es.epoch, "ledger top belongs to the current epoch");
        root = { id: last.id, height: last.height, round: last.round };
      }
      this.enterEpoch(es, root);
      if (restored.safety.epoch === es.epoch) {
        this.safety = { ...restored.safety, highQC: this.certs.trust(restored.safety.highQC) };
      }
      // Our own stored blocks: validated before we stored them, so their certificates are trusted.
      const stored = [...(restored.tree ?? [])]
        .filter((b) => b.epoch === es.epoch)
        .sort((a, b) => a.height - b.height);
      for (const b of stored) {
        if (b.height <= root.height || !this.tree.position(b.parentId)) continue;
        this.tree.insert(b);
        this.tree.certify(this.certs.trust(b.qc));
      }
      for (const b of stored) {
        const qc = this.certs.known(b.round, b.id);
        if (qc) this.tree.certify(qc);
      }
      this.tree.certify(this.safety.highQC);
      for (const b of stored) if (this.tree.get(b.id)) this.tryCommit(b.id);
      this.enterRound(
        Math.max(
          this.safety.highQC.round + 1,
          (this.safety.highTC?.round ?? 0) + 1,
          this.safety.lastVotedRound,
          1,
        ),
      );
    } else {
      const genesisId = genesisIdOf(cfg.networkId, cfg.genesisValidators);
      this.ledger = new CommittedChain({ id: genesisId, height: 0 }, [], 0, this.retainedBlocks);
      const es: EpochState = {
        epoch: 0,
        validators: cfg.genesisValidators.map((k) => k.slice()),
        genesisId,
        genesisHeight: 0,
        schedules: [],
        tails: [],
      };
      this.enterEpoch(es, { id: genesisId, height: 0, round: 0 });
      this.epochDirty = true;
      this.safetyDirty = true;
      this.enterRound(1);
      // No lastPoll: a node without stored state polls at once like a restarted one, since an
      // empty data directory may be a wiped node of a running chain, not a new chain.
    }
  }

  // ---- public surface ------------------------------------------------------------------------

  step(input: Input): Step {
    return this.stepAll([input]);
  }

  /**
   * Several inputs in one step: one persist batch covers them all and nothing leaves the node
   * before it is durable, so a shell under load pays one fsync for a whole queue of inputs.
   */
  stepAll(inputs: readonly Input[]): Step {
    expects(!this.awaitingRelease, "step() before the previous step's effects were released");
    expects(inputs.length <= TOB_MAX_INPUTS_PER_STEP, "inputs per step are bounded");
    const before = this.safety;
    for (const input of inputs) this.apply(input);
    const step = this.finishStep();
    ensureSafetyKept(before, this.safety, step);
    return step;
  }

  private apply(input: Input): void {
    try {
      switch (input.type) {
        case "tick":
          this.onTick();
          break;
        case "message":
          this.onMessage(input.from, input.bytes);
          break;
        case "propose":
          this.onSubmit(input.requests);
          break;
        case "applied":
          this.ledger.applied(input.height);
          break;
        case "fill":
          this.fillOver = this.fillHeld;
          break;
        case "setValidators":
          this.onSetValidators(input.fromHeight, input.validators, input.restore === true);
          break;
      }
    } catch (e) {
      if (!(e instanceof ArborError)) throw e;
      this.noteReject(input.type === "message" ? input.from : null, e);
    }
    this.drain();
  }

  status(): Status {
    return {
      epoch: this.es.epoch,
      epochStartHeight: this.es.genesisHeight,
      round: this.round,
      leader: this.leaderIdOf(this.round, this.safety.highQC.blockId),
      highQCRound: this.safety.highQC.round,
      lastVotedRound: this.safety.lastVotedRound,
      committedHeight: this.ledger.committedHeight,
      deliveredHeight: this.ledger.deliveredHeight,
      appliedHeight: this.ledger.appliedHeight,
      pending: this.pool.size,
      treeBlocks: this.tree.size,
      isValidator: this.myIndex >= 0,
      caughtUp: this.caughtUp,
    };
  }

  /** A proposal of the current round is held for more requests: the shell owes a `fill` input. */
  get filling(): boolean {
    return this.fillHeld === this.round && this.fillOver !== this.round;
  }

  /**
   * The current epoch as a node starting from a snapshot needs it: without pending changes (it
   * learns them again from its store's schedule) and without the tails of earlier epochs (which
   * only serve laggards). The same on every correct node in this epoch.
   */
  epochBase(): EpochState {
    return { ...this.es, schedules: [], tails: [] };
  }

  /** The validators of the current epoch, in order. */
  validators(): readonly Uint8Array[] {
    return this.es.validators;
  }

  /**
   * What the shell needs to answer catch-up from its storage for heights below `retainedFrom`:
   * the current epoch, the kept tails of earlier epochs, and whether a peer is known.
   */
  catchUpView(): {
    readonly retainedFrom: number;
    readonly epoch: number;
    tail(epoch: number): EpochTail | undefined;
    knows(peer: PeerId): boolean;
  } {
    return {
      retainedFrom: this.ledger.retainedFrom,
      epoch: this.es.epoch,
      tail: (e) => this.es.tails.find((t) => t.epoch === e),
      knows: (p) => this.isKnownPeer(p),
    };
  }

  private get retainedBlocks(): number {
    const n = this.cfg.retainedBlocks ?? TOB_RETAINED_BLOCKS;
    expects(Number.isInteger(n) && n >= TOB_MAX_SYNC_BLOCKS, "retained blocks cover one catch-up answer");
    return n;
  }

  // ---- step plumbing -------------------------------------------------------------------------

  private noteReject(from: PeerId | null, e: ArborError): void {
    if (this.rejected.length < TOB_MAX_REJECTS_PER_STEP)
      this.rejected.push({ from, code: e.code, message: e.message });
  }

  private finishStep(): Step {
    this.flushGossip();
    const dirty =
      this.safetyDirty ||
      this.epochDirty ||
      this.outBlocks.length > 0 ||
      this.outTree.length > 0 ||
      this.treeFloor !== null;
    const persist = dirty
      ? {
          safety: this.safetyDirty ? this.safety : null,
          epoch: this.epochDirty ? this.es : null,
          blocks: this.outBlocks,
          fresh: this.outFresh,
          tree: this.outTree,
          treeFloor: this.treeFloor,
        }
      : null;
    const effects: Effects = { sends: this.sends, deliveries: this.deliveries, evidence: this.evidence };
    const rejected = this.rejected;
    this.safetyDirty = this.epochDirty = false;
    this.outBlocks = [];
    this.outFresh = [];
    this.outTree = [];
    this.treeFloor = null;
    this.sends = [];
    this.deliveries = [];
    this.evidence = [];
    this.rejected = [];
    this.awaitingRelease = true;
    return makeStep(persist, rejected, effects, () => {
      this.awaitingRelease = false;
    });
  }

  /** Self-addressed events, then delivery, epoch change and proposing, until quiet (bounded). */
  private drain(): void {
    for (let i = 0; i < TOB_MAX_LOCAL_EVENTS_PER_STEP; i++) {
      const ev = this.local.shift();
      try {
        if (ev) {
          if (ev.kind === "vote") this.onVote(ev.vote, true);
          else this.addTimeout(ev.timeout);
          continue;
        }
        const progressed =
          this.deliver() || this.maybeSwitchEpoch() || this.retryWaiting() || this.maybePropose();
        if (!progressed) return;
      } catch (e) {
        if (!(e instanceof ArborError)) throw e;
        this.noteReject(this.me, e);
      }
    }
  }

  private send(to: PeerId | readonly PeerId[], m: Message): void {
    const list = (typeof to === "string" ? [to] : to).filter((p) => p !== this.me);
    if (list.length > 0) this.sends.push({ to: list, bytes: encodeMessage(m), kind: m.kind });
  }

  private broadcast(m: Message): void {
    this.send(this.set.ids, m);
  }

  private setSafety(s: Partial<SafetyState>): void {
    this.safety = { ...this.safety, ...s };
    this.safetyDirty = true;
  }

  // ---- epochs --------------------------------------------------------------------------------

  private enterEpoch(es: EpochState, root: Root): void {
    this.es = es;
    this.set = new ValidatorSet(es.validators);
    this.certs = new EpochCerts(this.cfg.networkId, this.cfg.verifier, es.epoch, this.set, es.genesisId);
    this.myIndex = this.set.indexOf(this.me);
    this.tree = new BlockTree(root);
    this.safety = { epoch: es.epoch, lastVotedRound: 0, highQC: this.certs.genesisQC(), highTC: null };
    this.tree.certify(this.safety.highQC);
    this.round = 0;
    this.myTimeout = null;
    this.proposals.clear();
    this.votes.clear();
    this.equivocators.clear();
    this.timeouts.clear();
    this.witness = null;
    this.eligible.clear();
    this.waiting = null;
    this.announceRound = -1;
    this.cursor = null;
    this.asked.clear();
  }

  private onSetValidators(fromHeight: number, validators: readonly Uint8Array[], restore: boolean): void {
    const set = new ValidatorSet(validators);
    if (restore && Number.isSafeInteger(fromHeight)) {
      // Already made: the current epoch starts at or after this change's boundary.
      if (fromHeight - 1 <= this.es.genesisHeight) return;
      const known = this.es.schedules.find((x) => x.fromHeight === fromHeight);
      if (known) {
        if (new ValidatorSet(known.validators).equals(set)) return;
        throw new LimitError("tob/reconfig-conflict", `another validator change is known at ${fromHeight}`);
      }
      // Lost: its epoch's last block not delivered yet, so scheduling it now is what every other
      // node did (the application persisted it with the block that decided it).
      if (this.ledger.deliveredHeight >= fromHeight - 1)
        throw new LimitError("tob/reconfig-missed", `delivered ${fromHeight - 1} without the change`);
    }
    const min = restore
      ? this.ledger.deliveredHeight + 2
      : this.ledger.appliedHeight + TOB_DELIVER_WINDOW + 2;
    if (!Number.isSafeInteger(fromHeight) || fromHeight < min)
      throw new LimitError(
        "tob/reconfig-too-soon",
        `validator change at ${fromHeight}; earliest deterministic height is ${min}`,
      );
    const last = this.es.schedules[this.es.schedules.length - 1];
    if (last && fromHeight <= last.fromHeight) {
      if (last.fromHeight === fromHeight && new ValidatorSet(last.validators).equals(set)) return; // replayed after restart
      throw new LimitError(
        "tob/reconfig-order",
        `validator change at ${fromHeight} not after ${last.fromHeight}`,
      );
    }
    if (this.es.schedules.length >= TOB_MAX_SCHEDULED_EPOCHS)
      throw new LimitError("tob/reconfig-full", "too many scheduled changes");
    const s: Schedule = { fromHeight, validators: set.keys };
    this.es = { ...this.es, schedules: [...this.es.schedules, s] };
    this.epochDirty = true;
  }

  /** Ends the epoch once its last block (the one below the next schedule) is delivered. */
  private maybeSwitchEpoch(): boolean {
    const s = this.es.schedules[0];
    if (!s) return false;
    const last = s.fromHeight - 1;
    if (this.ledger.deliveredHeight < last) return false;
    invariant(this.ledger.deliveredHeight === last, "delivery stops at the epoch's last block");
    const w = this.witness;
    invariant(w, "the epoch's last block was committed in this incarnation");
    const blocks = [...this.ledger.discardAbove(last), w.child];
    invariant(
      blocks.length === 1 || bytesEqual(blocks[blocks.length - 1]!.parentId, blocks[blocks.length - 2]!.id),
      "tail links",
    );
    const tail: EpochTail = { epoch: this.es.epoch, lastHeight: last, blocks, qc: w.qc };
    const next: EpochState = {
      epoch: this.es.epoch + 1,
      validators: s.validators,
      genesisId: this.ledger.deliveredId,
      genesisHeight: last,
      schedules: this.es.schedules.slice(1),
      tails: [...this.es.tails, tail].slice(-TOB_RETAINED_EPOCH_TAILS),
    };
    this.enterEpoch(next, { id: next.genesisId, height: last, round: 0 });
    this.epochDirty = this.safetyDirty = true;
    this.enterRound(1);
    return true;
  }

  private isKnownPeer(p: PeerId): boolean {
    return this.set.has(p) || this.es.schedules.some((s) => s.validators.some((k) => peerIdOf(k) === p));
  }

  // ---- leaders ------------------------------------------------------------------------------

  /**
   * The leader of `round` for a block extending `parentId` (leader reputation, leaders.ts), or
   * null if that block is unknown here. Nodes extending the same block agree on it.
   */
  private leaderOf(round: number, parentId: Uint8Array): number | null {
    const k = key(parentId);
    let e = this.eligible.get(k);
    if (e === undefined) {
      const chain = this.chainTo(parentId);
      if (!chain) return null;
      const parentRound = chain.length > 0 ? chain[chain.length - 1]!.round : 0;
      e = { parentRound, active: activeValidators(this.set.n, chain) };
      if (this.eligible.size >= TOB_LEADER_CACHE) this.eligible.clear();
      this.eligible.set(k, e);
    }
    return leaderAmong(round, this.set.n, e.parentRound, e.active);
  }

  private leaderIdOf(round: number, parentId: Uint8Array): PeerId | null {
    const i = this.leaderOf(round, parentId);
    return i === null ? null : this.set.ids[i]!;
  }

  /**
   * The last TOB_LEADER_FAILURE_WINDOW blocks of this epoch ending at `id`, oldest first: uncommitted ones
   * from the tree, then committed ones from the ledger. Null if `id` is neither in the tree nor
   * committed here.
   */
  private chainTo(id: Uint8Array): Block[] | null {
    const out: Block[] = [];
    let b = this.tree.get(id);
    if (!b && !this.tree.isRoot(id)) return null;
    let h = this.tree.root.height;
    while (b && out.length < TOB_LEADER_FAILURE_WINDOW) {
      out.push(b);
      h = b.height - 1;
      b = this.tree.get(b.parentId);
    }
    for (; out.length < TOB_LEADER_FAILURE_WINDOW && h > this.es.genesisHeight; h--) {
      const c = this.ledger.blockAt(h);
      if (!c || c.epoch !== this.es.epoch) break;
      out.push(c);
    }
    return out.reverse();
  }

  // ---- pacemaker -----------------------------------------------------------------------------

  private timeoutTicks(): number {
    const since = Math.max(0, this.round - this.safety.highQC.round - 1);
    return this.timing.baseTimeoutTicks * 2 ** Math.min(since, this.timing.maxBackoff);
  }

  private enterRound(r: number): void {
    if (r <= this.round) return;
    this.round = r;
    this.myTimeout = null;
    this.deadline = this.now + this.timeoutTicks();
    for (const k of this.proposals.keys()) if (k < r - 1) this.proposals.delete(k);
    for (const k of this.votes.keys()) if (k < r - 1) this.votes.delete(k);
    for (const k of this.equivocators.keys()) if (k < r - 1) this.equivocators.delete(k);
  }

  private onTick(): void {
    this.now++;
    // The fill wait lasts at most until the next tick (a shell that never sends `fill` still proposes).
    this.fillOver = this.fillHeld;
    if (!this.hasWork()) {
      // Idle: there is nothing to order, so no view change. The round stays open and its leader
      // proposes the moment a request arrives; the timer starts afresh when work appears. A slow
      // poll replaces the timeouts as the way a node that missed the last commit learns it.
      this.deadline = this.now + this.timeoutTicks();
      if (this.now - this.lastPoll >= this.timing.idleSyncTicks) this.poll();
    } else if (this.now >= this.deadline) {
      const again = this.myTimeout !== null;
      this.localTimeout();
      this.deadline = this.now + this.timeoutTicks();
      // The block our high QC names is still missing: ask again.
      if (!this.tree.position(this.safety.highQC.blockId) && this.syncPeer) this.requestSync(this.syncPeer);
      // A whole period after giving up on this round and still no TC: the others may be idle in a
      // later round (they committed what we wait for), so ask one of them, in turn.
      else if (again) this.poll();
    }
    if (this.now % this.timing.regossipTicks === 0) this.regossip();
  }

  /**
   * Whether this node needs the cluster to make progress: it holds a pending request, the chain
   * to its high QC carries requests not yet committed, the epoch's last block is not committed,
   * or it lacks the block its high QC certifies. Only then does its round timer run. Any pending
   * request at a correct node keeps the timer running, so a faulty leader cannot stall it.
   */
  private hasWork(): boolean {
    if (this.pool.size > 0) return true;
    const s = this.es.schedules[0];
    if (s && this.tree.root.height < s.fromHeight - 1) return true;
    const hqc = this.safety.highQC;
    if (!this.tree.position(hqc.blockId)) return true;
    return this.tree.path(hqc.blockId).some((b) => b.requests.length > 0);
  }

  /**
   * Asks the next validator (round-robin, so a faulty one costs one turn) for catch-up from our
   * committed height. Paced by its callers, so it bypasses the per-peer limit of requestSync.
   */
  private poll(): void {
    if (this.lastPoll !== Number.NEGATIVE_INFINITY) {
      this.silentPolls = this.answeredSincePoll ? 0 : this.silentPolls + 1;
      // f+1 distinct peers had nothing past our height (polls go round-robin): one is correct.
      if (this.silentPolls > this.set.n - this.set.quorum) this.caughtUp = true;
    }
    this.answeredSincePoll = false;
    this.lastPoll = this.now;
    const ids = this.set.ids;
    for (let k = 0; k < ids.length; k++) {
      this.pollIndex = (this.pollIndex + 1) % ids.length;
      const p = ids[this.pollIndex]!;
      if (p === this.me) continue;
      const fromHeight = this.cursor ?? this.tree.root.height + 1;
      return this.send(p, { kind: "syncRequest", epoch: this.es.epoch, fromHeight });
    }
  }

  /** Signs (or re-sends) a timeout for the current round; from then on we never vote in it. */
  private localTimeout(): void {
    if (this.myIndex < 0 || this.round < this.safety.lastVotedRound) return;
    let t = this.myTimeout;
    if (!t || t.highQC.round !== this.safety.highQC.round) {
      const hqc = this.safety.highQC;
      const sig = this.cfg.signer.sign(
        timeoutSigningBytes(this.cfg.networkId, this.es.epoch, this.round, hqc.round),
      );
      const lastTC =
        this.safety.highTC && this.safety.highTC.round === this.round - 1 ? this.safety.highTC : null;
      t = { epoch: this.es.epoch, round: this.round, highQC: hqc, lastTC, signer: this.myIndex, sig };
      this.myTimeout = t;
      if (this.safety.lastVotedRound < this.round) this.setSafety({ lastVotedRound: this.round });
    }
    this.broadcast({ kind: "timeout", timeout: t });
    this.local.push({ kind: "timeout", timeout: t });
  }

  private addTimeout(t: Timeout): void {
    if (t.round < this.round) return;
    const prev = this.timeouts.get(t.signer);
    if (prev && (prev.round > t.round || (prev.round === t.round && prev.highQC.round >= t.highQC.round)))
      return;
    this.timeouts.set(t.signer, t);
    let count = 0;
    for (const x of this.timeouts.values()) if (x.round === t.round) count++;
    // Bracha-style echo: f+1 timeouts in our round mean a correct node gave up on it; join it.
    if (t.round === this.round && count >= this.set.weak && !this.myTimeout) this.localTimeout();
    if (count >= this.set.quorum) {
      const parts = [...this.timeouts.values()]
        .filter((x) => x.round === t.round)
        .sort((a, b) => a.signer - b.signer);
      let high = parts[0]!.highQC;
      for (const x of parts) if (x.highQC.round > high.round) high = x.highQC;
      const tc: TC = {
        epoch: this.es.epoch,
        round: t.round,
        entries: parts.map((x) => ({ signer: x.signer, hqcRound: x.highQC.round, sig: x.sig })),
        highQC: high,
      };
      this.onTC(tc);
    }
  }

  private onTC(tc: TC): void {
    if (!this.safety.highTC || tc.round > this.safety.highTC.round) this.setSafety({ highTC: tc });
    this.onQC(tc.highQC, null);
    this.enterRound(tc.round + 1);
  }

  // ---- certificates and commit ---------------------------------------------------------------

  /** A verified QC of this epoch: certify, maybe commit, raise the high QC, advance the round. */
  private onQC(qc: QC, from: PeerId | null): void {
    this.tree.certify(qc);
    if (qc.round > this.safety.highQC.round) this.setSafety({ highQC: qc });
    if (this.tree.position(qc.blockId)) this.tryCommit(qc.blockId);
    else if (qc.round > this.tree.root.round && from) {
      this.syncPeer = from;
      this.requestSync(from);
    }
    this.enterRound(qc.round + 1);
  }

  /**
   * Two-chain rule: a certified block B' whose parent B has round B'.round - 1 commits B and all
   * its ancestors.
   */
  private tryCommit(childId: Uint8Array): void {
    const child = this.tree.get(childId);
    if (!child) return;
    const qc = this.tree.qcOf(childId);
    if (!qc) return;
    const parent = this.tree.get(child.parentId);
    if (!parent || child.round !== parent.round + 1) return;
    const committed = this.tree.commit(parent);
    this.ledger.enqueue(committed);
    this.witness = { child, qc };
    if (committed.some((b) => b.requests.length > 0)) this.announceRound = qc.round;
    for (const k of this.proposals.keys()) if (k <= parent.round) this.proposals.delete(k);
  }

  /** Inserts a block whose own QC is already processed; picks up a certificate that came first. */
  private insertBlock(b: Block): void {
    if (!this.tree.insert(b)) return;
    this.outTree.push(b);
    this.tree.certify(b.qc);
    this.tryCommit(b.parentId);
    const own = this.certs.known(b.round, b.id);
    if (own) {
      this.tree.certify(own);
      this.tryCommit(b.id);
    }
  }

  /** Processes the held proposal once its parent is known (or drops it once its round is past). */
  private retryWaiting(): boolean {
    const w = this.waiting;
    if (!w) return false;
    if (w.block.round !== this.round || w.block.epoch !== this.es.epoch) {
      this.waiting = null;
      return false;
    }
    if (!this.tree.position(w.block.parentId)) return false;
    this.waiting = null;
    this.onProposal(w.block, w.tc, w.from);
    return true;
  }

  // ---- delivery ------------------------------------------------------------------------------

  private deliver(): boolean {
    let progressed = false;
    for (const d of this.ledger.reemit()) this.deliveries.push(d);
    const s = this.es.schedules[0];
    const end = s ? s.fromHeight - 1 : Number.MAX_SAFE_INTEGER;
    for (let b = this.ledger.next(end); b; b = this.ledger.next(end)) {
      const d = this.ledger.deliver();
      this.outBlocks.push(b);
      this.outFresh.push(this.ledger.freshBytes(b.height));
      this.deliveries.push(d);
      for (const dg of blockDigests(b)) this.pool.remove(dg);
      this.treeFloor = b.height;
      progressed = true;
    }
    return progressed;
  }

  // ---- messages ------------------------------------------------------------------------------

  private onMessage(from: PeerId, bytes: Uint8Array): void {
    if (!this.isKnownPeer(from))
      reject("tob/unknown-peer", `message from non-validator ${from.slice(0, 16)}`);
    if (bytes.length > TOB_MAX_MESSAGE_BYTES) reject("tob/too-large", `message of ${bytes.length} bytes`);
    const m = decodeMessage(bytes);
    switch (m.kind) {
      case "requests":
        return this.onRequests(m.requests);
      case "syncRequest":
        return this.onSyncRequest(from, m.epoch, m.fromHeight);
    }
    const epoch =
      m.kind === "proposal"
        ? m.block.epoch
        : m.kind === "vote"
          ? m.vote.epoch
          : m.kind === "timeout"
            ? m.timeout.epoch
            : m.epoch;
    if (epoch > this.es.epoch) {
      this.requestSync(from);
      reject("tob/future-epoch", `message of epoch ${epoch} in epoch ${this.es.epoch}`);
    }
    if (epoch < this.es.epoch) reject("tob/old-epoch", `message of epoch ${epoch} in epoch ${this.es.epoch}`);
    switch (m.kind) {
      case "proposal":
        return this.onProposal(m.block, m.tc, from);
      case "vote":
        return this.onVote(m.vote, false);
      case "timeout":
        return this.onTimeout(m.timeout, from);
      case "syncResponse":
        return this.onSyncResponse(from, m.blocks, m.qc, m.more);
    }
  }

  private onProposal(b: Block, tc: TC | null, from: PeerId): void {
    if (b.round < this.round) {
      // Its votes overtook it here and we aggregated its QC: keep the block, since our next
      // proposal extends it (the QC vouches for its content: correct voters validated it).
      if (this.certs.known(b.round, b.id) && !this.tree.get(b.id) && this.tree.position(b.parentId))
        this.insertBlock(b);
      reject("tob/stale", `proposal for round ${b.round} in round ${this.round}`);
    }
    this.certs.proposal(b);
    const digests = blockDigests(b);
    if (new Set(digests).size !== digests.length) reject("tob/duplicate-request", "block repeats a request");
    for (const r of b.requests) if (r.length === 0) reject("tob/request-size", "empty request");
    const qc = this.certs.qc(b.qc);
    const tcv = tc ? this.certs.tc(tc) : null;
    if (!bytesEqual(b.parentId, qc.blockId))
      reject("tob/bad-parent", "block's qc does not certify its parent");
    this.onQC(qc, from);
    if (tcv) this.onTC(tcv);
    const prev = this.proposals.get(b.round);
    if (prev && !bytesEqual(prev.id, b.id)) {
      // The proposal we took for this round passed the leader check; another author's is not ours.
      if (prev.author !== b.author) reject("tob/not-leader", `second author for round ${b.round}`);
      this.addEvidence(
        "double-proposal",
        b.round,
        b.author,
        { kind: "proposal", block: prev, tc: null },
        { kind: "proposal", block: b, tc: null },
      );
      // The leader of this round is proven faulty: give the round up now rather than when its
      // timer expires (a timeout is always safe; with f+1 of them the others join, and a TC
      // follows within a message delay instead of a whole round timeout).
      if (b.round === this.round && !this.myTimeout) this.localTimeout();
      reject("tob/equivocation", `second proposal for round ${b.round}`);
    }
    if (b.round !== this.round)
      reject("tob/unjustified-round", `proposal for round ${b.round} in round ${this.round}`);
    if (this.ledger.full) reject("tob/backpressure", "too many committed blocks await delivery");
    if (!this.tree.position(b.parentId)) {
      // Proposals of consecutive rounds come from different leaders over different streams, so
      // the child may overtake its parent: keep it, and vote once the parent is in. Its leader is
      // checked then (it depends on the parent's chain); until then the first one held is kept.
      if (this.waiting?.block.round === b.round && this.waiting.block.author !== b.author)
        reject("tob/missing-parent", `parent of round ${b.round} unknown`);
      this.waiting = { block: b, tc, from };
      this.syncPeer = from;
      this.requestSync(from);
      reject("tob/missing-parent", `parent of round ${b.round} unknown`);
    }
    if (b.author !== this.leaderOf(b.round, b.parentId))
      reject("tob/not-leader", `block of round ${b.round} by ${b.author}`);
    this.insertBlock(b);
    this.caughtUp = true;
    this.proposals.set(b.round, b);
    this.adopt(b);
    this.maybeVote(b, qc, tcv);
  }

  /**
   * Jolteon voting rule: only in a round above every round we voted or timed out in, and only if
   * the block extends the previous round's QC, or follows a TC and extends a QC at least as high as
   * every QC the TC's signers reported (so it extends anything that could have been committed).
   */
  private maybeVote(b: Block, qc: QC, tc: TC | null): void {
    if (this.myIndex < 0 || b.round <= this.safety.lastVotedRound) return;
    const direct = b.round === qc.round + 1;
    const viaTC = tc !== null && b.round === tc.round + 1 && qc.round >= tc.highQC.round;
    if (!direct && !viaTC) return;
    this.setSafety({ lastVotedRound: b.round });
    const sig = this.cfg.signer.sign(voteSigningBytes(this.cfg.networkId, b.epoch, b.round, b.id));
    const vote: Vote = { epoch: b.epoch, round: b.round, blockId: b.id, signer: this.myIndex, sig };
    const next = this.leaderIdOf(b.round + 1, b.id);
    invariant(next !== null, "the block voted for is in the tree");
    if (next === this.me) this.local.push({ kind: "vote", vote });
    else this.send(next, { kind: "vote", vote });
  }

  private onVote(v: Vote, trusted: boolean): void {
    // The next leader depends on the block voted for; a vote that overtook its block is kept (a
    // quorum of them is a valid QC whoever gathers it).
    const next = this.leaderOf(v.round + 1, v.blockId);
    if (next !== null && next !== this.myIndex) reject("tob/not-next-leader", `vote of round ${v.round}`);
    if (v.round + 1 < this.round) return;
    if (v.round > this.round + TOB_MAX_VOTE_ROUNDS_AHEAD)
      reject("tob/vote-too-far", `vote for round ${v.round}`);
    let byRound = this.votes.get(v.round);
    const prev = byRound?.get(v.signer);
    // Before any signature check: a copy of a vote already counted teaches nothing, and a signer
    // proven to have voted twice in this round has given its evidence (further votes of it there
    // would each cost a verification and prove nothing new).
    const twice = this.equivocators.get(v.round);
    if (!trusted && prev && (bytesEqual(prev.blockId, v.blockId) || twice?.has(v.signer))) return;
    if (!trusted) this.certs.vote(v);
    if (!byRound) this.votes.set(v.round, (byRound = new Map()));
    if (prev) {
      if (twice) twice.add(v.signer);
      else this.equivocators.set(v.round, new Set([v.signer]));
      if (!bytesEqual(prev.blockId, v.blockId))
        this.addEvidence(
          "double-vote",
          v.round,
          v.signer,
          { kind: "vote", vote: prev },
          { kind: "vote", vote: v },
        );
      return;
    }
    byRound.set(v.signer, v);
    if (this.certs.known(v.round, v.blockId)) return;
    const same = [...byRound.values()].filter((x) => bytesEqual(x.blockId, v.blockId));
    if (same.length < this.set.quorum) return;
    same.sort((a, b) => a.signer - b.signer);
    const qc = this.certs.trust({
      epoch: v.epoch,
      round: v.round,
      blockId: v.blockId,
      votes: same.map((x) => ({ signer: x.signer, sig: x.sig })),
    });
    this.onQC(qc, null);
  }

  private onTimeout(t: Timeout, from: PeerId): void {
    // Stale and teaching us nothing: drop before paying for signature checks.
    if (t.round < this.round && t.highQC.round <= this.safety.highQC.round && !t.lastTC) return;
    const tv = this.certs.timeout(t);
    this.onQC(tv.highQC, from);
    if (tv.lastTC) this.onTC(tv.lastTC);
    this.addTimeout(tv);
  }

  private addEvidence(
    kind: Equivocation["kind"],
    round: number,
    signer: number,
    a: Message,
    b: Message,
  ): void {
    if (this.evidence.length >= TOB_MAX_EVIDENCE_PER_STEP) return;
    this.evidence.push({
      kind,
      epoch: this.es.epoch,
      round,
      signer: this.set.ids[signer]!,
      first: encodeMessage(a),
      second: encodeMessage(b),
    });
  }

  // ---- requests ------------------------------------------------------------------------------

  /** A client's submission (or retry): pooled, and gossiped again even if we already held it. */
  private onSubmit(requests: readonly Uint8Array[]): void {
    const out: Uint8Array[] = [];
    for (const r of requests) {
      const d = key(requestDigest(r));
      if (this.ledger.isRecent(d)) continue;
      try {
        if (this.pool.has(d)) this.pool.markLocal(d);
        else this.pool.add(r, this.now, true, d);
        out.push(r);
      } catch (e) {
        if (!(e instanceof ArborError)) throw e;
        this.noteReject(null, e);
      }
    }
    this.gossip(out);
  }

  /**
   * Requests seen in a valid proposal become pending here too: if that block is never certified
   * (its leader's successor is faulty, say), the next correct leader proposes them itself.
   */
  private adopt(b: Block): void {
    const digests = blockDigests(b);
    for (let i = 0; i < digests.length; i++) {
      const d = digests[i]!;
      if (this.pool.has(d) || this.ledger.isRecent(d)) continue;
      try {
        this.pool.add(b.requests[i]!, this.now, false, d);
      } catch (e) {
        if (!(e instanceof LimitError)) throw e;
        // Pool (or its heavy share) full: the request is still in the block; lighter ones may fit.
      }
    }
  }

  private gossip(reqs: readonly Uint8Array[]): void {
    for (const r of reqs) this.gossipOut.push(r);
  }

  /** Broadcasts the step's gossip in bounded messages, ahead of the step's other sends. */
  private flushGossip(): void {
    if (this.gossipOut.length === 0) return;
    const protocol = this.sends;
    this.sends = [];
    let batch: Uint8Array[] = [];
    let bytes = 0;
    for (const r of this.gossipOut) {
      if (
        batch.length >= TOB_MAX_GOSSIP_REQUESTS ||
        (batch.length > 0 && bytes + r.length > TOB_GOSSIP_MESSAGE_BYTES)
      ) {
        this.broadcast({ kind: "requests", requests: batch });
        batch = [];
        bytes = 0;
      }
      batch.push(r);
      bytes += r.length;
    }
    if (batch.length > 0) this.broadcast({ kind: "requests", requests: batch });
    this.gossipOut = [];
    for (const x of protocol) this.sends.push(x);
  }

  /**
   * Requests pending for a long time are gossiped again — also those we only heard of: the node a
   * client submitted to may have crashed with its pool, and an idle node runs no timer, so the
   * request must reach the others for the cluster to move on to a leader that proposes it.
   */
  private regossip(): void {
    const old: Uint8Array[] = [];
    for (const cls of [this.pool.lightValues(), this.pool.heavyValues()])
      for (const p of cls) {
        if (p.since > this.now - this.timing.regossipTicks || old.length >= TOB_MAX_GOSSIP_REQUESTS) break;
        old.push(p.req);
      }
    this.gossip(old);
  }

  /** Gossiped requests: each that fits is pooled; a refusal (the pool full) is reported once, after the others. */
  private onRequests(requests: readonly Uint8Array[]): void {
    let refused: LimitError | null = null;
    for (const r of requests) {
      const d = key(requestDigest(r));
      if (this.ledger.isRecent(d)) continue;
      try {
        this.pool.add(r, this.now, false, d);
      } catch (e) {
        if (!(e instanceof LimitError)) throw e;
        refused = e;
      }
    }
    if (refused) throw refused;
  }

  // ---- proposing -----------------------------------------------------------------------------

  private maybePropose(): boolean {
    if (this.myIndex < 0 || this.round <= this.safety.lastVotedRound || this.ledger.full) return false;
    const hqc = this.safety.highQC;
    const parent = this.tree.position(hqc.blockId);
    if (!parent || this.leaderOf(this.round, hqc.blockId) !== this.myIndex) return false;
    let tc: TC | null = null;
    if (hqc.round + 1 !== this.round) {
      if (!this.safety.highTC || this.safety.highTC.round !== this.round - 1) return false;
      tc = this.safety.highTC;
    }
    const path = this.tree.path(hqc.blockId);
    const s = this.es.schedules[0];
    const epochEnd = s ? s.fromHeight - 1 : Number.MAX_SAFE_INTEGER;
    const requests = parent.height + 1 > epochEnd ? [] : this.selectRequests(path, parent.height + 1);
    const work =
      requests.length > 0 ||
      path.some((b) => b.requests.length > 0) ||
      (s !== undefined && this.tree.root.height < epochEnd);
    if (!work) {
      this.maybeAnnounce(hqc);
      return false;
    }
    if (
      requests.length > 0 &&
      requests.length < this.fillRequests &&
      this.fillOver !== this.round &&
      path.some((b) => b.requests.length > 0)
    ) {
      this.fillHeld = this.round;
      return false;
    }
    const body = {
      epoch: this.es.epoch,
      epochStartHeight: this.es.genesisHeight,
      round: this.round,
      height: parent.height + 1,
      parentId: hqc.blockId,
      qc: hqc,
      author: this.myIndex,
      requests,
    };
    const id = computeBlockId(body);
    const block: Block = {
      ...body,
      id,
      signature: this.cfg.signer.sign(proposalSigningBytes(this.cfg.networkId, id)),
    };
    this.insertBlock(block);
    this.proposals.set(block.round, block);
    // The proposal goes out before our vote, so the next leader sees the block before its votes.
    this.broadcast({ kind: "proposal", block, tc });
    this.maybeVote(block, hqc, tc);
    invariant(this.safety.lastVotedRound === this.round, "a leader votes for its own proposal");
    return true;
  }

  /**
   * Nothing to propose, but our high QC committed requests and we aggregated it, so nobody else
   * has it: no proposal would carry it, and the others would learn the commit only from a TC. We
   * send it instead as an unsolicited catch-up answer (the certified block and its QC), checked
   * by the receivers like any answer. Once per QC; if it is lost, their timers and polls recover.
   */
  private maybeAnnounce(hqc: QC): void {
    if (this.announceRound !== hqc.round) return;
    this.announceRound = -1;
    const b = this.tree.get(hqc.blockId);
    if (b) this.broadcast({ kind: "syncResponse", epoch: this.es.epoch, blocks: [b], qc: hqc, more: false });
  }

  /**
   * Pending requests not already in the chain we extend nor delivered recently, in the order
   * packing.ts gives them.
   */
  private selectRequests(path: readonly Block[], height: number): Uint8Array[] {
    const inFlight = new Set<string>();
    for (const b of path) for (const d of blockDigests(b)) inFlight.add(d);
    for (const b of this.ledger.queued) for (const d of blockDigests(b)) inFlight.add(d);
    const ledger = this.ledger;
    function* candidates(cls: Iterable<Pending>): Generator<PackCandidate> {
      for (const p of cls) if (!inFlight.has(p.digest) && !ledger.isRecent(p.digest)) yield p;
    }
    const weigher = this.cfg.weigher ?? WEIGHTLESS;
    const ahead = gasAhead([...this.ledger.unapplied(), ...path], weigher);
    return pack(
      { light: candidates(this.pool.lightValues()), heavy: candidates(this.pool.heavyValues()) },
      weigher,
      {
        maxRequests: this.maxBlockRequests,
        ahead,
        height,
        now: this.now,
        heavyWaitTicks: this.timing.heavyWaitTicks,
      },
    );
  }

  // ---- catch-up ------------------------------------------------------------------------------

  private requestSync(peer: PeerId): void {
    if (peer === this.me || !this.isKnownPeer(peer)) return;
    const last = this.asked.get(peer);
    if (last !== undefined && this.now - last < this.timing.syncRetryTicks) return;
    this.asked.set(peer, this.now);
    const fromHeight = this.cursor ?? this.tree.root.height + 1;
    this.send(peer, { kind: "syncRequest", epoch: this.es.epoch, fromHeight });
  }

  /** Answers with our chain from `fromHeight`: committed blocks, then the path to our best certified block. */
  private onSyncRequest(from: PeerId, epoch: number, fromHeight: number): void {
    if (epoch > this.es.epoch) {
      this.requestSync(from);
      return;
    }
    const chain: Block[] = [];
    let tipQC: QC | null = null;
    if (epoch === this.es.epoch) {
      const committed = this.ledger.committedHeight;
      for (let h = fromHeight; h <= committed && chain.length <= TOB_MAX_SYNC_BLOCKS; h++) {
        const b = this.ledger.blockAt(h);
        if (!b || b.epoch !== epoch) break;
        chain.push(b);
      }
      const top = this.tree.topCertified();
      if (
        chain.length === 0
          ? fromHeight > this.tree.root.height
          : chain[chain.length - 1]!.height === this.tree.root.height
      ) {
        for (const b of this.tree.path(top.id)) if (b.height >= fromHeight) chain.push(b);
      }
      tipQC = this.tree.qcOf(top.id) ?? null;
    } else {
      const tail = this.es.tails.find((t) => t.epoch === epoch);
      if (!tail) return;
      for (let h = fromHeight; h <= tail.lastHeight && chain.length <= TOB_MAX_SYNC_BLOCKS; h++) {
        const b = this.ledger.blockAt(h);
        if (!b || b.epoch !== epoch) break;
        chain.push(b);
      }
      const reached =
        chain.length === 0
          ? fromHeight > tail.lastHeight
          : chain[chain.length - 1]!.height === tail.lastHeight;
      if (reached) for (const b of tail.blocks) if (b.height >= fromHeight) chain.push(b);
      tipQC = tail.qc;
    }
    if (chain.length === 0 || chain[0]!.height !== fromHeight) return;
    const a = answerFrom(chain, tipQC);
    if (a.blocks.length === 0 || !a.qc) return;
    this.send(from, { kind: "syncResponse", epoch, blocks: a.blocks, qc: a.qc, more: a.more });
  }

  private onSyncResponse(from: PeerId, blocks: readonly Block[], qc: QC | null, more: boolean): void {
    if (!qc || blocks.length === 0) return;
    this.answeredSincePoll = true;
    const top = this.certs.qc(qc);
    const chain = certifiedPrefix(this.es.epoch, blocks, top);
    const fresh = chain.filter((b) => b.height > this.tree.root.height && !this.tree.get(b.id));
    if (fresh.length > 0 && !this.tree.position(fresh[0]!.parentId)) {
      this.cursor = null;
      reject("tob/sync-unlinked", `answer at height ${fresh[0]!.height} does not extend our chain`);
    }
    for (const b of chain) this.certs.trust(b.qc);
    for (const b of fresh) this.insertBlock(b);
    for (const b of chain) this.onQC(this.certs.trust(b.qc), null);
    this.onQC(top, null);
    if (more) {
      this.cursor = chain[chain.length - 1]!.height + 1;
      this.asked.delete(from);
      this.requestSync(from);
    } else {
      this.cursor = null;
      this.caughtUp = true;
    }
  }
}

/**
 * What every step guarantees about the safety state (the votes a node may cast): within an epoch it
 * only moves forward, and a vote's round is in the step's persist batch, so it is durable before
 * the vote can leave the node (persist before send).
 */
function ensureSafetyKept(before: SafetyState, after: SafetyState, step: Step): void {
  if (after.epoch !== before.epoch) {
    ensures(after.epoch > before.epoch, "epochs only move forward");
    return;
  }
  ensures(after.lastVotedRound >= before.lastVotedRound, "the last voted round never goes back");
  ensures(after.highQC.round >= before.highQC.round, "the highest QC never goes back");
  ensures(
    after.lastVotedRound === before.lastVotedRound || step.persist?.safety === after,
    "a new vote's round is persisted before the vote is sent",
  );
}
