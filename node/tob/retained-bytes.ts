// The encoded sizes of the newest delivered blocks a node stores, so the block log can be kept to a
// budget in bytes (TOB_BLOCK_RETENTION_BYTES): blocks differ in size by three orders of magnitude
// (an idle tick's empty block against a full one), so a retention counted in heights alone bounds
// nothing on disk. Only what is needed to find the budget's floor is kept: entries wholly outside
// the budget are dropped as blocks come in.

export class RetainedBytes {
  private heights: number[] = [];
  private sizes: number[] = [];
  /** Index of the oldest live entry (entries before it were dropped; compacted now and then). */
  private head = 0;
  private sum = 0;

  /** @param budget bytes of the newest blocks to keep; @param maxEntries a bound on what is tracked */
  constructor(
    private readonly budget: number,
    private readonly maxEntries: number,
  ) {
    if (!(budget > 0) || !(maxEntries > 0))
      throw new RangeError("retained bytes: budget and bound must be positive");
  }

  /** A delivered block stored at `height` (heights ascending; a repeated or older one is ignored). */
  add(height: number, bytes: number): void {
    const n = this.heights.length;
    if (n > this.head && height <= this.heights[n - 1]!) return;
    this.heights.push(height);
    this.sizes.push(bytes);
    this.sum += bytes;
    // Keep the smallest suffix that still reaches the budget: an entry goes once the newer ones
    // cover the budget without it.
    while (
      this.length > 1 &&
      (this.sum - this.sizes[this.head]! >= this.budget || this.length > this.maxEntries)
    )
      this.drop();
    if (this.head > 1024 && this.head * 2 > this.heights.length) this.compact();
  }

  /**
   * The lowest height the budget keeps: every block below it is outside the newest `budget` bytes.
   * 0 while the tracked blocks do not reach the budget (nothing is known to be outside it: a node
   * just restarted tracks only the blocks it read back, and keeps older ones until newer fill it).
   */
  floor(): number {
    return this.length > 0 && this.sum >= this.budget ? this.heights[this.head]! : 0;
  }

  /** Bytes of the tracked blocks (diagnostics and tests). */
  get bytes(): number {
    return this.sum;
  }

  private get length(): number {
    return this.heights.length - this.head;
  }

  private drop(): void {
    this.sum -= this.sizes[this.head]!;
    this.head++;
  }

  private compact(): void {
    this.heights = this.heights.slice(this.head);
    this.sizes = this.sizes.slice(this.head);
    this.head = 0;
  }
}
