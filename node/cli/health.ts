// `arbor health --config FILE`: asks the node of a config file whether it serves, through the
// standard gRPC health service on its own port (over TLS when the config has `tls`), and exits 0
// only for SERVING — the container image's HEALTHCHECK. A node listening on every interface is
// asked on 127.0.0.1 (its certificate names 127.0.0.1 too: node/cli/tls-certs.ts).
import * as grpc from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { ArborError } from "../common/errors.js";
import { loadConfig } from "../config.js";
import { peerCredentials } from "../net/tls.js";
import { intFlag, parseArgs, requireString, UsageError } from "./args.js";

export class HealthError extends ArborError {}

/** The address to probe a node at, from its `listen` (or genesis) address. */
export function probeAddress(listen: string): string {
  const i = listen.lastIndexOf(":");
  const host = listen.slice(0, i);
  const local = host === "0.0.0.0" || host === "::" || host === "[::]" || host === "";
  return `${local ? "127.0.0.1" : host}:${listen.slice(i + 1)}`;
}

export async function healthCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, { config: "string", "timeout-ms": "string" });
  if (a.positional.length > 0) throw new UsageError(`health takes no arguments (got "${a.positional[0]}")`);
  const cfg = loadConfig(requireString(a, "config"));
  const timeoutMs = intFlag(a, "timeout-ms", 3000, 1, 600_000);
  // A node added after genesis names its address in its config's `member` section.
  const me = cfg.genesis.nodes.find((n) => n.id === cfg.id) ?? cfg.member;
  if (!me)
    throw new HealthError("health/unknown-id", `node ${cfg.id} is not in the genesis and has no "member"`);
  const address = probeAddress(cfg.listen ?? me.address);
  const Health = grpc.makeGenericClientConstructor(healthService, "Health");
  const client = new Health(address, peerCredentials(cfg.tls)) as unknown as grpc.Client & {
    check(
      req: { service: string },
      opts: grpc.CallOptions,
      cb: (e: grpc.ServiceError | null, r?: { status: string | number }) => void,
    ): void;
  };
  try {
    const status = await new Promise<string>((resolve, reject) =>
      client.check({ service: "" }, { deadline: Date.now() + timeoutMs }, (e, r) =>
        e
          ? reject(new HealthError("health/unreachable", `${address}: ${e.details || e.message}`))
          : resolve(String(r?.status)),
      ),
    );
    process.stdout.write(`${address} ${status}\n`);
    if (status !== "SERVING") throw new HealthError("health/not-serving", `${address} is ${status}`);
    return 0;
  } finally {
    client.close();
  }
}
