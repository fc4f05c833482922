// Byzantine behaviours. An adversary holds only its own key (so it cannot forge others' signatures)
// but otherwise does anything: equivocates as leader, votes twice or for blocks that do not exist,
// forges signatures, replays and mangles what it hears, or stays silent. It runs an honest core
// underneath so it also looks alive, and rewrites or adds to that core's traffic.

import {
  computeBlockId,
  decodeMessage,
  encodeMessage,
  peerIdOf,
  proposalSigningBytes,
  timeoutSigningBytes,
  voteSigningBytes,
  type Message,
  type QC,
  type TC,
  type Timeout,
  type Send,
  type Signer,
} from "../../../node/tob/core/index.js";
import { concatBytes, toHex } from "../../../node/common/bytes.js";
import { sha256 } from "../../../node/common/hash.js";
import type { Prng } from "./prng.js";

export const BEHAVIOURS = [
  "silent",
  "equivocate",
  "forkLeader",
  "doubleVote",
  "badVotes",
  "forge",
  "replay",
  "garbage",
] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

export interface AdversaryEnv {
  readonly index: number;
  readonly signer: Signer;
  readonly networkId: Uint8Array;
  /** All validators' public keys in genesis order (public knowledge). */
  readonly publicKeys: readonly Uint8Array[];
  readonly rng: Prng;
  send(to: number, bytes: Uint8Array): void;
}

