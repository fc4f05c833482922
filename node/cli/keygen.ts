// `arbor keygen [--out FILE]`: a new Ed25519 signing key. With --out the seed goes to FILE (mode
// 0600) and only the public key is printed; without it the seed is printed (keep it secret).
import { toHex } from "../common/bytes.js";
import { generateKey } from "../../client/crypto.js";
import { parseArgs, UsageError, type FlagKind } from "./args.js";
import { Output } from "./output.js";
import { writeSeedFile } from "./keyfile.js";

const FLAGS: Record<string, FlagKind> = { out: "string", force: "bool", json: "bool" };

export async function keygenCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, FLAGS);
  if (a.positional.length > 0) throw new UsageError(`keygen takes no arguments (got "${a.positional[0]}")`);
  const out = new Output(a.bools.has("json"));
  const key = generateKey();
  const file = a.strings.get("out");
  if (file !== undefined) {
    writeSeedFile(file, key.seed, a.bools.has("force"));
    out.line(`wrote ${file}`);
    out.line(`public key ${toHex(key.publicKey)}`);
    out.doc({ file, publicKey: key.publicKey });
  } else {
    out.line(`seed       ${toHex(key.seed)}   (secret: save it in a key file)`);
    out.line(`public key ${toHex(key.publicKey)}`);
    out.doc({ seed: key.seed, publicKey: key.publicKey });
  }
  return 0;
}
