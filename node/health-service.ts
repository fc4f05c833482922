// The standard grpc.health.v1.Health service on the node's gRPC port, for the services this node
// names (the overall status "" and the Arbor service). The grpc-health-check package supplies the
// service definition only: its implementation kept a map entry for every service name ever
// watched, so Watch calls with fresh names (1 MB each) filled the heap until the node died. Here an
// unknown name is answered and its stream ended (nothing kept), and live watches are bounded.

import * as grpc from "@grpc/grpc-js";
import { service as healthDefinition, type ServingStatus } from "grpc-health-check";
import { MAX_HEALTH_WATCHES, MAX_HEALTH_WATCHES_PER_HOST } from "./common/limits.js";
import { FairSlots } from "./net/fair-slots.js";
import { hostOf } from "./net/unfinished-calls.js";

/** How much of an unknown service name a refusal repeats. */
const NAME_ECHO_CHARS = 64;

type Watch = (status: ServingStatus) => void;

export class HealthService {
  private readonly statuses: Map<string, ServingStatus>;
  private readonly watches = new Map<string, Set<Watch>>();
  private readonly slots = new FairSlots(MAX_HEALTH_WATCHES, MAX_HEALTH_WATCHES_PER_HOST);

  /** `initial`: every service this node reports on, and its status now. */
  constructor(initial: Readonly<Record<string, ServingStatus>>) {
    this.statuses = new Map(Object.entries(initial));
    for (const name of this.statuses.keys()) this.watches.set(name, new Set());
  }

  /** Sets a known service's status and tells its watchers; an unknown name is a bug. */
  setStatus(service: string, status: ServingStatus): void {
    const set = this.watches.get(service);
    if (set === undefined) throw new Error(`health: unknown service "${service}"`);
    this.statuses.set(service, status);
    for (const w of set) w(status);
  }

  addToServer(server: grpc.Server): void {
    server.addService(healthDefinition, {
      check: (call: grpc.ServerUnaryCall<{ service: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        const status = this.statuses.get(call.request.service);
        if (status !== undefined) return cb(null, { status });
        cb({
          code: grpc.status.NOT_FOUND,
          details: `health/unknown-service: no health status for service "${echo(call.request.service)}"`,
        } as grpc.ServiceError);
      },
      // The protocol: the current status at once, then every change, until the caller leaves. An
      // unknown service is SERVICE_UNKNOWN and stays so (this node never adds services), so its
      // stream ends there: kept open, each would hold its request (a name of megabytes) for nothing.
      watch: (call: grpc.ServerWritableStream<{ service: string }, unknown>) => {
        const set = this.watches.get(call.request.service);
        if (set === undefined) {
          call.write({ status: "SERVICE_UNKNOWN" });
          return void call.end();
        }
        const w: Watch = (status) => void call.write({ status });
        const release = this.slots.take(hostOf(call.getPeer()), () => {
          set.delete(w);
          call.emit("error", {
            code: grpc.status.RESOURCE_EXHAUSTED,
            details:
              "health/evicted: every watch slot is taken and this address holds the most; watch again later",
          } as grpc.ServiceError);
        });
        if (typeof release === "string")
          return void call.emit("error", {
            code: grpc.status.RESOURCE_EXHAUSTED,
            details:
              release === "too-many"
                ? `health/too-many-watches: at most ${MAX_HEALTH_WATCHES} at once`
                : `health/too-many-watches: at most ${MAX_HEALTH_WATCHES_PER_HOST} from one address`,
          } as grpc.ServiceError);
        set.add(w);
        let gone = false;
        const leave = () => {
          if (gone) return;
          gone = true;
          set.delete(w);
          release();
        };
        call.on("cancelled", leave);
        call.on("close", leave);
        call.on("error", leave);
        call.write({ status: this.statuses.get(call.request.service)! });
      },
      list: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => {
        const statuses: Record<string, { status: ServingStatus }> = {};
        for (const [name, status] of this.statuses) statuses[name] = { status };
        cb(null, { statuses });
      },
    });
  }
}

function echo(name: string): string {
  return name.length <= NAME_ECHO_CHARS
    ? name
    : `${name.slice(0, NAME_ECHO_CHARS)}… (${name.length} characters)`;
}
