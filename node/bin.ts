#!/usr/bin/env node
// The `arbor` command: dispatches to the command groups in node/cli/ (one file each) and turns
// their outcome into an exit code (0 ok, 1 other error, 2 usage, 3 request rejected, 4 unavailable,
// 5 evidence of misbehaviour found by an audit).
import "./common/limits-consistency.js";
import { runNode } from "./main.js";
import { logFormatFlag, parseArgs, requireString, UsageError } from "./cli/args.js";
import { reportError } from "./cli/output.js";
import { checkArgvEncoding, rawCommandLine } from "./cli/argv-encoding.js";
import { quietIpServernameWarning } from "./net/ip-servername.js";

const USAGE = `arbor — a Merkle-proven ledger run by a federation

cluster
  arbor init --nodes N [--replication K] [--t T] [--base-port P] --dir DIR [--force]
             [--tls] [--hosts H0,H1,…] [--compose FILE]
                                  keys, genesis and node configs for a local cluster (--tls: with
                                  a CA and node certificates; --hosts: one host per node)
  arbor up [--dir DIR] [--quiet] [--log-format text|json]
                                  run that cluster in the foreground (Ctrl-C stops it)
  arbor node --config FILE [--data-dir DIR] [--log-format json|text] [--join]
                                  run one node (multi-host deployments); --join: without a
                                  store, install one from the peers' snapshot; catch up
                                  before serving clients (a new member, a wiped disk)
  arbor health --config FILE      exit 0 when that node's gRPC health service says SERVING
  arbor start [--dir DIR] [--base-port P] [--no-demo] [--exit-after-demo]
                                  the quick start: init DIR (./.arbor) if needed, up, banking demo

client (each takes --dir DIR | --endpoints HOST:PORT,… [--chain HEX], --key FILE, --json,
        --tls-ca FILE [--tls-server-name NAME] for nodes serving TLS; get, ls, history and
        search first learn the newest certified height a node proves, so they do not show a
        state older than a write already confirmed: --no-catch-up skips that)
  arbor status                    every node's height, timestamp and root; do they agree?
  arbor get KEY… [--proof-out FILE] [--height H]
  arbor ls PREFIX [--after KEY] [--limit N] [--all] [--removed]
                                  keys under PREFIX, proven complete (one page, or every page)
  arbor history KEY [--limit N] [--from-height H] [--to-height H]
                                  a key's changes, newest first, proven complete
  arbor exec OP --touch KEY,… [--arg u64:N|str:S|hex:H|bytes-file:PATH]… [--proof FILE] [--gas N]
  arbor domain create NAME
  arbor op build SRC.ts --out FILE | op check FILE | op deploy KEY FILE
  arbor keygen [--out FILE]
  arbor index --data DIR | --postgres URL [--listen HOST:PORT] [--once]
                                  follow verified blocks into a searchable SQL index (docs/index.md)
  arbor search TEXT --index URL [--limit N] [--domain D]
                                  search an index; every hit re-read and verified
  arbor explorer [--listen HOST:PORT] [--web HOST:PORT,…]
                                  a web page of the chain, verifying every value in the browser

membership (docs/operations.md: adding and removing nodes)
  arbor member list               the member records (id, address, key, prefixes), verified
  arbor member add --id N [--node-key HEX] [--address HOST:PORT] [--prefixes P,…] [--approve-key FILE]…
                                  add a node; in a cluster directory also writes its key and config
  arbor member remove ID [--approve-key FILE]…
                                  remove a node; its prefixes go to others until k hold each
  arbor member repair             give evicted nodes' prefixes to others until k hold each

trust (a light client: the genesis plus the headers that changed the validator set)
  arbor headers [KEY | --key-read KEY] [--height H]
                                  verify one read from the genesis; bytes downloaded vs all headers
  arbor audit [--sample N] [--key-read KEY] [--evidence-out FILE]
                                  each node's signed root against the certified one; writes evidence
  arbor complain --evidence FILE [--accused ID]
                                  file a COMPLAIN; prints the receipt (accepted: the node is evicted)

Without --dir or --endpoints, ./.arbor is used when it exists.
Exit codes: 0 ok, 1 error, 2 usage, 3 request rejected, 4 nodes unavailable,
5 audit found misbehaviour (evidence written).
`;

type Command = (argv: string[]) => Promise<number>;

/** Loaded on demand: `arbor node` should not pay for the client side, nor the client for the node. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  init: async () => (await import("./cli/init.js")).initCommand,
  up: async () => (await import("./cli/up.js")).upCommand,
  start: async () => (await import("./cli/start.js")).startCommand,
  status: async () => (await import("./cli/status.js")).statusCommand,
  get: async () => (await import("./cli/get.js")).getCommand,
  ls: async () => (await import("./cli/ls.js")).lsCommand,
  history: async () => (await import("./cli/history.js")).historyCommand,
  exec: async () => (await import("./cli/exec.js")).execCommand,
  domain: async () => (await import("./cli/domain.js")).domainCommand,
  op: async () => (await import("./cli/op.js")).opCommand,
  keygen: async () => (await import("./cli/keygen.js")).keygenCommand,
  headers: async () => (await import("./cli/headers.js")).headersCommand,
  audit: async () => (await import("./cli/audit.js")).auditCommand,
  complain: async () => (await import("./cli/complain.js")).complainCommand,
  member: async () => (await import("./cli/member.js")).memberCommand,
  index: async () => (await import("./cli/index-command.js")).indexCommand,
  search: async () => (await import("./cli/search.js")).searchCommand,
  explorer: async () => (await import("./cli/explorer.js")).explorerCommand,
  health: async () => (await import("./cli/health.js")).healthCommand,
};

async function nodeCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, {
    config: "string",
    "data-dir": "string",
    "log-format": "string",
    "stop-on-stdin-close": "bool",
    join: "bool",
  });
  if (a.positional.length > 0) throw new UsageError(`node takes no arguments (got "${a.positional[0]}")`);
  const config = requireString(a, "config");
  const logFormat = logFormatFlag(a);
  if (a.bools.has("stop-on-stdin-close")) {
    // Run by a supervisor (`arbor up`): when its end of the pipe closes — it exited or was
    // killed — stop gracefully instead of living on as an orphan.
    process.stdin.on("end", () => process.kill(process.pid, "SIGTERM"));
    process.stdin.on("error", () => process.kill(process.pid, "SIGTERM"));
    process.stdin.resume();
  }
  const dataDir = a.strings.get("data-dir");
  await runNode(config, {
    logFormat,
    join: a.bools.has("join"),
    ...(dataDir === undefined ? {} : { dataDir }),
  });
  return -1; // keeps running until a signal
}

async function main(argv: string[]): Promise<number> {
  checkArgvEncoding(rawCommandLine(), argv.length);
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === "help" || cmd === "--help" || cmd === "-h") {
    process.stdout.write(USAGE);
    return 0;
  }
  if (cmd === "node") return nodeCommand(rest);
  const load = COMMANDS[cmd];
  if (!load) throw new UsageError(`unknown command "${cmd}"`);
  return (await load())(rest);
}

/**
 * Exits once stdout and stderr have written out what is queued: process.exit drops what a pipe
 * has not taken yet, and a command's output can be megabytes (a 1 MiB value is 2 MiB of hex).
 */
function exitFlushed(code: number): void {
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write("", done);
  process.stderr.write("", done);
}

quietIpServernameWarning();
main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) exitFlushed(code);
  },
  (e) => {
    exitFlushed(reportError(e, process.argv.includes("--json")));
  },
);
