// Every generated protocol vector, by file name under docs/vectors/. `npm run gen:vectors` writes
// them; test/vectors/vectors.test.ts fails when the files and the code drift apart.
import { fromHex } from "../../node/common/bytes.js";
import { certificateVector, statementVector } from "./signed.js";
import { evidenceVector } from "./evidence.js";
import { genesisVector } from "./genesis.js";
import { requestVector } from "./request.js";
import { consensusVector } from "./consensus.js";
import { peerVector } from "./peer.js";
import { indexVector } from "./index.js";
import { graftVector } from "./graft.js";

import { snapshotVector } from "./snapshot.js";

export const VECTORS_DIR = "docs/vectors";

export function buildVectors(): Record<string, Record<string, unknown>> {
  const genesis = genesisVector();
  const request = requestVector();
  const execute = fromHex((request.execute as { request: string }).request);
  return {
    "genesis.json": genesis,
    "statement.json": statementVector(fromHex(genesis.root as string)),
    "certificate.json": certificateVector(),
    "evidence.json": evidenceVector(),
    "request.json": request,
    "consensus.json": consensusVector(execute),
    "peer.json": peerVector(),
    "index.json": indexVector(),
    "graft.json": graftVector(),
    "snapshot.json": snapshotVector(execute),
  };
}

/** A vector file's text: two-space JSON and a final newline. */
export function vectorText(v: Record<string, unknown>): string {
  return JSON.stringify(v, null, 2) + "\n";
}
