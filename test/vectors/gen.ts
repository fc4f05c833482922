// `npm run gen:vectors`: writes docs/vectors/*.json from the code (test/vectors/build.ts). Run it
// after a deliberate change to a hashed or signed byte layout, and say so in docs/protocol.md.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildVectors, vectorText, VECTORS_DIR } from "./build.js";

for (const [name, v] of Object.entries(buildVectors())) {
  writeFileSync(join(VECTORS_DIR, name), vectorText(v));
  console.log(`wrote ${join(VECTORS_DIR, name)}`);
}
