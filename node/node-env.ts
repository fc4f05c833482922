// The environment a node process must start with. glibc reads MALLOC_ARENA_MAX only when a process
// starts, so whoever spawns a node (`arbor up`, the test cluster, benches) sets it; a node started
// without it says so in its log (docs/memory.md).

import { NODE_MALLOC_ARENAS } from "./common/limits.js";
import { ArborError } from "./common/errors.js";

const ARENA_VAR = "MALLOC_ARENA_MAX";

/** `base` (default: this process's environment) with the malloc arena bound set unless already set. */
export function nodeProcessEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (base[ARENA_VAR] !== undefined && base[ARENA_VAR] !== "") return { ...base };
  return { ...base, [ARENA_VAR]: String(NODE_MALLOC_ARENAS) };
}

/**
 * A warning to log when this process runs without the arena bound on Linux (where glibc's arenas
 * grow); undefined when all is well.
 */
export function mallocArenaWarning(
  env: NodeJS.ProcessEnv = process.env,
  platform = process.platform,
): string | undefined {
  if (platform !== "linux") return undefined;
  if (env[ARENA_VAR] !== undefined && env[ARENA_VAR] !== "") return undefined;
  return (
    `${ARENA_VAR} is not set: glibc gives each allocating thread its own arena and the resident set ` +
    `grows for as long as the node runs; start the node with ${ARENA_VAR}=${NODE_MALLOC_ARENAS} ` +
    `(arbor up does this itself)`
  );
}

/**
 * How this node's proposals pick requests: "weighed" (default; docs/protocol.md §9 "The block's
 * gas") or "oldest" (oldest first, no weighing: what the gas benchmark compares against). Read
 * from ARBOR_LEADER_PACKING; another value is a configuration error.
 */
export function leaderPackingFromEnv(env: NodeJS.ProcessEnv = process.env): "weighed" | "oldest" {
  const v = env.ARBOR_LEADER_PACKING;
  if (v === undefined || v === "" || v === "weighed") return "weighed";
  if (v === "oldest") return "oldest";
  throw new ArborError(
    "node/bad-env",
    `ARBOR_LEADER_PACKING must be "weighed" or "oldest", not ${JSON.stringify(v)}`,
  );
}
