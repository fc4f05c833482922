// Shared by the bench:tob processes: a raw-bytes gRPC load service (no protobuf: the payloads are
// the benchmark's own frames), the load frames, and the 300-byte no-op requests. A request names
// the node it was submitted to and a sequence number, so that node can tell the load client when
// the consensus delivered it (commit latency at the node that took it).
import type * as grpc from "@grpc/grpc-js";

const raw = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const unraw = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

function bidi(path: string): grpc.MethodDefinition<Uint8Array, Uint8Array> {
  return {
    path,
    requestStream: true,
    responseStream: true,
    requestSerialize: raw,
    requestDeserialize: unraw,
    responseSerialize: raw,
    responseDeserialize: unraw,
  };
}

/** Load client ⇄ node: batches of requests in, delivered sequence numbers out. */
export const LOAD_SERVICE: grpc.ServiceDefinition = { submit: bidi("/arbor.bench.TobLoad/Submit") };

/** Transport probe: frames in, one count frame out when the client half-closes. */
export const SINK_SERVICE: grpc.ServiceDefinition = { sink: bidi("/arbor.bench.Sink/Sink") };

export const REQUEST_BYTES = 300;

/** A no-op request: [node u8][seq u32 LE][filler]. Unique by (node, seq). */
export function makeRequest(node: number, seq: number, filler: Uint8Array): Uint8Array {
  const r = new Uint8Array(REQUEST_BYTES);
  r.set(filler.subarray(0, REQUEST_BYTES - 5), 5);
  r[0] = node;
  new DataView(r.buffer).setUint32(1, seq, true);
  return r;
}

export function requestOrigin(r: Uint8Array): { node: number; seq: number } | null {
  if (r.length < 5) return null;
  return { node: r[0]!, seq: new DataView(r.buffer, r.byteOffset, r.byteLength).getUint32(1, true) };
}

/** [u32 count]([u32 length][bytes])* */
export function encodeBatch(reqs: readonly Uint8Array[]): Uint8Array {
  let size = 4;
  for (const r of reqs) size += 4 + r.length;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, reqs.length, true);
  let o = 4;
  for (const r of reqs) {
    dv.setUint32(o, r.length, true);
    out.set(r, o + 4);
    o += 4 + r.length;
  }
  return out;
}

export function decodeBatch(b: Uint8Array, maxCount: number, maxBytes: number): Uint8Array[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = dv.getUint32(0, true);
  if (n > maxCount) throw new RangeError(`batch of ${n} requests`);
  const out: Uint8Array[] = [];
  let o = 4;
  for (let i = 0; i < n; i++) {
    const len = dv.getUint32(o, true);
    if (len === 0 || len > maxBytes || o + 4 + len > b.length) throw new RangeError("bad batch");
    out.push(b.slice(o + 4, o + 4 + len));
    o += 4 + len;
  }
  if (o !== b.length) throw new RangeError("trailing bytes in batch");
  return out;
}

/** Delivered sequence numbers, as little-endian u32s. */
export function encodeSeqs(seqs: readonly number[]): Uint8Array {
  const a = new Uint32Array(seqs);
  return new Uint8Array(a.buffer);
}

export function decodeSeqs(b: Uint8Array): Uint32Array {
  const copy = b.slice();
  return new Uint32Array(copy.buffer, 0, copy.length >> 2);
}
