// The peer wire's batch frame: everything a node sends one peer in one event-loop turn travels as
// one gRPC message, `varint n ‖ n × bytes (u8 channel ‖ payload)`. One write per peer and turn
// instead of one per message: each gRPC message costs both ends a serialisation, an HTTP/2 frame
// and an event-loop callback, which at a dozen messages per block was a tenth of a block's cost.

import { Reader, Writer } from "../common/codec.js";
import { DecodeError } from "../common/errors.js";
import { MAX_PEER_BATCH_FRAMES, MAX_PEER_FRAME_BYTES } from "../common/limits.js";

/** One message inside a batch: its channel and payload. */
export interface PeerMessage {
  readonly channel: number;
  readonly payload: Uint8Array;
}

/** Encodes frames (each already `u8 channel ‖ payload`) as one batch. */
export function encodePeerBatch(frames: readonly Uint8Array[]): Uint8Array {
  let size = 10;
  for (const f of frames) size += f.length + 10;
  const w = new Writer(size).varint(frames.length);
  for (const f of frames) w.bytes(f);
  return w.finish();
}

/**
 * Decodes a batch into its messages (payloads are views into `bytes`). Hostile input gets a
 * DecodeError: over MAX_PEER_BATCH_FRAMES frames, an empty or oversized frame, trailing bytes.
 */
export function decodePeerBatch(bytes: Uint8Array): PeerMessage[] {
  const r = new Reader(bytes);
  const n = r.varint(MAX_PEER_BATCH_FRAMES, "peer batch count");
  if (n === 0) throw new DecodeError("peer/empty-batch", "a peer batch carries at least one frame");
  const out: PeerMessage[] = [];
  for (let i = 0; i < n; i++) {
    const f = r.view(MAX_PEER_FRAME_BYTES, "peer frame");
    if (f.length < 1) throw new DecodeError("peer/empty-frame", "a peer frame has at least its channel byte");
    out.push({ channel: f[0]!, payload: f.subarray(1) });
  }
  r.end("peer batch");
  return out;
}
