// A bounded least-recently-used map (Map keeps insertion order; a hit moves the key to the end).

import { invariant } from "../../common/errors.js";

export class Lru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(readonly capacity: number) {
    invariant(capacity >= 1, "LRU capacity must be at least 1");
  }

  get size(): number {
    return this.map.size;
  }

  private lastKey: K | undefined;
  private lastValue: V | undefined;

  get(key: K): V | undefined {
    // Repeated use of the most recent entry (the common case) skips the reordering.
    if (this.lastValue !== undefined && key === this.lastKey) return this.lastValue;
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
      this.lastKey = key;
      this.lastValue = v;
    }
    return v;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    this.lastKey = key;
    this.lastValue = value;
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as K);
  }

  clear(): void {
    this.map.clear();
    this.lastKey = undefined;
    this.lastValue = undefined;
  }
}
