// bench:light — what a light client downloads to verify one read after N blocks that include a
// validator-set change, against the bytes of all headers (issue: Dietcoin-style light clients).
import { LightClient } from "../client/light.js";
import { buildChain } from "../test/ledger/light-chain.js";
import { prove } from "../node/store/core/proof.js";
import { encodeProof } from "../node/store/core/proof-codec.js";
import { keyPath } from "../node/store/core/path.js";
import { installNodeSha256 } from "../node/platform.js";
import { machineLine, nowUs, progress } from "./machine.js";

installNodeSha256();
const N = Number(process.env.ARBOR_LIGHT_BLOCKS ?? 10_000);
console.log(machineLine());
progress(`building and certifying ${N} headers (eviction decided at ${N / 2})`);
const chain = buildChain(N, N / 2);
const light = new LightClient(chain.genesis, chain.source);
const proof = encodeProof(prove(chain.tree, [keyPath("light/k7")]));
const t0 = nowUs();
const v = await light.verifyRead("light/k7", proof, BigInt(N));
const ms = (nowUs() - t0) / 1000;
if (!v) throw new Error("read failed");
console.log(`blocks: ${N}; validator-set changes: ${chain.transitions.length}`);
console.log(
  `light client downloaded ${light.headersDownloaded} headers, ${light.bytesDownloaded} bytes (proof ${proof.length}); verified in ${ms.toFixed(1)} ms`,
);
console.log(
  `all headers with certificates: ${chain.allHeaderBytes} bytes (${(chain.allHeaderBytes / light.bytesDownloaded).toFixed(0)}× more)`,
);
console.log(
  JSON.stringify({
    bench: "light",
    blocks: N,
    headersDownloaded: light.headersDownloaded,
    bytesDownloaded: light.bytesDownloaded,
    allHeaderBytes: chain.allHeaderBytes,
    verifyMs: +ms.toFixed(1),
  }),
);
