// Genesis: the founding document of a chain — its nodes (id, Ed25519 key, address, partition),
// the history window T, the replication factor and the initial records. Stored as JSON for
// people; its canonical encoding's hash is the chain id every signature is bound to. Membership
// and parameters are also written into the system domain (".arbor/…"), so a client can read them
// with a proof and check them against a certified root.

import { Reader, Writer } from "../common/codec.js";
import { compareUtf8, fromBase64, fromHex, toBase64, toHex } from "../common/bytes.js";
import { memberKey, SYSTEM_DOMAIN, SYSTEM_PARAMS_KEY } from "../common/system-keys.js";
import { LimitError } from "../common/errors.js";
import { sha256 } from "../common/hash.js";
import { MAX_HISTORY_T, MAX_NODE_ID, TOB_MAX_VALIDATORS } from "../common/limits.js";
import { parsePrefix, formatPrefix, Partition } from "../store/core/partition.js";
import { checkKey } from "../store/core/path.js";
import { validatorsHash, type Validator } from "./header.js";

export interface GenesisNode {
  readonly id: number;
  readonly publicKey: Uint8Array;
  /** host:port of the node's gRPC endpoint (client API and peer streams) */
  readonly address: string;
  /** key-hash prefixes (bit strings) this node stores in full */
  readonly prefixes: readonly string[];
}

export interface Genesis {
  readonly name: string;
  readonly T: number;
  readonly replication: number;
  /**
   * How many blocks back past values stay readable (docs/protocol.md §15): a node keeps the value
   * a key had at every height of the last `retention` blocks, and may drop older ones. 0: forever.
   * Default DEFAULT_RETENTION_BLOCKS.
   */
  readonly retention?: number;
  readonly nodes: readonly GenesisNode[];
  /**
   * Who may add and remove members (governance.ts): `threshold` of these keys must approve a
   * change. Absent: a quorum (2f+1) of the validators in force at the block.
   */
  readonly governance?: { readonly keys: readonly Uint8Array[]; readonly threshold: number };
  /** initial records, membership and parameters excluded (they are derived) */
  readonly records: readonly { key: string; value: Uint8Array }[];
}

export class GenesisError extends LimitError {}

/** The retention window of a genesis that names none: the last 100,000 blocks. */
export const DEFAULT_RETENTION_BLOCKS = 100_000;
/** The largest retention window a genesis may name (2^32 − 1 blocks; 0 is forever). */
export const MAX_RETENTION_BLOCKS = 0xffff_ffff;

/** The chain's retention window in blocks (0: forever). */
export function retentionOf(g: Genesis): number {
  return g.retention ?? DEFAULT_RETENTION_BLOCKS;
}

/**
 * Assigns key-hash prefixes to n nodes so that every prefix is held by `k` of them and the load is
 * balanced: the key space is cut into at least 4n equal prefixes whose copies are dealt round-robin.
 */
export function assignPrefixes(n: number, k: number): string[][] {
  if (!Number.isInteger(n) || n < 1) throw new GenesisError("genesis/bad-n", "need at least one node");
  if (!Number.isInteger(k) || k < 1 || k > n)
    throw new GenesisError("genesis/bad-replication", `replication must be in 1..${n}`);
  if (n === k) return Array.from({ length: n }, () => [""]);
  let bits = 0;
  while (1 << bits < 4 * n) bits++;
  const out: string[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < 1 << bits; i++) {
    const p = i.toString(2).padStart(bits, "0");
    // Deal the P·k copies round-robin: loads differ by at most one prefix, and the k holders of a
    // prefix are k consecutive (hence distinct) nodes.
    for (let j = 0; j < k; j++) out[(i * k + j) % n]!.push(p);
  }
  return out;
}

/**
 * Whether `address` can be dialled as a node's gRPC endpoint: `host:port`, the host without
 * whitespace, the port 1…65535, at most 255 characters.
 */
export function isNodeAddress(address: string): boolean {
  const m = /^[^\s]+:(\d{1,5})$/.exec(address);
  if (m === null || address.length > 255) return false;
  const port = Number(m[1]);
  return port >= 1 && port <= 65535;
}

