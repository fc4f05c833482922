// `arbor status`: every node's id, address, reachability, block height, timestamp and state root,
// its consensus round and the leader it follows for it, and whether the reachable nodes agree
// (same height and same root).
import { bytesEqual, toHex } from "../common/bytes.js";
import type { ArborClient } from "../../client/client.js";
import { parseArgs, UsageError } from "./args.js";
import { EXIT_UNAVAILABLE, Output, shortHex } from "./output.js";
import { TARGET_FLAGS, withClient } from "./connect.js";

export interface NodeStatus {
  readonly id: number;
  readonly address: string;
  readonly reachable: boolean;
  readonly height?: bigint;
  readonly timestamp?: bigint;
  readonly root?: Uint8Array;
  readonly certifiedHeight?: bigint;
  readonly peers?: number;
  /** Consensus epoch and round the node is in. */
  readonly epoch?: bigint;
  readonly round?: bigint;
  /** The node it follows as that round's leader (its id; null if the key is not a genesis node's or unknown). */
  readonly leader?: number | null;
  /** started with --join and still catching up: it serves no reads yet */
  readonly joining?: boolean;
  /** pieces of its partition it is still fetching from other holders */
  readonly acquiringPieces?: bigint;
  /** the lowest height of a delivered block it keeps for peers catching up */
  readonly oldestBlock?: bigint;
  /** it left the membership (removed or evicted): it takes no part and serves no reads */
  readonly left?: boolean;
  readonly error?: string;
}

export async function pollStatus(c: ArborClient): Promise<NodeStatus[]> {
  const leaderOf = (key: Uint8Array): number | null =>
    key.length === 0 ? null : (c.nodes.find((g) => bytesEqual(g.publicKey, key))?.id ?? null);
  return Promise.all(
    c.nodes.map(async (n): Promise<NodeStatus> => {
      try {
        const s = await c.nodeStatus(n.id, 3000); // its height and root, signed
        return {
          id: n.id,
          address: n.address,
          reachable: true,
          height: s.height,
          timestamp: s.timestamp,
          root: s.root,
          certifiedHeight: s.certifiedHeight,
          peers: s.peersConnected,
          epoch: s.consensusEpoch,
          round: s.consensusRound,
          leader: leaderOf(s.leaderKey),
          joining: s.joining,
          acquiringPieces: s.acquiringPieces,
          oldestBlock: s.oldestBlock,
          left: s.left,
        };
      } catch (e) {
        const d = (e as { details?: string }).details || String(e);
        const error = d.includes("ECONNREFUSED")
          ? "connection refused"
          : d.replace(/\s*Resolution note:\s*$/, "");
        return { id: n.id, address: n.address, reachable: false, error };
      }
    }),
  );
}

/** Whether the reachable members (not nodes that left) are at one height and root. */
export function agreeing(st: readonly NodeStatus[]): boolean {
  const up = st.filter((s) => s.reachable && !s.left);
  return up.length > 0 && up.every((s) => s.height === up[0]!.height && bytesEqual(s.root!, up[0]!.root!));
}