const MEMORY = 256;
/** Rounds of timeouts a forkLeader keeps to build TCs from. */
const TIMEOUT_ROUNDS = 8;

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export class Adversary {
  private readonly heard: Uint8Array[] = [];
  /** Certificates heard, with the height of the block each certifies (to build forks on). */
  private readonly certified: { qc: QC; height: number }[] = [];
  /** Ids (hex) of forks below a TC's high QC and of blocks extending them: forkLeader votes for these. */
  private readonly forks = new Set<string>();
  /** Timeouts heard, by round then signer (forkLeader builds its own TCs from them). */
  private readonly timeouts = new Map<number, Map<number, Timeout>>();
  private readonly ids: string[];

  constructor(
    private readonly env: AdversaryEnv,
    readonly behaviours: ReadonlySet<Behaviour>,
  ) {
    this.ids = env.publicKeys.map(peerIdOf);
  }

  private has(b: Behaviour): boolean {
    return this.behaviours.has(b);
  }

  private others(): number[] {
    return this.ids.map((_, i) => i).filter((i) => i !== this.env.index);
  }

  /** Rewrites the honest core's outgoing traffic. */
  outgoing(s: Send): void {
    if (this.has("silent")) return;
    const targets = s.to.map((p) => this.ids.indexOf(p)).filter((i) => i >= 0);
    if (s.kind === "proposal" && this.has("forkLeader")) {
      // Leading after a TC: propose a block on an older certificate than the TC allows. Correct
      // nodes must refuse it (Jolteon's TC rule); colluders vote for it. Mostly the newest such
      // certificate: its block is the likeliest to be still uncommitted at the receivers, so only
      // the TC rule stands between the fork and their votes. Decisions are rolled per round (see
      // roll), so the twin copies of an identity attack together instead of splitting the votes.
      const m = decodeMessage(s.bytes);
      if (m.kind === "proposal" && m.tc) {
        const b = m.block;
        const tc = this.lowTC(m.tc);
        const limit = tc.highQC.round;
        const older = this.certified.filter((c) => c.qc.epoch === b.epoch && c.qc.round < limit);
        if (older.length > 0) {
          let newest = older[0]!;
          for (const c of older) if (c.qc.round > newest.qc.round) newest = c;
          const base =
            this.roll("base", b.round) < 0.7
              ? newest
              : older[Math.floor(this.roll("pick", b.round) * older.length)]!;
          const body = {
            ...b,
            qc: base.qc,
            parentId: base.qc.blockId,
            height: base.height + 1,
            requests: [sha256(concatBytes(utf8(`fork/${b.round}/`), base.qc.blockId)).subarray(0, 12)],
          };
          const id = computeBlockId(body);
          const fork = {
            ...body,
            id,
            signature: this.env.signer.sign(proposalSigningBytes(this.env.networkId, id)),
          };
          const forkBytes = encodeMessage({ kind: "proposal", block: fork, tc });
          this.backFork(fork.epoch, fork.round, fork.id, targets);
          // Mostly to everyone; otherwise each receiver gets the fork or the honest block.
          const all = this.roll("all", b.round) < 0.8;
          for (const t of targets)
            this.env.send(t, all || this.roll(`to${t}`, b.round) < 0.5 ? forkBytes : s.bytes);
          return;
        }
      }
      // Withhold: the proposal (and with it the QC it carries) reaches one node only. That node may
      // commit on that QC while the others never learn of it and time out: the setting in which a
      // colluder leading next, after that TC, forks below a block already committed somewhere.
      if (m.kind === "proposal" && targets.length > 0 && this.roll("withhold", m.block.round) < 0.3) {
        this.env.send(targets[Math.floor(this.roll("whom", m.block.round) * targets.length)]!, s.bytes);
        return;
      }
    }
    if (s.kind === "timeout" && this.has("forkLeader")) {
      // Lie in timeouts: report an older certificate than the one held, so the next TC's high QC
      // stays low and a fork below the real lock looks allowed (a colluding leader's chance).
      const m = decodeMessage(s.bytes);
      if (m.kind === "timeout") {
        const t = m.timeout;
        let older: QC | null = null;
        for (const c of this.certified)
          if (c.qc.epoch === t.epoch && c.qc.round < t.highQC.round && (!older || c.qc.round > older.round))
            older = c.qc;
        if (older) {
          const sig = this.env.signer.sign(
            timeoutSigningBytes(this.env.networkId, t.epoch, t.round, older.round),
          );
          const lie = encodeMessage({ kind: "timeout", timeout: { ...t, highQC: older, sig } });
          for (const to of targets) this.env.send(to, lie);
          return;
        }
      }
    }
    if (s.kind === "proposal" && this.has("equivocate")) {
      const m = decodeMessage(s.bytes);
      if (m.kind === "proposal") {
        const b = m.block;
        const junk = this.env.rng.bytes(16);
        const body = { ...b, requests: [...b.requests, junk] };
        const id = computeBlockId(body);
        const twin = {
          ...body,
          id,
          signature: this.env.signer.sign(proposalSigningBytes(this.env.networkId, id)),
        };
        const twinBytes = encodeMessage({ kind: "proposal", block: twin, tc: m.tc });
        for (const t of targets) this.env.send(t, this.env.rng.chance(0.5) ? s.bytes : twinBytes);
        return;
      }
    }
    for (const t of targets) this.env.send(t, s.bytes);
  }

  /** Sees every message delivered to it and may react. */
  incoming(bytes: Uint8Array): void {
    if (this.has("silent")) return;
    if (this.heard.length >= MEMORY) this.heard.splice(this.env.rng.int(0, MEMORY - 1), 1);
    this.heard.push(bytes);
    let m: Message;
    try {
      m = decodeMessage(bytes);
    } catch {
      return;
    }
    const n = this.ids.length;
    if (m.kind === "timeout" && this.has("forkLeader")) {
      const t = m.timeout;
      let byRound = this.timeouts.get(t.round);
      if (!byRound) {
        if (this.timeouts.size >= TIMEOUT_ROUNDS) this.timeouts.delete(Math.min(...this.timeouts.keys()));
        this.timeouts.set(t.round, (byRound = new Map()));
      }
      byRound.set(t.signer, t);
    }
    if (m.kind === "proposal" && this.has("forkLeader")) {
      // Collude: vote for any fork below its TC's high QC (ours or another colluder's) and for
      // every block built on one, so a fork needs only the correct votes the TC rule should deny.
      const b = m.block;
      if ((m.tc !== null && b.qc.round < m.tc.highQC.round) || this.forks.has(toHex(b.parentId)))
        this.backFork(b.epoch, b.round, b.id, this.others());
    }
    if (m.kind === "proposal") {
      if (this.certified.length >= MEMORY) this.certified.shift();
      this.certified.push({ qc: m.block.qc, height: m.block.height - 1 });
      const { epoch, round } = m.block;
      const next = (round + 1) % n;
      const vote = (blockId: Uint8Array, signer = this.env.index, forged = false): Uint8Array => {
        const sig = forged
          ? this.env.rng.bytes(64)
          : this.env.signer.sign(voteSigningBytes(this.env.networkId, epoch, round, blockId));
        return encodeMessage({ kind: "vote", vote: { epoch, round, blockId, signer, sig } });
      };
      if (this.has("doubleVote")) {
        this.env.send(next, vote(m.block.id));
        this.env.send(next, vote(this.env.rng.bytes(32)));
      }
      if (this.has("badVotes")) {
        this.env.send(next, vote(this.env.rng.bytes(32)));
        // A validly signed timeout for a far-future round with the (valid) genesis QC of epoch 0.
        const far = round + this.env.rng.int(2, 1000);
        if (epoch === 0) {
          const sig = this.env.signer.sign(timeoutSigningBytes(this.env.networkId, 0, far, 0));
          const hqc = { epoch: 0, round: 0, blockId: m.block.id, votes: [] };
          const msg = encodeMessage({
            kind: "timeout",
            timeout: { epoch: 0, round: far, highQC: hqc, lastTC: null, signer: this.env.index, sig },
          });
          this.env.send(this.env.rng.pick(this.others()), msg);
        }
      }
      if (this.has("forge")) {
        const victim = this.env.rng.int(0, n - 1);
        this.env.send(next, vote(m.block.id, victim, true));
        // A proposal re-signed with garbage, claiming the real leader authored a different block.
        const body = { ...m.block, requests: [this.env.rng.bytes(8)] };
        const id = computeBlockId(body);
        const fake = encodeMessage({
          kind: "proposal",
          block: { ...body, id, signature: this.env.rng.bytes(64) },
          tc: m.tc,
        });
        this.env.send(this.env.rng.pick(this.others()), fake);
      }
    }
    if (m.kind === "timeout" && this.has("forge")) {
      const t = m.timeout;
      const msg = encodeMessage({
        kind: "timeout",
        timeout: { ...t, signer: this.env.rng.int(0, n - 1), sig: this.env.rng.bytes(64) },
      });
      this.env.send(this.env.rng.pick(this.others()), msg);
    }
  }

  /**
   * A TC for the same round as `tc` with the lowest high QC we can make: any quorum of valid
   * timeouts is a valid TC, so we pick the quorum that reported the oldest certificates, our own
   * entry reporting the oldest one we hold. A correct node that gave up on the round holding a
   * newer QC — one that committed a block — is simply left out. Falls back to `tc`.
   */
  private lowTC(tc: TC): TC {
    const heard = [...(this.timeouts.get(tc.round)?.values() ?? [])].filter(
      (t) => t.signer !== this.env.index && t.epoch === tc.epoch,
    );
    const quorum = Math.floor((2 * this.ids.length) / 3) + 1;
    if (heard.length < quorum - 1) return tc;
    heard.sort((a, b) => a.highQC.round - b.highQC.round);
    const chosen = heard.slice(0, quorum - 1);
    let mine = chosen[0]!.highQC;
    for (const c of this.certified)
      if (c.qc.epoch === tc.epoch && c.qc.round < mine.round && c.qc.round > 0) mine = c.qc;
    const sig = this.env.signer.sign(timeoutSigningBytes(this.env.networkId, tc.epoch, tc.round, mine.round));
    const entries = [
      ...chosen.map((t) => ({ signer: t.signer, hqcRound: t.highQC.round, sig: t.sig })),
      { signer: this.env.index, hqcRound: mine.round, sig },
    ].sort((a, b) => a.signer - b.signer);
    const highQC =
      chosen[chosen.length - 1]!.highQC.round >= mine.round ? chosen[chosen.length - 1]!.highQC : mine;
    return highQC.round < tc.highQC.round ? { epoch: tc.epoch, round: tc.round, entries, highQC } : tc;
  }

  /**
   * A number in [0, 1) fixed by the network, this identity, `tag` and `round`: what every copy of
   * a twinned identity decides alike (each copy has its own PRNG stream).
   */
  private roll(tag: string, round: number): number {
    const h = sha256(concatBytes(this.env.networkId, utf8(`/${this.env.index}/${tag}/${round}`)));
    return (((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0) / 2 ** 32;
  }

  /** Remembers a fork block and sends our vote for it to everyone (we cannot tell its next leader). */
  private backFork(epoch: number, round: number, blockId: Uint8Array, to: readonly number[]): void {
    if (this.forks.size >= MEMORY) this.forks.clear();
    this.forks.add(toHex(blockId));
    const sig = this.env.signer.sign(voteSigningBytes(this.env.networkId, epoch, round, blockId));
    const vote = encodeMessage({
      kind: "vote",
      vote: { epoch, round, blockId, signer: this.env.index, sig },
    });
    for (const t of to) this.env.send(t, vote);
  }

  onTick(): void {
    if (this.has("silent")) return;
    const rng = this.env.rng;
    if (this.has("replay") && this.heard.length > 0 && rng.chance(0.2)) {
      this.env.send(rng.pick(this.others()), rng.pick(this.heard));
    }
    if (this.has("garbage") && rng.chance(0.1)) {
      const to = rng.pick(this.others());
      if (this.heard.length > 0 && rng.chance(0.7)) {
        const src = rng.pick(this.heard);
        const b = src.slice(0, rng.chance(0.3) ? rng.int(0, src.length) : src.length);
        for (let k = rng.int(1, 4); k > 0 && b.length > 0; k--)
          b[rng.int(0, b.length - 1)]! ^= 1 << rng.int(0, 7);
        this.env.send(to, b);
      } else this.env.send(to, rng.bytes(rng.int(0, 200)));
    }
  }
}