/** Host names that always mean this machine's loopback interface (RFC 6761 §6.3). */
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * What two node addresses are compared by, so that one endpoint written two ways counts once:
 * the host as the WHATWG URL parser normalises it (lower case, IPv4 in any notation and IPv6 in
 * their canonical forms, a final dot dropped), every spelling of the loopback host alike
 * (`localhost`, `*.localhost`, `127.0.0.1`, `[::1]`), and the port as a number. Pure (no name is
 * looked up): every node computes it alike. `address` must pass isNodeAddress.
 */
export function addressKey(address: string): string {
  const i = address.lastIndexOf(":");
  const port = Number(address.slice(i + 1));
  let host = address.slice(0, i).toLowerCase();
  try {
    host = new URL(`http://${host}:1/`).hostname;
  } catch {
    // Not a URL host (the parser refuses some characters): compared as written, lower case.
  }
  if (host.endsWith(".")) host = host.slice(0, -1);
  if (LOOPBACK.has(host) || host.endsWith(".localhost")) host = "loopback";
  return `${host}:${port}`;
}

/** Why a node's prefix list is not a set of disjoint prefixes (one twice, or one inside another), or null. */
export function overlappingPrefixes(prefixes: readonly string[]): string | null {
  const sorted = [...prefixes].sort();
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i]!.startsWith(sorted[i - 1]!))
      return sorted[i] === sorted[i - 1]
        ? `prefix "${sorted[i]}" is given twice`
        : `prefix "${sorted[i]}" lies inside "${sorted[i - 1]}"`;
  return null;
}

/** Checks the document's rules: unique ids, keys and addresses, every prefix held by `replication` nodes. */
export function validateGenesis(g: Genesis): void {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(g.name))
    throw new GenesisError("genesis/bad-name", "name must be 1-64 of [A-Za-z0-9._-]");
  if (!Number.isInteger(g.T) || g.T < 1 || g.T > MAX_HISTORY_T)
    throw new GenesisError("genesis/bad-t", `T must be in 1..${MAX_HISTORY_T}`);
  const n = g.nodes.length;
  if (n < 1 || n > TOB_MAX_VALIDATORS)
    throw new GenesisError("genesis/bad-n", `1..${TOB_MAX_VALIDATORS} nodes`);
  if (!Number.isInteger(g.replication) || g.replication < 1 || g.replication > n)
    throw new GenesisError("genesis/bad-replication", `replication must be in 1..${n}`);
  const retention = retentionOf(g);
  if (!Number.isInteger(retention) || retention < 0 || retention > MAX_RETENTION_BLOCKS)
    throw new GenesisError("genesis/bad-retention", `retention must be in 0..${MAX_RETENTION_BLOCKS} blocks`);
  const ids = new Set<number>();
  const keys = new Set<string>();
  const addresses = new Set<string>();
  for (const node of g.nodes) {
    if (!Number.isInteger(node.id) || node.id < 0 || node.id > MAX_NODE_ID)
      throw new GenesisError("genesis/bad-id", `bad node id ${node.id}`);
    if (ids.has(node.id)) throw new GenesisError("genesis/duplicate-id", `node id ${node.id} twice`);
    ids.add(node.id);
    if (node.publicKey.length !== 32)
      throw new GenesisError("genesis/bad-key", `node ${node.id}: key must be 32 bytes`);
    if (keys.has(toHex(node.publicKey)))
      throw new GenesisError("genesis/duplicate-key", `node ${node.id}: key used twice`);
    keys.add(toHex(node.publicKey));
    if (!isNodeAddress(node.address))
      throw new GenesisError(
        "genesis/bad-address",
        `node ${node.id}: address must be host:port, port 1-65535`,
      );
    if (addresses.has(addressKey(node.address)))
      throw new GenesisError("genesis/bad-address", `node ${node.id}: address ${node.address} used twice`);
    addresses.add(addressKey(node.address));
    new Partition(node.prefixes);
    const overlap = overlappingPrefixes(node.prefixes);
    if (overlap !== null) throw new GenesisError("partition/bad-prefix", `node ${node.id}: ${overlap}`);
  }
  // Every point of the key space must be covered `replication` times: check on the finest grid used.
  const parsed = g.nodes.map((x) => x.prefixes.map(parsePrefix));
  const depth = Math.max(0, ...parsed.flat().map((p) => p.bits));
  if (depth > 16)
    throw new GenesisError(
      "genesis/prefix-too-deep",
      "prefixes deeper than 16 bits are not supported in genesis",
    );
  for (let i = 0; i < 1 << depth; i++) {
    const cell = parsePrefix(depth === 0 ? "" : i.toString(2).padStart(depth, "0"));
    const holders = parsed.filter((ps) =>
      ps.some((p) => p.bits <= cell.bits && formatPrefix(cell).startsWith(formatPrefix(p))),
    ).length;
    if (holders < g.replication)
      throw new GenesisError(
        "genesis/under-replicated",
        `prefix ${formatPrefix(cell) || "(root)"} is held by ${holders} nodes, ${g.replication} needed`,
      );
  }
  validateGovernance(g);
  const recordKeys = new Set<string>();
  for (const r of g.records) {
    checkKey(r.key);
    if (recordKeys.has(r.key)) throw new GenesisError("genesis/duplicate-record", `${r.key}: given twice`);
    recordKeys.add(r.key);
    if (r.key.startsWith(`${SYSTEM_DOMAIN}/`))
      throw new GenesisError("genesis/system-record", `${r.key}: the system domain is derived, not given`);
  }
}

