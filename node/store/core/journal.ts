// Records which terminal nodes (leaves, empties, stubs) appeared at and vanished from which tree
// positions since the last flush, so the storage shell can persist a block as one batch without
// scanning the tree. The tree's shape is a function of its terminals and their positions.

import { toHex } from "../../common/bytes.js";
import { UNSAVED, type TerminalNode } from "./node.js";

export interface Position {
  /** 32 bytes; bits at and past `depth` are zero */
  readonly prefix: Uint8Array;
  readonly depth: number;
}

export interface TerminalPut extends Position {
  readonly node: TerminalNode;
}

export interface TerminalDelete extends Position {
  /** version the vanished terminal had been saved at */
  readonly version: number;
}

function positionId(p: Position): string {
  return p.depth + ":" + toHex(p.prefix.subarray(0, (p.depth + 7) >> 3));
}

export class Journal {
  private puts = new Map<string, TerminalPut>();
  private dels: TerminalDelete[] = [];

  attach(node: TerminalNode, pos: Position): void {
    this.puts.set(positionId(pos), { prefix: pos.prefix, depth: pos.depth, node });
  }

  detach(node: TerminalNode, pos: Position): void {
    if (node.saved !== UNSAVED) this.dels.push({ prefix: pos.prefix, depth: pos.depth, version: node.saved });
    else {
      const id = positionId(pos);
      if (this.puts.get(id)?.node === node) this.puts.delete(id);
    }
  }

  get size(): number {
    return this.puts.size + this.dels.length;
  }

  /** Hands out the pending changes, marks the put nodes as saved at `version`, and starts afresh. */
  take(version: number): { puts: TerminalPut[]; dels: TerminalDelete[] } {
    const puts = [...this.puts.values()];
    for (const p of puts) p.node.saved = version;
    const dels = this.dels;
    this.puts = new Map();
    this.dels = [];
    return { puts, dels };
  }
}
