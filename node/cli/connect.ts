// Which cluster a command talks to, and as whom: `--dir DIR` (DIR/genesis.json and DIR/client.key,
// as written by `arbor init`), or `--endpoints host:port,…` (the genesis is learned from a node;
// `--chain HEX` pins it), with `--key FILE` for the signing key. Without either, ./.arbor (the
// quick start's cluster) is used when it exists.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ArborClient } from "../../client/client.js";
import { generateKey, type ClientKey } from "../../client/crypto.js";
import { chainId, genesisFromJson, type Genesis } from "../ledger/genesis.js";
import { toHex } from "../common/bytes.js";
import { VerificationError } from "../../client/errors.js";
import { UsageError, type FlagKind, type ParsedArgs } from "./args.js";
import { readClientKey } from "./keyfile.js";

export const DEFAULT_DIR = ".arbor";

/** Flags every client command accepts. */
export const TARGET_FLAGS: Record<string, FlagKind> = {
  dir: "string",
  endpoints: "string",
  chain: "string",
  key: "string",
  json: "bool",
};

export interface Target {
  readonly dir: string | undefined;
  readonly genesis: Genesis | undefined;
  readonly endpoints: string[] | undefined;
  readonly chain: string | undefined;
  /** the signing key, and where it came from (a file path, or "ephemeral") */
  readonly key: ClientKey;
  readonly keySource: string;
}

export function resolveTarget(a: ParsedArgs): Target {
  const endpointsText = a.strings.get("endpoints");
  let dir = a.strings.get("dir");
  if (dir !== undefined && endpointsText !== undefined)
    throw new UsageError("give --dir or --endpoints, not both");
  if (dir === undefined && endpointsText === undefined) {
    if (!existsSync(join(DEFAULT_DIR, "genesis.json")))
      throw new UsageError(`give --dir DIR or --endpoints host:port,… (no ./${DEFAULT_DIR} cluster here)`);
    dir = DEFAULT_DIR;
  }
  const chain = a.strings.get("chain");
  if (chain !== undefined && !/^[0-9a-fA-F]{64}$/.test(chain))
    throw new UsageError("--chain is the 64-hex-digit chain id");
  let genesis: Genesis | undefined;
  let endpoints: string[] | undefined;
  if (dir !== undefined) {
    const file = join(dir, "genesis.json");
    if (!existsSync(file))
      throw new UsageError(`${file} not found (make one with \`arbor init --dir ${dir}\`)`);
    genesis = genesisFromJson(readFileSync(file, "utf8"));
    if (chain !== undefined && toHex(chainId(genesis)) !== chain.toLowerCase())
      throw new VerificationError(
        "client/chain-mismatch",
        `${file} is chain ${toHex(chainId(genesis))}, not ${chain}`,
      );
  } else {
    endpoints = endpointsText!.split(",").filter((e) => e !== "");
    for (const e of endpoints)
      if (!/^[^\s:]+:\d{1,5}$/.test(e)) throw new UsageError(`bad endpoint "${e}" (want host:port)`);
    if (endpoints.length === 0) throw new UsageError("--endpoints needs at least one host:port");
  }
  const keyFile = a.strings.get("key") ?? (dir !== undefined ? join(dir, "client.key") : undefined);
  let key: ClientKey;
  let keySource: string;
  if (keyFile !== undefined && (a.strings.has("key") || existsSync(keyFile))) {
    key = readClientKey(keyFile);
    keySource = resolve(keyFile);
  } else {
    key = generateKey();
    keySource = "ephemeral";
  }
  return { dir, genesis, endpoints, chain, key, keySource };
}

export interface ConnectHow {
  /** a light-mode client (the trust commands: headers, audit, complain) */
  readonly light?: boolean;
}

export async function connect(t: Target, how: ConnectHow = {}): Promise<ArborClient> {
  return ArborClient.connect({
    genesis: t.genesis,
    endpoints: t.endpoints,
    chainId: t.chain,
    key: t.key,
    light: how.light,
  });
}

/** Runs `body` with a connected client and always closes its connections. */
export async function withClient<T>(
  a: ParsedArgs,
  body: (c: ArborClient, t: Target) => Promise<T>,
  how: ConnectHow = {},
): Promise<T> {
  const t = resolveTarget(a);
  const c = await connect(t, how);
  try {
    return await body(c, t);
  } finally {
    c.close();
  }
}
