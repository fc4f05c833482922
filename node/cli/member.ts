// `arbor member list | add | remove | repair`: the membership as the chain records it, and changes
// to it filed as MEMBER requests (docs/protocol.md §11). Approvals come from `--approve-key FILE`
// (repeatable) and, in a cluster directory of `arbor init`, from its node keys when none is given
// (a quorum of validators is the rule of a genesis without governance). In a cluster directory,
// `add` also writes the new node's key, data directory and `node<ID>.json`, ready for
// `arbor node --config`.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fromHex, toHex } from "../common/bytes.js";
import { assignPrefixes, type GenesisNode } from "../ledger/genesis.js";
import type { MemberChange } from "../ledger/member-request.js";
import { generateKeyPair } from "../keys.js";
import type { NodeConfigFile } from "../config.js";
import { keyFromSeed, type ClientKey } from "../../client/crypto.js";
import type { ArborClient } from "../../client/client.js";
import { parseArgs, UsageError, type ParsedArgs } from "./args.js";
import { EXIT_REJECTED, Output } from "./output.js";
import { TARGET_FLAGS, withClient, type Target } from "./connect.js";
import { readClientKey, writeSeedFile } from "./keyfile.js";
import { receiptJson, receiptLine, warnEphemeral } from "./receipt-view.js";
import { freePorts } from "./cluster-files.js";
import { CA_CERT, CA_KEY, issueNodeCert, nodeCert, nodeKey } from "./tls-certs.js";
import { RequestRejected } from "../../client/errors.js";

const FLAGS = {
  ...TARGET_FLAGS,
  id: "string",
  "node-key": "string",
  address: "string",
  prefixes: "string",
  "approve-key": "list",
} as const;

const USAGE =
  "member list | add --id N [--node-key HEX] [--address HOST:PORT] [--prefixes P,…] | remove ID | repair";

export async function memberCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, FLAGS);
  const [sub, ...rest] = a.positional;
  const out = new Output(a.bools.has("json"));
  if (sub === "list") {
    if (rest.length > 0) throw new UsageError("member list takes no arguments");
    return withClient(a, (c) => listMembers(c, out));
  }
  if (sub === "add" || sub === "remove" || sub === "repair")
    return withClient(a, (c, t) => change(sub, rest, a, c, t, out));
  throw new UsageError(USAGE);
}

async function listMembers(c: ArborClient, out: Output): Promise<number> {
  const { height, records } = await c.memberRecords();
  out.doc({
    height,
    members: records.map((r) => ({
      id: r.id,
      publicKey: toHex(r.publicKey),
      address: r.address,
      prefixes: r.prefixes,
    })),
  });
  out.line(`members at height ${height} (verified against a certified root):`);
  for (const r of records)
    out.line(
      `  node ${r.id}  ${r.address}  key ${toHex(r.publicKey).slice(0, 16)}…  prefixes ${r.prefixes.map((p) => p || '""').join(",")}`,
    );
  return 0;
}

/** The governance approvers: --approve-key files, else a cluster directory's node keys. */
function approvers(a: ParsedArgs, t: Target, n: number): ClientKey[] {
  const files = a.lists.get("approve-key") ?? [];
  if (files.length > 0) return files.map(readClientKey);
  if (t.dir === undefined) return [];
  const keys: ClientKey[] = [];
  for (let id = 0; id < n + 64; id++) {
    const f = join(t.dir, `node${id}.key`);
    if (existsSync(f)) keys.push(readClientKey(f));
  }
  return keys;
}

function parseId(text: string | undefined, what: string): number {
  if (text === undefined || !/^\d{1,10}$/.test(text) || Number(text) >= 2 ** 30)
    throw new UsageError(`${what} must be a node id (0 … 2^30−1)`);
  return Number(text);
}

