// The client API for browsers: the node's own unary handlers (node/client-api.ts, node/query-api.ts)
// served over HTTP/1.1 with the Connect and gRPC-web protocols (@connectrpc/connect-node), on a port
// of its own (config `webListen`), beside the gRPC server. Only reads are served: a browser page
// (the explorer) verifies what it gets and needs no write path, so a page from any allowed origin
// can do nothing a proof does not check. CORS answers only the origins the config allows.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type * as grpc from "@grpc/grpc-js";
import { Code, ConnectError, cors, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { DescMethodUnary } from "@bufbuild/protobuf";
import { Arbor } from "../proto/gen/arbor/v1/client_pb.js";

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

/** The HTTP server of the browser API; `listen` binds it. */
export class WebApi {
  private readonly server: Server;

  constructor(o: WebApiOptions) {
    const routes = (router: ConnectRouter) => {
      for (const name of WEB_METHODS) {
        const method = Arbor.method[name] as DescMethodUnary;
        router.rpc(method, connectUnary(o.handlers[name] as UnaryHandler) as never);
      }
    };
    const adapter = connectNodeAdapter({
      routes,
      grpc: false,
      readMaxBytes: WEB_MAX_REQUEST_BYTES,
      maxTimeoutMs: WEB_MAX_TIMEOUT_MS,
    });
    this.server = createServer((req, res) => {
      if (!answerCors(req, res, o.origins)) adapter(req, res);
    });
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
