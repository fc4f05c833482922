// The tree of uncommitted blocks of the current epoch, rooted at the last committed block. Every
// block in it links by parent id to the root, so "is in the tree" means "extends what we committed".
// Blocks become certified when a verified QC names them; committing a block moves the root up and
// drops every block that does not descend from the new root.

import { invariant } from "../../common/errors.js";
import { TOB_MAX_TREE_BLOCKS } from "../../common/limits.js";
import { key, reject } from "./reject.js";
import type { Block, QC } from "./types.js";

/** The committed block the tree hangs from; `round` is its round in the current epoch (0 at genesis). */
export interface Root {
  readonly id: Uint8Array;
  readonly height: number;
  readonly round: number;
}

export class BlockTree {
  private readonly blocks = new Map<string, Block>();
  private readonly certs = new Map<string, QC>();
  private rootKey: string;

  constructor(public root: Root) {
    this.rootKey = key(root.id);
  }

  get size(): number {
    return this.blocks.size;
  }

  get(id: Uint8Array): Block | undefined {
    return this.blocks.get(key(id));
  }

  isRoot(id: Uint8Array): boolean {
    return key(id) === this.rootKey;
  }

  /** Height and round of a block in the tree or of the root; undefined if unknown. */
  position(id: Uint8Array): { height: number; round: number } | undefined {
    const k = key(id);
    if (k === this.rootKey) return this.root;
    return this.blocks.get(k);
  }

  /** Checks a block against its parent and stores it; returns false if it was already stored. */
  insert(b: Block): boolean {
    const k = key(b.id);
    if (this.blocks.has(k)) return false;
    if (k === this.rootKey) return false;
    const parent = this.position(b.parentId);
    if (!parent) reject("tob/missing-parent", `parent of block at height ${b.height} is unknown`);
    if (b.height !== parent.height + 1)
      reject("tob/bad-height", `block height ${b.height} after parent ${parent.height}`);
    if (b.round <= parent.round)
      reject("tob/bad-round", `block round ${b.round} not above parent round ${parent.round}`);
    if (this.blocks.size >= TOB_MAX_TREE_BLOCKS)
      reject("tob/tree-full", `block tree holds ${TOB_MAX_TREE_BLOCKS} blocks`);
    this.blocks.set(k, b);
    return true;
  }

  certify(qc: QC): void {
    const k = key(qc.blockId);
    if (k === this.rootKey || this.blocks.has(k)) this.certs.set(k, qc);
  }

  qcOf(id: Uint8Array): QC | undefined {
    return this.certs.get(key(id));
  }

  /** Blocks from just above the root up to `id`, ascending. `id` must be in the tree or the root. */
  path(id: Uint8Array): Block[] {
    const out: Block[] = [];
    let k = key(id);
    while (k !== this.rootKey) {
      const b = this.blocks.get(k);
      invariant(b, "tree path leads to the root");
      out.push(b);
      k = key(b.parentId);
    }
    return out.reverse();
  }

  /** The certified block (or root) with the highest round: the tip a correct node builds on. */
  topCertified(): Root | Block {
    let best: Root | Block = this.root;
    for (const [k, qc] of this.certs) {
      const b = this.blocks.get(k);
      if (b && qc.round > best.round) best = b;
    }
    return best;
  }

  /** Makes `b` the new root; returns the newly committed blocks in height order. */
  commit(b: Block): Block[] {
    const chain = this.path(b.id);
    invariant(chain.length > 0 && chain[chain.length - 1] === b, "committing a tree block");
    const rootQC = this.certs.get(key(b.id));
    this.root = { id: b.id, height: b.height, round: b.round };
    this.rootKey = key(b.id);
    // Keep only strict descendants of the new root.
    const keep = new Map<string, boolean>();
    const descends = (k: string): boolean => {
      if (k === this.rootKey) return true;
      const cached = keep.get(k);
      if (cached !== undefined) return cached;
      const blk = this.blocks.get(k);
      const ok = blk !== undefined && blk.height > this.root.height && descends(key(blk.parentId));
      keep.set(k, ok);
      return ok;
    };
    for (const k of [...this.blocks.keys()]) if (k === this.rootKey || !descends(k)) this.blocks.delete(k);
    for (const k of [...this.certs.keys()])
      if (k !== this.rootKey && !this.blocks.has(k)) this.certs.delete(k);
    if (rootQC) this.certs.set(this.rootKey, rootQC);
    return chain;
  }

  all(): IterableIterator<Block> {
    return this.blocks.values();
  }
}
