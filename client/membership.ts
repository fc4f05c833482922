// Membership as the chain records it: the eviction records of the system domain, read and verified
// like any read; a client stops asking the nodes they name.

import { evictedKey } from "../node/common/system-keys.js";
import { MAX_TOUCHED_KEYS } from "../node/common/limits.js";
import type { Deadline } from "./deadline.js";
import type { Reads } from "./reads.js";
import type { Session } from "./session.js";

export class EvictionRecords {
  constructor(
    private readonly s: Session,
    private readonly reads: Reads,
  ) {}

  /** Reads the eviction records and stops asking the nodes they name; returns the evicted ids. */
  async refreshWithin(dl: Deadline): Promise<number[]> {
    const evicted: number[] = [];
    const ids = this.s.nodes.map((n) => n.id);
    for (let i = 0; i < ids.length; i += MAX_TOUCHED_KEYS) {
      const chunk = ids.slice(i, i + MAX_TOUCHED_KEYS);
      const values = (await this.reads.readWithin(chunk.map(evictedKey), false, dl)).values;
      for (const id of chunk) if (values.get(evictedKey(id)) != null) evicted.push(id);
    }
    for (const id of evicted) this.s.excluded.add(id);
    this.s.membershipKnown = true;
    return evicted;
  }
}