async function change(
  sub: "add" | "remove" | "repair",
  rest: readonly string[],
  a: ParsedArgs,
  c: ArborClient,
  t: Target,
  out: Output,
): Promise<number> {
  let ch: MemberChange;
  let written: (() => string[]) | undefined;
  if (sub === "remove") {
    if (rest.length !== 1) throw new UsageError("member remove ID");
    ch = { kind: "remove", id: parseId(rest[0], "ID") };
  } else if (sub === "repair") {
    if (rest.length > 0) throw new UsageError("member repair takes no arguments");
    ch = { kind: "repair" };
  } else {
    if (rest.length > 0) throw new UsageError("member add takes flags only");
    const planned = await planAdd(a, c, t);
    ch = { kind: "add", node: planned.node };
    written = planned.write;
  }
  warnEphemeral(t.keySource);
  const keys = sub === "repair" ? [] : approvers(a, t, c.genesis.nodes.length);
  let r;
  try {
    r = await c.changeMembership(ch, { approvers: keys });
  } catch (e) {
    if (!(e instanceof RequestRejected)) throw e;
    process.stderr.write(`arbor: membership change rejected: ${e.message}\n`);
    out.doc({ change: sub, accepted: false, reason: e.code });
    return EXIT_REJECTED;
  }
  const files = written?.() ?? [];
  out.doc({
    change: sub,
    accepted: true,
    receipt: receiptJson(r),
    ...(ch.kind === "add" ? { node: ch.node.id, files } : {}),
  });
  out.line(receiptLine(`member ${sub}`, r));
  if (ch.kind === "add" && files.length > 0)
    out.line(
      `node ${ch.node.id} added; start it with: arbor node --config ${files[files.length - 1]} --join`,
    );
  return 0;
}

/**
 * The record of the node to add: --id, its key (--node-key HEX, or a fresh one written into the
 * cluster directory), --address (default: a free loopback port) and --prefixes (default: the share
 * `arbor init` would give the last of n+1 nodes).
 */
async function planAdd(
  a: ParsedArgs,
  c: ArborClient,
  t: Target,
): Promise<{ node: GenesisNode; write: () => string[] }> {
  const id = parseId(a.strings.get("id"), "--id");
  const keyHex = a.strings.get("node-key");
  if (keyHex !== undefined && !/^[0-9a-f]{64}$/.test(keyHex))
    throw new UsageError("--node-key is 64 hex digits (a public key)");
  if (keyHex === undefined && t.dir === undefined)
    throw new UsageError(
      "give --node-key HEX (the new node's public key), or run in a cluster directory (--dir)",
    );
  const seed = keyHex === undefined ? generateKeyPair().seed : undefined;
  const publicKey = keyHex !== undefined ? fromHex(keyHex) : keyFromSeed(seed!).publicKey;
  let address = a.strings.get("address");
  if (address === undefined) {
    if (t.dir === undefined) throw new UsageError("give --address HOST:PORT");
    address = `127.0.0.1:${(await freePorts(1))[0]}`;
  }
  const { records } = await c.memberRecords();
  const prefixesText = a.strings.get("prefixes");
  const prefixes =
    prefixesText !== undefined
      ? prefixesText.split(",").map((p) => (p === '""' ? "" : p))
      : assignPrefixes(records.length + 1, Math.min(c.genesis.replication, records.length + 1))[
          records.length
        ]!;
  const node: GenesisNode = { id, publicKey, address, prefixes };
  const write = (): string[] => {
    if (t.dir === undefined || seed === undefined) return [];
    const dir = t.dir;
    const keyFile = join(dir, `node${id}.key`);
    writeSeedFile(keyFile, seed, false);
    mkdirSync(join(dir, `node${id}`), { recursive: true });
    // A cluster whose nodes serve TLS: the new node gets a certificate from the same CA.
    const tls = existsSync(join(dir, CA_KEY));
    if (tls) issueNodeCert(dir, id, address.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1"));
    const cfg: NodeConfigFile = {
      id,
      genesis: "genesis.json",
      keyFile: `node${id}.key`,
      dataDir: `node${id}`,
      logLevel: "info",
      member: { address, prefixes: [...prefixes] },
      ...(tls ? { tls: { cert: nodeCert(id), key: nodeKey(id), ca: CA_CERT } } : {}),
    };
    const cfgFile = join(dir, `node${id}.json`);
    writeFileSync(cfgFile, JSON.stringify(cfg, null, 2) + "\n");
    return [keyFile, cfgFile];
  };
  return { node, write };
}
