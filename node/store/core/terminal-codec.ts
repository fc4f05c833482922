// Canonical encoding of a stored terminal node (the value of a tree entry in LevelDB), and the
// rebuilding of a tree from its terminals and their positions.

import { Reader, Writer } from "../../common/codec.js";
import { DecodeError, invariant } from "../../common/errors.js";
import { MAX_KEY_BYTES, MAX_VALUE_BYTES } from "../../common/limits.js";
import { valueHash } from "./label.js";
import {
  EmptyNode,
  InternalNode,
  Kind,
  LeafNode,
  StubNode,
  type TerminalNode,
  type TreeNode,
} from "./node.js";
import { bitAt, keyPath } from "./path.js";
import type { Position } from "./journal.js";

const K_EMPTY = 0;
const K_LEAF = 1;
const K_SUMMARY = 2;
const K_STUB = 3;

export function encodeTerminal(n: TerminalNode): Uint8Array {
  const w = new Writer(64);
  switch (n.kind) {
    case Kind.Empty:
      w.u8(K_EMPTY).varint(n.ts);
      break;
    case Kind.Stub:
      w.u8(K_STUB).varint(n.ts).raw(n.label);
      break;
    case Kind.Leaf:
      if (n.key !== null && n.value !== null) w.u8(K_LEAF).varint(n.ts).string(n.key).bytes(n.value);
      else w.u8(K_SUMMARY).varint(n.ts).raw(n.keyHash).raw(n.valueHash);
      break;
  }
  return w.finish();
}

export function decodeTerminal(b: Uint8Array): TerminalNode {
  const r = new Reader(b);
  const k = r.u8();
  const ts = r.varint();
  let n: TerminalNode;
  if (k === K_EMPTY) n = new EmptyNode(ts);
  else if (k === K_STUB) n = new StubNode(r.copy(32), ts);
  else if (k === K_LEAF) {
    const key = r.string(MAX_KEY_BYTES);
    const value = r.bytes(MAX_VALUE_BYTES);
    n = new LeafNode(keyPath(key), valueHash(value), key, value, ts);
  } else if (k === K_SUMMARY) n = new LeafNode(r.copy(32), r.copy(32), null, null, ts);
  else throw new DecodeError("store/bad-terminal", `unknown terminal kind ${k}`);
  r.end("terminal");
  return n;
}

export interface PlacedTerminal extends Position {
  readonly node: TerminalNode;
}

/** Rebuilds the tree whose terminals these are. Throws if they do not tile the key space. */
export function buildFromTerminals(items: PlacedTerminal[]): TreeNode {
  if (items.length === 0) return new EmptyNode(0);
  const build = (list: PlacedTerminal[], depth: number): TreeNode => {
    if (list.length === 1 && list[0]!.depth === depth) return list[0]!.node;
    invariant(
      list.length >= 2 && list.every((t) => t.depth > depth),
      `stored terminals overlap at depth ${depth}`,
    );
    const l: PlacedTerminal[] = [];
    const r: PlacedTerminal[] = [];
    for (const t of list) (bitAt(t.prefix, depth) ? r : l).push(t);
    return new InternalNode(build(l, depth + 1), build(r, depth + 1));
  };
  return build(items, 0);
}
