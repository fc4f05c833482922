// The SDK's test of a hit and the index's check of a query, without a cluster: words match
// case-insensitively and whole, `or` and `-word` are honoured, and malformed searches are refused
// with stable codes before any SQL runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { matchesQuery, parseQuery, words } from "../../client/search.js";
import { parseSearch } from "../../node/cli/indexer/search-query.js";
import { ArborError } from "../../node/common/errors.js";

test("a value matches when it holds the query's words", () => {
  assert.deepEqual(words("The Quick-brown fox, 42!"), ["the", "quick", "brown", "fox", "42"]);
  assert.ok(matchesQuery("The quick brown fox", "BROWN fox"));
  assert.ok(!matchesQuery("The quick brown fox", "brown bear"));
  assert.ok(!matchesQuery("foxes", "fox"), "whole words only");
  assert.ok(matchesQuery('{"title":"Lazy dog"}', "lazy"));
  assert.ok(matchesQuery("a bear", "fox or bear"));
  assert.ok(!matchesQuery("a brown bear", "brown -bear"));
  assert.ok(matchesQuery("a brown fox", "brown -bear"));
  assert.ok(matchesQuery("the lazy dog", '"lazy dog"'));
  assert.ok(!matchesQuery("the lazy dog", '-"lazy dog" the'));
  assert.deepEqual(parseQuery("a or b"), [
    { all: ["a"], none: [] },
    { all: ["b"], none: [] },
  ]);
});

test("the index refuses malformed searches with stable codes", () => {
  const code = (qs: string) => {
    try {
      parseSearch(new URLSearchParams(qs));
      return "ok";
    } catch (e) {
      assert.ok(e instanceof ArborError);
      return e.code;
    }
  };
  assert.equal(code("q=brown"), "ok");
  assert.deepEqual(parseSearch(new URLSearchParams("q=brown&limit=5&domain=notes")), {
    text: "brown",
    limit: 5,
    domain: "notes",
  });
  assert.equal(code("q=brown&limit=0"), "search/bad-limit");
  assert.equal(code("q=brown&limit=101"), "search/bad-limit");
  assert.equal(code("q=brown&limit=-1"), "search/bad-limit");
  assert.equal(code("q=%22open"), "search/bad-query");
  assert.equal(code("q=%21%3F"), "search/bad-query");
  assert.equal(code(`q=${"a".repeat(513)}`), "search/bad-query");
  assert.equal(code("q=a%00b"), "search/bad-query");
  assert.equal(code("limit=3"), "search/bad-query");
  assert.equal(code("q=a&q=b"), "search/bad-parameter");
  assert.equal(code("q=a&sort=x"), "search/bad-parameter");
  assert.equal(code("q=a&domain=a%2Fb"), "search/bad-domain");
  assert.equal(code("q=-foo"), "search/bad-query", "exclusions alone would match every record");
  assert.equal(code("q=-%22foo+bar%22"), "search/bad-query");
  assert.equal(code("q=bar+or+-foo"), "search/bad-query");
  assert.equal(code("q=bar+-foo"), "ok");
  // A dash apart from its word still excludes it (as PostgreSQL reads it).
  assert.equal(code("q=-+foo"), "search/bad-query");
  assert.equal(code("q=bar+or+-+foo"), "search/bad-query");
  assert.equal(code("q=--foo"), "ok", "two dashes: required again");
});

test("parseQuery reads dashes as websearch_to_tsquery does (PostgreSQL's own readings, checked with PGlite)", () => {
  // query → PostgreSQL: "- foo" !'foo'; "bar - foo" 'bar' & !'foo'; "bar or - foo" 'bar' | !'foo';
  // "--foo" !!'foo'; "x -- foo" 'x' & !!'foo'; "foo -" 'foo'; "bar - or foo" 'bar' & !'or' & 'foo';
  // "bar - \"x y\"" 'bar' & !('x' <-> 'y'); "bar -  -foo" 'bar' & !!'foo'.
  const g = (all: string[], none: string[][] = []) => ({ all, none });
  assert.deepEqual(parseQuery("- foo"), [g([], [["foo"]])]);
  assert.deepEqual(parseQuery("bar - foo"), [g(["bar"], [["foo"]])]);
  assert.deepEqual(parseQuery("bar or - foo"), [g(["bar"]), g([], [["foo"]])]);
  assert.deepEqual(parseQuery("--foo"), [g(["foo"])]);
  assert.deepEqual(parseQuery("x -- foo"), [g(["x", "foo"])]);
  assert.deepEqual(parseQuery("foo -"), [g(["foo"])]);
  assert.deepEqual(parseQuery("bar - or foo"), [g(["bar", "foo"], [["or"]])]);
  assert.deepEqual(parseQuery('bar - "x y"'), [g(["bar"], [["x", "y"]])]);
  assert.deepEqual(parseQuery("bar -  -foo"), [g(["bar", "foo"])]);
  assert.deepEqual(parseQuery("a-b"), [g(["a", "b"])]);
});
