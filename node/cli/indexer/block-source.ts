// Where the indexer's blocks come from: every node's change feed, asked for the same heights. Each
// node gives the changes of the keys its partitions hold (and lists the others without their
// bytes), so a block is assembled: one node's list, its missing changes taken from the others. A
// block is taken only when the follower, replaying it, reaches the certified header's index root;
// a version that does not is refused and the next node's list is tried. Values are merged from
// every node's answer, and a value is used only when it hashes to what its change committed to.
import { bytesEqual, toHex } from "../../common/bytes.js";
import { ArborError } from "../../common/errors.js";
import { decodeChange } from "../../store/core/key-history.js";
import { valueHash } from "../../store/core/label.js";
import type { ArborClient } from "../../../client/client.js";
import { ChangeFollower, type FedChange, type VerifiedChange } from "../../../client/change-follower.js";
import { VerificationError } from "../../../client/errors.js";
import type { ChangesReply } from "../../../proto/gen/arbor/v1/client_pb.js";
import { FEED_BATCH_BLOCKS } from "./limits.js";

/** After the first node answers with blocks, how long the others get to answer too. */
const STRAGGLER_GRACE_MS = 1_500;
/** How long a block's certified header is waited for before the round ends (retried next round). */
const HEADER_WAIT_MS = 5_000;

export interface VerifiedBlock {
  readonly height: bigint;
  readonly changes: readonly VerifiedChange[];
}

/** A node's version of a block that failed verification. */
export interface Refusal {
  readonly node: number;
  readonly height: bigint;
  readonly code: string;
  readonly message: string;
}

interface Offer {
  readonly node: number;
  readonly changes: readonly FedChange[];
}

export interface Round {
  /** blocks verified and handed to `take`, in order */
  readonly applied: number;
  /** some node offered a block above the follower that could not be verified yet */
  readonly stalled: boolean;
  /** how many nodes answered */
  readonly answered: number;
}

export class BlockSource {
  readonly refusals: Refusal[] = [];
  /** nodes that gave a refused block: their versions are tried last */
  private readonly distrusted = new Set<number>();