export async function statusCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, TARGET_FLAGS);
  if (a.positional.length > 0) throw new UsageError(`status takes no arguments (got "${a.positional[0]}")`);
  const out = new Output(a.bools.has("json"));
  return withClient(a, async (c) => {
    // The membership as the chain records it (added nodes are polled too), when it can be read.
    const members = await membership(c);
    // Nodes a block apart are not a disagreement: poll again briefly before saying so.
    let st = await pollStatus(c);
    for (let i = 0; i < 4 && !agreeing(st) && st.some((s) => s.reachable); i++) {
      await new Promise((r) => setTimeout(r, 400));
      st = await pollStatus(c);
    }
    const agree = agreeing(st);
    const up = st.filter((s) => s.reachable && !s.left);
    const gone = st.filter((s) => s.reachable && s.left);
    const top = up.reduce((m, s) => (s.height! > m ? s.height! : m), 0n);
    out.doc({
      chain: c.chain,
      agree,
      // behind: blocks below the highest reachable node (a node catching up, or syncing)
      nodes: st.map((s) => ({
        ...s,
        root: s.root ? toHex(s.root) : undefined,
        ...(s.reachable ? { behind: top - s.height! } : {}),
      })),
      ...(members ? { membership: members } : {}),
    });
    const f = c.f;
    out.line(
      `chain ${toHex(c.chain).slice(0, 16)}…  ${c.nodes.length} node${c.nodes.length === 1 ? "" : "s"} (f = ${f}, k = ${c.genesis.replication})`,
    );
    out.line(
      " id  address                reachable  height  timestamp  root          certified  peers     round  leader",
    );
    for (const s of st)
      out.line(
        s.reachable
          ? ` ${String(s.id).padStart(2)}  ${s.address.padEnd(22)} yes        ${String(s.height).padStart(6)}  ${String(s.timestamp).padStart(9)}  ${shortHex(s.root!)}  ${String(s.certifiedHeight).padStart(9)}  ${String(s.peers).padStart(5)}  ${String(s.round).padStart(8)}  ${s.leader === null ? "?" : String(s.leader)}`
          : ` ${String(s.id).padStart(2)}  ${s.address.padEnd(22)} NO         (${s.error})`,
      );
    for (const s of gone)
      out.line(`node ${s.id} left the membership (removed or evicted): it takes no part; stop it`);
    if (up.length === 0) {
      // The document above already says so; the exit code tells scripts.
      process.stderr.write(`arbor: no ${gone.length === 0 ? "node" : "member"} is reachable\n`);
      return EXIT_UNAVAILABLE;
    }
    out.line(
      agree
        ? `${up.length}/${st.length - gone.length} reachable; they agree: height ${up[0]!.height}, root ${shortHex(up[0]!.root!)}`
        : `${up.length}/${st.length - gone.length} reachable; they DISAGREE (different heights or roots)`,
    );
    for (const s of up.filter((x) => x.height! < top || x.joining))
      out.line(
        `node ${s.id} catching up${s.joining ? " (--join: serves no reads yet)" : ""}: ${progress(s.height!, top, process.stdout.isTTY === true)}`,
      );
    for (const s of up) {
      const pruned = up.filter(
        (x) => x.id !== s.id && x.height! > s.height! && x.oldestBlock! > s.height! + 1n,
      );
      if (pruned.length > f)
        out.line(
          `node ${s.id} is behind its peers' block retention (they keep blocks from ${pruned.map((x) => x.oldestBlock).join(", ")} on): it re-syncs from a snapshot`,
        );
    }
    for (const s of up.filter((x) => (x.acquiringPieces ?? 0n) > 0n))
      out.line(
        `node ${s.id} taking on prefixes: ${s.acquiringPieces} pieces still to fetch from their holders`,
      );
    if (members) {
      const short = members.partitions.filter((p) => !p.replicated);
      out.line(
        `membership at height ${members.height}: members ${members.members.join(", ")}` +
          (members.evicted.length > 0 ? `; evicted ${members.evicted.join(", ")}` : ""),
      );
      out.line(
        short.length === 0
          ? `partitions: ${members.partitions.length} prefixes, each held by at least k = ${c.genesis.replication} members`
          : `partitions: ${short.length} of ${members.partitions.length} prefixes held by fewer than k = ${c.genesis.replication}: ` +
              short.map((p) => `${p.prefix || '""'} (${p.holders.join(",") || "none"})`).join(", ") +
              " — run `arbor member repair`",
      );
    }
    return 0;
  });
}

export interface MembershipView {
  readonly height: bigint;
  readonly members: number[];
  readonly evicted: number[];
  /** every prefix some member record names, with its holders (evicted ones left out) */
  readonly partitions: Array<{ prefix: string; holders: number[]; replicated: boolean }>;
}

/** The verified member records and which of them hold each prefix; undefined if unreadable. */
async function membership(c: ArborClient): Promise<MembershipView | undefined> {
  try {
    const evicted = await c.refreshMembership();
    const { height, records } = await c.memberRecords();
    const live = records.filter((r) => !evicted.includes(r.id));
    const prefixes = [...new Set(records.flatMap((r) => r.prefixes))].sort();
    const want = Math.min(c.genesis.replication, live.length);
    return {
      height,
      members: live.map((r) => r.id),
      evicted: records.filter((r) => evicted.includes(r.id)).map((r) => r.id),
      partitions: prefixes.map((prefix) => {
        const holders = live.filter((r) => r.prefixes.some((q) => prefix.startsWith(q))).map((r) => r.id);
        return { prefix, holders, replicated: copiesOf(prefix, live) >= want };
      }),
    };
  } catch {
    return undefined;
  }
}

/**
 * How many live members hold every key under `prefix`: those holding all of it, plus, where members
 * hold only parts of it (finer prefixes), the fewest copies of any part. A prefix whose own holder
 * left is still held k times when finer prefixes of others cover it k times.
 */
export function copiesOf(
  prefix: string,
  members: ReadonlyArray<{ readonly prefixes: readonly string[] }>,
): number {
  const whole = members.filter((m) => m.prefixes.some((q) => prefix.startsWith(q)));
  const rest = members.filter(
    (m) => !whole.includes(m) && m.prefixes.some((q) => q.length > prefix.length && q.startsWith(prefix)),
  );
  if (rest.length === 0) return whole.length;
  return whole.length + Math.min(copiesOf(prefix + "0", rest), copiesOf(prefix + "1", rest));
}

/** `height/top (p%)`, with a bar on a terminal. */
export function progress(height: bigint, top: bigint, bar: boolean): string {
  const pct = top === 0n ? 100 : Number((height * 1000n) / top) / 10;
  const width = 30;
  const full = Math.round((pct / 100) * width);
  const drawn = bar ? `${"█".repeat(full)}${"░".repeat(width - full)} ` : "";
  return `${drawn}${height}/${top} (${pct.toFixed(1)}%)`;
}
