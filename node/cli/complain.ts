// `arbor complain --evidence FILE [--accused ID]`: files a COMPLAIN with the evidence in FILE (its
// canonical encoding, as `arbor audit` writes it; docs/protocol.md §7) and prints the receipt f+1
// nodes signed. The evidence is decoded locally first to name the accused; a file that is not
// evidence is refused without submitting anything, unless --accused is given, in which case the
// nodes judge it. The ledger's verdict is the receipt: accepted (the node is evicted) or rejected
// with a reason code (exit 3). After an eviction it files the repair that deals the evicted node's
// prefixes to the other members (docs/operations.md, "Changing the membership").
import { readFileSync } from "node:fs";
import { ArborError } from "../common/errors.js";
import { evictedKey } from "../common/system-keys.js";
import { describeEvidence } from "../../client/client.js";
import { parseArgs, requireString, UsageError } from "./args.js";
import { EXIT_REJECTED, Output } from "./output.js";
import { TARGET_FLAGS, withClient } from "./connect.js";
import { receiptJson, receiptLine, warnEphemeral } from "./receipt-view.js";

const FLAGS = { ...TARGET_FLAGS, evidence: "string", accused: "string" } as const;

export class EvidenceFileError extends ArborError {}

export async function complainCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, FLAGS);
  if (a.positional.length > 0) throw new UsageError(`complain takes no arguments (got "${a.positional[0]}")`);
  const file = requireString(a, "evidence");
  const accusedText = a.strings.get("accused");
  if (accusedText !== undefined && !/^\d+$/.test(accusedText))
    throw new UsageError(`--accused must be a node id, not "${accusedText}"`);
  let evidence: Uint8Array;
  try {
    evidence = new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new UsageError(`--evidence ${file}: ${(e as Error).message}`);
  }
  const out = new Output(a.bools.has("json"));
  return withClient(
    a,
    async (c, t) => {
      let claim: ReturnType<typeof describeEvidence> | undefined;
      let undecodable: string | undefined;
      try {
        claim = describeEvidence(evidence, c.genesis);
      } catch (e) {
        // ArborError messages start with their code.
        undecodable = e instanceof Error ? e.message : String(e);
        if (accusedText === undefined)
          throw new EvidenceFileError(
            "complain/not-evidence",
            `${file} is not Arbor evidence (${undecodable}); nothing was submitted (--accused ID submits it anyway, for the nodes to judge)`,
          );
      }
      let accused = claim?.accused;
      if (accusedText !== undefined) {
        const given = Number(accusedText);
        if (accused !== undefined && accused !== given)
          throw new UsageError(`the evidence in ${file} accuses node ${accused}, not node ${given}`);
        accused = given;
      }
      if (accused === undefined)
        throw new UsageError(
          `the evidence in ${file} (${claim!.kind}) does not say which node it accuses: give --accused ID`,
        );
      if (!c.nodes.some((n) => n.id === accused))
        throw new UsageError(`node ${accused} is not in this chain's genesis`);
      warnEphemeral(t.keySource);
      const what = claim
        ? `${claim.kind}${claim.height !== undefined ? ` at height ${claim.height}` : ""}${claim.epoch !== undefined ? ` in epoch ${claim.epoch}, round ${claim.round}` : ""}`
        : `undecodable (${undecodable})`;
      const r = await c.submit(await c.prepareComplaint(evidence, accused));
      const accepted = r.receipt.status === "accepted";
      // After an eviction its prefixes go back to k holders at once: a repair needs no approval.
      let repair: { receipt?: ReturnType<typeof receiptJson>; error?: string; line: string } | undefined;
      if (accepted)
        try {
          const rr = await c.changeMembership({ kind: "repair" });
          repair = {
            receipt: receiptJson(rr),
            line: receiptLine("repair: its prefixes dealt to the others", rr),
          };
        } catch (e) {
          const why = e instanceof Error ? e.message : String(e);
          repair = { error: why, line: `repair not done (${why}): run \`arbor member repair\`` };
        }
      out.doc({
        evidence: { ...claim, kind: claim?.kind ?? null, accused, file, bytes: evidence.length },
        accepted,
        receipt: receiptJson(r),
        ...(accepted ? { evicted: accused, record: evictedKey(accused) } : {}),
        ...(repair ? { repair: repair.receipt ?? { error: repair.error } } : {}),
      });
      out.line(`evidence ${file}: ${evidence.length} bytes, ${what}, against node ${accused}`);
      out.line(receiptLine(`complain against node ${accused}`, r));
      if (accepted) {
        out.line(`node ${accused} is evicted: ${evictedKey(accused)} written at height ${r.receipt.height}`);
        out.line(repair!.line);
        return 0;
      }
      const x = r.receipt;
      if (x.status === "rejected")
        process.stderr.write(`arbor: complaint rejected: ${x.reason}${x.message ? ` (${x.message})` : ""}\n`);
      return EXIT_REJECTED;
    },
    { light: true },
  );
}
