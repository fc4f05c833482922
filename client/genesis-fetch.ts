// Learning a chain's genesis from node endpoints, optionally pinned to a chain id: the first
// endpoint that serves a genesis of the pinned chain wins. Unpinned, every endpoint given is asked
// and all that answer must serve the same chain: one lying endpoint among them is caught (a client
// that knows its chain should pin it; a single endpoint, unpinned, is trusted on first use).

import { toHex } from "../node/common/bytes.js";
import { chainId, genesisFromJson, type Genesis } from "../node/ledger/genesis.js";
import { UnavailableError, VerificationError } from "./errors.js";
import type { Deadline } from "./deadline.js";
import { NodeConnection, type ClientTls } from "./transport.js";

/** How long one endpoint may take to send the genesis before the next is asked. */
const GENESIS_CALL_MS = 5_000;

export async function learnGenesis(
  endpoints: readonly string[],
  dl: Deadline,
  pin?: Uint8Array | string,
  tls?: ClientTls,
): Promise<Genesis> {
  const want = typeof pin === "string" ? pin.toLowerCase() : pin ? toHex(pin) : undefined;
  if (want === undefined) return agreedGenesis(endpoints, dl, tls);
  const errors: string[] = [];
  const mismatches: string[] = [];
  for (const e of endpoints) {
    if (dl.expired) break;
    try {
      const { genesis, id } = await genesisOf(e, dl, tls);
      if (id === want) return genesis;
      mismatches.push(`${e} serves chain ${id}`);
    } catch (err) {
      errors.push(`${e}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  // A node that answered with another chain is not "unavailable": the pin (or the endpoint) is wrong.
  if (mismatches.length > 0)
    throw new VerificationError(
      "client/chain-mismatch",
      `${mismatches.join("; ")}, not the pinned chain ${want}${errors.length ? ` (${errors.join("; ")})` : ""}`,
    );
  throw new UnavailableError("client/no-genesis", `no endpoint gave a genesis: ${errors.join("; ")}`);
}

/** Every endpoint's genesis; all that answer must name the same chain. */
async function agreedGenesis(endpoints: readonly string[], dl: Deadline, tls?: ClientTls): Promise<Genesis> {
  const errors: string[] = [];
  const byChain = new Map<string, { genesis: Genesis; from: string[] }>();
  await Promise.all(
    endpoints.map(async (e) => {
      try {
        const { genesis, id } = await genesisOf(e, dl, tls);
        const entry = byChain.get(id) ?? { genesis, from: [] };
        entry.from.push(e);
        byChain.set(id, entry);
      } catch (err) {
        errors.push(`${e}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }),
  );
  if (byChain.size > 1)
    throw new VerificationError(
      "client/chain-mismatch",
      `the endpoints serve different chains: ${[...byChain].map(([id, x]) => `${x.from.join(", ")} chain ${id}`).join("; ")} — pin the chain (--chain) to say which`,
    );
  const only = [...byChain.values()][0];
  if (only) return only.genesis;
  throw new UnavailableError("client/no-genesis", `no endpoint gave a genesis: ${errors.join("; ")}`);
}

/** One endpoint's genesis and its chain id (hex). */
async function genesisOf(
  e: string,
  dl: Deadline,
  tls?: ClientTls,
): Promise<{ genesis: Genesis; id: string }> {
  const c = new NodeConnection(e, dl.cap(GENESIS_CALL_MS), tls);
  try {
    const genesis = genesisFromJson((await c.genesis()).genesisJson);
    return { genesis, id: toHex(chainId(genesis)) };
  } finally {
    c.close();
  }
}
