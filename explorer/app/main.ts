// The explorer page: reads the nodes' browser API addresses from the serving explorer, then talks
// to the nodes directly and verifies every answer (trust.ts) against the chain id pinned in its own
// address (#chain=…). Neither the explorer server nor a node is trusted: the worst either can do is
// make a panel red. New blocks appear by polling the reading node's status.
import { nodeRpc } from "./rpc.js";
import { Verifier } from "./trust.js";
import { searchLink, showBlock, showBlocks, showChain } from "./panels.js";
import { showKey, showList } from "./key-panels.js";
import { showDomains, showReceipt } from "./receipt-panels.js";
import { el, failureMark, fill } from "./view.js";

/** How often the page asks the reading node for its newest height. */
export const POLL_MS = 1_000;
/** Longest search text taken (a key is at most 1 KiB of UTF-8). */
export const MAX_QUERY_CHARS = 1_024;

interface PageConfig {
  readonly chain: string;
  readonly nodes: readonly { readonly id: number; readonly url: string }[];
}

const params = new URLSearchParams(location.hash.slice(1));
const verifiers = new Map<number, Promise<Verifier>>();
let config: PageConfig;
let pinned = "";
let reading = 0;
let shownHeight = -1n;
let pollTimer: ReturnType<typeof setTimeout> | undefined;

/** For the browser test: milliseconds from navigation to the first verified value. */
const probe = { firstVerifiedMs: -1 };
(window as unknown as { arborExplorer: typeof probe }).arborExplorer = probe;

function verifierOf(id: number): Promise<Verifier> {
  let v = verifiers.get(id);
  if (!v) {
    const n = config.nodes.find((x) => x.id === id);
    v = n ? Verifier.open(nodeRpc(n.url), pinned) : Promise.reject(new Error(`no node ${id}`));
    verifiers.set(id, v);
  }
  return v;
}

async function poll(): Promise<void> {
  const id = reading;
  try {
    const v = await verifierOf(id);
    const top = await v.latest();
    if (id !== reading) return;
    const h = top?.header.height ?? 0n;
    fill("live", `live · node ${id} · certified height ${h}`);
    if (top && h !== shownHeight) {
      shownHeight = h;
      await showBlocks(v, top);
    }
  } catch (e) {
    if (id === reading) fill("blocks", failureMark(e));
  } finally {
    if (id === reading) pollTimer = setTimeout(() => void poll(), POLL_MS);
  }
}

/** A request id: 64 hex digits (shown by its receipt). */
const REQUEST_ID = /^[0-9a-fA-F]{64}$/;

/**
 * Shows a key (read from the reading node when it holds the key, else from a holder), a prefix, a
 * height or a request's receipt (by its id).
 */
function search(q: string): Promise<void> {
  // One search at a time, in the order asked: a slow one can never land over a newer one.
  searches = searches.then(() => searchNow(q));
  return searches;
}

let searches: Promise<void> = Promise.resolve();

async function searchNow(q: string): Promise<void> {
  q = q.trim().slice(0, MAX_QUERY_CHARS);
  fill("result", "checking…");
  try {
    const v = await verifierOf(reading);
    if (/^\d+$/.test(q)) return await showBlock(v, BigInt(q));
    if (REQUEST_ID.test(q)) return await showReceipt(v, q);
    if (q === "" || q.endsWith("/")) return await showList(v, { reading, verifierOf }, q);
    const holder = v.holds(reading, q) ? reading : v.genesis.nodes.find((n) => v.holds(n.id, q))?.id;
    if (holder === undefined) throw new Error(`no node holds ${q}`);
    await showKey(await verifierOf(holder), q);
    if (probe.firstVerifiedMs < 0 && document.querySelector("#value .mark.ok"))
      probe.firstVerifiedMs = performance.now();
    document.getElementById("value")?.prepend(el("p", { class: "from" }, `read from node ${holder}`));
  } catch (e) {
    fill("result", failureMark(e));
  }
}

function selectNode(id: number): void {
  reading = id;
  shownHeight = -1n;
  clearTimeout(pollTimer);
  fill("blocks", "checking…");
  void verifierOf(id).then(
    (v) => showChain(v, pinned, id),
    (e) => fill("chain", failureMark(e)),
  );
  void poll();
}

function wire(): void {
  const select = document.getElementById("node") as HTMLSelectElement;
  select.replaceChildren(...config.nodes.map((n) => el("option", { value: String(n.id) }, `node ${n.id}`)));
  select.value = String(reading);
  select.addEventListener("change", () => {
    selectNode(Number(select.value));
    const q = (document.getElementById("q") as HTMLInputElement).value;
    if (q !== "") void search(q);
  });
  document.getElementById("search")!.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void search((document.getElementById("q") as HTMLInputElement).value);
  });
  document.getElementById("show-domains")!.addEventListener("click", () => {
    fill("result", "checking…");
    void verifierOf(reading)
      .then((v) => showDomains(v))
      .catch((e) => fill("result", failureMark(e)));
  });
  document.body.addEventListener("click", (ev) => {
    const q = (ev.target as HTMLElement).closest("a[data-q]")?.getAttribute("data-q");
    if (q === null || q === undefined) return;
    ev.preventDefault();
    (document.getElementById("q") as HTMLInputElement).value = q;
    void search(q);
  });
}

async function start(): Promise<void> {
  config = (await (await fetch("config.json")).json()) as PageConfig;
  pinned = params.get("chain") ?? config.chain;
  if (!params.has("chain"))
    fill(
      "pin",
      el("span", { class: "mark fail" }, "chain not pinned in the address: trusting the server's chain id"),
    );
  else fill("pin", `chain pinned by the address: ${pinned.slice(0, 16)}…`);
  reading = Number(params.get("node") ?? config.nodes[0]?.id ?? 0);
  wire();
  selectNode(reading);
  const q = params.get("q");
  if (q !== null) {
    (document.getElementById("q") as HTMLInputElement).value = q;
    await search(q);
  } else
    fill(
      "result",
      "search for a key, a prefix ending in /, a block height or a request id — e.g. ",
      searchLink("", "every key"),
    );
}

void start().catch((e) => fill("result", failureMark(e)));
