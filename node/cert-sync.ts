// Certificate sync on the ledger channel: a node that lacks the certificates of heights it applied
// asks one peer for certified headers from a height, and the peer answers with those it has.
// Frames share the channel with header signatures (kind 1); kinds 2 and 3 are these. The answer is
// only a hint: every certificate in it is checked before it is stored (HeaderCertifier.adopt).
//
//   request := u8 2 ‖ u64 from height ‖ varint count        (count ≤ CERT_SYNC_HEADERS)
//   reply   := u8 3 ‖ varint n ‖ n × bytes certificate       (n ≤ CERT_SYNC_HEADERS, ascending)

import { Reader, Writer } from "./common/codec.js";
import { DecodeError } from "./common/errors.js";
import { CERT_SYNC_HEADERS, MAX_LEDGER_FRAME_BYTES } from "./common/limits.js";

export const LEDGER_HEADER_SIG = 1;
export const LEDGER_CERT_REQUEST = 2;
export const LEDGER_CERT_REPLY = 3;

export interface CertRequest {
  readonly from: bigint;
  readonly count: number;
}

export function encodeCertRequest(m: CertRequest): Uint8Array {
  return new Writer(16).u8(LEDGER_CERT_REQUEST).u64(m.from).varint(m.count).finish();
}

export function decodeCertRequest(b: Uint8Array): CertRequest {
  const r = new Reader(b);
  if (r.u8() !== LEDGER_CERT_REQUEST) throw new DecodeError("cert-sync/kind", "not a certificate request");
  const m = { from: r.u64(), count: r.varint(CERT_SYNC_HEADERS, "certificate count") };
  r.end("certificate request");
  return m;
}

/** `certs` are encoded certified headers (docs/protocol.md §7). */
export function encodeCertReply(certs: readonly Uint8Array[]): Uint8Array {
  const w = new Writer(64 + certs.reduce((n, c) => n + c.length + 4, 0))
    .u8(LEDGER_CERT_REPLY)
    .varint(certs.length);
  for (const c of certs) w.bytes(c);
  return w.finish();
}

export function decodeCertReply(b: Uint8Array): Uint8Array[] {
  if (b.length > MAX_LEDGER_FRAME_BYTES)
    throw new DecodeError("cert-sync/too-large", "certificate reply over MAX_LEDGER_FRAME_BYTES");
  const r = new Reader(b);
  if (r.u8() !== LEDGER_CERT_REPLY) throw new DecodeError("cert-sync/kind", "not a certificate reply");
  const n = r.varint(CERT_SYNC_HEADERS, "certificate count");
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(r.bytes(MAX_LEDGER_FRAME_BYTES, "certificate"));
  r.end("certificate reply");
  return out;
}