function validateGovernance(g: Genesis): void {
  const gov = g.governance;
  if (gov === undefined) return;
  const keys = new Set(gov.keys.map(toHex));
  if (gov.keys.length < 1 || gov.keys.length > TOB_MAX_VALIDATORS || keys.size !== gov.keys.length)
    throw new GenesisError(
      "genesis/bad-governance",
      `governance needs 1..${TOB_MAX_VALIDATORS} distinct keys`,
    );
  if (gov.keys.some((k) => k.length !== 32))
    throw new GenesisError("genesis/bad-governance", "governance keys must be 32 bytes");
  if (!Number.isInteger(gov.threshold) || gov.threshold < 1 || gov.threshold > gov.keys.length)
    throw new GenesisError("genesis/bad-governance", `threshold must be in 1..${gov.keys.length}`);
}

export function encodeMember(node: GenesisNode): Uint8Array {
  const w = new Writer(128)
    .varint(node.id)
    .raw(node.publicKey)
    .string(node.address)
    .varint(node.prefixes.length);
  for (const p of node.prefixes) w.string(p);
  return w.finish();
}

export function decodeMember(b: Uint8Array): GenesisNode {
  const r = new Reader(b);
  const id = r.varint(MAX_NODE_ID, "id");
  const publicKey = r.copy(32, "public key");
  const address = r.string(256, "address");
  const n = r.varint(1024, "prefix count");
  const prefixes: string[] = [];
  for (let i = 0; i < n; i++) prefixes.push(r.string(64, "prefix"));
  r.end("member");
  return { id, publicKey, address, prefixes };
}

export function encodeParams(g: Genesis): Uint8Array {
  return new Writer(32).string(g.name).varint(g.T).varint(g.replication).varint(retentionOf(g)).finish();
}

/** The records of the genesis tree: the given ones plus membership and parameters. */
export function genesisRecords(g: Genesis): Array<{ key: string; value: Uint8Array }> {
  return [
    ...g.records,
    ...g.nodes.map((n) => ({ key: memberKey(n.id), value: encodeMember(n) })),
    { key: SYSTEM_PARAMS_KEY, value: encodeParams(g) },
  ];
}

/**
 * The canonical encoding of the whole document (docs/protocol.md §7, "Genesis"): nodes ascending
 * by id, records ascending by the UTF-8 bytes of their keys, so it does not depend on the order
 * the JSON lists them in.
 */
