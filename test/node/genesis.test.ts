// Genesis: balanced prefix assignment, validation, JSON round trip, stable chain id.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  assignPrefixes,
  chainId,
  encodeGenesis,
  genesisFromJson,
  genesisRecords,
  genesisToJson,
  validateGenesis,
  type Genesis,
} from "../../node/ledger/genesis.js";
import { generateKeyPair } from "../../node/keys.js";
import { compareUtf8, toHex, utf8 } from "../../node/common/bytes.js";
import { GenesisError } from "../../node/ledger/genesis.js";

function make(n: number, k: number): Genesis {
  const prefixes = assignPrefixes(n, k);
  return {
    name: "test",
    T: 256,
    replication: k,
    nodes: prefixes.map((p, id) => ({
      id,
      publicKey: generateKeyPair().publicKey,
      address: `127.0.0.1:${7000 + id}`,
      prefixes: p,
    })),
    records: [{ key: ".root_rule", value: new Uint8Array([0, 97, 115, 109]) }],
  };
}

test("prefix assignment is balanced and replicated", () => {
  for (const [n, k] of [
    [1, 1],
    [4, 2],
    [7, 3],
    [5, 5],
    [10, 3],
  ] as const) {
    const g = make(n, k);
    validateGenesis(g);
    const loads = assignPrefixes(n, k).map((p) => p.reduce((s, x) => s + 2 ** -x.length, 0));
    const max = Math.max(...loads);
    const min = Math.min(...loads);
    assert.ok(max - min <= 2 ** -Math.ceil(Math.log2(4 * n)) + 1e-9, `unbalanced ${loads}`);
    assert.ok(Math.abs(loads.reduce((a, b) => a + b, 0) - k) < 1e-9);
  }
});

test("under-replicated, duplicate and malformed genesis documents are refused", () => {
  const g = make(4, 2);
  assert.throws(
    () => validateGenesis({ ...g, nodes: g.nodes.map((x, i) => (i === 0 ? { ...x, prefixes: [] } : x)) }),
    GenesisError,
  );
  assert.throws(() => validateGenesis({ ...g, nodes: g.nodes.map((x) => ({ ...x, id: 1 })) }), GenesisError);
  assert.throws(
    () => validateGenesis({ ...g, records: [{ key: ".arbor/nodes/9", value: new Uint8Array() }] }),
    GenesisError,
  );
  assert.throws(() => genesisFromJson("{"), GenesisError);
  assert.throws(
    () =>
      genesisFromJson(
        JSON.stringify({
          name: "x",
          T: 1,
          replication: 1,
          nodes: [{ id: 0, publicKey: "zz", address: "a:1", prefixes: [""] }],
          records: [],
        }),
      ),
    GenesisError,
  );
});

test("JSON round trip keeps the chain id", () => {
  const g = make(7, 3);
  const back = genesisFromJson(genesisToJson(g));
  assert.equal(toHex(chainId(back)), toHex(chainId(g)));
  assert.equal(genesisRecords(g).filter((r) => r.key.startsWith(".arbor/")).length, 8);
});

test("genesis records are ordered by UTF-8 bytes, not by UTF-16 code units", () => {
  // U+FF61 is one UTF-16 unit (0xFF61) but three UTF-8 bytes EF BD A1; U+1F600 is a surrogate
  // pair (0xD83D 0xDE00) but four bytes F0 9F 98 80: the two orders disagree on these keys.
  const bmp = "k\uFF61";
  const astral = "k\u{1F600}";
  assert.ok(astral < bmp, "JavaScript's < puts the astral key first");
  assert.ok(compareUtf8(bmp, astral) < 0, "UTF-8 bytes put the BMP key first");
  const base = make(1, 1);
  const value = new Uint8Array([7]);
  const g1 = {
    ...base,
    records: [
      { key: astral, value },
      { key: bmp, value },
    ],
  };
  const g2 = {
    ...base,
    records: [
      { key: bmp, value },
      { key: astral, value },
    ],
  };
  const enc = encodeGenesis(g1);
  assert.deepEqual(enc, encodeGenesis(g2), "the encoding does not depend on the listed order");
  const at = (k: string) => indexOf(enc, utf8(k));
  assert.ok(at(bmp) >= 0 && at(astral) > at(bmp), "the BMP key is encoded first");
  assert.equal(toHex(chainId(g1)), toHex(chainId(g2)));
});

test("a record key given twice is refused", () => {
  const g = make(1, 1);
  const twice = [...g.records, { key: g.records[0]!.key, value: new Uint8Array([1]) }];
  assert.throws(() => validateGenesis({ ...g, records: twice }), /genesis\/duplicate-record|given twice/);
});

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
