// The explorer's HTTP server: the page (dist/explorer, built by scripts/build-explorer.mjs) and a
// config.json naming the chain and each node's browser API. It serves nothing the page trusts:
// the page verifies every answer against the chain id pinned in the address the command prints.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ArborError } from "../common/errors.js";
import { PACKAGE_ROOT } from "./paths.js";

/** Where the built page is. */
export const EXPLORER_DIST = join(PACKAGE_ROOT, "dist", "explorer");

/** The files served, with their content types; anything else is 404. */
const FILES: Record<string, [string, string]> = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/index.html": ["index.html", "text/html; charset=utf-8"],
  "/app.js": ["app.js", "text/javascript; charset=utf-8"],
};

export interface ExplorerPageConfig {
  /** the chain id, hex (the page trusts the one in its address, not this one) */
  readonly chain: string;
  /** each node's browser API base URL */
  readonly nodes: readonly { readonly id: number; readonly url: string }[];
}

export class ExplorerServer {
  private readonly server: Server;

  constructor(config: ExplorerPageConfig) {
    if (!existsSync(join(EXPLORER_DIST, "app.js")))
      throw new ArborError("explorer/not-built", "the explorer page is not built: run `npm run build`");
    // Read once: the page is a few hundred kilobytes at most.
    const files = new Map(
      Object.entries(FILES).map(([path, [file, type]]) => [
        path,
        { body: readFileSync(join(EXPLORER_DIST, file)), type },
      ]),
    );
    files.set("/config.json", { body: Buffer.from(JSON.stringify(config)), type: "application/json" });
    this.server = createServer((req, res) => {
      const f = req.method === "GET" ? files.get((req.url ?? "/").split("?")[0]!) : undefined;
      if (!f) return void res.writeHead(404).end();
      res.writeHead(200, { "content-type": f.type, "cache-control": "no-store" }).end(f.body);
    });
  }

  /** Binds `host:port` (port 0: any free one); returns the port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
