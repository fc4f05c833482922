// `arbor audit [--sample N] [--key-read KEY] [--evidence-out FILE]`: lazy auditing from the command
// line. Asks each sampled node for a signed statement about KEY (default `.root_rule`, with values:
// a node can only lie where it sends values) and checks it, through a light client, against the
// certified header at its height. Prints each node's verdict; when a statement contradicts its
// certified root, the evidence (its canonical encoding, docs/protocol.md §7) is written to a file
// for `arbor complain --evidence FILE`, and the exit code is EXIT_EVIDENCE (5).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { toHex } from "../common/bytes.js";
import { UnavailableError } from "../../client/errors.js";
import { intFlag, parseArgs, UsageError } from "./args.js";
import { EXIT_EVIDENCE, Output, shortHex } from "./output.js";
import { TARGET_FLAGS, withClient } from "./connect.js";
import { DEFAULT_READ_KEY } from "./headers.js";

const FLAGS = { ...TARGET_FLAGS, sample: "string", "key-read": "string", "evidence-out": "string" } as const;

/** Where evidence against `accused` goes: FILE as given (one finding), FILE-nodeI.ext (several), or DIR/evidence-nodeI.bin. */
function evidencePath(
  given: string | undefined,
  dir: string | undefined,
  accused: number,
  several: boolean,
): string {
  if (given === undefined) return join(dir ?? ".", `evidence-node${accused}.bin`);
  if (!several) return given;
  const ext = extname(given);
  return `${given.slice(0, given.length - ext.length)}-node${accused}${ext}`;
}

export async function auditCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, FLAGS);
  if (a.positional.length > 0) throw new UsageError(`audit takes no arguments (got "${a.positional[0]}")`);
  const key = a.strings.get("key-read") ?? DEFAULT_READ_KEY;
  const out = new Output(a.bools.has("json"));
  return withClient(
    a,
    async (c, t) => {
      const sample = intFlag(a, "sample", c.nodes.length, 1, c.nodes.length);
      const report = await c.auditReport({ sample, key, values: true });
      const addr = new Map(c.nodes.map((n) => [n.id, n.address]));
      const written = report.found.map((f) => {
        const file = evidencePath(a.strings.get("evidence-out"), t.dir, f.accused, report.found.length > 1);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, f.evidence);
        return { ...f, file };
      });
      // The same cluster flags, for the suggested `arbor complain`.
      const target = ["dir", "endpoints", "chain"]
        .filter((f) => a.strings.has(f))
        .map((f) => ` --${f} ${a.strings.get(f)}`)
        .join("");
      const answered = report.nodes.filter(
        (n) => n.verdict !== "no-answer" && n.verdict !== "evicted",
      ).length;
      const unchecked = report.nodes.filter((n) => n.verdict === "unchecked").length;
      if (answered === 0 && written.length === 0) {
        const why = report.nodes.map((n) => `node ${n.node}: ${n.detail ?? "no answer"}`).join("; ");
        throw new UnavailableError("client/unavailable", `no node answered the audit (${why})`);
      }
      out.doc({
        chain: c.chain,
        key,
        clean: written.length === 0,
        nodes: report.nodes.map((n) => ({ ...n, address: addr.get(n.node) })),
        evidence: written.map((w) => ({
          accused: w.accused,
          kind: w.kind,
          height: w.height,
          bytes: w.evidence.length,
          file: w.file,
        })),
      });
      out.line(
        `audit of ${report.nodes.length} of ${c.nodes.length} nodes (chain ${toHex(c.chain).slice(0, 16)}…): each signs its root for ${key}, checked against the certified header at its height`,
      );
      out.line(" id  address                verdict     height  root");
      for (const n of report.nodes) {
        const at = n.height === undefined ? "" : `${String(n.height).padStart(6)}  ${shortHex(n.root!)}`;
        const verdict = n.verdict === "caught" ? "CAUGHT" : n.verdict;
        out.line(
          ` ${String(n.node).padStart(2)}  ${(addr.get(n.node) ?? "").padEnd(22)} ${verdict.padEnd(10)}  ${at}${n.detail ? `${at ? "  " : ""}${n.detail}` : ""}`,
        );
      }
      for (const w of written) {
        out.line(
          `evidence against node ${w.accused} (${w.kind}${w.kind === "double-vote" || w.kind === "double-proposal" ? "" : ` at height ${w.height}`}, ${w.evidence.length} bytes) written to ${w.file}`,
        );
        out.line(`  file it with: arbor complain --evidence ${w.file}${target}`);
      }
      if (written.length > 0) return EXIT_EVIDENCE;
      const withheld = report.nodes.filter((n) => n.evidenceMissing !== undefined).map((n) => n.node);
      out.line(
        `${answered}/${report.nodes.length} answered; no contradiction found` +
          (unchecked > 0 ? ` (${unchecked} statement${unchecked > 1 ? "s" : ""} could not be checked)` : "") +
          (withheld.length > 0
            ? `; the evidence witnessed by node${withheld.length > 1 ? "s" : ""} ${withheld.join(", ")} did not come`
            : ""),
      );
      return 0;
    },
    { light: true },
  );
}
