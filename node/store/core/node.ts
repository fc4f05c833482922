// The four kinds of tree node held in memory. Terminal nodes (empty, leaf, stub) carry the
// logical timestamp at which the node at their position last changed; an internal node's
// timestamp is the newest of its children's. Leaves may be full (key and value) or summaries
// (key hash and value hash only: what a node keeps of an old record outside its partition).

import { EMPTY_LABEL, internalLabel, leafLabel, labelKind, LabelKind } from "./label.js";
import { invariant } from "../../common/errors.js";

export const enum Kind {
  Empty = 0,
  Leaf = 1,
  Internal = 2,
  Stub = 3,
}

/** Storage bookkeeping: the version at which a terminal was last persisted (-1: never). */
export const UNSAVED = -1;

export class EmptyNode {
  readonly kind = Kind.Empty;
  saved = UNSAVED;
  constructor(readonly ts: number) {}
  get label(): Uint8Array {
    return EMPTY_LABEL;
  }
}

export class LeafNode {
  readonly kind = Kind.Leaf;
  saved = UNSAVED;
  private _label: Uint8Array | null = null;
  constructor(
    readonly keyHash: Uint8Array,
    readonly valueHash: Uint8Array,
    /** null for a summary leaf */
    readonly key: string | null,
    /** null for a summary leaf */
    readonly value: Uint8Array | null,
    readonly ts: number,
  ) {}
  get label(): Uint8Array {
    return (this._label ??= leafLabel(this.keyHash, this.valueHash));
  }
  get isSummary(): boolean {
    return this.value === null;
  }
  /** The same record at a new position or time (labels are position-independent). */
  at(ts: number): LeafNode {
    const n = new LeafNode(this.keyHash, this.valueHash, this.key, this.value, ts);
    n._label = this._label;
    return n;
  }
  summary(): LeafNode {
    const n = new LeafNode(this.keyHash, this.valueHash, null, null, this.ts);
    n._label = this._label;
    return n;
  }
}

/** Stands for an internal subtree this node does not store. Leaves are never stubbed (see label.ts). */
export class StubNode {
  readonly kind = Kind.Stub;
  saved = UNSAVED;
  constructor(
    readonly label: Uint8Array,
    readonly ts: number,
  ) {
    invariant(labelKind(label) === LabelKind.Internal, "stub must stand for an internal node");
  }
}

export class InternalNode {
  readonly kind = Kind.Internal;
  private _label: Uint8Array | null = null;
  ts: number;
  constructor(
    public left: TreeNode,
    public right: TreeNode,
  ) {
    this.ts = Math.max(left.ts, right.ts);
  }
  get label(): Uint8Array {
    return (this._label ??= internalLabel(this.left.label, this.right.label));
  }
  /** Called after a child was replaced: drops the cached label and refreshes the timestamp. */
  touch(): void {
    this._label = null;
    this.ts = Math.max(this.left.ts, this.right.ts);
  }
  child(bit: 0 | 1): TreeNode {
    return bit ? this.right : this.left;
  }
  setChild(bit: 0 | 1, n: TreeNode): void {
    if (bit) this.right = n;
    else this.left = n;
    this.touch();
  }
}

export type TerminalNode = EmptyNode | LeafNode | StubNode;
export type TreeNode = TerminalNode | InternalNode;
