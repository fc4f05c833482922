// Lazy auditing: statements a client collected (and fresh ones from sampled nodes) checked against
// the certified headers and against each other, and the double votes and double proposals the
// nodes' consensus witnessed checked as every node checks them; what is proven becomes evidence for a complaint.

import { bytesEqual, toHex } from "../node/common/bytes.js";
import { validatorsOf, type Genesis } from "../node/ledger/genesis.js";
import { encodeCertifiedHeader, type CertifiedHeader } from "../node/ledger/header.js";
import { decodeEvidence, encodeEvidence, verifyEvidence, type Evidence } from "../node/ledger/evidence.js";
import { decodeMessage, decodeSignedHeader } from "../node/tob/core/wire.js";
import { decodeStatement } from "../node/ledger/statement.js";
import { MAX_WITNESSED_EVIDENCE } from "../node/common/limits.js";
import { clientVerifier } from "./crypto.js";
import { AUDIT_ANSWER_MS } from "./limits.js";
import type { Deadline } from "./deadline.js";
import type { Headers } from "./headers.js";
import type { EvictionRecords } from "./membership.js";
import type { Session } from "./session.js";
import type { AuditFinding, AuditOptions, AuditReport, NodeAudit, SignedStatement } from "./types.js";
import { errorText, wire } from "./verify.js";

export class Audit {
  constructor(
    private readonly s: Session,
    private readonly headers: Headers,
    private readonly membership: EvictionRecords,
  ) {}

  async auditWithin(opts: AuditOptions, dl: Deadline): Promise<AuditReport> {
    const probe = opts.key ?? ".root_rule";
    const ids = this.s.nodes.map((n) => n.id).slice(0, opts.sample ?? this.s.nodes.length);
    // Nodes already evicted are not audited again: a new complaint would be `already-evicted`.
    const evicted = new Set(await this.membership.refreshWithin(dl).catch(() => [] as number[]));
    dl.waitingFor("client/unavailable", () => `no answer to the audit's probe from ${ids.length} nodes`);
    // What the nodes' consensus witnessed (double votes and proposals), asked alongside the probes and checked
    // here before it counts; nodes whose evidence did not come are named in their verdict.
    const silent = new Map<number, string>();
    const witnessed = this.witnessedWithin({ sample: opts.sample }, dl, silent);
    const probes = await this.probe(
      ids.filter((id) => !evicted.has(id)),
      probe,
      opts.values === true,
      dl,
    );
    const found: AuditFinding[] = (await witnessed).filter((f) => !evicted.has(f.accused));
    /** each checked statement: "consistent", or why it is not (forged: proven false) */
    const checked = new Map<SignedStatement, { forged: boolean; why: string }>();
    // Ascending heights: a light client steps forward through validator-set changes.
    const held = [...this.s.evidence].sort((x, y) =>
      x.statement.height < y.statement.height ? -1 : x.statement.height > y.statement.height ? 1 : 0,
    );
    for (const s of held) {
      if (evicted.has(s.node) || found.some((f) => f.accused === s.node)) continue;
      if (s.statement.height === 0n) {
        const { genesisRoot } = await import("./genesis-root.js");
        checked.set(s, {
          forged: false,
          why: bytesEqual(genesisRoot(this.s.genesis), s.statement.root)
            ? "consistent"
            : "signed a wrong genesis root (height 0 has no certificate to prove it with)",
        });
        continue;
      }
      let cert: CertifiedHeader;
      try {
        cert = await this.headers.certifiedWithin(s.statement.height, undefined, dl);
      } catch (e) {
        checked.set(s, {
          forged: false,
          why: `no verifiable certified header at height ${s.statement.height}: ${errorText(e)}`,
        });
        continue;
      }
      if (!bytesEqual(cert.header.root, s.statement.root)) {
        const evidence = encodeEvidence({
          kind: "forged-statement",
          signed: wire(s),
          certificate: encodeCertifiedHeader(cert),
        });
        found.push({ accused: s.node, kind: "forged-statement", height: s.statement.height, evidence });
        this.s.addSuspect(s.node, evidence);
        this.s.excluded.add(s.node);
        checked.set(s, {
          forged: true,
          why: `signed root ${toHex(s.statement.root).slice(0, 12)} at height ${s.statement.height}; the certified root is ${toHex(cert.header.root).slice(0, 12)}`,
        });
      } else checked.set(s, { forged: false, why: "consistent" });
    }
    for (let i = 0; i < this.s.evidence.length; i++)
      for (let j = i + 1; j < this.s.evidence.length; j++) {
        const a = this.s.evidence[i]!;
        const b = this.s.evidence[j]!;
        if (
          a.node !== b.node ||
          a.statement.height !== b.statement.height ||
          bytesEqual(a.statement.root, b.statement.root)
        )
          continue;
        if (evicted.has(a.node) || found.some((f) => f.accused === a.node)) continue;
        const evidence = encodeEvidence({ kind: "conflicting-statements", a: wire(a), b: wire(b) });
        found.push({ accused: a.node, kind: "conflicting-statements", height: a.statement.height, evidence });
        this.s.addSuspect(a.node, evidence);
      }
    const nodes = ids.map((id): NodeAudit => {
      if (evicted.has(id))
        return { node: id, verdict: "evicted", detail: "evicted by a complaint: not asked" };
      const p = probes.get(id)!;
      const f = found.find((x) => x.accused === id);
      const c = typeof p === "string" ? undefined : checked.get(p);
      const at =
        typeof p === "string"
          ? {}
          : { height: p.statement.height, timestamp: p.statement.timestamp, root: p.statement.root };
      if (f)
        return {
          node: id,
          verdict: "caught",
          ...at,
          detail: c?.forged
            ? c.why
            : f.kind === "double-vote"
              ? "signed two votes in one consensus round"
              : f.kind === "double-proposal"
                ? "signed two proposals in one consensus round"
                : `${f.kind} at height ${f.height} (a statement held from before)`,
        };
      const missing = silent.get(id);
      const withheld = missing === undefined ? {} : { evidenceMissing: missing };
      if (typeof p === "string") return { node: id, verdict: "no-answer", detail: p, ...withheld };
      if (c?.why === "consistent")
        return {
          node: id,
          verdict: "consistent",
          ...at,
          ...withheld,
          ...(missing === undefined
            ? {}
            : { detail: `the evidence its consensus witnessed did not come: ${missing}` }),
        };
      return { node: id, verdict: "unchecked", ...at, detail: c?.why ?? "not checked", ...withheld };
    });
    return { nodes, found };
  }

