// The domain rule of DESIGN §2 as a function of keys.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { domainOf, mayWrite, SYSTEM_DOMAIN } from "../../node/exec/index.js";

test("domain of a key is its prefix up to the last '/'", () => {
  assert.equal(domainOf("bank/alice"), "bank");
  assert.equal(domainOf("bank/accounts/alice"), "bank/accounts");
  assert.equal(domainOf(".root_rule"), "");
  assert.equal(domainOf("plain"), "");
  assert.equal(SYSTEM_DOMAIN, ".arbor");
});

test("an op writes its domain and sub-domains only; only the system writes .arbor/", () => {
  assert.ok(mayWrite("bank/transfer", "bank/accounts/alice"));
  assert.ok(mayWrite("bank/transfer", "bank/x"));
  assert.ok(!mayWrite("bank/transfer", "bank"));
  assert.ok(!mayWrite("bank/transfer", "bankrupt/x"));
  assert.ok(!mayWrite("bank/accounts/op", "bank/x"));
  assert.ok(mayWrite(".root_rule", "anything/at/all"));
  assert.ok(mayWrite(".root_rule", "top"));
  assert.ok(!mayWrite(".root_rule", ".arbor/members"));
  assert.ok(mayWrite(".arbor/op", ".arbor/members"));
  assert.ok(mayWrite(".arbor/params/op", ".arbor/params/x"));
  assert.ok(!mayWrite(".arbor/params/op", ".arbor/members"));
  assert.ok(!mayWrite(".arborist/op", ".arbor/x"));
});

test("property: a writable key always starts with the op's domain and a '/', unless the op is at the root", () => {
  const seg = fc.stringMatching(/^[a-z.]{1,4}$/);
  const key = fc.array(seg, { minLength: 1, maxLength: 4 }).map((p) => p.join("/"));
  fc.assert(
    fc.property(key, key, (op, k) => {
      const d = domainOf(op);
      const ok = mayWrite(op, k);
      if (d !== "")
        assert.equal(
          ok,
          k.startsWith(d + "/") && !(k.startsWith(".arbor/") && !(d === ".arbor" || d.startsWith(".arbor/"))),
        );
      else assert.equal(ok, !k.startsWith(".arbor/"));
    }),
    { numRuns: 2000 },
  );
});
