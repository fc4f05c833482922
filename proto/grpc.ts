// Shared by node and client: grpc-js service definitions built from the protobuf-es generated
// descriptors (one source of truth for both sides), and the channel options both use.
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import type { GenService } from "@bufbuild/protobuf/codegenv2";

/** Largest gRPC message a node accepts or sends (a block's requests with their proofs fit). */
export const GRPC_MAX_MESSAGE_BYTES = 32 * 1024 * 1024;

export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  "grpc.max_receive_message_length": GRPC_MAX_MESSAGE_BYTES,
  "grpc.max_send_message_length": GRPC_MAX_MESSAGE_BYTES,
  "grpc.keepalive_time_ms": 10_000,
  "grpc.keepalive_timeout_ms": 5_000,
  "grpc.keepalive_permit_without_calls": 1,
  "grpc.initial_reconnect_backoff_ms": 200,
  "grpc.max_reconnect_backoff_ms": 2_000,
};

function serializer<D extends DescMessage>(desc: D) {
  // toBinary returns a fresh array: wrap it, do not copy it (blocks and proofs are large).
  return (m: MessageShape<D>) => {
    const b = toBinary(desc, m);
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  };
}

function deserializer<D extends DescMessage>(desc: D) {
  return (b: Buffer) => fromBinary(desc, new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
}

/** A grpc-js service definition for a protobuf-es generated service. */
export function serviceDefinition(svc: GenService<any>): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const m of svc.methods) {
    def[m.localName] = {
      path: `/${svc.typeName}/${m.name}`,
      requestStream: m.methodKind === "client_streaming" || m.methodKind === "bidi_streaming",
      responseStream: m.methodKind === "server_streaming" || m.methodKind === "bidi_streaming",
      requestSerialize: serializer(m.input) as (v: unknown) => Buffer,
      requestDeserialize: deserializer(m.input),
      responseSerialize: serializer(m.output) as (v: unknown) => Buffer,
      responseDeserialize: deserializer(m.output),
    };
  }
  return def as grpc.ServiceDefinition;
}

export { create };
