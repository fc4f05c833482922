// The store's rewriting sweep. Stored chunks only ever gain superseded records; a chunk can be
// deleted once every terminal it holds that is still live has been written again in a newer
// chunk. The sweep walks the tree's terminals in key order, a bounded number per commit, and
// hands out those saved before it began, for the store to write again; when it has passed the
// last terminal, every live terminal is in a chunk at least as new as the sweep's start, and all
// older chunks go. Work per commit is bounded by the budget; disk stays within a small multiple of
// the live terminals (docs/store.md).

import { Kind, type TerminalNode, type TreeNode } from "./node.js";
import { commonPrefixBits } from "./path.js";
import type { Position } from "./journal.js";

export class Sweep {
  /** the next position to visit (a 32-byte path), updated in place */
  private readonly cursor = new Uint8Array(32);
  /** true once the last terminal was visited */
  private finished = false;
  private budget = 0;
  private readonly prefix = new Uint8Array(32);
  /** The position handed to the callback: one object, valid during the call only. */
  private readonly pos = { prefix: this.prefix, depth: 0 };

  constructor(
    /** the version of the first commit of this sweep: terminals saved before it are handed out */
    readonly start: number,
  ) {}

  /** True when the sweep has visited every terminal. */
  get done(): boolean {
    return this.finished;
  }

  /**
   * Visits up to `budget` terminals from where the last step stopped, calling `f` for each one
   * saved before `start` (its position is valid during the call only: copy what you keep).
   * Returns true when the sweep has reached the end of the key space.
   */
  step(root: TreeNode, budget: number, f: (n: TerminalNode, pos: Position) => void): boolean {
    if (this.finished) return true;
    this.budget = budget;
    this.prefix.fill(0);
    this.visit(root, 0, f);
    return this.finished;
  }

  /** Returns true when the budget ran out (stop walking). */
  private visit(n: TreeNode, depth: number, f: (n: TerminalNode, pos: Position) => void): boolean {
    const cursor = this.cursor;
    const cp = commonPrefixBits(this.prefix, cursor);
    // The whole region of this position lies before the cursor: visited already.
    if (cp < depth && (cursor[cp >> 3]! >> (7 - (cp & 7))) & 1) return false;
    if (n.kind === Kind.Internal) {
      const m = 1 << (7 - (depth & 7));
      if (this.visit(n.left, depth + 1, f)) return true;
      this.prefix[depth >> 3]! |= m;
      const stop = this.visit(n.right, depth + 1, f);
      this.prefix[depth >> 3]! &= ~m;
      return stop;
    }
    if (n.saved >= 0 && n.saved < this.start) {
      this.pos.depth = depth;
      f(n, this.pos);
    }
    this.finished = !advance(this.prefix, depth, cursor);
    return this.finished || --this.budget <= 0;
  }
}

/**
 * Sets `out` to the first path after the region of the position (prefix, depth); false (and `out`
 * unspecified) when that region ends the key space.
 */
function advance(prefix: Uint8Array, depth: number, out: Uint8Array): boolean {
  out.set(prefix);
  for (let i = depth - 1; i >= 0; i--) {
    const m = 1 << (7 - (i & 7));
    if ((out[i >> 3]! & m) === 0) {
      out[i >> 3]! |= m;
      return true;
    }
    out[i >> 3]! &= ~m;
  }
  return false;
}
