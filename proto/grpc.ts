// Shared by node and client: grpc-js service definitions built from the protobuf-es generated
// descriptors (one source of truth for both sides), and the channel options both use.
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import type { GenService } from "@bufbuild/protobuf/codegenv2";
import type { EventEmitter } from "node:events";
import type { ServerHttp2Session } from "node:http2";
import { GRPC_MAX_CONNECTIONS, HTTP2_MAX_FRAME_BYTES, HTTP2_WINDOW_BYTES } from "../node/common/limits.js";

/** Largest gRPC message a node accepts or sends (a block's requests with their proofs fit). */
export const GRPC_MAX_MESSAGE_BYTES = 32 * 1024 * 1024;

export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  "grpc.max_receive_message_length": GRPC_MAX_MESSAGE_BYTES,
  "grpc.max_send_message_length": GRPC_MAX_MESSAGE_BYTES,
  // The client side of a connection: its stream and connection receive windows.
  "grpc-node.flow_control_window": HTTP2_WINDOW_BYTES,
  "grpc.keepalive_time_ms": 10_000,
  "grpc.keepalive_timeout_ms": 5_000,
  "grpc.keepalive_permit_without_calls": 1,
  "grpc.initial_reconnect_backoff_ms": 200,
  "grpc.max_reconnect_backoff_ms": 2_000,
};

/** What a node's gRPC server is told about HTTP/2; grpc-js has no server option for these. */
interface Http2Tunable {
  commonServerOptions?: { settings?: Record<string, unknown> };
  http2Servers?: Map<EventEmitter, unknown>;
}

/**
 * Raises a gRPC server's HTTP/2 limits for what it receives: the stream window and the largest
 * frame it accepts (SETTINGS), and each connection's window. grpc-js 1.14 reads the
 * `grpc-node.flow_control_window` option only on the client side, so this sets the options it
 * passes to node:http2 and listens for its sessions; it also caps the connections each listener
 * keeps (GRPC_MAX_CONNECTIONS). Call before `bindAsync`. Returns false (and
 * changes nothing) if grpc-js no longer has those internals; a test checks that it works.
 */
export function raiseServerHttp2Limits(server: grpc.Server): boolean {
  const s = server as unknown as Http2Tunable;
  if (!s.commonServerOptions || !(s.http2Servers instanceof Map)) return false;
  s.commonServerOptions.settings = {
    ...s.commonServerOptions.settings,
    initialWindowSize: HTTP2_WINDOW_BYTES,
    maxFrameSize: HTTP2_MAX_FRAME_BYTES,
  };
  const servers = s.http2Servers;
  const hooked = new WeakSet<EventEmitter>();
  const hook = (h: EventEmitter) => {
    if (hooked.has(h)) return;
    hooked.add(h);
    // Each connection is a file descriptor: unbounded, unfinished connections could take them all.
    (h as unknown as { maxConnections: number }).maxConnections = GRPC_MAX_CONNECTIONS;
    h.on("session", (session: ServerHttp2Session) => {
      try {
        session.setLocalWindowSize(HTTP2_WINDOW_BYTES);
      } catch {
        /* a closing session */
      }
    });
  };
  // The http2 servers are made at bind time: hook each one as grpc-js records it.
  const set = servers.set.bind(servers);
  servers.set = (k: EventEmitter, v: unknown) => {
    hook(k);
    return set(k, v);
  };
  for (const k of servers.keys()) hook(k);
  return true;
}

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

/** A gRPC error with a status code, as a server answers it and a client receives it. */
export function grpcError(code: grpc.status, message: string): grpc.ServiceError {
  return Object.assign(new Error(message), {
    code,
    details: message,
    metadata: new grpc.Metadata(),
  }) as grpc.ServiceError;
}

/**
 * A fault of the node itself (a bug, a failed store), not of the request, as a client sees it:
 * INTERNAL with the stable code `node/fault` (docs/protocol.md §8, "Refusal messages").
 */
export function nodeFault(e: unknown, what?: string): grpc.ServiceError {
  return grpcError(grpc.status.INTERNAL, `node/fault: ${what === undefined ? "" : `${what}: `}${String(e)}`);
}

export { create };
