// Where the package's own files are, independent of the current directory: this file runs as
// dist/node/cli/paths.js, so the package root is three levels up.
import { fileURLToPath } from "node:url";
import { join } from "node:path";

export const PACKAGE_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** The compiled `arbor` entry point (children are spawned with it). */
export const ARBOR_BIN = join(PACKAGE_ROOT, "dist", "node", "bin.js");

/** Operations compiled by scripts/build-ops.mjs. */
export const BUILT_OPS = join(PACKAGE_ROOT, "build", "ops");

export const BUILD_OPS_SCRIPT = join(PACKAGE_ROOT, "scripts", "build-ops.mjs");

/** The compiled banking demo (the quick start runs it). */
export const BANKING_DEMO = join(PACKAGE_ROOT, "dist", "examples", "banking", "demo.js");
