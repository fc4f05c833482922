// The banking demo, runnable against any Arbor cluster:
//   node dist/examples/banking/demo.js [--dir DIR | --endpoints HOST:PORT,… [--chain HEX]] [--key FILE]
//                                      [--domain bank] [--clients 4] [--rounds 3]
// It sets up the domain and its operations, opens accounts, mints, transfers, shows a double spend
// and an overdraft being refused, runs concurrent clients on disjoint and on overlapping accounts,
// reads every balance with one proof and checks that money was conserved, and ends with one
// account's history and the list of accounts, each proven complete against a certified index root.
// Exit code 0 only if the books balance.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { ArborClient, type TrustedReceipt } from "../../client/client.js";
import { generateKey, keyFromSeed, type ClientKey } from "../../client/crypto.js";
import { RequestRejected } from "../../client/errors.js";
import { fromHex, toHex } from "../../node/common/bytes.js";
import { Bank } from "./bank.js";

interface Options {
  dir?: string;
  endpoints?: string[];
  chain?: string;
  keyFile?: string;
  domain: string;
  clients: number;
  rounds: number;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { domain: "bank", clients: 4, rounds: 3 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const v = argv[i + 1];
    if (v === undefined) usage(`${flag} needs a value`);
    i++;
    if (flag === "--dir") o.dir = v;
    else if (flag === "--endpoints") o.endpoints = v!.split(",").filter((e) => e);
    else if (flag === "--chain") o.chain = v;
    else if (flag === "--key") o.keyFile = v;
    else if (flag === "--domain") o.domain = v!;
    else if (flag === "--clients") o.clients = positive(flag, v!, 32);
    else if (flag === "--rounds") o.rounds = positive(flag, v!, 100);
    else usage(`unknown option ${flag}`);
  }
  if (o.dir === undefined && o.endpoints === undefined) {
    if (existsSync(".arbor/genesis.json")) o.dir = ".arbor";
    else usage("give --dir DIR or --endpoints HOST:PORT,…");
  }
  return o;
}

function positive(flag: string, v: string, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) usage(`${flag} must be a whole number in 1..${max}`);
  return n;
}

function usage(msg: string): never {
  process.stderr.write(
    `banking demo: ${msg}\nusage: demo [--dir DIR | --endpoints HOST:PORT,… [--chain HEX]] [--key FILE] [--domain NAME] [--clients N] [--rounds N]\n`,
  );
  process.exit(2);
}

function readKey(path: string): ClientKey {
  const t = readFileSync(path, "utf8").trim();
  if (!/^[0-9a-fA-F]{64}$/.test(t)) throw new Error(`${path}: a key file holds 64 hex digits`);
  return keyFromSeed(fromHex(t.toLowerCase()));
}

// --- output -----------------------------------------------------------------------------------

const t0 = Date.now();
const secs = () => ((Date.now() - t0) / 1000).toFixed(1).padStart(5) + "s";
const say = (s: string) => process.stdout.write(`${secs()}  ${s}\n`);
const detail = (s: string) => process.stdout.write(`        ${s}\n`);
let stepNo = 0;
const STEPS = 10;
const step = (s: string) => say(`[${++stepNo}/${STEPS}] ${s}`);
const money = (n: bigint) => n.toString();

/** Outcome of one request for tallies: "accepted", a reason code, or "unknown:CODE"; `why` is the node's message. */
async function outcome(
  p: Promise<TrustedReceipt>,
): Promise<{ status: string; why: string; receipt?: TrustedReceipt }> {
  try {
    return { status: "accepted", why: "", receipt: await p };
  } catch (e) {
    if (e instanceof RequestRejected) return { status: e.code, why: e.message };
    return {
      status: `unknown:${(e as { code?: string }).code ?? (e as Error).message}`,
      why: (e as Error).message,
    };
  }
}

function tally(statuses: readonly string[]): string {
  const m = new Map<string, number>();
  for (const s of statuses) m.set(s, (m.get(s) ?? 0) + 1);
  return [...m].map(([s, n]) => `${n} ${s}`).join(", ");
}

// --- the demo ---------------------------------------------------------------------------------

async function main(): Promise<number> {
  const o = parseOptions(process.argv.slice(2));
  const genesisText = o.dir !== undefined ? readFileSync(join(o.dir, "genesis.json"), "utf8") : undefined;
  const keyFile =
    o.keyFile ??
    (o.dir !== undefined && existsSync(join(o.dir, "client.key")) ? join(o.dir, "client.key") : undefined);
  const ownerKey = keyFile !== undefined ? readKey(keyFile) : generateKey();
  const owner = await ArborClient.connect({
    genesis: genesisText,
    endpoints: o.endpoints,
    chainId: o.chain,
    key: ownerKey,
  });
  const clients: ArborClient[] = [owner];
  const newClient = async () => {
    const c = await ArborClient.connect({ genesis: owner.genesis, key: generateKey() });
    clients.push(c);
    return c;
  };
  try {
    return await demo(o, owner, newClient);
  } finally {
    for (const c of clients) c.close();
  }
}

