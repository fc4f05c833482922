// Listings and key histories as a node serves them (List and History, docs/protocol.md §15). Both
// answer from the ordered index at the node's served height — outside a block, through the read
// gate — so a reply's proof is against the index root of that height's header. History pages read
// stored changes; the last block's changes are also kept in memory until its batch is on disk.

import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import {
  ChangesReplySchema,
  HistoryReplySchema,
  ListReplySchema,
  type ChangesReply,
  type ChangesRequest,
  type HistoryReply,
  type HistoryRequest,
  type ListReply,
  type ListRequest,
} from "../proto/gen/arbor/v1/client_pb.js";
import { grpcError, nodeFault } from "../proto/grpc.js";
import { isWellFormedString, utf8 } from "./common/bytes.js";
import { ArborError } from "./common/errors.js";
import {
  MAX_CHANGE_FEED_BLOCKS,
  MAX_CHANGE_FEED_CHANGES,
  MAX_HEADER_WAIT_MS,
  MAX_HISTORY_PAGE,
  MAX_KEY_BYTES,
  MAX_LIST_PAGE,
} from "./common/limits.js";

/** How often a change-feed request waiting for a block looks again. */
const FEED_POLL_MS = 50;
import { entryRange, listingRange, proveRange } from "./store/core/index-proof.js";
import { sortKey } from "./store/core/ordered-index.js";
import type { Ledger } from "./ledger/ledger.js";
import type { IndexedChange } from "./ledger/key-index.js";
import { readBlockChanges, type HistoryReader } from "./index-store.js";
import type { LevelStore } from "./store/level-store.js";
import type { ReadGate } from "./read-gate.js";
import type { ServedView } from "./block-pipeline.js";
import { proofHidingKey, tamperChange, type Byzantine } from "./byzantine.js";

export interface QueryDeps {
  readonly ledger: Ledger;
  readonly reads: ReadGate;
  readonly view: () => ServedView;
  readonly history: HistoryReader;
  readonly store: LevelStore;
  /** The first height whose key changes this node keeps (after the snapshot it was installed from). */
  readonly changesFrom: () => bigint;
  /** the changes of the newest block while its batch is being written (else empty) */
  readonly unsaved: () => readonly IndexedChange[];
  /** a Byzantine test behaviour (node/byzantine.ts) */
  readonly byzantine?: Byzantine | undefined;
}

type Reply<T> = (e: grpc.ServiceError | null, r?: T) => void;

function checkText(s: string, what: string, code: string): void {
  if (!isWellFormedString(s) || utf8(s).length > MAX_KEY_BYTES)
    throw new ArborError(code, `${what} must be well-formed UTF-8 of at most ${MAX_KEY_BYTES} bytes`);
}

function checkLimit(limit: number, max: number, code: string): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > max)
    throw new ArborError(code, `limit must be 1..${max}, not ${limit}`);
}

export class QueryApi {
  constructor(private readonly d: QueryDeps) {}

  list(req: ListRequest, cb: Reply<ListReply>): void {
    this.d.reads.admit(
      req.minHeight,
      () => {
        try {
          cb(null, this.page(req));
        } catch (e) {
          cb(refusal(e));
        }
      },
      () => cb(grpcError(grpc.status.RESOURCE_EXHAUSTED, "read/busy: too many reads waiting; retry")),
    );
  }

  private page(req: ListRequest): ListReply {
    checkText(req.prefix, "prefix", "list/bad-prefix");
    if (req.after !== undefined) checkText(req.after, "after", "list/bad-after");
    checkLimit(req.limit, MAX_LIST_PAGE, "list/bad-limit");
    const range = listingRange(req.prefix, req.after ?? null);
    const index = this.d.ledger.index;
    const page = proveRange(index, range, req.limit);
    let proof = page.proof;
    if (this.d.byzantine === "omit-listed-key" && page.entries.length > 0)
      proof = proofHidingKey(index, range, req.limit, sortKey(page.entries[0]!.key));
    return create(ListReplySchema, { height: this.d.view().height, proof, done: page.done });
  }

