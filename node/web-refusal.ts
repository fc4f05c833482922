// Stable codes for the browser API's own refusals (node/web-api.ts). The Connect library refuses a
// body it cannot read, a deadline past its bound or bytes that are not protobuf with texts of its
// own (and bad protobuf as INTERNAL), before any handler runs, so no interceptor sees them; its
// error answers are rewritten here, as they leave, to start with a stable code as docs/protocol.md
// §8 wants of every refusal (docs/explorer.md lists them). Only error answers are touched: a Connect
// unary error (its status not 200, a small JSON body) and a gRPC-web trailer frame.
import { Code } from "@connectrpc/connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";

/** A message that already starts with a stable code (`area/what`), as the node's own refusals do. */
const STABLE_CODE = /^[a-z][a-z0-9-]*\/[a-z0-9-]+(?::|$)/;
/** The Connect protocol's HTTP status of INVALID_ARGUMENT. */
const HTTP_BAD_REQUEST = 400;
/** The flag of a gRPC-web frame that carries the trailers. */
const GRPC_WEB_TRAILER_FLAG = 0x80;
/** The bytes before a gRPC-web frame's payload: its flags and its big-endian length. */
const GRPC_WEB_FRAME_HEADER = 5;

/** A refusal's message given a stable code; `code` is set when the refusal's code changes too. */
export function stableRefusal(message: string, json: boolean): { message: string; code?: Code } {
  if (STABLE_CODE.test(message)) return { message };
  if (message.startsWith("parse binary: "))
    return { message: `decode/bad-protobuf: ${message.slice(14)}`, code: Code.InvalidArgument };
  if (/readMaxBytes/.test(message)) return { message: `web/too-large: ${message}` };
  if (/^timeout \d+ms must be <=|invalid (?:connect|grpc) timeout value/.test(message))
    return { message: `web/bad-timeout: ${message}` };
  if (json && /JSON/.test(message)) return { message: `decode/bad-json: ${message}` };
  return { message: `web/refused: ${message}` };
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of body) parts.push(p);
  return Buffer.concat(parts);
}

/** A Connect unary error answer with its message (and maybe code) made stable. */
async function stableConnectError(
  res: UniversalServerResponse,
  json: boolean,
): Promise<UniversalServerResponse> {
  const bytes = res.body ? await readAll(res.body) : new Uint8Array();
  let err: { code?: string; message?: string };
  try {
    err = JSON.parse(new TextDecoder().decode(bytes)) as typeof err;
  } catch {
    return { ...res, body: (async function* () {})() };
  }
  const s = stableRefusal(err.message ?? "", json);
  const out = new TextEncoder().encode(
    JSON.stringify({
      ...err,
      message: s.message,
      ...(s.code === Code.InvalidArgument ? { code: "invalid_argument" } : {}),
    }),
  );
  const header = new Headers(res.header);
  header.set("content-length", String(out.byteLength));
  const status = s.code === Code.InvalidArgument ? HTTP_BAD_REQUEST : res.status;
  return {
    ...res,
    status,
    header,
    body: (async function* () {
      yield out;
    })(),
  };
}

/** A gRPC-web trailer frame with a refusal's message (and maybe code) made stable. */
function stableTrailer(frame: Uint8Array, json: boolean): Uint8Array {
  const lines = new TextDecoder().decode(frame.subarray(GRPC_WEB_FRAME_HEADER)).split("\r\n");
  const at = lines.findIndex((l) => l.toLowerCase().startsWith("grpc-message:"));
  const status = lines.findIndex((l) => l.toLowerCase().startsWith("grpc-status:"));
  if (at < 0 || status < 0 || lines[status]!.slice(12).trim() === "0") return frame;
  const s = stableRefusal(decodeURIComponent(lines[at]!.slice(13).trim()), json);
  lines[at] = `grpc-message: ${encodeURIComponent(s.message)}`;
  if (s.code !== undefined) lines[status] = `grpc-status: ${s.code}`;
  const payload = new TextEncoder().encode(lines.join("\r\n"));
  const out = new Uint8Array(GRPC_WEB_FRAME_HEADER + payload.byteLength);
  out[0] = frame[0]!;
  new DataView(out.buffer).setUint32(1, payload.byteLength);
  out.set(payload, GRPC_WEB_FRAME_HEADER);
  return out;
}

async function* stableTrailers(body: AsyncIterable<Uint8Array>, json: boolean): AsyncIterable<Uint8Array> {
  // The library yields one gRPC-web frame per chunk; a compressed trailer (flag bit 0) is left alone.
  for await (const chunk of body)
    yield chunk.byteLength >= GRPC_WEB_FRAME_HEADER && chunk[0] === GRPC_WEB_TRAILER_FLAG
      ? stableTrailer(chunk, json)
      : chunk;
}

/**
 * An answer of the Connect library with its refusal made stable. `contentType` is the request's:
 * it says the protocol (gRPC-web or Connect) and whether the body was JSON.
 */
export async function withStableRefusal(
  res: UniversalServerResponse,
  contentType: string,
): Promise<UniversalServerResponse> {
  const json = /json/i.test(contentType);
  if (/^application\/grpc-web/i.test(contentType))
    return res.body ? { ...res, body: stableTrailers(res.body, json) } : res;
  const isJsonError = /^application\/json/i.test(res.header?.get("content-type") ?? "");
  return res.status !== 200 && isJsonError ? stableConnectError(res, json) : res;
}
