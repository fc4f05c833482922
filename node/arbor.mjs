#!/usr/bin/env node
// The `arbor` bin of the @arbor/node workspace. npm links it into node_modules/.bin before the
// repository's `prepare` has compiled anything, so it is a committed file that only loads the
// compiled command (dist/node/bin.js, made by `npm install` / `npm run build`). It never builds:
// without a build it says so and exits, instead of leaving a half-written copy somewhere.
import { existsSync } from "node:fs";

const entry = new URL("../dist/node/bin.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    "arbor: the command is not built yet; run `npm install` (or `npm run build`) in the Arbor repository\n",
  );
  process.exit(1);
}
await import(entry.href);
