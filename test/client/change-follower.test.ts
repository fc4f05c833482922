// The change follower: replaying honest blocks reaches each block's index root; a feed with a
// change dropped, altered, duplicated or reordered, a value that is not the one set, or a block
// given twice is refused, and the follower is left exactly where it was.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { utf8 } from "../../node/common/bytes.js";
import { sha256 } from "../../node/common/hash.js";
import { genesisEntries, recordWrites } from "../../node/ledger/key-index.js";
import { OrderedIndex } from "../../node/store/core/ordered-index.js";
import { ChangeFollower, type FedChange } from "../../client/change-follower.js";
import { VerificationError } from "../../client/errors.js";

const GENESIS = [{ key: "g/one", value: utf8("1") }];

/** Blocks of writes as a ledger would record them: each block's feed and its index root. */
function chain(blocks: readonly (readonly { key: string; value: Uint8Array | null }[])[]) {
  const index = OrderedIndex.of(genesisEntries(GENESIS));
  return blocks.map((writes, b) => {
    const height = BigInt(b + 1);
    const changes = recordWrites(index, writes, {
      height,
      index: 0,
      requestId: sha256(utf8(`request ${b}`)),
      signer: new Uint8Array(32),
    });
    const fed: FedChange[] = changes.map((c) => ({
      key: c.key,
      number: c.number,
      change: c.change,
      ...(c.value ? { value: c.value } : {}),
    }));
    return { height, fed, root: index.rootHash() };
  });
}

const write = fc.record({
  key: fc.constantFrom("a", "b", "c", "g/one", "d/x"),
  value: fc.option(fc.uint8Array({ minLength: 0, maxLength: 4 }), { nil: null }),
});
const blocks = fc.array(fc.array(write, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 });

test("an honest feed replays to every block's index root", () => {
  fc.assert(
    fc.property(blocks, (bs) => {
      const f = new ChangeFollower(genesisEntries(GENESIS), 0n);
      for (const b of chain(bs)) assert.equal(f.apply(b.height, b.fed, b.root).length, b.fed.length);
      assert.equal(f.height, BigInt(bs.length));
    }),
  );
});

test("a tampered block is refused and undone", () => {
  fc.assert(
    fc.property(blocks, fc.nat(), fc.nat(4), (bs, at, how) => {
      const c = chain(bs);
      const f = new ChangeFollower(genesisEntries(GENESIS), 0n);
      for (const b of c.slice(0, -1)) f.apply(b.height, b.fed, b.root);
      const last = c[c.length - 1]!;
      const before = f.index.rootHash();
      const i = at % last.fed.length;
      const fed = [...last.fed];
      if (how === 0) fed.splice(i, 1);
      else if (how === 1)
        fed[i] = { ...fed[i]!, change: fed[i]!.change.map((x, j) => (j === 40 ? x ^ 1 : x)) };
      else if (how === 2) fed.push(fed[i]!);
      else if (how === 3) fed[i] = { ...fed[i]!, value: utf8("not the value") };
      else fed.reverse();
      fc.pre(how !== 4 || fed.length > 1);
      // Reversing can be harmless only when the writes are to different keys: then it is the same set.
      const harmless = how === 4 && new Set(fed.map((x) => x.key)).size === fed.length;
      if (harmless) return;
      assert.throws(
        () => f.apply(last.height, fed, last.root),
        (e: unknown) => e instanceof VerificationError,
      );
      assert.deepEqual(f.index.rootHash(), before, "the follower is where it was");
      assert.equal(f.height, last.height - 1n);
      f.apply(last.height, last.fed, last.root);
      assert.throws(
        () => f.apply(last.height, last.fed, last.root),
        (e: unknown) => e instanceof VerificationError,
      );
    }),
  );
});
