// The worker side of wasm-runner.ts: runs executor calls and module checks sent by the test thread.

import { parentPort } from "node:worker_threads";
import { checkModule, createExecutor, type ExecRequest } from "../../node/exec/index.js";

const ex = createExecutor();

type Job =
  | { readonly id: number; readonly kind: "execute"; readonly req: ExecRequest }
  | { readonly id: number; readonly kind: "check"; readonly bytes: Uint8Array };

parentPort!.on("message", (job: Job) => {
  try {
    const result = job.kind === "execute" ? ex.execute(job.req) : checkModule(job.bytes);
    parentPort!.postMessage({ id: job.id, result });
  } catch (e) {
    parentPort!.postMessage({
      id: job.id,
      error: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
    });
  }
});
