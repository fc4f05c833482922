// Verified reads: keys grouped by the nodes that hold them, each group answered by a holder whose
// signed statement, proof and (by default) certified root check out, the answers joined into one
// proof against the newest root. Replies a read did not use are checked in the background, so a
// node that lies is caught even when its answers are never the first.

import { bytesEqual, toHex } from "../node/common/bytes.js";
import { ArborError } from "../node/common/errors.js";
import { encodeCertifiedHeader, type CertifiedHeader } from "../node/ledger/header.js";
import { encodeEvidence } from "../node/ledger/evidence.js";
import { ROOT_STATEMENT_DIGEST, type GetStatement } from "../node/ledger/statement.js";
import { sortKeys } from "../node/ledger/request.js";
import { checkKey, keyPath } from "../node/store/core/path.js";
import { MAX_TOUCHED_KEYS } from "../node/common/limits.js";
import { saysLeft, UnavailableError, VerificationError } from "./errors.js";
import type { Deadline } from "./deadline.js";
import { joinAnswers, type ProofAnswer } from "./proofs.js";
import type { Headers } from "./headers.js";
import { READ_HEDGE_MAX_MS } from "./holder-choice.js";
import type { Session } from "./session.js";
import { CROSS_CHECK_EVERY, MAX_CROSS_CHECKS } from "./limits.js";
import type { ReadResult, SignedStatement } from "./types.js";
import { checkReplyProof, readResult, statementHeight, wire } from "./verify.js";
import type { GetReply, StatusReply } from "../proto/gen/arbor/v1/client_pb.js";

/** How long a cross-check's read may take (it is dropped after that). */
const CROSS_CHECK_CALL_MS = 5_000;
/** Pause between two background checks of unused read replies. */
const CROSS_CHECK_INTERVAL_MS = 10;
/** Times a read asks again the partitions whose answers could not be joined to the newest one. */
const JOIN_ROUNDS = 3;
/** Pause between two attempts of a read, growing with each attempt up to READ_RETRY_MAX_MS. */
const READ_RETRY_STEP_MS = 20;
const READ_RETRY_MAX_MS = 200;

/** One holder's verified answer to a read. */
interface Answer {
  readonly answer: ProofAnswer;
  readonly statement: SignedStatement;
}

export class Reads {
  /** Replies not used by a read, waiting to be checked (crossCheck). */
  private readonly crossChecks: Array<() => Promise<void>> = [];
  private crossCheckTimer: NodeJS.Timeout | null = null;
  /** Groups of keys answered so far (every CROSS_CHECK_EVERY-th is cross-checked). */
  private answered = 0;
  /** Holders whose answers have been cross-checked (or asked for it) at least once. */
  private readonly met = new Set<number>();
  /** Nodes with an answer checked against a certified root (bounded by the genesis). */
  private readonly vouched = new Set<number>();
  /** Cross-check reads in flight. */
  private sampling = 0;

  constructor(
    private readonly s: Session,
    private readonly headers: Headers,
  ) {}

