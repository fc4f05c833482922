// Requests that are not valid protobuf, answered by the node rather than by grpc-js.
//
// grpc-js answers a request it cannot deserialize with an untyped INTERNAL, and on a bidirectional
// stream it does so beside the handler's own writes: a stream given valid frames and a bad one in
// one burst could be left without a status at all, the client waiting for its deadline. So the
// node's service definitions never throw on a request: an undecodable one arrives as an
// `UndecodableRequest`, a unary or server-streaming call refuses it here with INVALID_ARGUMENT
// `decode/bad-protobuf`, and the stream plumbing (client-streams.ts) ends a bidirectional stream
// with that status after the answers already due.

import * as grpc from "@grpc/grpc-js";
import type { GenService } from "@bufbuild/protobuf/codegenv2";
import { grpcError, serviceDefinition } from "../../proto/grpc.js";
import { checkWireTypes } from "./wire-types.js";

/** A request message grpc-js read off the wire but that did not decode as its method's type. */
export class UndecodableRequest {
  constructor(readonly reason: string) {}
}

/** The refusal of an undecodable request: INVALID_ARGUMENT with a stable code. */
export function undecodableError(u: UndecodableRequest): grpc.ServiceError {
  return grpcError(grpc.status.INVALID_ARGUMENT, `decode/bad-protobuf: ${u.reason}`);
}

/**
 * The grpc-js definition of a protobuf-es service whose request deserializers hand an
 * `UndecodableRequest` instead of throwing. Requests are held to the wire types of their fields
 * (wire-types.ts) before they are decoded.
 */
export function tolerantDefinition(svc: GenService<any>): grpc.ServiceDefinition {
  const def = serviceDefinition(svc);
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of svc.methods) {
    const m = def[method.localName] as grpc.MethodDefinition<unknown, unknown>;
    const decode = m.requestDeserialize;
    out[method.localName] = {
      ...m,
      requestDeserialize: (b: Buffer) => {
        try {
          checkWireTypes(method.input, new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
          return decode(b);
        } catch (e) {
          return new UndecodableRequest(`not a valid ${method.input.typeName} (${(e as Error).message})`);
        }
      },
    };
  }
  return out as grpc.ServiceDefinition;
}

/**
 * Handlers that refuse an undecodable request before the handler sees it, for the calls with one
 * request message (unary and server-streaming). Bidirectional streams get their frames one by one,
 * so their handlers check each frame with `isUndecodable`.
 */
export function refuseUndecodable(
  def: grpc.ServiceDefinition,
  service: grpc.UntypedServiceImplementation,
): grpc.UntypedServiceImplementation {
  const out: grpc.UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(service)) {
    const m = def[name];
    if (!m || m.requestStream) {
      out[name] = handler;
      continue;
    }
    const h = handler as (call: unknown, cb?: unknown) => void;
    out[name] = ((
      call: { request: unknown; emit(event: "error", e: Error): boolean },
      cb?: grpc.sendUnaryData<unknown>,
    ) => {
      if (!(call.request instanceof UndecodableRequest)) return h(call, cb);
      const e = undecodableError(call.request);
      if (typeof cb === "function") return cb(e);
      // A server stream ends with a status only by an "error" event.
      call.emit("error", e);
    }) as grpc.UntypedHandleCall;
  }
  return out;
}

export function isUndecodable(m: unknown): m is UndecodableRequest {
  return m instanceof UndecodableRequest;
}
