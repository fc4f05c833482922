// `arbor get KEY… [--proof-out FILE] [--height H]`: reads records with a proof, verified by the SDK
// against a certified root. With --proof-out the joined proof is saved (in its canonical encoding,
// with the leaves beside each path that an EXECUTE needs), so that `arbor exec --proof FILE` can
// use it. With --height, the values the keys had at block H, read through their verified
// histories (within the chain's retention window).
import { writeFileSync } from "node:fs";
import { heightFlag, parseArgs, UsageError } from "./args.js";
import { Output, shortHex, showValue } from "./output.js";
import { READ_FLAGS, withClient, withReadingClient } from "./connect.js";

const FLAGS = { ...READ_FLAGS, "proof-out": "string", height: "string" } as const;

export async function getCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, FLAGS);
  const keys = a.positional;
  if (keys.length === 0) throw new UsageError("get needs at least one KEY");
  const out = new Output(a.bools.has("json"));
  const proofOut = a.strings.get("proof-out");
  const at = heightFlag(a, "height");
  if (at !== undefined) {
    if (proofOut !== undefined)
      throw new UsageError("--proof-out proves the current state: it does not go with --height");
    return withClient(a, async (c) => {
      const values = await c.get(keys, { height: at });
      const width = Math.max(...keys.map((k) => k.length));
      for (const k of keys) out.line(`${k.padEnd(width)}  ${showValue(values.get(k) ?? null)}`);
      out.line(
        `values at height ${at}, each proven through the key's history against a certified index root`,
      );
      out.doc({
        values: Object.fromEntries(keys.map((k) => [k, values.get(k) ?? null])),
        height: at,
      });
      return 0;
    });
  }
  return withReadingClient(a, async (c) => {
    const r = await c.read(keys, { forExecute: proofOut !== undefined });
    if (proofOut !== undefined) writeFileSync(proofOut, r.proof);
    const nodes = [...new Set(r.statements.map((s) => s.node))].sort((x, y) => x - y);
    const width = Math.max(...keys.map((k) => k.length));
    for (const k of keys) out.line(`${k.padEnd(width)}  ${showValue(r.values.get(k) ?? null)}`);
    out.line(
      `proven against root ${shortHex(r.root)} (height ${r.height}, timestamp ${r.timestamp})` +
        `${c.verifyReads ? ", checked against the certified root" : ""}; answered by node${nodes.length > 1 ? "s" : ""} ${nodes.join(", ")}`,
    );
    if (proofOut !== undefined) out.line(`proof (${r.proof.length} bytes) written to ${proofOut}`);
    out.doc({
      values: Object.fromEntries(keys.map((k) => [k, r.values.get(k) ?? null])),
      root: r.root,
      height: r.height,
      timestamp: r.timestamp,
      verified: c.verifyReads,
      answeredBy: nodes,
      ...(proofOut !== undefined ? { proofFile: proofOut, proofBytes: r.proof.length } : {}),
    });
    return 0;
  });
}