async function demo(o: Options, owner: ArborClient, newClient: () => Promise<ArborClient>): Promise<number> {
  say(
    `Arbor banking demo: chain ${toHex(owner.chain).slice(0, 16)}…, ${owner.genesis.nodes.length} node(s), tolerating f = ${owner.f}, every record on k = ${owner.genesis.replication}`,
  );
  const run = randomBytes(2).toString("hex");
  const acct = (n: string) => `${n}-${run}`;
  detail(`accounts of this run end in -${run}; amounts are whole units`);
  const bank = new Bank(owner, o.domain);

  // What the receipts say the balances must be; compared with the proven balances at the end.
  const expected = new Map<string, bigint>();
  let minted = 0n;
  let uncertain = 0;
  const applied = (from: string, to: string, amount: bigint) => {
    expected.set(from, expected.get(from)! - amount);
    expected.set(to, expected.get(to)! + amount);
  };

  step(`domain "${o.domain}" and its operations`);
  const setup = await bank.setup();
  detail(
    setup.createdDomain
      ? `created domain "${o.domain}", owned by this client's key ${toHex(owner.key.publicKey).slice(0, 16)}…`
      : `domain "${o.domain}" already exists and this key owns it: reusing it`,
  );
  detail(
    setup.deployed.length > 0
      ? `deployed ${setup.deployed.map((n) => bank.op(n)).join(", ")} in one request`
      : "operations already deployed with the same code",
  );

  step("opening accounts (each user has its own key; an account belongs to whoever opened it)");
  const people = ["alice", "bob", "carol"];
  const users = new Map<string, Bank>();
  for (const p of people) users.set(p, new Bank(await newClient(), o.domain));
  const workers: Bank[] = [];
  for (let i = 0; i < o.clients; i++) workers.push(new Bank(await newClient(), o.domain));
  const opens: Array<[Bank, string]> = [
    ...people.map((p) => [users.get(p)!, acct(p)] as [Bank, string]),
    ...workers.flatMap(
      (w, i) =>
        [
          [w, acct(`payer${i}`)],
          [w, acct(`payee${i}`)],
        ] as Array<[Bank, string]>,
    ),
    [bank, acct("pool")],
  ];
  await Promise.all(opens.map(([b, n]) => b.openAccount(n)));
  for (const [, n] of opens) expected.set(n, 0n);
  detail(
    `${opens.length} accounts opened in parallel: ${opens.map(([, n]) => n.replace(`-${run}`, "")).join(", ")}`,
  );

  step("minting (only the domain owner may)");
  const mints: Array<[string, bigint]> = [
    [acct("alice"), 1000n],
    [acct("bob"), 300n],
    ...workers.map((_, i) => [acct(`payer${i}`), 500n] as [string, bigint]),
  ];
  await Promise.all(mints.map(([n, a]) => bank.mint(n, a)));
  for (const [n, a] of mints) {
    expected.set(n, expected.get(n)! + a);
    minted += a;
  }
  detail(`minted ${money(minted)} in total: alice 1000, bob 300, ${workers.length} payers 500 each`);
  const stranger = await outcome(users.get("bob")!.mint(acct("bob"), 1_000_000n));
  detail(
    `bob tries to mint for himself: ${stranger.status === "accepted" ? "ACCEPTED (wrong!)" : `refused (${stranger.why}): the mint op checks the signer against ${o.domain}/.owner`}`,
  );
  if (stranger.status === "accepted") {
    expected.set(acct("bob"), expected.get(acct("bob"))! + 1_000_000n);
    minted += 1_000_000n;
  }

  step("transfers");
  const alice = users.get("alice")!;
  const r1 = await alice.transfer(acct("alice"), acct("bob"), 250n);
  applied(acct("alice"), acct("bob"), 250n);
  detail(
    `alice -> bob 250: accepted at height ${r1.receipt.height} (${
      r1.backing === "header"
        ? `receipt from node ${r1.servedBy.join(", ")}, in the header certified by nodes ${r1.signers.join(", ")}`
        : `receipt signed alike by nodes ${r1.signers.join(", ")}`
    })`,
  );
  const bobTakes = await outcome(users.get("bob")!.transfer(acct("alice"), acct("bob"), 100n));
  detail(
    `bob tries to move 100 out of alice's account: refused (${bobTakes.why}): the op checks that the signer owns the source`,
  );
  if (bobTakes.status === "accepted") applied(acct("alice"), acct("bob"), 100n);
  const ab = await alice.balances([acct("alice"), acct("bob")]);
  detail(
    `balances now, proven against root ${toHex(ab.root).slice(0, 12)} at height ${ab.height}: alice ${ab.accounts.get(acct("alice"))!.balance}, bob ${ab.accounts.get(acct("bob"))!.balance}`,
  );

  step("double spend: two transfers racing for the same money");
  const carol = users.get("carol")!;
  // Leave carol with exactly 100, then let her sign two transfers of 80 against one proof.
  await alice.transfer(acct("alice"), acct("carol"), 100n);
  applied(acct("alice"), acct("carol"), 100n);
  const proof = await carol.transferProof([acct("carol"), acct("alice"), acct("bob")]);
  detail(
    "carol has 100; she signs 'carol -> alice 80' and 'carol -> bob 80', both against the same proof (carol = 100), and submits them at once",
  );
  const [toAlice, toBob] = await Promise.all([
    outcome(carol.transfer(acct("carol"), acct("alice"), 80n, { proof })),
    outcome(carol.transfer(acct("carol"), acct("bob"), 80n, { proof })),
  ]);
  detail(
    `carol -> alice 80: ${toAlice.status}${toAlice.receipt ? ` (height ${toAlice.receipt.receipt.height})` : ""}`,
  );
  detail(
    `carol -> bob   80: ${toBob.status}${toBob.receipt ? ` (height ${toBob.receipt.receipt.height})` : ""}`,
  );
  if (toAlice.status === "accepted") applied(acct("carol"), acct("alice"), 80n);
  if (toBob.status === "accepted") applied(acct("carol"), acct("bob"), 80n);
  const winners = [toAlice, toBob].filter((x) => x.status === "accepted").length;
  detail(
    winners === 1
      ? "why: consensus put both in one order; the first one applied changed carol's record, so the second one's proof no longer matches the ledger (record-changed) and every node refuses it — the same funds cannot be spent twice"
      : `UNEXPECTED: ${winners} of the two were accepted`,
  );
  const loser = toAlice.status === "accepted" ? "bob" : "alice";
  const again = await outcome(carol.transfer(acct("carol"), acct(loser), 80n));
  detail(
    `carol retries the refused one with a fresh proof: ${again.status === "accepted" ? "accepted" : `refused (${again.why})`} — she has only 20 left`,
  );
  if (again.status === "accepted") applied(acct("carol"), acct(loser), 80n);

  step("overdraft");
  const bobBal = (await users.get("bob")!.balance(acct("bob"))).balance;
  const over = await outcome(users.get("bob")!.transfer(acct("bob"), acct("alice"), bobBal + 1n));
  detail(
    `bob has ${bobBal} and tries to send ${bobBal + 1n}: ${over.status === "accepted" ? "ACCEPTED (wrong!)" : `refused (${over.why}): the op aborts and no write is applied`}`,
  );
  if (over.status === "accepted") applied(acct("bob"), acct("alice"), bobBal + 1n);

  step(
    `${workers.length} concurrent clients on disjoint accounts (payer_i -> payee_i, ${o.rounds} rounds, no retries)`,
  );
  let t = Date.now();
  const disjoint = (
    await Promise.all(
      workers.map(async (w, i) => {
        const st: string[] = [];
        for (let r = 0; r < o.rounds; r++) {
          const x = await outcome(w.transfer(acct(`payer${i}`), acct(`payee${i}`), 10n, { retry: false }));
          if (x.status === "accepted") applied(acct(`payer${i}`), acct(`payee${i}`), 10n);
          else if (x.status.startsWith("unknown")) uncertain++;
          st.push(x.status);
        }
        return st;
      }),
    )
  ).flat();
  detail(
    `${tally(disjoint)} in ${((Date.now() - t) / 1000).toFixed(1)} s — no two requests touch the same record, so none can invalidate another's proof`,
  );

  step(`${workers.length} concurrent clients on one shared account (payer_i -> pool, ${o.rounds} rounds)`);
  t = Date.now();
  const once = (
    await Promise.all(
      workers.map(async (w, i) => {
        const st: string[] = [];
        for (let r = 0; r < o.rounds; r++) {
          const x = await outcome(w.transfer(acct(`payer${i}`), acct("pool"), 5n, { retry: false }));
          if (x.status === "accepted") applied(acct(`payer${i}`), acct("pool"), 5n);
          else if (x.status.startsWith("unknown")) uncertain++;
          st.push(x.status);
        }
        return st;
      }),
    )
  ).flat();
  detail(`without retries: ${tally(once)} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  if (once.includes("record-changed"))
    detail(
      "record-changed: another client's transfer into the pool was ordered first, so this proof of the pool's balance was stale; nothing was applied",
    );
  t = Date.now();
  let retries = 0;
  const retried = await Promise.all(
    workers.map(async (w, i) => {
      let x = await outcome(w.transfer(acct(`payer${i}`), acct("pool"), 5n, { retry: false }));
      // What the SDK's transact() does: read again and retry while the proof went stale.
      for (let a = 0; a < 20 && (x.status === "record-changed" || x.status === "stale-root"); a++) {
        retries++;
        x = await outcome(w.transfer(acct(`payer${i}`), acct("pool"), 5n, { retry: false }));
      }
      if (x.status === "accepted") applied(acct(`payer${i}`), acct("pool"), 5n);
      else if (x.status.startsWith("unknown")) uncertain++;
      return x.status;
    }),
  );
  detail(
    `one more transfer each, re-reading and retrying when refused: ${tally(retried)} after ${retries} retries in ${((Date.now() - t) / 1000).toFixed(1)} s`,
  );

  step("the books: every balance read with one proof, checked against a certified root");
  const names = [...expected.keys()];
  const final = await bank.balances(names);
  let total = 0n;
  let mismatches = 0;
  const width = Math.max(...names.map((n) => n.length));
  for (const n of names) {
    const a = final.accounts.get(n);
    const b = a ? a.balance : -1n;
    total += a ? a.balance : 0n;
    const ok = b === expected.get(n);
    if (!ok) mismatches++;
    detail(`${n.padEnd(width)}  ${String(b).padStart(7)}${ok ? "" : `   (receipts say ${expected.get(n)})`}`);
  }
  detail(
    `root ${toHex(final.root).slice(0, 16)}… at height ${final.height}; proof ${final.proof.length} bytes`,
  );
  const conserved = total === minted;
  say(
    conserved
      ? `money conserved: ${money(total)} in accounts = ${money(minted)} minted`
      : `MONEY NOT CONSERVED: ${money(total)} in accounts, ${money(minted)} minted`,
  );
  if (uncertain === 0)
    say(
      mismatches === 0
        ? "every balance equals what the accepted receipts imply"
        : `${mismatches} balance(s) differ from what the receipts imply`,
    );
  else say(`${uncertain} request(s) ended without a receipt (unavailable); balances not compared one by one`);
  await historyAndAccounts(bank, acct("alice"), run);
  return conserved && (uncertain > 0 || mismatches === 0) && winners === 1 ? 0 : 1;
}

/** The last step: one account's history and the list of accounts, each proven complete. */
async function historyAndAccounts(bank: Bank, account: string, run: string): Promise<void> {
  step(`${account}'s history and the list of accounts, each proven complete against a certified index root`);
  const changes = await bank.history(account);
  for (const [i, v] of changes.entries()) {
    const before = changes[i + 1]?.balance;
    const delta =
      v.balance === null || before === undefined || before === null
        ? ""
        : ` (${v.balance >= before ? "+" : ""}${v.balance - before})`;
    detail(
      `#${v.number}  height ${String(v.height).padStart(4)}  balance ${v.balance === null ? "(value not kept by the node that answered)" : `${money(v.balance)}${delta}`}`,
    );
  }
  detail(
    `${changes.length} change(s), newest first: each one chained to ${bank.account(account)}'s history head, so none can be left out`,
  );
  const accounts = await bank.accountNames();
  const ours = (name: string) => name.endsWith(`-${run}`);
  // Every account when they are few; this run's alone when earlier runs left many.
  const shown = accounts.length <= ACCOUNTS_SHOWN ? accounts : accounts.filter((a) => ours(a.name));
  const width = Math.max(...shown.map((a) => a.name.length));
  for (const a of shown)
    detail(
      `${a.name.padEnd(width)}  ${String(a.changes).padStart(3)} change(s), last at height ${a.height}${ours(a.name) ? "" : "  (an earlier run's)"}`,
    );
  if (accounts.length > shown.length) detail(`… and ${accounts.length - shown.length} of earlier runs`);
  detail(
    `${accounts.length} account(s) under ${bank.account("")}, ${accounts.filter((a) => ours(a.name)).length} of this run: the listing is proven complete (none left out), page by page`,
  );
}

/** Accounts listed one per line at the end (the rest are counted). */
const ACCOUNTS_SHOWN = 24;

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`banking demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