  history(req: HistoryRequest, cb: Reply<HistoryReply>): void {
    this.d.reads.admit(
      req.minHeight,
      () => {
        this.changes(req).then(
          (r) => cb(null, r),
          (e) => cb(refusal(e)),
        );
      },
      () => cb(grpcError(grpc.status.RESOURCE_EXHAUSTED, "read/busy: too many reads waiting; retry")),
    );
  }

  /** The change feed (GetChanges): blocks with a header from a height on, as stored. */
  feed(req: ChangesRequest, cb: Reply<ChangesReply>): void {
    const run = async (): Promise<ChangesReply> => {
      checkLimit(req.maxBlocks, MAX_CHANGE_FEED_BLOCKS, "changes/bad-limit");
      const first = this.d.changesFrom();
      if (req.fromHeight < first && first > 1n)
        throw new ArborError(
          "changes/unavailable",
          `this node was synced from a snapshot and keeps the changes of blocks from ${first} on`,
        );
      await waitUntil(() => this.d.store.height >= req.fromHeight, Math.min(req.waitMs, MAX_HEADER_WAIT_MS));
      const height = this.d.store.height;
      const blocks = await readBlockChanges(
        this.d.store,
        req.fromHeight,
        req.maxBlocks,
        MAX_CHANGE_FEED_CHANGES,
      );
      const tamper = this.d.byzantine === "tamper-change-feed";
      return create(ChangesReplySchema, {
        height,
        blocks: blocks.map((b) => ({
          height: b.height,
          changes: b.changes.map((c, i) => ({
            key: c.key,
            number: c.number,
            change: tamper && i === firstKept(b.changes) ? tamperChange(c.change) : c.change,
            ...(c.value === null ? {} : { value: c.value }),
          })),
        })),
      });
    };
    run().then(
      (r) => cb(null, r),
      (e) => cb(refusal(e)),
    );
  }

  private async changes(req: HistoryRequest): Promise<HistoryReply> {
    checkText(req.key, "key", "history/bad-key");
    if (req.key === "") throw new ArborError("history/bad-key", "key must not be empty");
    checkLimit(req.limit, MAX_HISTORY_PAGE, "history/bad-limit");
    // Taken together, synchronously: the entry, its height and the changes not yet on disk.
    const entry = this.d.ledger.index.tail(req.key);
    const height = this.d.view().height;
    const unsaved = this.d.unsaved();
    if (req.number > (entry?.changes ?? 0n))
      throw new ArborError(
        "history/bad-number",
        `${req.key} has ${entry?.changes ?? 0n} changes, not ${req.number}`,
      );
    const first = req.number === 0n;
    const entryProof = first
      ? proveRange(this.d.ledger.index, entryRange(req.key), 1).proof
      : new Uint8Array(0);
    // A key never written: the proof shows it absent, and there is no change to give.
    if (!entry) return create(HistoryReplySchema, { height, entryProof, headBefore: new Uint8Array(32) });
    const page = await this.d.history.page(req.key, first ? entry.changes : req.number, req.limit, unsaved);
    if (this.d.byzantine === "drop-history-change" && page.changes.length > 1) page.changes.splice(1, 1);
    return create(HistoryReplySchema, {
      height,
      entryProof,
      changes: page.changes.map((c) =>
        c.value === null ? { change: c.change } : { change: c.change, value: c.value },
      ),
      headBefore: page.headBefore,
    });
  }
}

/** Waits until `ready()` or `ms` pass, looking every FEED_POLL_MS. */
async function waitUntil(ready: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !ready() && Date.now() < end;)
    await new Promise((r) => setTimeout(r, FEED_POLL_MS));
}

function refusal(e: unknown): grpc.ServiceError {
  if (!(e instanceof ArborError)) return nodeFault(e);
  return grpcError(
    e.code === "history/unavailable" || e.code === "changes/unavailable"
      ? grpc.status.UNAVAILABLE
      : grpc.status.INVALID_ARGUMENT,
    e.message,
  );
}

/** The position of a fed block's first change this node keeps (-1: none). */
function firstKept(changes: readonly { change: Uint8Array }[]): number {
  return changes.findIndex((c) => c.change.length > 0);
}
