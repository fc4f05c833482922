// The client API for browsers: the node's own unary handlers (node/client-api.ts, node/query-api.ts)
// served over HTTP/1.1 with the Connect and gRPC-web protocols (@connectrpc/connect-node), on a port
// of its own (config `webListen`), beside the gRPC server. Only reads are served: a browser page
// (the explorer) verifies what it gets and needs no write path, so a page from any allowed origin
// can do nothing a proof does not check. CORS answers only the origins the config allows.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type * as grpc from "@grpc/grpc-js";
import { Code, ConnectError, cors, createConnectRouter, type Interceptor } from "@connectrpc/connect";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import { toBinary, type DescMethodUnary, type Message } from "@bufbuild/protobuf";
import { Arbor, type GetReply } from "../proto/gen/arbor/v1/client_pb.js";
import { withStableRefusal } from "./web-refusal.js";
import { shareConnections } from "./net/connection-share.js";

/** The methods a browser may call: the reads a verifying page needs, unary only. */
export const WEB_METHODS = [
  "get",
  "getHeaders",
  "status",
  "genesis",
  "list",
  "history",
  "waitReceipt",
  "getBlockReceipts",
] as const;

/** Largest request body a browser may send (a GET of MAX_TOUCHED_KEYS keys is far below it). */
export const WEB_MAX_REQUEST_BYTES = 64 * 1024;

/** Longest deadline a browser may ask for: the node's own waits (headers, receipts) are shorter. */
export const WEB_MAX_TIMEOUT_MS = 70_000;

/**
 * Most connections the browser API keeps open; past it a new one is closed at once. Each is a file
 * descriptor: unbounded, unfinished requests ran the node out of them and it stopped.
 */
export const WEB_MAX_CONNECTIONS = 256;
/**
 * Of them, from one address: past it a new one is closed at once, and when all are taken a newcomer
 * from a less busy address takes the busiest one's oldest place (node/net/connection-share.ts), so
 * one host holding polite keep-alive connections cannot shut every other browser out.
 */
export const WEB_MAX_CONNECTIONS_PER_HOST = 32;

/**
 * Most browser calls a node works on at once, counted from a call's arrival until its answer is
 * written out (an answer its client does not read holds its place). Past it a call is refused at
 * once with RESOURCE_EXHAUSTED `web/busy`: pipelined or queued calls cannot pile up work.
 */
export const WEB_MAX_IN_FLIGHT = 16;

/**
 * Largest reply served to a browser, in bytes of its binary encoding (as JSON it is a third larger
 * or more); past it the call is refused before the reply is encoded: `get/too-large` for a `Get`
 * (its proof alone is looked at), `web/reply-too-large` for the others (a page of history or a
 * listing, many headers, a block's receipts). Far below the gRPC bounds (MAX_GET_PROOF_BYTES,
 * MAX_HISTORY_PAGE_BYTES): a page reads a few records at a time, and a large JSON reply costs the
 * node seconds.
 */
export const WEB_MAX_REPLY_BYTES = 4 * 1024 * 1024;

/** Longest a client may take to send a request's headers, and the whole request, before it is cut off. */
export const WEB_HEADERS_TIMEOUT_MS = 10_000;
export const WEB_REQUEST_TIMEOUT_MS = 20_000;
/** How long an idle kept-alive connection stays open between calls. */
export const WEB_KEEP_ALIVE_TIMEOUT_MS = 5_000;
/**
 * A connection on which no byte moves either way for this long is closed, an answer that is never
 * read included: longer than the longest wait a call may ask for.
 */
export const WEB_IDLE_TIMEOUT_MS = WEB_MAX_TIMEOUT_MS + 10_000;
/** How often the server looks for connections past their header or request timeout. */
const CONNECTION_CHECK_MS = 1_000;

/** How long a browser may cache a CORS preflight answer. */
const PREFLIGHT_MAX_AGE_S = 600;

/** A unary handler as the gRPC server calls it: only `call.request` is read by the ones served here. */
type UnaryHandler = (
  call: { request: unknown },
  cb: (e: grpc.ServiceError | null, r?: unknown) => void,
) => void;

/**
 * Turns a gRPC unary handler into a Connect one. gRPC and Connect status codes share their numbers
 * (both follow google.rpc.Code), so a node's refusal reaches the browser with the same code and text.
 */
export function connectUnary(h: UnaryHandler): (request: unknown) => Promise<unknown> {
  return (request) =>
    new Promise((resolve, reject) =>
      h({ request }, (e, r) => {
        if (!e) return resolve(r);
        const n = Number(e.code);
        const code: Code = n >= Code.Canceled && n <= Code.Unauthenticated ? n : Code.Internal;
        reject(new ConnectError(e.details || e.message, code));
      }),
    );
}

/**
 * Whether a page from `origin` may call: an allowed entry is an exact origin, `*` (any), or an
 * origin whose port is `*` (`http://127.0.0.1:*`: any port on that host, as local tools pick theirs).
 */
export function originAllowed(origin: string, allowed: readonly string[]): boolean {
  return allowed.some(
    (a) =>
      a === "*" ||
      a === origin ||
      (a.endsWith(":*") && origin.startsWith(a.slice(0, -1)) && /^\d{1,5}$/.test(origin.slice(a.length - 1))),
  );
}

/** Sets the CORS headers of an allowed origin; true when the request was a preflight (answered). */
function answerCors(req: IncomingMessage, res: ServerResponse, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined || !originAllowed(origin, allowed)) return false;
  res.setHeader("Access-Control-Allow-Origin", origin);
  res.setHeader("Vary", "Origin");
  res.setHeader("Access-Control-Expose-Headers", cors.exposedHeaders.join(", "));
  if (req.method !== "OPTIONS") return false;
  res.setHeader("Access-Control-Allow-Methods", cors.allowedMethods.join(", "));
  res.setHeader("Access-Control-Allow-Headers", cors.allowedHeaders.join(", "));
  res.setHeader("Access-Control-Max-Age", String(PREFLIGHT_MAX_AGE_S));
  res.writeHead(204).end();
  return true;
}

