// The ordered index and its range proofs: the root is a function of the set of entries (not of the
// order they came in); an honest page verifies and is exactly the keys of its range in byte order;
// and whatever a liar sends — a proof of another range, of another index, a flipped byte, a false
// "done" — verification either fails or yields a prefix of the true listing (all of it when the
// page claims to be the last). Key histories: an honest chain verifies page by page back to the
// first change; a dropped, altered or reordered change fails.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { compareUtf8, utf8 } from "../../node/common/bytes.js";
import { ArborError } from "../../node/common/errors.js";
import { sha256 } from "../../node/common/hash.js";
import {
  decodeEntry,
  encodeEntry,
  encodeEntryAt,
  OrderedIndex,
  sortKey,
  type IndexEntry,
} from "../../node/store/core/ordered-index.js";
import { proofHidingKey } from "../../node/byzantine.js";
import { listingRange, proveRange, verifyRange, type SortRange } from "../../node/store/core/index-proof.js";
import {
  changedEntry,
  encodeChange,
  EMPTY_HISTORY_HEAD,
  nextHead,
  verifyHistoryPage,
  type KeyChange,
} from "../../node/store/core/key-history.js";

const alphabet = fc.constantFrom("a", "b", "c", "/", "é", "\u{1F600}", "\uFF61", "z");
const key = fc.array(alphabet, { minLength: 1, maxLength: 6 }).map((cs) => cs.join(""));
const keys = fc.uniqueArray(key, { minLength: 0, maxLength: 60 });

function entryOf(k: string, n = 1): IndexEntry {
  const change: KeyChange = {
    height: BigInt(n),
    index: 0,
    requestId: sha256(utf8(`req ${k} ${n}`)),
    signer: new Uint8Array(32),
    valueHash: n % 3 === 0 ? null : sha256(utf8(`${k}=${n}`)),
  };
  return changedEntry(k, undefined, change);
}

function truth(ks: readonly string[], r: SortRange): string[] {
  return [...ks].sort(compareUtf8).filter((k) => {
    const s = sortKey(k);
    return s >= r.start && (r.end === null || s < r.end);
  });
}

test("the root depends on the set of entries, not on their order", () => {
  fc.assert(
    fc.property(keys, fc.nat(), (ks, seed) => {
      const a = OrderedIndex.of(ks.map((k) => entryOf(k)));
      const shuffled = [...ks].sort((x, y) => sha256(utf8(x + seed))[0]! - sha256(utf8(y + seed))[0]!);
      const b = OrderedIndex.of(shuffled.map((k) => entryOf(k)));
      assert.deepEqual(a.rootHash(), b.rootHash());
      if (ks.length > 0) {
        const c = OrderedIndex.of(ks.slice(1).map((k) => entryOf(k)));
        assert.notDeepEqual(a.rootHash(), c.rootHash());
      }
    }),
  );
});

test("an index built at once from encoded entries is the one built key by key", () => {
  fc.assert(
    fc.property(keys, fc.array(fc.nat(59), { maxLength: 10 }), (ks, again) => {
      // Some keys come twice, a newer entry after the older: the newer one stays.
      const items = [
        ...ks.map((k) => ({ key: k, encoded: encodeEntry(entryOf(k)) })),
        ...again
          .filter((i) => i < ks.length)
          .map((i) => ({ key: ks[i]!, encoded: encodeEntry(entryOf(ks[i]!, 2)) })),
      ];
      const byKey = OrderedIndex.of(items.map((x) => decodeEntry(x.encoded)));
      const atOnce = OrderedIndex.ofEncoded(items);
      assert.deepEqual(atOnce.rootHash(), byKey.rootHash());
      assert.equal(atOnce.size, byKey.size);
      assert.deepEqual([...atOnce.entries()], [...byKey.entries()]);
      // And it goes on like any index.
      atOnce.put(entryOf("zz", 3));
      byKey.put(entryOf("zz", 3));
      assert.deepEqual(atOnce.rootHash(), byKey.rootHash());
    }),
  );
});

test("replacing an entry changes the root, and putting the old one back restores it", () => {
  fc.assert(
    fc.property(
      keys.filter((ks) => ks.length > 0),
      fc.nat(),
      (ks, i) => {
        const ix = OrderedIndex.of(ks.map((k) => entryOf(k)));
        const before = ix.rootHash();
        const k = ks[i % ks.length]!;
        ix.put(entryOf(k, 2));
        assert.notDeepEqual(ix.rootHash(), before);
        ix.put(entryOf(k));
        assert.deepEqual(ix.rootHash(), before);
      },
    ),
  );
});

