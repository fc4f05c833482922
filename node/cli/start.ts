// `arbor start` (what `npm start` runs): the quick start. Makes a 4-node cluster (k = 2) under
// ./.arbor the first time, runs it like `arbor up`, waits until every node answers, runs the banking
// demo against it, and keeps serving until Ctrl-C. A second run reuses the cluster and its data.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { toHex } from "../common/bytes.js";
import { intFlag, parseArgs, UsageError, type FlagKind } from "./args.js";
import { DEFAULT_DIR } from "./connect.js";
import { DEFAULT_BASE_PORT, initCluster } from "./init.js";
import { Supervisor } from "./supervisor.js";
import { sayMetrics, serveUntilSignal } from "./up.js";
import { BANKING_DEMO } from "./paths.js";

const FLAGS: Record<string, FlagKind> = {
  dir: "string",
  "base-port": "string",
  "no-demo": "bool",
  "exit-after-demo": "bool",
};

const say = (l: string) => process.stdout.write(`arbor | ${l}\n`);

function runDemo(dir: string): Promise<number> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BANKING_DEMO, "--dir", dir], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    p.once("error", (e) => {
      say(`could not run the demo: ${e.message}`);
      resolve(1);
    });
    p.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

export async function startCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, FLAGS);
  if (a.positional.length > 0) throw new UsageError(`start takes no arguments (got "${a.positional[0]}")`);
  const dir = a.strings.get("dir") ?? DEFAULT_DIR;
  if (!existsSync(join(dir, "genesis.json"))) {
    const r = await initCluster({
      dir,
      nodes: 4,
      replication: 2,
      basePort: intFlag(a, "base-port", DEFAULT_BASE_PORT, 0, 65535),
    });
    say(
      `new 4-node cluster (f = 1, every prefix on k = 2 nodes) in ${dir}, chain ${toHex(r.chain).slice(0, 16)}…`,
    );
  } else say(`using the cluster in ${dir} (delete that directory for a fresh one)`);

  const sup = new Supervisor(dir);
  await sup.checkPorts();
  say(`starting ${sup.genesis.nodes.length} nodes: ${sup.genesis.nodes.map((n) => n.address).join(", ")}`);
  sup.start();
  const served = serveUntilSignal(sup, say);
  try {
    await sup.waitReady();
  } catch (e) {
    say(`${e instanceof Error ? e.message : String(e)}; stopping`);
    await sup.stop();
    return 1;
  }
  say("every node answers");
  sayMetrics(sup, say);
  if (!a.bools.has("no-demo")) {
    say("running the banking demo (examples/banking/demo.ts)");
    const code = await runDemo(dir);
    if (sup.stopping) return served;
    say(
      code === 0
        ? "demo finished: the books balance"
        : `the demo failed (exit code ${code}); the cluster keeps running for a look`,
    );
    if (a.bools.has("exit-after-demo")) {
      await sup.stop();
      return code === 0 ? 0 : 1;
    }
  }
  say(
    `serving until Ctrl-C. In another terminal: npx arbor status · npx arbor get ${"bank/transfer"} · npx arbor help`,
  );
  return served;
}