  /**
   * A read, retried (stale answers, unjoinable heights, nodes unreachable) while time is left.
   * `hashKeys`: keys (among `keys`) read with their value hash only. `certify` off: for a proof
   * the client only forwards to nodes (which check it against their own roots) — its root is not
   * checked against a certified header, nor waited for; values shown to a user always are.
   */
  async readWithin(
    keys: readonly string[],
    forExecute: boolean,
    dl: Deadline,
    hashKeys: readonly string[] = [],
    certify = true,
  ): Promise<ReadResult> {
    const ks = sortKeys(keys);
    if (ks.length === 0 || ks.length > MAX_TOUCHED_KEYS)
      throw new ArborError("client/bad-keys", `read 1..${MAX_TOUCHED_KEYS} keys`);
    // A key no node could hold fails now (key/empty, key/too-long), not after the retries below.
    for (const k of ks) checkKey(k);
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await this.readOnce(ks, forExecute, dl, hashKeys, certify);
        // An uncertified height is not remembered: it dates later requests (validUntil).
        if ((certify || !this.s.verifyReads) && r.height > this.s.readHeight) this.s.readHeight = r.height;
        return r;
      } catch (e) {
        if (e instanceof VerificationError && e.code !== "client/stale" && e.code !== "client/join-failed")
          throw e;
        // Uncertified answers that do not join may hide a lie: the next attempt certifies them.
        if (e instanceof VerificationError && e.code === "client/join-failed") certify = true;
        const pause = Math.min(READ_RETRY_STEP_MS * attempt, READ_RETRY_MAX_MS);
        if (dl.left <= pause) throw e;
        await dl.sleep(pause);
      }
    }
  }

  private async readOnce(
    keys: string[],
    forExecute: boolean,
    dl: Deadline,
    hashKeys: readonly string[],
    certify: boolean,
  ): Promise<ReadResult> {
    // Group keys by a holder set; ask every holder of a group, keep the first valid answer; no
    // answer older than a receipt this client has seen.
    const byHolders = new Map<string, { holders: number[]; keys: string[]; hashKeys: string[] }>();
    for (const k of keys) {
      const h = this.s.holders(k);
      const id = h.join(",");
      const g = byHolders.get(id) ?? { holders: h, keys: [], hashKeys: [] };
      g.keys.push(k);
      if (hashKeys.includes(k)) g.hashKeys.push(k);
      byHolders.set(id, g);
    }
    const groups = [...byHolders.values()];
    const answers = await Promise.all(
      groups.map((g) =>
        this.firstValid(g.holders, g.keys, forExecute, this.s.floorHeight, dl, false, g.hashKeys, certify),
      ),
    );
    for (let round = 0; ; round++) {
      const joined = joinAnswers(answers.map((a) => a.answer));
      if (joined !== null)
        return readResult(
          keys,
          joined,
          answers.map((a) => a.statement),
        );
      // Answers at one height that do not join have different roots: one of them is false, which
      // an answer not checked against a certified root (certify off) can be. Check them all and
      // read again: the false one's node is caught and left out. (Waiting for the next height
      // instead would wait forever on an idle cluster.)
      if (!certify && new Set(answers.map((a) => a.statement.statement.height)).size === 1)
        return this.readOnce(keys, forExecute, dl, hashKeys, true);
      if (round >= JOIN_ROUNDS)
        throw new VerificationError(
          "client/join-failed",
          "answers from different heights could not be joined",
        );
      // A record beside an older answer's keys changed before the newest answer's height (likely
      // when blocks are busy): only answers at one height join. Ask the other groups for an answer
      // at exactly the newest height; if nodes keep moving past it, the last round asks every
      // group for the next height, which each holder answers as soon as it has applied it (only
      // then: on an idle cluster the next block may be long in coming).
      const top = answers.reduce(
        (h, a) => (a.statement.statement.height > h ? a.statement.statement.height : h),
        0n,
      );
      const target = round < JOIN_ROUNDS - 1 ? top : top + 1n;
      await Promise.all(
        answers.map(async (a, i) => {
          if (a.statement.statement.height !== target)
            answers[i] = await this.firstValid(
              groups[i]!.holders,
              groups[i]!.keys,
              forExecute,
              target,
              dl,
              true,
              groups[i]!.hashKeys,
              certify,
            );
        }),
      );
    }
  }

  /** Notes a holder's failed read; one that says it left the membership is not asked again. */
  private failedRead(id: number, e: unknown, errors: string[], failures: unknown[]): void {
    if (saysLeft(e)) this.s.excluded.add(id);
    errors.push(`node ${id}: ${e instanceof Error ? e.message : String(e)}`);
    failures.push(e);
  }

  /**
   * Asks one holder of `keys` — the fastest so far among those not avoided — and takes its answer
   * if it verifies at `minHeight` or later. Another holder is asked when that one fails (an error,
   * an answer that does not verify or cover the keys) or has not answered within its hedge time
   * (HolderChoice.hedgeMs; the slow call is left to finish, and whichever valid answer comes first
   * is used). Replies are checked one at a time in arrival order. With `exact`, a reply from a
   * node already past `minHeight` is checked only when no holder's reply at exactly `minHeight`
   * verifies: a holder that reaches `minHeight` answers exactly there, and only answers at one
   * height join. Holders this client avoids are asked only when none of the others gives a valid
   * answer, or when the others stay silent past their hedge time. Without `certify`, the answer's
   * root is not checked against a certified header here once its node has been vouched for (its
   * proof is forwarded to nodes that check it); it is checked in the background when sampled.
   */
  private async firstValid(
    holders: number[],
    keys: string[],
    forExecute: boolean,
    minHeight: bigint,
    dl: Deadline,
    exact = false,
    hashKeys: readonly string[] = [],
    certify = true,
  ): Promise<Answer> {
    const errors: string[] = [];
    const failures: unknown[] = [];
    // Without this, a key whose every holder was caught lying (and excluded) would wait forever.
    if (holders.length === 0)
      throw new VerificationError(
        "client/all-holders-excluded",
        `every node holding ${keys[0]}${keys.length > 1 ? " (and more)" : ""} was caught lying`,
      );
    const what = `${keys[0]}${keys.length > 1 ? ` (and ${keys.length - 1} more)` : ""} (nodes ${holders.join(", ")})`;
    dl.waitingFor(
      "client/no-valid-answer",
      () => `no holder of ${what} answered${errors.length ? `: ${errors.join("; ")}` : ""}`,
    );
    const ordered = this.s.penalties.order(this.s.speed.rank(holders));
    /** Holders not avoided, fastest first, not yet asked. */
    const queue = ordered.filter((id) => !this.s.penalties.isAvoided(id));
    /** Avoided holders, asked once the others have all failed. */
    const backup = queue.length === 0 ? [...ordered] : ordered.slice(queue.length);
    const asked: number[] = [];
    return new Promise((resolve, reject) => {
      let waiting = 0;
      /** Calls in flight not yet past their hedge time: while there are none, the next holder is asked. */
      let fresh = 0;
      let checking = false;
      let done = false;
      const replies: Array<{ id: number; reply: GetReply }> = [];
      /** With `exact`: replies from past `minHeight`, checked only if no holder answers exactly there. */
      const later: Array<{ id: number; reply: GetReply }> = [];
      const failed = (id: number, e: unknown) => this.failedRead(id, e, errors, failures);
      const next = (): void => {
        if (done || checking) return;
        const item = replies.shift() ?? (fresh === 0 && queue.length === 0 ? later.shift() : undefined);
        if (item) {
          checking = true;
          this.checkAnswer(item.id, item.reply, keys, minHeight, dl, hashKeys, certify).then(
            (a) => {
              checking = false;
              done = true;
              resolve(a);
              for (const r of [...replies.splice(0), ...later.splice(0)])
                this.crossCheck(r.id, r.reply, keys, minHeight, hashKeys);
              this.sample(item, holders, asked, keys, forExecute, minHeight, hashKeys, certify);
            },
            (e) => {
              checking = false;
              failed(item.id, e);
              // An answer that is no use counts as a slow one: the node is asked later next time.
              this.s.speed.record(item.id, READ_HEDGE_MAX_MS);
              next();
            },
          );
          return;
        }
        if (fresh > 0) return;
        if (queue.length > 0) return ask(queue.shift()!);
        if (backup.length > 0) return ask(backup.shift()!);
        if (waiting > 0) return;
        done = true;
        const stale = errors.every((m) => m.includes("client/stale"));
        // Every holder answered and no answer verified: asking again would not change that.
        const refuted = failures.every((f) => f instanceof VerificationError && f.code !== "client/stale");
        reject(
          stale
            ? new VerificationError("client/stale", errors.join("; "))
            : refuted
              ? new VerificationError(
                  "client/no-valid-answer",
                  `no holder of ${what} answered with a usable proof: ${errors.join("; ")}`,
                )
              : new UnavailableError(
                  "client/no-valid-answer",
                  `no holder of ${what} answered: ${errors.join("; ")}`,
                ),
        );
      };
      const ask = (id: number) => {
        waiting++;
        fresh++;
        asked.push(id);
        const t0 = Date.now();
        let counted = true;
        const release = () => {
          if (counted) fresh--;
          counted = false;
        };
        // Not answered in its usual time: the next holder is asked too (this call is left to finish).
        const hedge = setTimeout(() => {
          if (done || !counted) return;
          this.s.speed.record(id, Date.now() - t0);
          release();
          next();
        }, this.s.speed.hedgeMs(id));
        hedge.unref();
        this.s
          .node(id)
          .get(keys, { forExecute, hashKeys, minHeight, timeoutMs: dl.cap(Infinity) })
          .then(
            (reply) => {
              this.s.speed.record(id, Date.now() - t0);
              if (done) this.crossCheck(id, reply, keys, minHeight, hashKeys);
              else (exact && statementHeight(reply) > minHeight ? later : replies).push({ id, reply });
            },
            (e) => {
              this.s.speed.record(id, READ_HEDGE_MAX_MS);
              failed(id, e);
            },
          )
          .finally(() => {
            clearTimeout(hedge);
            release();
            waiting--;
            next();
          });
      };
      next();
    });
  }

  /**
   * The sampled cross-check after a read's group was answered by `used`: every CROSS_CHECK_EVERY-th
   * answered group (and the first answer of each holder this client has not met) has another
   * holder asked in the background for the same keys, its reply checked against the certified
   * root; on those ticks, an answer used without its certificate (`certify` off) is itself checked
   * too. A holder that lies is caught this way even when it is never the one asked first.
   */
  private sample(
    used: { id: number; reply: GetReply },
    holders: readonly number[],
    asked: readonly number[],
    keys: string[],
    forExecute: boolean,
    minHeight: bigint,
    hashKeys: readonly string[],
    certify: boolean,
  ): void {
    const tick = this.answered++ % CROSS_CHECK_EVERY === 0;
    if (!certify && tick) this.crossCheck(used.id, used.reply, keys, minHeight, hashKeys);
    this.met.add(used.id);
    const others = holders.filter(
      (id) => !asked.includes(id) && !this.s.excluded.has(id) && !this.s.penalties.isAvoided(id),
    );
    const other =
      others.find((id) => !this.met.has(id)) ?? (tick ? others[this.answered % others.length] : undefined);
    if (
      other === undefined ||
      this.sampling >= MAX_CROSS_CHECKS ||
      this.crossChecks.length >= MAX_CROSS_CHECKS
    )
      return;
    this.met.add(other);
    this.sampling++;
    this.s
      .node(other)
      .get(keys, { forExecute, hashKeys, minHeight, timeoutMs: CROSS_CHECK_CALL_MS })
      .then(
        (reply) => this.crossCheck(other, reply, keys, minHeight, hashKeys),
        () => undefined,
      )
      .finally(() => this.sampling--);
  }

  /**
   * Checks, in the background, a reply a read did not use (or used without its certificate, or
   * asked of another holder for the sampled cross-check): a node whose signed
   * root contradicts a certified one is caught (kept as evidence, no longer asked) even when its
   * answers are never the first. At most MAX_CROSS_CHECKS wait and one runs every
   * CROSS_CHECK_INTERVAL_MS, so under load most are dropped rather than compete with the reads;
   * a liar's answer still gets checked whenever it is the first to arrive.
   */
  private crossCheck(
    id: number,
    reply: GetReply,
    keys: string[],
    minHeight: bigint,
    hashKeys: readonly string[],
  ): void {
    if (this.s.excluded.has(id) || this.crossChecks.length >= MAX_CROSS_CHECKS) return;
    this.crossChecks.push(() =>
      this.checkAnswer(id, reply, keys, minHeight, undefined, hashKeys).then(() => undefined),
    );
    if (this.crossCheckTimer) return;
    const run = () => {
      const check = this.crossChecks.shift();
      if (!check) return void (this.crossCheckTimer = null);
      void check()
        .catch(() => undefined)
        .finally(() => {
          this.crossCheckTimer = setTimeout(run, CROSS_CHECK_INTERVAL_MS);
          this.crossCheckTimer.unref();
        });
    };
    this.crossCheckTimer = setTimeout(run, 0);
    this.crossCheckTimer.unref();
  }

  /** Verifies one holder's reply: signature, freshness, proof, and (by default) the certified root. */
  private async checkAnswer(
    id: number,
    r: GetReply,
    keys: string[],
    minHeight: bigint,
    dl?: Deadline,
    hashKeys: readonly string[] = [],
    certify = true,
  ): Promise<Answer> {
    const node = this.s.nodes.find((n) => n.id === id)!;
    const st = this.s.statements.check(node, r.statement, r.signature);
    const floor = minHeight > this.s.floorHeight ? minHeight : this.s.floorHeight;
    if (st.height < floor)
      throw new VerificationError("client/stale", `node ${id} is at height ${st.height}, behind ${floor}`);
    // Signed and valid, yet useless if the proof is malformed, or a stub (or a leaf without its
    // value) stands where an asked record's path ends: the node is avoided for a while, and
    // another holder's answer is used.
    let d;
    try {
      d = checkReplyProof(id, st, r, keys, hashKeys);
    } catch (e) {
      // A proof that does not decode or is not against the signed root is no more use than one
      // that does not cover the keys (and, unsigned, no evidence either): avoided alike.
      this.s.penalties.avoid(id);
      throw e;
    }
    if (d.uncovered !== undefined) {
      this.s.penalties.avoid(id);
      throw new VerificationError(
        "client/not-covered",
        `node ${id}'s proof does not cover ${d.uncovered}`,
        id,
      );
    }
    const signed = this.s.keepEvidence({
      node: id,
      statement: st,
      bytes: r.statement,
      signature: r.signature,
    });
    // A node's root is taken uncertified (for a forwarded proof) only once an answer of that node
    // has checked out against a certified root: a liar's first answer is always caught here.
    if (this.s.verifyReads && (certify || !this.vouched.has(id))) {
      await this.checkCertified(st, id, dl);
      this.vouched.add(id);
    }
    return { answer: { timestamp: st.timestamp, root: d.root, paths: keys.map(keyPath) }, statement: signed };
  }

  /**
   * A node's status, its reported height, timestamp and root checked against the statement it
   * signed (kept, like every signed statement, as potential evidence).
   */
  async nodeStatus(id: number, timeoutMs = 3000): Promise<StatusReply> {
    const node = this.s.nodes.find((n) => n.id === id);
    if (!node) throw new ArborError("client/unknown-node", `no node ${id} in the genesis`);
    const r = await this.s.node(id).status(timeoutMs);
    const st = this.s.statements.check(node, r.statement, r.signature);
    if (
      st.height !== r.height ||
      st.timestamp !== r.timestamp ||
      !bytesEqual(st.root, r.root) ||
      !bytesEqual(st.proofDigest, ROOT_STATEMENT_DIGEST)
    )
      throw new VerificationError("client/bad-statement", `node ${id} reports what it did not sign`, id);
    this.s.keepEvidence({ node: id, statement: st, bytes: r.statement, signature: r.signature });
    return r;
  }

  /** The statement's root must be the certified root at its height (a forged root is caught here). */
  private async checkCertified(st: GetStatement, from: number, dl?: Deadline): Promise<void> {
    if (st.height === 0n) return this.checkGenesisRoot(st, from);
    let cert: CertifiedHeader;
    try {
      cert = await this.headers.certifiedWithin(
        st.height,
        from,
        dl ?? this.s.deadline(undefined, "certifiedHeader"),
      );
    } catch (e) {
      // Light mode keeps only the newest validator set: an answer from before it is too old to check.
      if (e instanceof VerificationError && e.code === "light/before-trusted-set")
        throw new VerificationError("client/stale", `node ${from}: ${e.message}`, from);
      throw e;
    }
    if (!bytesEqual(cert.header.root, st.root)) {
      // Caught lying: keep the proof of it for a complaint, and stop asking this node.
      const signed = this.s.evidence.find(
        (e) => e.node === from && e.statement.height === st.height && bytesEqual(e.statement.root, st.root),
      );
      if (signed)
        this.s.addSuspect(
          from,
          encodeEvidence({
            kind: "forged-statement",
            signed: wire(signed),
            certificate: encodeCertifiedHeader(cert),
          }),
        );
      this.s.excluded.add(from);
      throw new VerificationError(
        "client/forged-root",
        `node ${from} signed root ${toHex(st.root)} at height ${st.height}, certified root is ${toHex(cert.header.root)}`,
        from,
      );
    }
  }

  private async checkGenesisRoot(st: GetStatement, from: number): Promise<void> {
    // Height 0 has no certificate; its root is a function of the genesis document we hold.
    const { genesisRoot } = await import("./genesis-root.js");
    if (!bytesEqual(genesisRoot(this.s.genesis), st.root))
      throw new VerificationError("client/forged-root", `node ${from} signed a wrong genesis root`, from);
  }

  close(): void {
    this.crossChecks.length = 0;
    if (this.crossCheckTimer) clearTimeout(this.crossCheckTimer);
  }
}
