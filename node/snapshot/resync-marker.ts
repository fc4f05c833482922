// A node that fell behind every peer's block retention cannot catch up block by block: it deletes
// its databases and installs a snapshot, as a node joining with an empty disk does
// (docs/state-sync.md, "Behind the retention"). A marker file, written durably before anything is
// deleted, holds the node's consensus safety state from before. While it exists the node only
// syncs from a snapshot (its peers no longer hold the blocks a replay from the genesis needs), and
// the install keeps the rounds it voted in (raiseVotedRound), so that it never signs twice in one
// round. A crash anywhere in between leaves the marker, and the next start goes on with the sync.

import { existsSync, readFileSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { DATA_DATABASES, writeFileDurably } from "../data-format.js";
import { TobShell } from "../tob/shell.js";

/** The work directory of snapshot sync (snapshot-sync.ts) holds the marker. */
export const SNAPSHOT_WORK_DIR = "snapshot-sync";
const RESYNC_FILE = "RESYNC";
/** The node's own snapshots (node/snapshot/snapshot-maker.ts), of heights it is no longer at. */
export const SNAPSHOTS_DIR = "snapshots";

/** Whether the node is re-syncing after falling behind (its marker exists). */
export function resyncPending(dataDir: string): boolean {
  return existsSync(join(dataDir, SNAPSHOT_WORK_DIR, RESYNC_FILE));
}

/**
 * Marks the node as re-syncing (keeping its safety state) and deletes its databases and snapshots.
 * A marker already there is kept: it holds the safety state from before the first deletion.
 */
export async function beginResync(dataDir: string): Promise<void> {
  const work = join(dataDir, SNAPSHOT_WORK_DIR);
  await mkdir(work, { recursive: true });
  if (!resyncPending(dataDir)) {
    const safety = await TobShell.storedSafety(join(dataDir, DATA_DATABASES.consensus));
    writeFileDurably(work, RESYNC_FILE, safety ?? new Uint8Array(0));
  }
  // The store first: without it the node counts as having none (snapshot-sync.ts, storeMissing).
  await rm(join(dataDir, DATA_DATABASES.store), { recursive: true, force: true });
  await rm(join(dataDir, DATA_DATABASES.meta), { recursive: true, force: true });
  await rm(join(dataDir, DATA_DATABASES.consensus), { recursive: true, force: true });
  await rm(join(dataDir, SNAPSHOTS_DIR), { recursive: true, force: true });
}

/** The safety state the node had before re-syncing (undefined: not re-syncing, or it had none). */
export function safetyBeforeResync(dataDir: string): Uint8Array | undefined {
  if (!resyncPending(dataDir)) return undefined;
  const bytes = readFileSync(join(dataDir, SNAPSHOT_WORK_DIR, RESYNC_FILE));
  return bytes.length === 0 ? undefined : new Uint8Array(bytes);
}

/** The re-sync is over: a snapshot is installed (called after the install's own marker went). */
export async function endResync(dataDir: string): Promise<void> {
  await rm(join(dataDir, SNAPSHOT_WORK_DIR, RESYNC_FILE), { force: true });
}
