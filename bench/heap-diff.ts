// Compares two V8 heap snapshots (.heapsnapshot files, e.g. from `npm run soak -- --heap-snapshots`):
// sums the self size and count of the objects of each constructor (node type + name) in both and
// prints the constructors whose total grew the most from the first to the second. What grows
// between the middle and the end of a steady soak is what a node keeps without bound.
// Usage: node dist/bench/heap-diff.js BEFORE.heapsnapshot AFTER.heapsnapshot [top N]
import { readFileSync } from "node:fs";

interface Totals {
  readonly bytes: Map<string, number>;
  readonly count: Map<string, number>;
  readonly total: number;
}

function totals(file: string): Totals {
  const snap = JSON.parse(readFileSync(file, "utf8")) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
    nodes: number[];
    strings: string[];
  };
  const f = snap.snapshot.meta.node_fields;
  const width = f.length;
  const iType = f.indexOf("type");
  const iName = f.indexOf("name");
  const iSize = f.indexOf("self_size");
  const types = snap.snapshot.meta.node_types[0];
  const bytes = new Map<string, number>();
  const count = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType]!]!;
    let name = snap.strings[snap.nodes[i + iName]!]!;
    // Strings and code are named by their contents: group them by kind alone.
    if (type === "string" || type === "concatenated string" || type === "sliced string" || type === "code")
      name = "";
    const key = `${type}:${name.slice(0, 80)}`;
    const size = snap.nodes[i + iSize]!;
    bytes.set(key, (bytes.get(key) ?? 0) + size);
    count.set(key, (count.get(key) ?? 0) + 1);
    total += size;
  }
  return { bytes, count, total };
}

const [a, b, topArg] = process.argv.slice(2);
if (!a || !b) {
  console.error("usage: heap-diff BEFORE.heapsnapshot AFTER.heapsnapshot [top N]");
  process.exit(2);
}
const before = totals(a);
const after = totals(b);
const keys = new Set([...before.bytes.keys(), ...after.bytes.keys()]);
const rows = [...keys]
  .map((k) => ({
    k,
    dBytes: (after.bytes.get(k) ?? 0) - (before.bytes.get(k) ?? 0),
    dCount: (after.count.get(k) ?? 0) - (before.count.get(k) ?? 0),
    bytes: after.bytes.get(k) ?? 0,
  }))
  .sort((x, y) => y.dBytes - x.dBytes)
  .slice(0, Number(topArg ?? 30));
const mib = (x: number) => (x / 2 ** 20).toFixed(2);
console.log(`heap: ${mib(before.total)} MiB → ${mib(after.total)} MiB (self sizes)`);
console.log("Δ MiB     Δ count   now MiB  type:constructor");
for (const r of rows)
  console.log(
    `${mib(r.dBytes).padStart(7)} ${String(r.dCount).padStart(10)} ${mib(r.bytes).padStart(9)}  ${r.k}`,
  );
