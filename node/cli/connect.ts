// Which cluster a command talks to, and as whom: `--dir DIR` (DIR/genesis.json and DIR/client.key,
// as written by `arbor init`), or `--endpoints host:port,…` (the genesis is learned from a node;
// `--chain HEX` pins it), with `--key FILE` for the signing key. Without either, ./.arbor (the
// quick start's cluster) is used when it exists. `--tls-ca FILE` connects with TLS, checking the
// nodes' certificates against that CA (`--tls-server-name` overrides the name checked); a --dir
// cluster made with `arbor init --tls` uses its DIR/tls/ca.pem without the flag.
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ArborClient } from "../../client/client.js";
import type { ClientTls } from "../../client/transport.js";
import { ArborError } from "../common/errors.js";
import { generateKey, type ClientKey } from "../../client/crypto.js";
import { chainId, genesisFromJson, type Genesis } from "../ledger/genesis.js";
import { toHex } from "../common/bytes.js";
import { VerificationError } from "../../client/errors.js";
import { UsageError, type FlagKind, type ParsedArgs } from "./args.js";
import { readClientKey } from "./keyfile.js";
import { CA_CERT } from "./tls-certs.js";

export const DEFAULT_DIR = ".arbor";

/** Flags every client command accepts. */
export const TARGET_FLAGS: Record<string, FlagKind> = {
  dir: "string",
  endpoints: "string",
  chain: "string",
  key: "string",
  "tls-ca": "string",
  "tls-server-name": "string",
  json: "bool",
};

/**
 * Flags of the commands that read the current state (get, ls, history, search). Before reading they
 * raise the client's freshness floor to the newest height a node proves certified (catchUp, best
 * effort): a command started after a write's receipt does not show the state before it when a node
 * that certified it answers, and a node serving old replies is passed over. `--no-catch-up` skips that step (one Status per node and one certificate).
 */
export const READ_FLAGS: Record<string, FlagKind> = { ...TARGET_FLAGS, "no-catch-up": "bool" };

export class TlsCaError extends ArborError {}

export interface Target {
  readonly dir: string | undefined;
  readonly genesis: Genesis | undefined;
  readonly endpoints: string[] | undefined;
  readonly chain: string | undefined;
  /** the signing key, and where it came from (a file path, or "ephemeral") */
  readonly key: ClientKey;
  readonly keySource: string;
  /** TLS towards the nodes (from --tls-ca, or DIR/tls/ca.pem); plaintext when absent */
  readonly tls: ClientTls | undefined;
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
  return { dir, genesis, endpoints, chain, key, keySource, tls: resolveTls(a, dir) };
}

/** --tls-ca FILE (checked to hold a PEM certificate), else a --dir cluster's own CA, else none. */
export function resolveTls(a: ParsedArgs, dir: string | undefined): ClientTls | undefined {
  const serverName = a.strings.get("tls-server-name");
  let file = a.strings.get("tls-ca");
  if (file === undefined && dir !== undefined && existsSync(join(dir, CA_CERT))) file = join(dir, CA_CERT);
  if (file === undefined) {
    if (serverName !== undefined) throw new UsageError("--tls-server-name needs --tls-ca FILE");
    return undefined;
  }
  let ca: Buffer;
  try {
    ca = readFileSync(file);
  } catch (e) {
    throw new TlsCaError(
      "cli/tls-ca-unreadable",
      `cannot read ${file} (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  try {
    new X509Certificate(ca);
  } catch {
    throw new TlsCaError("cli/bad-tls-ca", `${file} does not hold a PEM certificate`);
  }
  return serverName === undefined ? { ca } : { ca, serverName };
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
    ...(t.tls === undefined ? {} : { tls: t.tls }),
  });
}

/** Runs `body` with a connected client and always closes its connections. */
export async function withClient<T>(
  a: ParsedArgs,
  body: (c: ArborClient, t: Target) => Promise<T>,
  how: ConnectHow = {},
): Promise<T> {
  const t = resolveTarget(a);
  let c: ArborClient | undefined;
  try {
    c = await connect(t, how);
    return await body(c, t);
  } catch (e) {
    throw withTlsHint(e, t);
  } finally {
    c?.close();
  }
}

/** withClient for a command of READ_FLAGS: the client catches up first unless told not to. */
export function withReadingClient<T>(
  a: ParsedArgs,
  body: (c: ArborClient, t: Target) => Promise<T>,
): Promise<T> {
  return withClient(a, async (c, t) => {
    if (!a.bools.has("no-catch-up")) await c.catchUp();
    return body(c, t);
  });
}

/**
 * A plaintext client meeting a TLS node only sees the connection fail: when nodes were
 * unreachable and no CA was given, the error says TLS may be why.
 */
export function withTlsHint(e: unknown, t: Target): unknown {
  if (t.tls === undefined && e instanceof Error && /\bUNAVAILABLE\b/.test(e.message))
    e.message += " (if the nodes serve TLS, give --tls-ca FILE)";
  return e;
}