export function encodeGenesis(g: Genesis): Uint8Array {
  const w = new Writer(4096)
    .string(g.name)
    .varint(g.T)
    .varint(g.replication)
    .varint(retentionOf(g))
    .varint(g.nodes.length);
  for (const n of [...g.nodes].sort((a, b) => a.id - b.id)) w.bytes(encodeMember(n));
  const recs = [...g.records].sort((a, b) => compareUtf8(a.key, b.key));
  w.varint(recs.length);
  for (const r of recs) w.string(r.key).bytes(r.value);
  // Appended only when named, so a genesis without governance keeps its chain id.
  if (g.governance) {
    w.u8(1).varint(g.governance.threshold).varint(g.governance.keys.length);
    for (const k of g.governance.keys) w.raw(k);
  }
  return w.finish();
}

/** The chain id: SHA-256 of the canonical encoding of the whole document. */
export function chainId(g: Genesis): Uint8Array {
  return sha256(encodeGenesis(g));
}

export function validatorsOf(g: Genesis): Validator[] {
  return g.nodes.map((n) => ({ id: n.id, publicKey: n.publicKey }));
}

export function genesisValidatorsHash(g: Genesis): Uint8Array {
  return validatorsHash(validatorsOf(g));
}

function decodeValue(b64: string): Uint8Array {
  try {
    return fromBase64(b64);
  } catch {
    throw new GenesisError("genesis/bad-field", "record values must be base64");
  }
}

// --- JSON form ------------------------------------------------------------------------------

interface GenesisJson {
  name: string;
  T: number;
  replication: number;
  retention?: number;
  nodes: Array<{ id: number; publicKey: string; address: string; prefixes: string[] }>;
  governance?: { keys: string[]; threshold: number };
  records: Array<{ key: string; value: string }>;
}

export function genesisToJson(g: Genesis): string {
  const j: GenesisJson = {
    name: g.name,
    T: g.T,
    replication: g.replication,
    retention: retentionOf(g),
    nodes: g.nodes.map((n) => ({
      id: n.id,
      publicKey: toHex(n.publicKey),
      address: n.address,
      prefixes: [...n.prefixes],
    })),
    ...(g.governance
      ? { governance: { keys: g.governance.keys.map(toHex), threshold: g.governance.threshold } }
      : {}),
    records: g.records.map((r) => ({ key: r.key, value: toBase64(r.value) })),
  };
  return JSON.stringify(j, null, 2) + "\n";
}

export function genesisFromJson(text: string): Genesis {
  let j: GenesisJson;
  try {
    j = JSON.parse(text) as GenesisJson;
  } catch (e) {
    throw new GenesisError("genesis/bad-json", String(e));
  }
  const fail = (m: string): never => {
    throw new GenesisError("genesis/bad-field", m);
  };
  if (typeof j !== "object" || j === null) fail("genesis must be an object");
  if (!Array.isArray(j.nodes) || !Array.isArray(j.records)) fail("nodes and records must be arrays");
  const g: Genesis = {
    name: String(j.name),
    T: Number(j.T),
    replication: Number(j.replication),
    ...(j.retention === undefined ? {} : { retention: Number(j.retention) }),
    nodes: j.nodes.map((n) => {
      if (typeof n.publicKey !== "string" || !/^[0-9a-f]{64}$/.test(n.publicKey))
        fail(`node ${n.id}: publicKey must be 64 hex digits`);
      if (!Array.isArray(n.prefixes)) fail(`node ${n.id}: prefixes must be an array`);
      return {
        id: Number(n.id),
        publicKey: fromHex(n.publicKey),
        address: String(n.address),
        prefixes: n.prefixes.map(String),
      };
    }),
    ...(j.governance === undefined ? {} : { governance: governanceFromJson(j.governance, fail) }),
    records: j.records.map((r) => ({
      key: String(r.key),
      value: decodeValue(String(r.value)),
    })),
  };
  validateGenesis(g);
  return g;
}

function governanceFromJson(
  j: { keys: string[]; threshold: number },
  fail: (m: string) => never,
): { keys: Uint8Array[]; threshold: number } {
  if (typeof j !== "object" || j === null || !Array.isArray(j.keys))
    fail("governance must be { keys: [hex…], threshold }");
  const keys = j.keys.map((k) => {
    if (typeof k !== "string" || !/^[0-9a-f]{64}$/.test(k)) fail("governance keys must be 64 hex digits");
    return fromHex(k);
  });
  return { keys, threshold: Number(j.threshold) };
}
