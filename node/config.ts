// Per-node configuration file: which genesis member this process is, where its key and data
// live, and a few tunables. Relative paths are relative to the configuration file.

import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ArborError } from "./common/errors.js";
import { fromHex } from "./common/bytes.js";
import { genesisFromJson, type Genesis } from "./ledger/genesis.js";
import { keyPairFromSeed, type KeyPair } from "./keys.js";
import { parseLogFormat, type Level, type LogFormat } from "./log.js";
import { BYZANTINE_BEHAVIOURS, type Byzantine } from "./byzantine.js";
import { loadNodeTls, type NodeTls, type TlsConfigFile } from "./net/tls.js";

export interface NodeConfigFile {
  id: number;
  genesis: string;
  keyFile: string;
  dataDir: string;
  listen?: string;
  tickMs?: number;
  logLevel?: Level;
  /** "json" (the default: one JSON object per line) or "text" (readable lines) */
  logFormat?: LogFormat;
  /** host:port of the Prometheus metrics HTTP server (docs/operations.md); none when absent */
  metricsListen?: string;
  /** host:port of the browser API (node/web-api.ts: Connect and gRPC-web over HTTP/1.1); none when absent */
  webListen?: string;
  /** origins whose pages may call the browser API (exact, `*`, or `scheme://host:*`); none when absent */
  webOrigins?: string[];
  /** a node added after genesis: its address and prefixes as `arbor member add` gave them */
  member?: { address: string; prefixes: string[] };
  /** TLS on the gRPC port, for clients and peers (node/net/tls.ts); plaintext when absent */
  tls?: TlsConfigFile;
  /** test-only misbehaviour (see NodeOptions.byzantine) */
  byzantine?: Byzantine;
}

export interface LoadedConfig {
  readonly id: number;
  readonly genesis: Genesis;
  readonly key: KeyPair;
  readonly dataDir: string;
  readonly listen: string | undefined;
  readonly tickMs: number;
  readonly logLevel: Level;
  readonly logFormat: LogFormat;
  readonly metricsListen: string | undefined;
  readonly webListen: string | undefined;
  readonly webOrigins: readonly string[];
  readonly member: { readonly address: string; readonly prefixes: readonly string[] } | undefined;
  readonly tls: NodeTls | undefined;
  readonly byzantine: Byzantine | undefined;
}

export class ConfigError extends ArborError {}

/** A key file holds the 32-byte Ed25519 seed as 64 hex digits (and nothing else but whitespace). */
export function readKeyFile(path: string): KeyPair {
  const text = readFileSync(path, "utf8").trim();
  if (!/^[0-9a-f]{64}$/.test(text))
    throw new ConfigError("config/bad-key-file", `${path}: expected 64 hex digits`);
  return keyPairFromSeed(fromHex(text));
}

export function loadConfig(path: string): LoadedConfig {
  let c: NodeConfigFile;
  try {
    c = JSON.parse(readFileSync(path, "utf8")) as NodeConfigFile;
  } catch (e) {
    throw new ConfigError("config/unreadable", `${path}: ${String(e)}`);
  }
  const base = dirname(resolve(path));
  if (!Number.isInteger(c.id)) throw new ConfigError("config/bad-id", "id must be an integer");
  for (const f of ["genesis", "keyFile", "dataDir"] as const)
    if (typeof c[f] !== "string") throw new ConfigError("config/missing", `${f} must be a path`);
  if (c.byzantine !== undefined && !BYZANTINE_BEHAVIOURS.includes(c.byzantine))
    throw new ConfigError(
      "config/bad-byzantine",
      `byzantine must be one of ${BYZANTINE_BEHAVIOURS.join(", ")}`,
    );
  if (c.metricsListen !== undefined && !isHostPort(c.metricsListen))
    throw new ConfigError("config/bad-metrics-listen", "metricsListen must be host:port");
  if (c.webListen !== undefined && !isHostPort(c.webListen))
    throw new ConfigError("config/bad-web-listen", "webListen must be host:port");
  if (
    c.webOrigins !== undefined &&
    !(Array.isArray(c.webOrigins) && c.webOrigins.every((o) => typeof o === "string"))
  )
    throw new ConfigError("config/bad-web-origins", "webOrigins must be a list of origins");
  if (
    c.member !== undefined &&
    !(
      typeof c.member === "object" &&
      c.member !== null &&
      isHostPort(c.member.address) &&
      Array.isArray(c.member.prefixes) &&
      c.member.prefixes.every((p) => typeof p === "string" && /^[01]*$/.test(p))
    )
  )
    throw new ConfigError(
      "config/bad-member",
      'member must be { "address": "host:port", "prefixes": ["0101", …] }',
    );
  const tls = c.tls === undefined ? undefined : loadNodeTls(c.tls, base);
  const genesis = genesisFromJson(readFileSync(resolve(base, c.genesis), "utf8"));
  return {
    id: c.id,
    genesis,
    key: readKeyFile(resolve(base, c.keyFile)),
    dataDir: resolve(base, c.dataDir),
    listen: c.listen,
    tickMs: c.tickMs ?? 50,
    logLevel: c.logLevel ?? "info",
    logFormat: c.logFormat === undefined ? "json" : parseLogFormat(c.logFormat, `${path}: logFormat`),
    metricsListen: c.metricsListen,
    webListen: c.webListen,
    webOrigins: c.webOrigins ?? [],
    member: c.member,
    tls,
    byzantine: c.byzantine,
  };
}

/** `host:port` with a port in 0..65535 (0: any free port). */
function isHostPort(a: unknown): boolean {
  if (typeof a !== "string") return false;
  const m = /^(.+):(\d{1,5})$/.exec(a);
  return m !== null && Number(m[2]) <= 65535;
}
