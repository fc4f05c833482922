// Certified headers as a client trusts them: fetched from a node, the certificate checked against
// the validator set of its height (learning validator-set changes on the way), and kept; in light
// mode through the light client, which keeps only the newest trusted set.

import { bytesEqual, toHex } from "../node/common/bytes.js";
import { ArborError } from "../node/common/errors.js";
import type { Genesis } from "../node/ledger/genesis.js";
import {
  decodeCertifiedHeader,
  verifyCertificate,
  validatorsHash,
  type CertifiedHeader,
} from "../node/ledger/header.js";
import { clientVerifier } from "./crypto.js";
import { UnavailableError, VerificationError } from "./errors.js";
import type { Deadline } from "./deadline.js";
import { LightClient, nodeHeaderSource } from "./light.js";
import { ValidatorHistory } from "./validator-history.js";
import type { Session } from "./session.js";
import type { ConnectOptions, LightStats } from "./types.js";
import type { NodeConnection } from "./transport.js";
import { errorText } from "./verify.js";
import { verifiedHeaders } from "./header-cache.js";

/** How long a node is asked to wait for a header's certificate before the next node is asked. */
const CERTIFICATE_WAIT_MS = 1_000;
/** How long one fetch of a certified header looks before it gives up (client/no-certificate). */
const CERTIFICATE_DEADLINE_MS = 5_000;

