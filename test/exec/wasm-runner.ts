// Wasm for tests that a metering bug could make run forever. Run on the test's own thread, such a
// loop never yields: node:test's `{ timeout }` cannot fire and the whole file hangs until the
// runner kills it. Run here, the module executes in a worker thread while the test thread waits,
// so the call fails after WASM_CALL_DEADLINE_MS (the worker is terminated and replaced) and the
// test's own `{ timeout: WASM_TEST_TIMEOUT_MS }` backs that up.

import { Worker } from "node:worker_threads";
import type { ExecRequest, ExecResult, checkModule } from "../../node/exec/index.js";

/** Longest one call may take: a metered module stops far sooner, even on a loaded machine. */
export const WASM_CALL_DEADLINE_MS = 15_000;
/** Per-test timeout for tests that run wasm through here (a few calls each). */
export const WASM_TEST_TIMEOUT_MS = 60_000;

type Reply = { id: number; result?: unknown; error?: string };

export class WasmRunner {
  private worker: Worker | null = null;
  private next = 0;
  private readonly waiting = new Map<number, (r: Reply) => void>();

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL("./wasm-worker.js", import.meta.url));
    w.on("message", (r: Reply) => this.waiting.get(r.id)?.(r));
    // An idle worker must not keep the test process alive (after the listener: adding one refs it).
    w.unref();
    this.worker = w;
    return w;
  }

  private call(job: object, what: string): Promise<unknown> {
    const id = this.next++;
    const w = this.start();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        this.worker = null;
        void w.terminate();
        reject(
          new Error(`${what} did not finish within ${WASM_CALL_DEADLINE_MS} ms: metering did not stop it`),
        );
      }, WASM_CALL_DEADLINE_MS);
      this.waiting.set(id, (r) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        if (r.error !== undefined) reject(new Error(r.error));
        else resolve(r.result);
      });
      w.postMessage({ id, ...job });
    });
  }

  execute(req: ExecRequest): Promise<ExecResult> {
    return this.call({ kind: "execute", req }, `executing ${req.opKey}`) as Promise<ExecResult>;
  }

  check(bytes: Uint8Array): Promise<ReturnType<typeof checkModule>> {
    return this.call({ kind: "check", bytes }, "checking a module") as Promise<
      ReturnType<typeof checkModule>
    >;
  }
}
