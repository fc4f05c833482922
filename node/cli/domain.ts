// `arbor domain create NAME`: runs .root_rule to create a domain owned by the signing key, which
// may then deploy operations and write any record of it through NAME/.base_rule.
import { toHex } from "../common/bytes.js";
import { parseArgs, UsageError } from "./args.js";
import { Output } from "./output.js";
import { TARGET_FLAGS, withClient } from "./connect.js";
import { receiptJson, receiptLine, warnEphemeral } from "./receipt-view.js";

export async function domainCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "create")
    throw new UsageError(`domain ${sub ?? ""}: the only subcommand is \`domain create NAME\``);
  const a = parseArgs(rest, TARGET_FLAGS);
  if (a.positional.length !== 1) throw new UsageError("domain create needs exactly one NAME");
  const name = a.positional[0]!;
  const out = new Output(a.bools.has("json"));
  return withClient(a, async (c, t) => {
    warnEphemeral(t.keySource);
    const r = await c.createDomain(name);
    out.line(receiptLine(`domain ${name}`, r));
    out.line(`owner ${toHex(c.key.publicKey)}`);
    out.doc({ domain: name, owner: c.key.publicKey, receipt: receiptJson(r) });
    return 0;
  });
}