  /** Each node's signed statement for one GET of `key`, or why there is none (AUDIT_ANSWER_MS each). */
  private async probe(
    ids: readonly number[],
    key: string,
    values: boolean,
    dl: Deadline,
  ): Promise<Map<number, SignedStatement | string>> {
    const probes = new Map<number, SignedStatement | string>();
    await Promise.all(
      ids.map(async (id) => {
        const node = this.s.nodes.find((n) => n.id === id)!;
        try {
          const r = await this.s
            .node(id)
            .get([key], { hashesOnly: !values, timeoutMs: dl.cap(AUDIT_ANSWER_MS) });
          const st = this.s.statements.check(node, r.statement, r.signature);
          const signed = { node: id, statement: st, bytes: r.statement, signature: r.signature };
          probes.set(id, this.s.keepEvidence(signed));
        } catch (e) {
          /* unreachable or unsigned answers prove nothing */
          probes.set(id, errorText(e));
        }
      }),
    );
    return probes;
  }

  /** `silent`, when given, gets each asked node whose evidence did not come, with why. */
  async witnessedWithin(
    opts: { sample?: number },
    dl: Deadline,
    silent?: Map<number, string>,
  ): Promise<AuditFinding[]> {
    dl.waitingFor("client/unavailable", () => "no node answered for the evidence its consensus witnessed");
    const ids = this.s.nodes
      .map((n) => n.id)
      .filter((id) => !this.s.excluded.has(id))
      .slice(0, opts.sample ?? this.s.nodes.length);
    const ctx = {
      chain: this.s.chain,
      members: new Map(this.s.nodes.map((n) => [n.id, n.publicKey])),
      validatorsAt: () => validatorsOf(this.s.genesis),
      epochValidators: (e: number) => this.headers.history.epochKeys(e),
      verifier: clientVerifier,
    };
    const found: AuditFinding[] = [];
    const replies = await Promise.all(
      ids.map((id) =>
        this.s
          .node(id)
          .evidence(dl.cap(AUDIT_ANSWER_MS))
          .catch((e: unknown) => {
            silent?.set(id, errorText(e));
            return null;
          }),
      ),
    );
    for (const r of replies)
      for (const item of r?.items.slice(0, MAX_WITNESSED_EVIDENCE) ?? []) {
        const v = verifyEvidence(item.evidence, ctx);
        if (!v.ok || found.some((f) => f.accused === v.accused)) continue;
        // A vote or proposal names a consensus round, not a block height: height 0 says "not a height".
        found.push({
          accused: v.accused,
          kind: decodeEvidence(item.evidence).kind,
          height: 0n,
          evidence: item.evidence,
        });
        this.s.addSuspect(v.accused, item.evidence);
      }
    return found;
  }
}

/**
 * What an encoded piece of evidence claims, without judging it: its kind, the node it accuses and
 * the height (for statements), or — for a double vote or proposal — the consensus epoch and round
 * (the accused is known for epoch 0, the genesis set, only). Throws the codec's error when it does not decode.
 */
export function describeEvidence(
  bytes: Uint8Array,
  genesis: Genesis,
): { kind: Evidence["kind"]; accused?: number; height?: bigint; epoch?: number; round?: number } {
  const e = decodeEvidence(bytes);
  const st = (b: Uint8Array) => decodeStatement(b);
  if (e.kind === "forged-statement") {
    const s = st(e.signed.statement);
    return { kind: e.kind, accused: s.node, height: s.height };
  }
  if (e.kind === "conflicting-statements") {
    const s = st(e.a.statement);
    return { kind: e.kind, accused: s.node, height: s.height };
  }
  let at: { epoch: number; round: number; position: number };
  if (e.kind === "double-proposal") {
    const h = decodeSignedHeader(e.first);
    at = { epoch: h.epoch, round: h.round, position: h.author };
  } else {
    const m = decodeMessage(e.first);
    if (m.kind !== "vote") return { kind: e.kind };
    at = { epoch: m.vote.epoch, round: m.vote.round, position: m.vote.signer };
  }
  const ids = genesis.nodes.map((n) => n.id).sort((x, y) => x - y);
  return {
    kind: e.kind,
    epoch: at.epoch,
    round: at.round,
    ...(at.epoch === 0 && ids[at.position] !== undefined ? { accused: ids[at.position] } : {}),
  };
}
