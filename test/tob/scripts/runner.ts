// Runs one consensus-core script (format.ts): builds and signs the named blocks, certificates and
// timeouts, feeds the steps to a fresh TobCore, and compares each step's intents with the script.

import assert from "node:assert/strict";
import { toHex } from "../../../node/common/bytes.js";
import {
  TobCore,
  computeBlockId,
  decodeMessage,
  encodeMessage,
  genesisIdOf,
  proposalSigningBytes,
  timeoutSigningBytes,
  voteSigningBytes,
  type Block,
  type Input,
  type Message,
  type QC,
  type TC,
} from "../../../node/tob/core/index.js";
import { simKeys } from "../sim/keys.js";
import type { Script, StepInput, StepOutput } from "./format.js";

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Runs `script`; throws an AssertionError naming the first step whose intents differ. */
export function runScript(script: Script): void {
  const { n, me } = script;
  const keys = simKeys(7, n);
  const networkId = utf8("arbor-script");
  const ids = keys.publicKeys.map(toHex);
  const genesisId = genesisIdOf(networkId, keys.publicKeys);
  const genesisQC: QC = { epoch: 0, round: 0, blockId: genesisId, votes: [] };
  const names = new Map<string, string>([[toHex(genesisId), "genesis"]]);
  const blocks = new Map<string, Block>();
  const qcs = new Map<string, QC>([["genesis", genesisQC]]);
  const heights = new Map<string, number>([[toHex(genesisId), 0]]);

  const nameOf = (id: Uint8Array): string => names.get(toHex(id)) ?? `?${toHex(id).slice(0, 8)}`;

  function block(name: string): Block {
    const have = blocks.get(name);
    if (have) return have;
    const spec = script.blocks?.[name];
    assert.ok(spec, `script names an unknown block "${name}"`);
    const qc = cert(spec.qc);
    const parentHeight = heights.get(toHex(qc.blockId));
    assert.ok(parentHeight !== undefined, `block "${name}": parent of its qc is unknown`);
    const author = spec.author ?? spec.round % n;
    const body = {
      epoch: 0,
      round: spec.round,
      height: parentHeight + 1,
      parentId: qc.blockId,
      qc,
      author,
      requests: (spec.requests ?? []).map(utf8),
    };
    const id = computeBlockId(body);
    const b: Block = {
      ...body,
      id,
      signature: keys.signer(author).sign(proposalSigningBytes(networkId, id)),
    };
    remember(name, b);
    return b;
  }

  function remember(name: string, b: Block): void {
    blocks.set(name, b);
    names.set(toHex(b.id), name);
    heights.set(toHex(b.id), b.height);
  }

  /** A block by name: a scripted one, or one the core proposed earlier. */
  function blockId(name: string): { id: Uint8Array; round: number } {
    if (name === "genesis") return { id: genesisId, round: 0 };
    const b = block(name);
    return { id: b.id, round: b.round };
  }

  function cert(name: string): QC {
    const have = qcs.get(name);
    if (have) return have;
    const spec = script.qcs?.[name];
    assert.ok(spec, `script names an unknown qc "${name}"`);
    const { id, round } = blockId(spec.block);
    const qc: QC = {
      epoch: 0,
      round,
      blockId: id,
      votes: [...spec.signers]
        .sort((a, b) => a - b)
        .map((s) => ({ signer: s, sig: keys.signer(s).sign(voteSigningBytes(networkId, 0, round, id)) })),
    };
    qcs.set(name, qc);
    return qc;
  }

  function tc(name: string): TC {
    const spec = script.tcs?.[name];
    assert.ok(spec, `script names an unknown tc "${name}"`);
    const reports = Object.entries(spec.reports)
      .map(([s, q]) => ({ signer: Number(s), qc: cert(q) }))
      .sort((a, b) => a.signer - b.signer);
    let high = reports[0]!.qc;
    for (const r of reports) if (r.qc.round > high.round) high = r.qc;
    return {
      epoch: 0,
      round: spec.round,
      entries: reports.map((r) => ({
        signer: r.signer,
        hqcRound: r.qc.round,
        sig: keys.signer(r.signer).sign(timeoutSigningBytes(networkId, 0, spec.round, r.qc.round)),
      })),
      highQC: high,
    };
  }

  function inputs(i: StepInput): Input[] {
    const msg = (from: number, m: Message): Input => ({
      type: "message",
      from: ids[from]!,
      bytes: encodeMessage(m),
    });
    if ("tick" in i) return Array.from({ length: i.tick }, () => ({ type: "tick" }) as const);
    if ("submit" in i) return [{ type: "propose", requests: i.submit.map(utf8) }];
    if ("proposal" in i) {
      const b = block(i.proposal);
      return [msg(i.from ?? b.author, { kind: "proposal", block: b, tc: i.tc ? tc(i.tc) : null })];
    }
    if ("vote" in i) {
      const { id, round } = blockId(i.vote);
      const sig = keys.signer(i.signer).sign(voteSigningBytes(networkId, 0, round, id));
      return [msg(i.signer, { kind: "vote", vote: { epoch: 0, round, blockId: id, signer: i.signer, sig } })];
    }
    const t = i.timeout;
    const hqc = cert(t.hqc);
    const sig = keys.signer(t.signer).sign(timeoutSigningBytes(networkId, 0, t.round, hqc.round));
    const timeout = {
      epoch: 0,
      round: t.round,
      highQC: hqc,
      lastTC: t.lastTC ? tc(t.lastTC) : null,
      signer: t.signer,
      sig,
    };
    return [msg(t.signer, { kind: "timeout", timeout })];
  }

  const core = new TobCore({
    networkId,
    signer: keys.signer(me),
    verifier: keys.verifier,
    genesisValidators: keys.publicKeys,
  });
  const peer = (id: string): number => ids.indexOf(id);

  script.steps.forEach((step, k) => {
    const got = {
      votes: [] as { block: string; to: number[] }[],
      proposals: [] as { as: string; round: number; parent: string; tc?: number }[],
      timeouts: [] as { round: number; hqc: string }[],
      deliveries: [] as string[],
      evidence: [] as { kind: string; signer: number }[],
      rejected: [] as string[],
    };
    const wanted = step.out ?? {};
    for (const input of inputs(step.in)) {
      const st = core.step(input);
      for (const r of st.rejected) got.rejected.push(r.code);
      const fx = st.persisted();
      for (const s of fx.sends) {
        const m = decodeMessage(s.bytes);
        const to = s.to.map(peer).sort((a, b) => a - b);
        if (m.kind === "vote") got.votes.push({ block: nameOf(m.vote.blockId), to });
        else if (m.kind === "timeout")
          got.timeouts.push({ round: m.timeout.round, hqc: nameOf(m.timeout.highQC.blockId) });
        else if (m.kind === "proposal") {
          const b = m.block;
          // Name the core's own block as the script expects it, so later steps can refer to it.
          const as = wanted.proposals?.[got.proposals.length]?.as ?? `proposal@${b.round}`;
          if (!names.has(toHex(b.id))) remember(as, b);
          const p = { as: nameOf(b.id), round: b.round, parent: nameOf(b.parentId) };
          got.proposals.push(m.tc ? { ...p, tc: m.tc.round } : p);
        }
      }
      for (const d of fx.deliveries) got.deliveries.push(nameOf(d.blockId));
      for (const e of fx.evidence) got.evidence.push({ kind: e.kind, signer: peer(e.signer) });
    }
    const where = `${script.description} — step ${k + 1}${step.note ? ` (${step.note})` : ""}`;
    for (const key of Object.keys(wanted) as (keyof StepOutput)[]) {
      if (key === "status") {
        const s = core.status() as unknown as Record<string, number>;
        for (const [f, v] of Object.entries(wanted.status!)) assert.equal(s[f], v, `${where}: status.${f}`);
      } else assert.deepEqual(got[key], wanted[key], `${where}: ${key}`);
    }
  });
}