  constructor(
    private readonly client: ArborClient,
    /** replaced when the indexer rebuilds it from SQL after a failed write */
    public follower: ChangeFollower,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * One round: asks every node for the blocks after the follower's height (waiting up to
   * `waitMs` for one), verifies them in height order, and hands each verified block to `take`
   * before verifying the next (so nothing is verified ahead of what is written).
   */
  async round(waitMs: number, take: (b: VerifiedBlock) => Promise<void>): Promise<Round> {
    const from = this.follower.height + 1n;
    const replies = await this.ask(from, waitMs);
    const offers = new Map<bigint, Offer[]>();
    for (const [node, r] of replies)
      for (const b of r.blocks)
        if (b.height >= from) {
          const list = offers.get(b.height) ?? [];
          list.push({ node, changes: b.changes.map((c) => ({ ...c })) });
          offers.set(b.height, list);
        }
    let applied = 0;
    for (const height of [...offers.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      const block = await this.verify(height, offers.get(height)!, replies);
      if (block === "skip") continue;
      if (block === null) return { applied, stalled: true, answered: replies.size };
      await take(block);
      applied++;
    }
    return { applied, stalled: false, answered: replies.size };
  }

  /** Every node's answer, waiting for stragglers only a little once one node gave blocks. */
  private async ask(from: bigint, waitMs: number): Promise<Map<number, ChangesReply>> {
    const out = new Map<number, ChangesReply>();
    let someBlocks!: () => void;
    const gotBlocks = new Promise<void>((r) => (someBlocks = r));
    let timer: NodeJS.Timeout | undefined;
    const all = Promise.all(
      this.client.nodes.map((n) =>
        this.client
          .node(n.id)
          .changes(from, FEED_BATCH_BLOCKS, waitMs)
          .then(
            (r) => {
              out.set(n.id, r);
              if (r.blocks.length > 0) someBlocks();
            },
            () => undefined, // an unreachable node is one fewer source
          ),
      ),
    );
    await Promise.race([
      all,
      gotBlocks.then(() => new Promise<void>((r) => (timer = setTimeout(r, STRAGGLER_GRACE_MS).unref()))),
    ]);
    clearTimeout(timer);
    return new Map(out);
  }

  /**
   * The verified block at `height` (applied to the follower), "skip" when no certificate exists
   * and a node's answer spanning the height has no block there, or null when it cannot be
   * verified now.
   */
  private async verify(
    height: bigint,
    offers: readonly Offer[],
    replies: ReadonlyMap<number, ChangesReply>,
  ): Promise<VerifiedBlock | "skip" | null> {
    let root: Uint8Array;
    try {
      root = (await this.client.certifiedHeader(height, undefined, { timeoutMs: HEADER_WAIT_MS })).header
        .indexRoot;
    } catch (e) {
      const denied = [...replies].some(
        ([node, r]) =>
          !offers.some((o) => o.node === node) &&
          r.blocks.some((b) => b.height > height) &&
          (r.blocks[0]?.height ?? height) < height,
      );
      this.log(`no certified header for block ${height} yet (${describe(e)})${denied ? "; skipped" : ""}`);
      return denied ? "skip" : null;
    }
    const values = mergedValues(offers);
    const tried: string[] = [];
    // A fixed order (by node id, nodes caught before last) keeps which version is tried first predictable.
    const trustOrder = (): Offer[] =>
      [...offers].sort(
        (a, b) =>
          Number(this.distrusted.has(a.node)) - Number(this.distrusted.has(b.node)) || a.node - b.node,
      );
    for (const o of trustOrder()) {
      // Recomputed after each refusal: the missing changes are then taken from nodes not yet caught.
      const assembled = assemble(o, keptChanges(trustOrder()));
      if (typeof assembled === "string") {
        this.log(`block ${height}: ${assembled} by any node that answered; asked again next round`);
        continue;
      }
      const sig = signature(assembled.changes);
      if (tried.includes(sig)) continue;
      tried.push(sig);
      const fed = assembled.changes.map((c) => {
        const h = committedHash(c);
        const v = h ? values.get(toHex(h)) : undefined;
        return { key: c.key, number: c.number, change: c.change, ...(v ? { value: v } : {}) };
      });
      try {
        return { height, changes: this.follower.apply(height, fed, root) };
      } catch (e) {
        if (!(e instanceof VerificationError)) throw e;
        for (const n of assembled.from) this.distrusted.add(n);
        const from =
          assembled.from.length > 1 ? ` (with changes from nodes ${assembled.from.slice(1).join(", ")})` : "";
        this.refusals.push({ node: o.node, height, code: e.code, message: e.message });
        this.log(`refused block ${height} from node ${o.node}${from}: ${e.message}`);
      }
    }
    return null;
  }
}

/** The first offer's bytes of each change some offer keeps, by key and number. */
function keptChanges(offers: readonly Offer[]): Map<string, { node: number; change: FedChange }> {
  const out = new Map<string, { node: number; change: FedChange }>();
  for (const o of offers)
    for (const c of o.changes) {
      const id = `${c.key}\u0000${c.number}`;
      if (c.change.length > 0 && !out.has(id)) out.set(id, { node: o.node, change: c });
    }
  return out;
}

/**
 * A node's version of a block with the changes it does not keep (a key's history is kept by the
 * key's holders: docs/protocol.md §15) taken from the other offers (`kept`), and the nodes it came
 * from (`base` first); or what no offer gave.
 */
function assemble(
  base: Offer,
  kept: ReadonlyMap<string, { node: number; change: FedChange }>,
): { changes: FedChange[]; from: number[] } | string {
  const from = [base.node];
  const changes: FedChange[] = [];
  for (const c of base.changes) {
    if (c.change.length > 0) {
      changes.push(c);
      continue;
    }
    const given = kept.get(`${c.key}\u0000${c.number}`);
    if (!given) return `change ${c.number} of ${c.key} was not given`;
    if (!from.includes(given.node)) from.push(given.node);
    changes.push(given.change);
  }
  return { changes, from };
}

/**
 * Every value any node gave, by its hash (hex), kept only when it hashes to what the change it
 * came with committed to: values are content-addressed, so one found with any version of a change
 * serves every version that commits to the same hash, and a wrong one serves none.
 */
function mergedValues(offers: readonly Offer[]): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const o of offers)
    for (const c of o.changes) {
      const committed = c.value === undefined ? null : committedHash(c);
      if (committed && bytesEqual(valueHash(c.value!), committed)) out.set(toHex(committed), c.value!);
    }
  return out;
}

/** The value hash a fed change commits to (null: a removal, or a garbled change, which fails later). */
function committedHash(c: FedChange): Uint8Array | null {
  try {
    return decodeChange(c.change).valueHash;
  } catch {
    return null;
  }
}

/** Identifies a version of a block's change list, so the same version is not replayed twice. */
function signature(changes: readonly FedChange[]): string {
  return changes
    .map((c) => `${c.key}\u0000${c.number}\u0000${Buffer.from(c.change).toString("base64")}`)
    .join("\u0001");
}

function describe(e: unknown): string {
  return e instanceof ArborError ? e.code : String(e);
}
