// A freshness floor for a client with no past of its own (a CLI command, a process just started):
// the newest height whose certificate a node can show. Its reads are then no older than any write
// whose receipt was trusted before it started, whichever holder answers, and a node serving old
// replies (validly signed, so they verify) is refused client/stale (docs/protocol.md §8, "Fresh
// enough"). A node's claim counts only with a certificate that verifies, fetched from that node
// alone: a liar claiming a height that does not exist costs one short call, not a wait.

import { CATCH_UP_GRACE_MS, CATCH_UP_HEADER_MS, CATCH_UP_STATUS_MS } from "./limits.js";
import type { Deadline } from "./deadline.js";
import type { Headers } from "./headers.js";
import type { Session } from "./session.js";

interface Claim {
  readonly id: number;
  readonly height: bigint;
}

/**
 * Each reachable node's certified height (Status, unsigned: only a claim). Waits for every node,
 * or for CATCH_UP_GRACE_MS once n − f have answered: a silent node does not hold the command.
 */
function claims(s: Session, dl: Deadline): Promise<Claim[]> {
  const ids = s.liveOrder();
  const enough = Math.max(1, ids.length - s.f);
  const timeout = dl.cap(CATCH_UP_STATUS_MS);
  return new Promise((resolve) => {
    const got: Claim[] = [];
    let settled = 0;
    let grace: NodeJS.Timeout | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(grace);
      resolve(got);
    };
    if (ids.length === 0) return finish();
    for (const id of ids)
      s.node(id)
        .status(timeout)
        .then(
          (r) => got.push({ id, height: r.certifiedHeight }),
          () => undefined,
        )
        .finally(() => {
          settled++;
          if (settled === ids.length) finish();
          else if (got.length >= enough && grace === undefined) grace = setTimeout(finish, CATCH_UP_GRACE_MS);
        });
  });
}

/**
 * Raises the session's floor to the newest certified height a node proves, and returns the floor.
 * The f + 1 highest claims are tried in turn (at most f of them lie); the first whose certificate
 * verifies sets it. When none does (every node silent, or lying) the floor stays as it was.
 */
export async function catchUp(s: Session, headers: Headers, dl: Deadline): Promise<bigint> {
  const all = (await claims(s, dl)).filter((c) => c.height > s.floorHeight);
  all.sort((a, b) => (a.height > b.height ? -1 : a.height < b.height ? 1 : 0));
  for (const c of all.slice(0, s.f + 1)) {
    if (dl.left <= 0) break;
    const cert = await headers.fromNode(c.id, c.height, dl.cap(CATCH_UP_HEADER_MS));
    if (cert) {
      if (c.height > s.seenHeight) s.seenHeight = c.height;
      break;
    }
  }
  return s.floorHeight;
}
