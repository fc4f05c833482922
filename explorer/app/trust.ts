// Everything the page shows, verified in the browser: the genesis against the chain id pinned in
// the page's address, headers by the light client (certificates of the validator sets), a value by
// its proof against the certified root, a history by its chain to the certified index entry, a
// listing by its range proof against the certified index root. A failed check throws: the page
// shows it in red and never shows the unverified value.
import {
  LightClient,
  Partition,
  VerificationError,
  chainId,
  decodeStatement,
  entryRange,
  genesisFromJson,
  genesisIndexRoot,
  keyPath,
  listingRange,
  toHex,
  valueHash,
  verifyHistoryPage,
  verifyRange,
  type CertifiedHeader,
  type Genesis,
  type KeyChange,
} from "../../client/portable.js";
import { BatchedHeaders } from "./header-source.js";
import type { ArborRpc } from "./rpc.js";

/** Entries of a listing page and changes of a history page the page asks for. */
export const PAGE_LIMIT = 20;

export interface VerifiedValue {
  readonly key: string;
  /** null: the key is proven absent */
  readonly value: Uint8Array | null;
  /** the certified header the proof was checked against */
  readonly height: bigint;
}

export interface VerifiedChange extends KeyChange {
  readonly number: bigint;
  readonly value: Uint8Array | undefined;
}

/**
 * Where the next older page of a key's history starts: the change number and the chain head before
 * the shown page (verifyHistoryPage's cursor), and the certified header the chain is anchored at.
 */
export interface OlderChanges {
  readonly number: bigint;
  readonly head: Uint8Array;
  readonly height: bigint;
}

export interface HistoryShown {
  /** the certified header whose index entry the changes chain to */
  readonly height: bigint;
  readonly changes: VerifiedChange[];
  /** null: the page reaches the key's first change */
  readonly next: OlderChanges | null;
}

export interface ListingPage {
  readonly height: bigint;
  readonly entries: ListedEntry[];
  readonly done: boolean;
  /** the page's last key, to list the next page after (null when done) */
  readonly next: string | null;
}

export interface ListedEntry {
  readonly key: string;
  readonly present: boolean;
  readonly changes: bigint;
  readonly height: bigint;
}

/** One node's answers, checked against a pinned chain. */
export class Verifier {
  readonly light: LightClient;
  private readonly headers: BatchedHeaders;

  private constructor(
    readonly genesis: Genesis,
    /** the node's browser API (receipt-trust.ts, domains.ts check what they read through it) */
    readonly rpc: ArborRpc,
  ) {
    this.headers = new BatchedHeaders(rpc);
    this.light = new LightClient(genesis, this.headers);
  }

  /** The certified headers among the `span` heights up to `top`, newest first, each verified. */
  async recent(top: bigint, span: number): Promise<CertifiedHeader[]> {
    const from = top > BigInt(span) ? top - BigInt(span) + 1n : 1n;
    const heights = (await this.headers.fetch(from, span)).filter((h) => h >= from && h <= top);
    const out: CertifiedHeader[] = [];
    for (const h of heights.sort((a, b) => (a < b ? -1 : 1))) out.unshift(await this.light.header(h));
    return out;
  }

  /** Fetches the node's genesis and checks it is the pinned chain's. */
  static async open(rpc: ArborRpc, pinnedChain: string): Promise<Verifier> {
    const r = await rpc.genesis({});
    const g = genesisFromJson(r.genesisJson);
    if (toHex(chainId(g)) !== pinnedChain.toLowerCase())
      throw new VerificationError("explorer/wrong-chain", `the node's genesis is chain ${toHex(chainId(g))}`);
    return new Verifier(g, rpc);
  }

  /** Whether node `id` holds `key`'s partition (a non-holder's proof cannot cover the value). */
  holds(id: number, key: string): boolean {
    const n = this.genesis.nodes.find((x) => x.id === id);
    return n !== undefined && new Partition(n.prefixes).holdsKey(keyPath(key));
  }

  /** The header the node says it certified last, verified (null before the first block). */
  async latest(): Promise<CertifiedHeader | null> {
    const s = await this.rpc.status({});
    return s.certifiedHeight === 0n ? null : this.light.header(s.certifiedHeight);
  }

  async value(key: string): Promise<VerifiedValue> {
    return (await this.values([key]))[0]!;
  }

  /** Several keys of this node's partition read by one GET, each checked by the one proof. */
  async values(keys: readonly string[]): Promise<VerifiedValue[]> {
    const r = await this.rpc.get({ keys: [...keys] });
    // The statement's height is only a claim: the proof must match that height's certified root.
    const height = decodeStatement(r.statement).height;
    if (height === 0n)
      throw new VerificationError("explorer/genesis-read", "the node answered at the genesis");
    const out: VerifiedValue[] = [];
    for (const key of keys)
      out.push({ key, value: await this.light.verifyRead(key, r.proof, height), height });
    return out;
  }

  private async indexRoot(height: bigint): Promise<Uint8Array> {
    return height === 0n
      ? genesisIndexRoot(this.genesis)
      : (await this.light.header(height)).header.indexRoot;
  }

  /**
   * The key's newest changes (`older` null), each chained to the certified index entry, or the
   * older page a shown page's cursor leads to, chained to that cursor's head; newest first.
   */
  async history(key: string, older: OlderChanges | null = null): Promise<HistoryShown> {
    const r = await this.rpc.history({ key, limit: PAGE_LIMIT, number: older?.number ?? 0n });
    let from: OlderChanges = older!;
    if (older === null) {
      const [entry] = verifyRange(r.entryProof, await this.indexRoot(r.height), entryRange(key), 1, true);
      if (!entry) {
        if (r.changes.length > 0)
          throw new VerificationError("explorer/bad-history", "changes of a key that was never written");
        return { height: r.height, changes: [], next: null };
      }
      from = { number: entry.changes, head: entry.head, height: r.height };
    }
    const v = verifyHistoryPage(
      from,
      r.changes.map((c) => c.change),
      r.headBefore,
      PAGE_LIMIT,
    );
    const changes = v.changes.map((c, i) => {
      const value = r.changes[i]!.value;
      if (value !== undefined && (c.valueHash === null || toHex(valueHash(value)) !== toHex(c.valueHash)))
        throw new VerificationError(
          "explorer/bad-history",
          `change ${from.number - BigInt(i)}'s value is not the one it commits to`,
        );
      return { ...c, number: from.number - BigInt(i), value };
    });
    return { height: from.height, changes, next: v.next && { ...v.next, height: from.height } };
  }

  /**
   * The keys under `prefix` after `after` (null: from the first), at most `limit`, proven complete
   * against the certified index root.
   */
  async list(prefix: string, after: string | null = null, limit = PAGE_LIMIT): Promise<ListingPage> {
    const r = await this.rpc.list({ prefix, limit, ...(after === null ? {} : { after }) });
    const entries = verifyRange(
      r.proof,
      await this.indexRoot(r.height),
      listingRange(prefix, after),
      limit,
      r.done,
    );
    const last = entries[entries.length - 1];
    return {
      height: r.height,
      done: r.done,
      next: r.done || !last ? null : last.key,
      entries: entries.map((e) => ({
        key: e.key,
        present: e.valueHash !== null,
        changes: e.changes,
        height: e.height,
      })),
    };
  }
}