test("removing keys gives the root of the index that never had them", () => {
  fc.assert(
    fc.property(keys, fc.array(fc.nat()), (ks, drops) => {
      const ix = OrderedIndex.of(ks.map((k) => entryOf(k)));
      const gone = new Set(drops.map((d) => ks[d % Math.max(1, ks.length)]).filter((k) => k !== undefined));
      for (const k of gone) ix.remove(k);
      const fresh = OrderedIndex.of(ks.filter((k) => !gone.has(k)).map((k) => entryOf(k)));
      assert.deepEqual(ix.rootHash(), fresh.rootHash());
      assert.equal(ix.size, fresh.size);
      assert.deepEqual(
        [...ix.entries()].map((e) => e.key),
        [...fresh.entries()].map((e) => e.key),
      );
    }),
  );
});

test("an entry encoded from its sort key is the entry's canonical encoding", () => {
  fc.assert(
    fc.property(
      key,
      fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 }), { nil: null }),
      fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      (k, valueHash, changes, height, head) => {
        const e = { key: k, valueHash, changes, height, head };
        assert.deepEqual(encodeEntryAt(sortKey(k), valueHash, changes, height, head), encodeEntry(e));
        assert.deepEqual(decodeEntry(encodeEntry(e)), e);
      },
    ),
  );
});

const query = fc.record({
  prefix: fc.array(alphabet, { maxLength: 2 }).map((cs) => cs.join("")),
  after: fc.option(key, { nil: null }),
  limit: fc.integer({ min: 1, max: 8 }),
});

test("an honest page verifies and holds the next keys of its range; pages chain to the whole listing", () => {
  fc.assert(
    fc.property(keys, query, (ks, q) => {
      const ix = OrderedIndex.of(ks.map((k) => entryOf(k)));
      const root = ix.rootHash();
      const all = truth(ks, listingRange(q.prefix, q.after));
      const listed: string[] = [];
      let after = q.after;
      for (let pages = 0; pages <= ks.length + 1; pages++) {
        const range = listingRange(q.prefix, after);
        const page = proveRange(ix, range, q.limit);
        const got = verifyRange(page.proof, root, range, q.limit, page.done);
        assert.deepEqual(
          got.map((e) => e.key),
          page.entries.map((e) => e.key),
        );
        listed.push(...got.map((e) => e.key));
        if (page.done) break;
        after = got[got.length - 1]!.key;
      }
      assert.deepEqual(listed, all);
    }),
  );
});

/** Verification of a lying answer: either it throws a typed error, or its result is true. */
function checkLie(
  proof: Uint8Array,
  root: Uint8Array,
  range: SortRange,
  limit: number,
  done: boolean,
  all: readonly string[],
): void {
  let got: string[];
  try {
    got = verifyRange(proof, root, range, limit, done).map((e) => e.key);
  } catch (e) {
    assert.ok(e instanceof ArborError, `a typed error, not ${String(e)}`);
    return;
  }
  assert.deepEqual(got, all.slice(0, got.length), "a verified page is a prefix of the listing");
  if (done) assert.deepEqual(got, all, "a verified last page is the whole listing");
}

test("a proof of another range, of another index, or a false 'done' never verifies to a wrong listing", () => {
  fc.assert(
    fc.property(keys, query, query, fc.nat(), fc.boolean(), (ks, q, other, drop, done) => {
      const ix = OrderedIndex.of(ks.map((k) => entryOf(k)));
      const root = ix.rootHash();
      const range = listingRange(q.prefix, q.after);
      const all = truth(ks, range);
      const liar = proveRange(ix, listingRange(other.prefix, other.after), other.limit);
      checkLie(liar.proof, root, range, q.limit, done, all);
      if (ks.length > 0) {
        const fewer = OrderedIndex.of(ks.filter((_, i) => i !== drop % ks.length).map((k) => entryOf(k)));
        const short = proveRange(fewer, range, q.limit);
        checkLie(short.proof, root, range, q.limit, short.done, all);
      }
    }),
  );
});

test("a key of the page hidden behind its subtree's hash (the root unchanged) fails verification", () => {
  fc.assert(
    fc.property(keys, query, fc.nat(), (ks, q, pick) => {
      const ix = OrderedIndex.of(ks.map((k) => entryOf(k)));
      const range = listingRange(q.prefix, q.after);
      const page = proveRange(ix, range, q.limit);
      fc.pre(page.entries.length > 0);
      const hidden = sortKey(page.entries[pick % page.entries.length]!.key);
      const lie = proofHidingKey(ix, range, q.limit, hidden);
      assert.throws(
        () => verifyRange(lie, ix.rootHash(), range, q.limit, page.done),
        (e: unknown) => e instanceof ArborError && e.code.startsWith("index/"),
      );
    }),
  );
});