export class Headers {
  private readonly chainHex: string;
  /** Validator sets over heights (certificates are checked against the set of their height). */
  readonly history: ValidatorHistory;
  /** Light mode only: the light client, the node it fetches from, how often it switched. */
  private readonly light: LightClient | null = null;
  private lightNode = 0;
  private lightFailovers = 0;
  private lightQueue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly s: Session,
    opts: ConnectOptions,
  ) {
    const genesis: Genesis = s.genesis;
    this.history = new ValidatorHistory(genesis, s.chain);
    this.chainHex = toHex(s.chain);
    if (opts.light) {
      const make = opts.headerSource ?? ((conn: NodeConnection) => nodeHeaderSource(conn));
      const sources = new Map(s.nodes.map((n) => [n.id, make(s.node(n.id), n.id)]));
      this.lightNode = s.nodes[0]!.id;
      // The light client reads through whichever node is current; lightHeader() switches it.
      this.light = new LightClient(genesis, {
        transitions: (after, until) => sources.get(this.lightNode)!.transitions(after, until),
        header: (height) => sources.get(this.lightNode)!.header(height),
      });
    }
  }

  /** Whether this client runs in light mode. */
  get isLight(): boolean {
    return this.light !== null;
  }

  /** What light mode has downloaded so far (throws when the client is not in light mode). */
  lightStats(): LightStats {
    if (!this.light) throw new ArborError("client/not-light", "lightStats() needs a client in light mode");
    return {
      headers: this.light.headersDownloaded,
      bytes: this.light.bytesDownloaded,
      transitions: this.light.transitionsDownloaded,
      trustedHeight: this.light.height,
      source: this.lightNode,
      failovers: this.lightFailovers,
    };
  }

  async certifiedWithin(height: bigint, prefer: number | undefined, dl: Deadline): Promise<CertifiedHeader> {
    dl.waitingFor("client/no-certificate", () => `no certified header for height ${height} from any node`);
    if (this.light) return this.lightHeader(height, dl);
    // Verified once per height per process, whichever client asks first.
    const c = await verifiedHeaders.once(this.chainHex, height, () => this.fetchCertified(height, prefer));
    // Another client verified it under a validator set this one has not learned: learn it too
    // (audits check evidence against the sets of each epoch).
    if (!bytesEqual(c.header.validatorsHash, validatorsHash(this.history.setAt(height))))
      await this.learnSets(height);
    return c;
  }

  /** Learns the validator-set changes decided up to `height` from the first node that serves them. */
  private async learnSets(height: bigint): Promise<void> {
    for (const id of this.s.penalties.order(this.s.nodes.map((n) => n.id))) {
      if (this.s.excluded.has(id)) continue;
      try {
        this.history.learn(
          await nodeHeaderSource(this.s.node(id)).transitions(this.history.learnedUpTo, height),
        );
        return;
      } catch {
        /* the next node */
      }
    }
  }

  /**
   * Asks one node at a time — first `prefer` (the node that answered a read at this height has
   * applied it, so its certificate forms there first) — waiting at the node up to
   * CERTIFICATE_WAIT_MS for the header to be certified rather than polling every node.
   */
  private async fetchCertified(height: bigint, prefer?: number): Promise<CertifiedHeader> {
    const ids = this.s.penalties.order(this.s.nodes.map((n) => n.id));
    const order = prefer === undefined ? ids : [prefer, ...ids.filter((id) => id !== prefer)];
    const deadline = Date.now() + CERTIFICATE_DEADLINE_MS;
    while (Date.now() < deadline && !this.s.closed) {
      for (const id of order) {
        const left = deadline - Date.now();
        if (this.s.excluded.has(id) || left <= 0 || this.s.closed) continue;
        // The call ends soon after the wait: a node that hangs must not hold the search.
        const wait = Math.min(CERTIFICATE_WAIT_MS, left);
        const c = await this.askOnce(id, height, wait, Math.min(left, wait + CERTIFICATE_WAIT_MS));
        if (c) return c;
      }
      await sleep(25);
    }
    throw new UnavailableError(
      "client/no-certificate",
      `no certified header for height ${height} from any node within ${CERTIFICATE_DEADLINE_MS} ms`,
    );
  }

  /**
   * The certified header at `height` from node `id` alone, verified (not in light mode), or null
   * when it has none, does not answer within `timeoutMs`, or sends one that does not verify. Not
   * kept in the process's cache: a caller that asks one node does not wait on another's fetch.
   */
  async fromNode(id: number, height: bigint, timeoutMs: number): Promise<CertifiedHeader | null> {
    if (this.light) throw new ArborError("client/light-mode", "fromNode is not for light mode");
    return this.askOnce(id, height, 0, timeoutMs);
  }

  /** One request to one node for the header at `height`, verified; null on any failure. */
  private async askOnce(
    id: number,
    height: bigint,
    waitMs: number,
    timeoutMs: number,
  ): Promise<CertifiedHeader | null> {
    try {
      const r = await this.s.node(id).headers(height, 1, waitMs, timeoutMs);
      const b = r.headers[0];
      if (!b) return null;
      const c = decodeCertifiedHeader(b);
      if (c.header.height !== height || !bytesEqual(c.header.chain, this.s.chain)) return null;
      let set = this.history.setAt(height);
      if (!bytesEqual(c.header.validatorsHash, validatorsHash(set))) {
        // Another set signs here: learn the changes decided up to this height from this node
        // (each certified by the set before it), then check again.
        const t = await nodeHeaderSource(this.s.node(id)).transitions(this.history.learnedUpTo, height);
        this.history.learn(t);
        set = this.history.setAt(height);
      }
      return verifyCertificate(c, set, clientVerifier).ok ? c : null;
    } catch {
      return null;
    }
  }

  /** Light mode: one header fetch at a time (the light client's state moves forward in order). */
  private lightHeader(height: bigint, dl: Deadline): Promise<CertifiedHeader> {
    const run = this.lightQueue.then(() => this.lightHeaderNow(height, dl));
    this.lightQueue = run.catch(() => undefined);
    return run;
  }

  /**
   * Asks the current header node first, then the others (nodes caught lying last); a node that is
   * unreachable or has no certificate yet is retried for a while, one that serves something that
   * does not verify is passed over. Fails with client/unverifiable-header when every node served
   * something unverifiable.
   */
  private async lightHeaderNow(height: bigint, dl: Deadline): Promise<CertifiedHeader> {
    const light = this.light!;
    let errors: string[] = [];
    for (let round = 0; round < 40 && !dl.expired; round++) {
      const others = this.s.nodes.map((n) => n.id).filter((id) => id !== this.lightNode);
      const order = [
        this.lightNode,
        ...others.filter((id) => !this.s.excluded.has(id)),
        ...others.filter((id) => this.s.excluded.has(id)),
      ];
      errors = [];
      let unverifiable = 0;
      for (const id of order) {
        if (id !== this.lightNode) {
          this.lightNode = id;
          this.lightFailovers++;
        }
        try {
          return await light.header(height);
        } catch (e) {
          if (e instanceof VerificationError && e.code === "light/before-trusted-set") throw e;
          errors.push(`node ${id}: ${errorText(e)}`);
          const transient =
            typeof (e as { code?: unknown }).code === "number" ||
            (e instanceof VerificationError && e.code === "light/no-header");
          if (!transient) unverifiable++;
        }
      }
      if (unverifiable === order.length)
        throw new VerificationError(
          "client/unverifiable-header",
          `no node served a verifiable header at height ${height}: ${errors.join("; ")}`,
        );
      await dl.sleep(25);
    }
    throw new UnavailableError(
      "client/no-certificate",
      `no certified header for height ${height} from any node: ${errors.join("; ")}`,
    );
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
