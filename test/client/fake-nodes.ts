// Four nodes in memory for SDK unit tests: each holds every key of one tree, signs root statements
// at height 1 (or at the height a test sets per node), and 3 of them certify the header of each
// height (the tree, hence the root, is the same at every height). `serve` replaces a client's node calls
// (GET and GetHeaders) by answers built from them and counts the calls per node; a node listed in
// `stubs` answers reads with its signed root and a proof that hides every record behind a stub.
import { generateKeyPair, signWith, type KeyPair } from "../../node/keys.js";
import {
  encodeCertifiedHeader,
  headerSigningMessage,
  quorum,
  validatorsHash,
  type Header,
} from "../../node/ledger/header.js";
import { chainId, validatorsOf, type Genesis } from "../../node/ledger/genesis.js";
import {
  encodeStatement,
  ROOT_STATEMENT_DIGEST,
  statementSigningMessage,
} from "../../node/ledger/statement.js";
import { MerkleTree } from "../../node/store/core/tree.js";
import { prove } from "../../node/store/core/proof.js";
import { encodeProof } from "../../node/store/core/proof-codec.js";
import { keyPath } from "../../node/store/core/path.js";
import { utf8 } from "../../node/common/bytes.js";
import type { ArborClient } from "../../client/index.js";
import type { GetReply, HeadersReply } from "../../proto/gen/arbor/v1/client_pb.js";

export interface FakeNodes {
  readonly genesis: Genesis;
  readonly keys: readonly KeyPair[];
  readonly tree: MerkleTree;
  /** the certified header of height 1, encoded */
  readonly header: Uint8Array;
  /** the certified header of a height, encoded */
  certified(height: bigint): Uint8Array;
}

export function fakeNodes(records: Record<string, string>): FakeNodes {
  const keys = Array.from({ length: 4 }, () => generateKeyPair());
  const genesis: Genesis = {
    name: "fake",
    T: 64,
    replication: 4,
    nodes: keys.map((k, id) => ({
      id,
      publicKey: k.publicKey,
      address: `127.0.0.1:${9 + id}`,
      prefixes: [""],
    })),
    records: [],
  };
  const tree = new MerkleTree();
  for (const [k, v] of Object.entries(records)) tree.set(k, utf8(v));
  const set = validatorsOf(genesis);
  const certified = (height: bigint): Uint8Array => {
    const header: Header = {
      chain: chainId(genesis),
      height,
      timestamp: height,
      root: tree.rootLabel,
      receiptsRoot: new Uint8Array(32),
      indexRoot: new Uint8Array(32),
      validatorsHash: validatorsHash(set),
      previous: new Uint8Array(32),
      nextValidatorsHash: new Uint8Array(32),
      nextFromHeight: 0n,
    };
    const signers = set.slice(0, quorum(set.length));
    return encodeCertifiedHeader({
      header,
      signatures: signers.map((v) => ({
        signer: v.id,
        signature: signWith(keys[v.id]!, headerSigningMessage(header)),
      })),
    });
  };
  return { genesis, keys, tree, header: certified(1n), certified };
}

export interface Calls {
  /** GET calls, by node */
  readonly gets: number[];
  /** GetHeaders calls, by node */
  readonly headers: number[];
}

export interface ServeOptions {
  stubs?: readonly number[];
  /** "hang": GetHeaders never answers (read when called: a test may change it) */
  headers?: "serve" | "hang";
  /** the height the nodes' statements name (default 1; read when called) */
  height?: bigint;
  /** the height one node's statements name (over `height`; read when called) */
  heightOf?: Partial<Record<number, bigint>>;
}

export function serve(client: ArborClient, f: FakeNodes, opts: ServeOptions = {}): Calls {
  const calls: Calls = { gets: [0, 0, 0, 0], headers: [0, 0, 0, 0] };
  const chain = chainId(f.genesis);
  for (let id = 0; id < 4; id++) {
    const conn = client.node(id) as unknown as {
      get: (keys: string[]) => Promise<GetReply>;
      headers: (from: bigint) => Promise<HeadersReply>;
    };
    conn.get = async (keys: string[]) => {
      calls.gets[id]!++;
      const statement = encodeStatement({
        chain,
        node: id,
        height: opts.heightOf?.[id] ?? opts.height ?? 1n,
        timestamp: 1n,
        root: f.tree.rootLabel,
        proofDigest: ROOT_STATEMENT_DIGEST,
      });
      const signature = signWith(f.keys[id]!, statementSigningMessage(statement));
      const proof = opts.stubs?.includes(id)
        ? encodeProof({ t: "stub", label: f.tree.rootLabel })
        : encodeProof(prove(f.tree, keys.map(keyPath), { leafSiblings: true }));
      return { statement, signature, proof } as GetReply;
    };
    conn.headers = (from: bigint) => {
      calls.headers[id]!++;
      if (opts.headers === "hang") return new Promise(() => undefined);
      return Promise.resolve({ headers: [f.certified(from)] } as unknown as HeadersReply);
    };
  }
  return calls;
}

export const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

export const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