test("a flipped byte in a proof never verifies to a wrong listing", () => {
  fc.assert(
    fc.property(keys, query, fc.nat(), fc.integer({ min: 1, max: 255 }), (ks, q, at, x) => {
      const ix = OrderedIndex.of(ks.map((k) => entryOf(k)));
      const range = listingRange(q.prefix, q.after);
      const page = proveRange(ix, range, q.limit);
      const bad = page.proof.slice();
      bad[at % bad.length]! ^= x;
      checkLie(bad, ix.rootHash(), range, q.limit, page.done, truth(ks, range));
    }),
  );
});

test("listing ranges: a prefix's range ends where the next prefix starts; 'after' moves the start", () => {
  assert.deepEqual(listingRange("ab", null), { start: "ab", end: "ac" });
  assert.deepEqual(listingRange("a\xff", null), { start: sortKey("a\xff"), end: "a\xc3\xc0" });
  assert.deepEqual(listingRange("", null), { start: "", end: null });
  assert.deepEqual(listingRange("ab", "abc"), { start: "abc\x00", end: "ac" });
  assert.deepEqual(listingRange("ab", "a"), { start: "ab", end: "ac" });
});

function chainOf(n: number): { encoded: Uint8Array[]; heads: Uint8Array[] } {
  const encoded: Uint8Array[] = [];
  const heads: Uint8Array[] = [EMPTY_HISTORY_HEAD];
  for (let i = 1; i <= n; i++) {
    const c: KeyChange = {
      height: BigInt(i * 2),
      index: i % 3,
      requestId: sha256(utf8(`r${i}`)),
      signer: sha256(utf8("signer")),
      valueHash: i % 4 === 0 ? null : sha256(utf8(`v${i}`)),
    };
    encoded.push(encodeChange(c));
    heads.push(nextHead(heads[i - 1]!, encoded[i - 1]!));
  }
  return { encoded, heads };
}

/** The page a node gives: changes `number` down to `number - limit + 1`, newest first. */
function pageOf(chain: ReturnType<typeof chainOf>, number: number, limit: number) {
  const oldest = Math.max(1, number - limit + 1);
  const changes = chain.encoded.slice(oldest - 1, number).reverse();
  return { changes, headBefore: chain.heads[oldest - 1]! };
}

test("a key's history verifies page by page back to its first change", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 9 }), (n, limit) => {
      const chain = chainOf(n);
      let cursor: { number: bigint; head: Uint8Array } | null = { number: BigInt(n), head: chain.heads[n]! };
      const heights: bigint[] = [];
      while (cursor) {
        const p = pageOf(chain, Number(cursor.number), limit);
        const v = verifyHistoryPage(cursor, p.changes, p.headBefore, limit);
        heights.push(...v.changes.map((c) => c.height));
        cursor = v.next;
      }
      assert.deepEqual(
        heights,
        Array.from({ length: n }, (_, i) => BigInt((n - i) * 2)),
      );
    }),
  );
});

test("a history page with a change dropped, altered, swapped or a wrong head before fails", () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 30 }), fc.integer({ min: 2, max: 9 }), fc.nat(), (n, limit, at) => {
      const chain = chainOf(n);
      const cursor = { number: BigInt(n), head: chain.heads[n]! };
      const p = pageOf(chain, n, limit);
      const i = at % p.changes.length;
      const lies: { changes: Uint8Array[]; headBefore: Uint8Array }[] = [
        { changes: p.changes.filter((_, j) => j !== i), headBefore: p.headBefore },
        {
          changes: p.changes.map((c, j) => (j === i ? c.map((b, k) => (k === 40 ? b ^ 1 : b)) : c)),
          headBefore: p.headBefore,
        },
        { changes: p.changes, headBefore: chain.heads[Math.max(0, n - limit - 1)]!.map((b) => b ^ 0xff) },
      ];
      if (p.changes.length >= 2) {
        const s = [...p.changes];
        [s[0], s[1]] = [s[1]!, s[0]!];
        lies.push({ changes: s, headBefore: p.headBefore });
      }
      for (const lie of lies)
        assert.throws(
          () => verifyHistoryPage(cursor, lie.changes, lie.headBefore, limit),
          (e: unknown) => e instanceof ArborError,
        );
    }),
  );
});
