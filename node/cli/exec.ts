// `arbor exec OP --touch KEY,… [--arg TYPE:VALUE …] [--proof FILE] [--gas N]`: signs and submits an
// EXECUTE and prints the receipt once f+1 nodes signed the same one. Without --proof the SDK reads
// a fresh proof; with it the request carries that proof (e.g. one saved by `arbor get --proof-out`).
import { readFileSync } from "node:fs";
import { decodeProof } from "../store/core/proof-codec.js";
import { listFlag, parseArgs, UsageError } from "./args.js";
import { Output } from "./output.js";
import { TARGET_FLAGS, withClient } from "./connect.js";
import { encodeArgs } from "./exec-args.js";
import { receiptJson, receiptLine, warnEphemeral } from "./receipt-view.js";

const FLAGS = { ...TARGET_FLAGS, touch: "list", arg: "list", proof: "string", gas: "string" } as const;

export async function execCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, FLAGS);
  if (a.positional.length !== 1) throw new UsageError("exec needs exactly one OP (the operation's key)");
  const op = a.positional[0]!;
  const touched = listFlag(a, "touch");
  const args = encodeArgs(listFlag(a, "arg", false));
  const gasText = a.strings.get("gas");
  if (gasText !== undefined && !/^\d+$/.test(gasText)) throw new UsageError("--gas must be a whole number");
  const proofFile = a.strings.get("proof");
  let proof: Uint8Array | undefined;
  if (proofFile !== undefined) {
    try {
      proof = new Uint8Array(readFileSync(proofFile));
      // A file that is not a proof would only be decided bad-proof: say so before signing.
      decodeProof(proof);
    } catch (e) {
      throw new UsageError(`--proof ${proofFile}: not a proof file: ${(e as Error).message}`);
    }
  }
  const out = new Output(a.bools.has("json"));
  return withClient(a, async (c, t) => {
    warnEphemeral(t.keySource);
    const r = await c.execute({
      op,
      touched,
      args,
      gasLimit: gasText === undefined ? undefined : BigInt(gasText),
      proof,
    });
    out.line(receiptLine(op, r));
    out.doc(receiptJson(r));
    return 0;
  });
}
