// The genesis vector (docs/vectors/genesis.json): a 4-node document, its canonical encoding and
// chain id, the records of the height-0 tree (given and derived) and its root, and mutations that
// keep the chain id, change it, or are refused.
import { compareUtf8, toHex } from "../../node/common/bytes.js";
import {
  assignPrefixes,
  chainId,
  encodeGenesis,
  genesisFromJson,
  genesisRecords,
  genesisToJson,
  genesisValidatorsHash,
  type Genesis,
} from "../../node/ledger/genesis.js";
import { genesisRoot } from "../../client/genesis-root.js";
import { codeOf, keyJson, keyOf } from "./common.js";

/** The smallest WebAssembly module (magic and version): a stand-in for `.root_rule`. */
const EMPTY_MODULE = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00);
/** The same with an empty custom section named "t": a stand-in for `.base_rule_template`. */
const TEMPLATE_MODULE = Uint8Array.of(...EMPTY_MODULE, 0x00, 0x02, 0x01, 0x74);

/** Two keys whose UTF-8 order (U+FF61 first) is the reverse of JavaScript's UTF-16 order. */
export const ORDER_KEYS = ["k\uFF61", "k\u{1F600}"] as const;

export function vectorGenesis(): Genesis {
  return {
    name: "vectors",
    T: 256,
    replication: 2,
    nodes: assignPrefixes(4, 2).map((prefixes, id) => ({
      id,
      publicKey: keyOf(`node ${id}`).publicKey,
      address: `127.0.0.1:${7400 + id}`,
      prefixes,
    })),
    records: [
      { key: ".root_rule", value: EMPTY_MODULE },
      { key: ".base_rule_template", value: TEMPLATE_MODULE },
      { key: ORDER_KEYS[1], value: Uint8Array.of(2) },
      { key: ORDER_KEYS[0], value: Uint8Array.of(1) },
    ],
  };
}

type Doc = Record<string, unknown> & {
  nodes: Array<Record<string, unknown>>;
  records: Array<Record<string, unknown>>;
};

function docOf(g: Genesis): Doc {
  return JSON.parse(genesisToJson(g)) as Doc;
}

/** What the code makes of a document: its chain id, or the code it is refused with. */
export function judgeGenesis(doc: unknown): { chainId: string } | { refused: string } {
  try {
    return { chainId: toHex(chainId(genesisFromJson(JSON.stringify(doc)))) };
  } catch (e) {
    return { refused: codeOf(e) };
  }
}

function mutations(g: Genesis): Array<Record<string, unknown>> {
  const m = (what: string, change: (d: Doc) => void, expect: "same" | "other" | string) => {
    const doc = docOf(g);
    change(doc);
    const verdict = judgeGenesis(doc);
    const base = toHex(chainId(g));
    if (expect === "same" || expect === "other") {
      if (!("chainId" in verdict)) throw new Error(`${what}: refused ${verdict.refused}`);
      if ((verdict.chainId === base) !== (expect === "same")) throw new Error(`${what}: chain id`);
      return { what, document: doc, chainId: verdict.chainId, sameChainId: expect === "same" };
    }
    if (!("refused" in verdict) || verdict.refused !== expect) throw new Error(`${what}: not ${expect}`);
    return { what, document: doc, refused: expect };
  };
  return [
    m("records and nodes listed in another order", (d) => (d.records.reverse(), d.nodes.reverse()), "same"),
    m("a record value changed", (d) => (d.records[0]!.value = "AQ=="), "other"),
    m("node 2's address changed", (d) => (d.nodes[2]!.address = "127.0.0.1:7499"), "other"),
    m(
      "node 0's prefixes listed in another order",
      (d) => (d.nodes[0]!.prefixes as string[]).reverse(),
      "other",
    ),
    m("T changed", (d) => (d.T = 257), "other"),
    m(
      "a record in the system domain",
      (d) => d.records.push({ key: ".arbor/params", value: "" }),
      "genesis/system-record",
    ),
    m("a record key given twice", (d) => d.records.push({ ...d.records[0]! }), "genesis/duplicate-record"),
    m("two nodes with one id", (d) => (d.nodes[1]!.id = 0), "genesis/duplicate-id"),
    m("a prefix held by one node only", (d) => (d.nodes[0]!.prefixes = []), "genesis/under-replicated"),
    m("a public key of 31 bytes", (d) => (d.nodes[3]!.publicKey = "00".repeat(31)), "genesis/bad-field"),
  ];
}

export function genesisVector(): Record<string, unknown> {
  const g = vectorGenesis();
  const records = genesisRecords(g).sort((a, b) => compareUtf8(a.key, b.key));
  return {
    comment:
      "Genesis (docs/protocol.md §7, Genesis): the JSON document, its canonical encoding, the chain id (SHA-256 of the encoding), every record of the height-0 tree (given and derived, ascending by UTF-8 key bytes) and its root. Node keys are Ed25519 seeds SHA-256('arbor vector key node <id>'). The records k｡ (U+FF61) and k😀 (U+1F600) sort in this order by UTF-8 bytes and in the other by UTF-16 code units. Values are base64 in `document` (as in a genesis.json file) and hex in `records`.",
    keys: g.nodes.map((n) => keyJson(`node ${n.id}`)),
    document: docOf(g),
    encoding: toHex(encodeGenesis(g)),
    chainId: toHex(chainId(g)),
    records: records.map((r) => ({ key: r.key, value: toHex(r.value) })),
    root: toHex(genesisRoot(g)),
    validatorsHash: toHex(genesisValidatorsHash(g)),
    mutations: mutations(g),
  };
}
