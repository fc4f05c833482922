// The light client's header source over one node: headers are fetched in batches (the explorer
// shows runs of consecutive blocks) and kept in a bounded cache; the light client verifies each one.
import { decodeCertifiedHeader, type HeaderSource, type Transition } from "../../client/portable.js";
import { HEADER_WAIT_MS, type ArborRpc } from "./rpc.js";

/** Headers asked per request when the page wants one it has not seen. */
export const HEADER_BATCH = 16;
/** Encoded headers kept (a few pages of the latest blocks). */
export const HEADER_CACHE = 256;

export class BatchedHeaders implements HeaderSource {
  private readonly cache = new Map<bigint, Uint8Array>();

  constructor(private readonly rpc: ArborRpc) {}

  async transitions(after: bigint, until: bigint): Promise<Transition[]> {
    const r = await this.rpc.getHeaders({ fromHeight: after, untilHeight: until, transitionsOnly: true });
    return r.headers.map((certificate, i) => ({
      certificate,
      next: r.nextValidators[i] ?? new Uint8Array(),
    }));
  }

  async header(height: bigint): Promise<Uint8Array> {
    const hit = this.cache.get(height);
    if (hit) return hit;
    await this.fetch(height, HEADER_BATCH);
    const b = this.cache.get(height);
    if (!b) throw new Error(`the node has no certified header at ${height} yet`);
    return b;
  }

  /**
   * Fetches up to `count` headers from `from` (not every height has one) into the cache; returns
   * the heights they claim. The claim only files them: the light client checks each one's height
   * and certificate when it is used.
   */
  async fetch(from: bigint, count: number): Promise<bigint[]> {
    const r = await this.rpc.getHeaders({ fromHeight: from, maxCount: count, waitMs: HEADER_WAIT_MS });
    const heights: bigint[] = [];
    for (const b of r.headers) {
      let h: bigint;
      try {
        h = decodeCertifiedHeader(b).header.height;
      } catch {
        continue; // undecodable: never filed, so a use of its height fails
      }
      this.keep(h, b);
      heights.push(h);
    }
    return heights;
  }

  private keep(height: bigint, bytes: Uint8Array): void {
    this.cache.set(height, bytes);
    if (this.cache.size > HEADER_CACHE) this.cache.delete(this.cache.keys().next().value!);
  }
}
