// Preparing a request: the proof of the records it touches (read fresh unless given), its
// lifetime, and the client's signature over it.

import {
  sortKeys,
  assembleSignedRequest,
  encodeRequestBody,
  requestSigningMessage,
} from "../node/ledger/request.js";
import { keyPath } from "../node/store/core/path.js";
import { decodeProof, encodeProof } from "../node/store/core/proof-codec.js";
import { DEFAULT_REQUEST_LIFETIME_BLOCKS } from "../node/common/limits.js";
import { sign } from "./crypto.js";
import type { Deadline } from "./deadline.js";
import { pruneProof } from "./proofs.js";
import type { Reads } from "./reads.js";
import type { Session } from "./session.js";
import type { ExecuteOptions } from "./types.js";

export class Prepare {
  constructor(
    private readonly s: Session,
    private readonly reads: Reads,
  ) {}

  async prepareWithin(o: ExecuteOptions, dl: Deadline): Promise<Uint8Array> {
    const touched = sortKeys(o.touched);
    let proof = o.proof;
    let from: bigint;
    if (proof === undefined) {
      // The operation's record stays out of the proof: nodes run the module it holds when the
      // request applies, from their code book (docs/protocol.md §5). Pinned, or when the request
      // touches no key, it is read and sent with its value hash only; a touched operation key
      // needs its value. The proof is only forwarded: nodes check it against their roots, so its
      // root is not certified here (its signature, shape and coverage are: a request is not
      // refused for the client's fault).
      const withOp = o.pinOperation === true || touched.length === 0 || touched.includes(o.op);
      const keys = withOp && !touched.includes(o.op) ? [o.op, ...touched] : touched;
      const hashKeys = keys.length > touched.length ? [o.op] : [];
      const read = await this.reads.readWithin(keys, true, dl, hashKeys, false);
      proof = encodeProof(
        pruneProof(decodeProof(read.proof).root, sortKeys(keys).map(keyPath), 0, hashKeys.map(keyPath)),
      );
      from = read.height;
    } else from = o.validUntil === undefined ? await this.knownHeight() : 0n;
    const body = encodeRequestBody({
      op: o.op,
      touched,
      proof,
      args: o.args ?? new Uint8Array(0),
      gasLimit: o.gasLimit ?? 10_000_000n,
      caller: this.s.key.publicKey,
      nonce: this.s.nonce++,
      validUntil: o.validUntil ?? from + BigInt(DEFAULT_REQUEST_LIFETIME_BLOCKS),
    });
    return assembleSignedRequest(body, sign(this.s.key, requestSigningMessage(this.s.chain, body)));
  }

  /**
   * The newest height this client knows of: from receipts and reads, or else the highest any node
   * reports (a lifetime from it only needs to be roughly right: too far ahead is refused at the
   * door as `bad-lifetime`, too far behind as `expired`; neither can apply anything).
   */
  private async knownHeight(): Promise<bigint> {
    let h = this.s.seenHeight > this.s.readHeight ? this.s.seenHeight : this.s.readHeight;
    if (h > 0n) return h;
    const replies = await Promise.all(
      this.s.nodes.map((n) =>
        this.reads.nodeStatus(n.id).then(
          (s) => s.height,
          () => 0n,
        ),
      ),
    );
    for (const x of replies) if (x > h) h = x;
    return h;
  }
}
