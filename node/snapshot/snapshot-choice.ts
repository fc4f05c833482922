// Choosing the snapshot a joining node syncs from, and the certified header it is checked against.
// Peers' offers are grouped by what they state (height, common part's length and digest); the
// newest statement signed by f+1 validators of its height wins (one of them is correct, so its
// common part is what every correct node holds). The validator set of that height is learned from
// the genesis through certified transitions (a peer may withhold one, never invent one), and the
// height's header must carry 2f+1 of that set's signatures: its root is what the tree part must
// hash to.

import { bytesEqual, toHex } from "../common/bytes.js";
import { SNAPSHOT_MAX_PART_BYTES, SNAPSHOT_WRITE_WAIT_MS } from "../common/limits.js";
import type { SignatureVerifier } from "../common/signature-verifier.js";
import { decodeCertifiedHeader, verifyCertificate, type CertifiedHeader } from "../ledger/header.js";
import {
  vouchingSigners,
  vouchQuorum,
  type SignedSnapshotStatement,
  type SnapshotStatement,
} from "../ledger/snapshot-statement.js";
import { ValidatorSets } from "../ledger/validator-sets.js";
import type { Logger } from "../log.js";
import type { SnapshotPeers } from "./snapshot-peers.js";

/** A snapshot f+1 validators vouch for, and the peers that offer it (with their payload's length). */
export interface Chosen extends SnapshotStatement {
  readonly servers: ReadonlyArray<{ readonly peer: number; readonly totalBytes: bigint }>;
  readonly vouching: readonly number[];
}

interface Group {
  readonly statement: SnapshotStatement;
  readonly signed: SignedSnapshotStatement[];
  readonly servers: Array<{ peer: number; totalBytes: bigint }>;
}

/**
 * Every peer's offers, grouped by statement, newest height first; how many peers answered; and the
 * highest snapshot one of them is writing.
 */
async function gatherOffers(
  peers: SnapshotPeers,
  chain: Uint8Array,
): Promise<{ groups: Group[]; answered: number; writing: bigint }> {
  const groups = new Map<string, Group>();
  const replies = await Promise.allSettled(peers.peers.map((p) => peers.snapshot(p.id, 0n, 0n)));
  let answered = 0;
  let writing = 0n;
  replies.forEach((r, i) => {
    if (r.status !== "fulfilled") return;
    answered++;
    if (r.value.writing > writing) writing = r.value.writing;
    const peer = peers.peers[i]!.id;
    for (const o of r.value.offers) {
      if (o.digest.length !== 32 || o.commonBytes > o.totalBytes) continue;
      const max = BigInt(SNAPSHOT_MAX_PART_BYTES);
      if (o.commonBytes > max || o.totalBytes - o.commonBytes > max) continue;
      const statement = { chain, height: o.height, commonBytes: o.commonBytes, digest: o.digest };
      const id = `${o.height}:${o.commonBytes}:${toHex(o.digest)}`;
      let g = groups.get(id);
      if (!g) groups.set(id, (g = { statement, signed: [], servers: [] }));
      g.signed.push({ ...statement, signer: o.signer, signature: o.signature });
      if (!g.servers.some((s) => s.peer === peer)) g.servers.push({ peer, totalBytes: o.totalBytes });
    }
  });
  const sorted = [...groups.values()].sort((a, b) => (a.statement.height > b.statement.height ? -1 : 1));
  return { groups: sorted, answered, writing };
}

/** Learns the validator-set transitions up to `until` from the first peer whose answer verifies. */
async function learnUntil(
  history: ValidatorSets,
  peers: SnapshotPeers,
  until: bigint,
  log: Logger,
): Promise<void> {
  for (const p of peers.peers) {
    if (history.learnedUpTo >= until) return;
    try {
      const r = await peers.transitions(p.id, history.learnedUpTo, until);
      history.learn(r.headers.map((certificate, i) => ({ certificate, next: r.nextValidators[i]! })));
    } catch (e) {
      log.warn("snapshot sync: a peer's validator transitions were refused", {
        peer: p.id,
        error: String(e),
      });
    }
  }
}

/** One look at the peers' offers (chooseSnapshot). */
interface Look {
  /** the newest snapshot f+1 validators of its height vouch for */
  readonly chosen: Chosen | null;
  /** the highest snapshot a peer is writing (0n: none) */
  readonly writing: bigint;
  /** f+1 peers answered and none offers or writes any: a chain younger than the interval */
  readonly nothing: boolean;
}

/** Looks once at what the peers offer. */
export async function chooseSnapshot(
  peers: SnapshotPeers,
  chain: Uint8Array,
  history: ValidatorSets,
  verifier: SignatureVerifier,
  log: Logger,
): Promise<Look> {
  const { groups, answered, writing } = await gatherOffers(peers, chain);
  const nothing = groups.length === 0 && writing === 0n && answered >= vouchQuorum(peers.peers.length + 1);
  if (groups.length === 0) return { chosen: null, writing, nothing };
  await learnUntil(history, peers, groups[0]!.statement.height, log);
  for (const g of groups) {
    const set = history.setAt(g.statement.height);
    const vouching = vouchingSigners(g.signed, set, verifier);
    if (vouching.length >= vouchQuorum(set.length))
      return { chosen: { ...g.statement, servers: g.servers, vouching }, writing, nothing: false };
  }
  return { chosen: null, writing, nothing: false };
}

/**
 * The snapshot to sync from: the newest vouched one, asked again every second while there is none
 * (for up to `waitMs`), and while a peer writes a newer one (for up to SNAPSHOT_WRITE_WAIT_MS: it
 * spares applying every block since the older one). Null when there is none to take.
 */
export async function awaitSnapshot(
  peers: SnapshotPeers,
  chain: Uint8Array,
  history: ValidatorSets,
  verifier: SignatureVerifier,
  log: Logger,
  waitMs: number,
): Promise<{ chosen: Chosen | null; nothing: boolean }> {
  const t0 = Date.now();
  let told = 0n;
  for (;;) {
    const look = await chooseSnapshot(peers, chain, history, verifier, log);
    const newer = look.writing > (look.chosen?.height ?? 0n);
    if ((look.chosen !== null && !newer) || look.nothing) return look;
    if (Date.now() - t0 >= (newer ? SNAPSHOT_WRITE_WAIT_MS : waitMs)) return look;
    if (newer && told !== look.writing) {
      told = look.writing;
      log.info("snapshot sync: waiting for the snapshot being written", { height: look.writing });
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The certified header at `height`, from the first peer whose certificate verifies. */
export async function certifiedHeaderAt(
  peers: SnapshotPeers,
  chain: Uint8Array,
  height: bigint,
  history: ValidatorSets,
  verifier: SignatureVerifier,
  log: Logger,
): Promise<CertifiedHeader | null> {
  for (const p of peers.peers) {
    try {
      const r = await peers.header(p.id, height);
      const first = r.headers[0];
      if (first === undefined) continue;
      const c = decodeCertifiedHeader(first);
      if (c.header.height !== height || !bytesEqual(c.header.chain, chain)) continue;
      const check = verifyCertificate(c, history.setAt(height), verifier);
      if (check.ok) return c;
      log.warn("snapshot sync: a peer's header certificate does not verify", {
        peer: p.id,
        reason: check.reason,
      });
    } catch (e) {
      log.warn("snapshot sync: no header from a peer", { peer: p.id, error: String(e) });
    }
  }
  return null;
}