export interface WebApiOptions {
  /** the handlers of the Arbor service (ClientApi.service()) */
  readonly handlers: grpc.UntypedServiceImplementation;
  /** origins allowed to call from a browser (see originAllowed) */
  readonly origins: readonly string[];
}

/** JSON bodies are decoded strictly: bytes that are not UTF-8 are refused, not mended with U+FFFD. */
const STRICT_UTF8 = {
  decoder: new TextDecoder("utf-8", { fatal: true }),
  decode(b?: Uint8Array): string {
    try {
      return this.decoder.decode(b);
    } catch {
      throw new ConnectError("decode/bad-utf8: the JSON body is not well-formed UTF-8", Code.InvalidArgument);
    }
  },
};

/**
 * A reply over WEB_MAX_REPLY_BYTES is refused before it is encoded as JSON. A `Get`'s proof is
 * looked at first (most of its size, and the caller can ask for fewer keys).
 */
function boundedReply(
  name: (typeof WEB_METHODS)[number],
  method: DescMethodUnary,
  h: (request: unknown) => Promise<unknown>,
): (request: unknown) => Promise<unknown> {
  return async (request) => {
    const reply = await h(request);
    if (name === "get" && (reply as GetReply).proof.length > WEB_MAX_REPLY_BYTES)
      throw new ConnectError(
        `get/too-large: the proof of these keys is ${(reply as GetReply).proof.length} bytes, over ${WEB_MAX_REPLY_BYTES} for a browser: ask for fewer keys at once`,
        Code.InvalidArgument,
      );
    const bytes = toBinary(method.output, reply as Message).length;
    if (bytes > WEB_MAX_REPLY_BYTES)
      throw new ConnectError(
        `web/reply-too-large: the reply is ${bytes} bytes, over ${WEB_MAX_REPLY_BYTES} for a browser: ask for less at once (a smaller page or fewer heights), or use the gRPC API`,
        Code.ResourceExhausted,
      );
    return reply;
  };
}

/** The HTTP server of the browser API; `listen` binds it. */
export class WebApi {
  private readonly server: Server;
  /** calls arrived whose answer is not yet written out (WEB_MAX_IN_FLIGHT) */
  private inFlight = 0;

  constructor(o: WebApiOptions) {
    const router = createConnectRouter({
      grpc: false,
      readMaxBytes: WEB_MAX_REQUEST_BYTES,
      maxTimeoutMs: WEB_MAX_TIMEOUT_MS,
      acceptCompression: [compressionGzip, compressionBrotli],
      // The library reads `textDecoder` from these options (its JSON serialization), though the type omits it.
      jsonOptions: { textDecoder: STRICT_UTF8 } as object,
      interceptors: [this.guard()],
    });
    for (const name of WEB_METHODS) {
      const method = Arbor.method[name] as DescMethodUnary;
      const h = connectUnary(o.handlers[name] as UnaryHandler);
      router.rpc(method, boundedReply(name, method, h) as never);
    }
    // connect-node's adapter, by hand, so that the library's own refusals can be given stable codes.
    const paths = new Map(router.handlers.map((h) => [h.requestPath, h]));
    this.server = createServer(
      {
        headersTimeout: WEB_HEADERS_TIMEOUT_MS,
        requestTimeout: WEB_REQUEST_TIMEOUT_MS,
        connectionsCheckingInterval: CONNECTION_CHECK_MS,
      },
      (req, res) => {
        if (answerCors(req, res, o.origins)) return;
        const h = paths.get(req.url?.split("?", 2)[0] ?? "");
        if (!h) return void res.writeHead(404).end();
        this.inFlight++;
        res.once("close", () => this.inFlight--);
        h(universalRequestFromNodeRequest(req, res, undefined, undefined))
          .then((u) => withStableRefusal(u, req.headers["content-type"] ?? ""))
          .then((u) => universalResponseToNodeResponse(u, res))
          .catch(() => res.destroy());
      },
    );
    shareConnections(this.server, WEB_MAX_CONNECTIONS, WEB_MAX_CONNECTIONS_PER_HOST);
    this.server.keepAliveTimeout = WEB_KEEP_ALIVE_TIMEOUT_MS;
    this.server.setTimeout(WEB_IDLE_TIMEOUT_MS);
  }

  /**
   * Refuses a call past WEB_MAX_IN_FLIGHT at once, and does no work, nor encodes a reply, for a
   * client whose connection is gone (a queued call's client may have left while it waited).
   */
  private guard(): Interceptor {
    return (next) => async (req) => {
      if (this.inFlight > WEB_MAX_IN_FLIGHT)
        throw new ConnectError(
          `web/busy: over ${WEB_MAX_IN_FLIGHT} browser calls in flight on this node; retry`,
          Code.ResourceExhausted,
        );
      if (req.signal.aborted) throw new ConnectError("web/gone: the client left", Code.Canceled);
      const res = await next(req);
      if (req.signal.aborted) throw new ConnectError("web/gone: the client left", Code.Canceled);
      return res;
    };
  }

  /** Binds `host:port` (port 0: any free one); returns the port. */
  listen(hostPort: string): Promise<number> {
    const i = hostPort.lastIndexOf(":");
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(Number(hostPort.slice(i + 1)), hostPort.slice(0, i), () =>
        resolve((this.server.address() as AddressInfo).port),
      );
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
