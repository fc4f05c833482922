// bench:sdk-cpu — what the SDK process itself spends per transfer: a real 4-node cluster (k = 2),
// CLIENTS ArborClient instances in this process, each running its transfers one after another
// (between accounts it owns, never two at once on one account), TRANSFERS in all. Measured in
// this process only: CPU (user + system, process.cpuUsage) per transfer, the node calls made per
// transfer by kind (and how many of them were unary gRPC calls rather than messages on the
// connection's streams), and wall time. The nodes' CPU is left out: the figure is the client's. CPU
// time is far less sensitive to a shared machine's load than rates are; the load average is
// printed with it. The last line of stdout is one JSON object.
//
// Knobs: ARBOR_SDK_CLIENTS (default 4), ARBOR_SDK_TRANSFERS (default 400).
import { loadavg } from "node:os";
import { ArborClient, NodeConnection } from "../client/index.js";
import { Bank } from "../examples/banking/bank.js";
import { Cluster } from "../test/cluster/cluster.js";
import { generateKeyPair } from "../node/keys.js";
import { openBankAccounts } from "./bank-accounts.js";

const CLIENTS = Number(process.env.ARBOR_SDK_CLIENTS ?? 4);
const TRANSFERS = Number(process.env.ARBOR_SDK_TRANSFERS ?? 400);
/** Accounts per client: each client moves money around a ring of its own accounts. */
const PER_CLIENT = 2;
const acct = (i: number) => `bank/accounts/a${i}`;

/** Node calls by kind, counted on every connection of this process. */
const calls = new Map<string, number>();
for (const m of ["get", "execute", "waitReceipt", "headers", "status", "transitions", "evidence"] as const) {
  const proto = NodeConnection.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const orig = proto[m]!;
  proto[m] = function (this: unknown, ...a: unknown[]) {
    calls.set(m, (calls.get(m) ?? 0) + 1);
    return orig.apply(this, a);
  };
}
/** Of those, the unary gRPC calls, by method (the transport's private `call`). */
const unary = new Map<string, number>();
{
  const proto = NodeConnection.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const orig = proto["call"];
  if (orig)
    proto["call"] = function (this: unknown, ...a: unknown[]) {
      const m = String(a[0]);
      unary.set(m, (unary.get(m) ?? 0) + 1);
      return orig.apply(this, a);
    };
}

const cluster = await Cluster.create({ n: 4, k: 2, T: 65536, tickMs: 20 });
process.on("exit", () => {
  for (const p of cluster.procs) p?.kill("SIGKILL");
});
try {
  cluster.startAll();
  await cluster.ready();
  const users = Array.from({ length: CLIENTS }, () => generateKeyPair());
  await openBankAccounts({
    genesis: cluster.genesis,
    nodes: 4,
    owner: generateKeyPair(),
    users,
    accounts: CLIENTS * PER_CLIENT,
    account: acct,
    amount: 1_000_000,
  });
  const clients = await Promise.all(
    users.map((key) => ArborClient.connect({ genesis: cluster.genesis, key })),
  );
  const banks = clients.map((c) => new Bank(c));
  // Account i belongs to users[i % CLIENTS]: client c owns c, c + CLIENTS, ...
  const owned = (c: number, j: number) => `a${c + (j % PER_CLIENT) * CLIENTS}`;
  const run = async (count: number) =>
    Promise.all(
      banks.map(async (bank, c) => {
        for (let j = 0; j < count; j++) {
          const r = await bank.transfer(owned(c, j), owned(c, j + 1), 1n);
          if (r.receipt.status !== "accepted") throw new Error(`transfer ${r.receipt.reason}`);
        }
      }),
    );
  await run(5); // warm-up: connections, streams, caches
  calls.clear();
  unary.clear();
  const perClient = Math.ceil(TRANSFERS / CLIENTS);
  const done = perClient * CLIENTS;
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  await run(perClient);
  const wallMs = Date.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const perTransfer = Object.fromEntries([...calls].map(([k, v]) => [k, +(v / done).toFixed(2)]));
  const unaryPerTransfer = Object.fromEntries([...unary].map(([k, v]) => [k, +(v / done).toFixed(2)]));
  const load = loadavg()[0]!;
  console.log(
    `${done} transfers by ${CLIENTS} clients in ${wallMs} ms (${((done * 1000) / wallMs).toFixed(0)}/s); ` +
      `SDK CPU ${(cpuMs / done).toFixed(3)} ms per transfer; calls per transfer ${JSON.stringify(perTransfer)}, of them unary ${JSON.stringify(unaryPerTransfer)}; load average ${load.toFixed(1)}`,
  );
  for (const c of clients) c.close();
  console.log(
    JSON.stringify({
      bench: "sdk-cpu",
      transfers: done,
      clients: CLIENTS,
      sdkCpuMsPerTransfer: +(cpuMs / done).toFixed(3),
      transfersPerSec: +((done * 1000) / wallMs).toFixed(1),
      callsPerTransfer: perTransfer,
      unaryCallsPerTransfer: unaryPerTransfer,
      loadAverage: +load.toFixed(1),
    }),
  );
} finally {
  await cluster.stop();
}
