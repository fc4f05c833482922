// Bundles the explorer's page (explorer/app) for browsers with esbuild into dist/explorer: app.js
// (the SDK's portable parts, the Connect client and the page) and index.html. `--report` prints the
// bundle's size, raw and gzipped (the budget is EXPLORER_GZIP_BUDGET).
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "dist", "explorer");
/** The page's bundle must stay under this many bytes gzipped (issue 17). */
const EXPLORER_GZIP_BUDGET = 300 * 1024;

mkdirSync(OUT, { recursive: true });
await build({
  entryPoints: [join(ROOT, "explorer", "app", "main.ts")],
  outfile: join(OUT, "app.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  legalComments: "none",
  logLevel: "warning",
});
copyFileSync(join(ROOT, "explorer", "app", "index.html"), join(OUT, "index.html"));
const js = readFileSync(join(OUT, "app.js"));
const gz = gzipSync(js, { level: 9 }).length;
if (process.argv.includes("--report"))
  console.log(`explorer bundle: ${js.length} bytes, ${gz} bytes gzipped (budget ${EXPLORER_GZIP_BUDGET})`);
if (gz > EXPLORER_GZIP_BUDGET) {
  console.error(`explorer bundle is ${gz} bytes gzipped, over its budget of ${EXPLORER_GZIP_BUDGET}`);
  process.exit(1);
}
