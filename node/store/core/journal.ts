// Records which terminal nodes (leaves, empties, stubs) appeared at which tree positions since the
// last flush, so the storage shell can persist a block without scanning the tree. The tree's
// shape is a function of its terminals and their positions. Vanished terminals need no record:
// on disk a newer terminal at, above or below a position supersedes an older one (see
// terminal-codec.ts), so a terminal that left the tree before it was ever saved is only marked.

import { DROPPED, UNSAVED, type TerminalNode } from "./node.js";

export interface Position {
  /** 32 bytes; bits at and past `depth` are zero */
  readonly prefix: Uint8Array;
  readonly depth: number;
}

/** The terminals a flush hands out: parallel arrays, one entry per terminal. */
export interface JournalBatch {
  readonly nodes: TerminalNode[];
  /** a latin1 path through the terminal's position (only its first `depth` bits count) */
  readonly paths: string[];
  /** the position's depth; negative (−depth) when the position is the sibling of the path's own, bit depth−1 flipped */
  readonly depths: number[];
  /** how many terminals saved earlier left the tree (their stored records are now superseded) */
  readonly superseded: number;
}

export class Journal {
  private nodes: TerminalNode[] = [];
  private paths: string[] = [];
  private depths: number[] = [];
  private superseded = 0;

  /** A terminal appeared at the position of `path` at `depth`, or (sibling) beside it. */
  attach(node: TerminalNode, path: string, depth: number, sibling: boolean): void {
    this.nodes.push(node);
    this.paths.push(path);
    this.depths.push(sibling ? -depth : depth);
  }

  /** A terminal left the tree. */
  detach(node: TerminalNode): void {
    if (node.saved === UNSAVED) node.saved = DROPPED;
    else if (node.saved >= 0) this.superseded++;
  }

  get size(): number {
    return this.nodes.length;
  }

  /**
   * Hands out the terminals still in the tree that were attached since the last call, marks
   * them saved at `version`, and starts afresh.
   */
  take(version: number): JournalBatch {
    const out: JournalBatch = { nodes: [], paths: [], depths: [], superseded: this.superseded };
    for (let i = 0; i < this.nodes.length; i++) {
      const n = this.nodes[i]!;
      if (n.saved !== UNSAVED) continue;
      n.saved = version;
      out.nodes.push(n);
      out.paths.push(this.paths[i]!);
      out.depths.push(this.depths[i]!);
    }
    this.nodes = [];
    this.paths = [];
    this.depths = [];
    this.superseded = 0;
    return out;
  }
}
