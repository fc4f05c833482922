// The cryptographic floor of a transfer: the Ed25519 work a banking transfer needs at the least in
// the system as designed, measured in process with the primitives the product uses (the node's
// verifier and signer, the SDK's sign and verify) on real messages of a transfer (a signed request
// built against a ledger holding the bench's accounts, its receipt, a GET statement), and the
// transfers per second the machine's cores could reach if everything but signatures were free.
import { Writer } from "../node/common/codec.js";
import { BLOCK_GAS_BUDGET } from "../node/common/limits.js";
import { generateKeyPair, signWith, type KeyPair } from "../node/keys.js";
import { nodeEd25519Verify } from "../node/platform.js";
import { receiptSigningMessage } from "../node/ledger/receipt.js";
import { encodeStatement, proofDigest, statementSigningMessage } from "../node/ledger/statement.js";
import { assembleSignedRequest, requestSigningMessage } from "../node/ledger/request.js";
import { keyFromSeed, sign as clientSign, verify as clientVerify } from "../client/crypto.js";
import { median, nowUs } from "./machine.js";
import { InProcessBank, acct } from "./in-process-bank.js";

/** Timing rounds per primitive; the median round is reported (one slow round is not the cost). */
export const ROUNDS = 7;
/** Operations per round: ~50–100 ms of work per round at the expected ~60–150 µs per operation. */
export const OPS_PER_ROUND = 500;
/** The gas limit of its requests: the SDK's default, so the messages are a real transfer's. */
const GAS = 10_000_000n;
/** Requests per block while opening the accounts: as many as the block's gas budget takes. */
const BLOCK_REQUESTS = Number(BLOCK_GAS_BUDGET / GAS);

/** Median µs of one Ed25519 operation in each role a transfer has. */
export interface Ed25519Costs {
  /** a node verifies a client's signed request (nodeEd25519Verify, ~8 KB message) */
  readonly requestVerifyUs: number;
  /** the SDK signs its request (client/crypto sign) */
  readonly requestSignUs: number;
  /** a node signs a small message: GET statement or receipt (node/keys signWith) */
  readonly signUs: number;
  /** the SDK verifies a small message: GET statement or receipt (client/crypto verify) */
  readonly verifyUs: number;
  /** bytes of the request's signing message, and of the larger of the statement and receipt ones */
  readonly requestBytes: number;
  readonly smallBytes: number;
}

/** Signature operations of one transfer. */
export interface SignatureOps {
  /** the request (~8 KB): signatures by the client, verifications by the nodes */
  readonly requestSigns: number;
  readonly requestVerifies: number;
  /** receipts (small) signed by a node and verified by the client: none by default (docs/protocol.md §6) */
  readonly receipts: number;
}

/**
 * The fewest signature operations one transfer needs on n nodes (f = ⌊(n−1)/3⌋):
 * - the client signs its request: 1 sign (~8 KB: its proof carries the op's code);
 * - every node checks the request's signature once: n verifies (of the request);
 * - the trusted receipt: none; one node's receipt is trusted through its inclusion path under the
 *   certified header of its block (f+1 signed receipts, each a sign and a verify, are only the
 *   opt-in early answer).
 * Left out, because they are per block and shared by its transfers: the root statements GET
 * replies carry (a node signs one per height, a client verifies each once), block headers'
 * certificates (a client checks one per height, for its reads and receipts alike) and votes.
 */
export function signatureOps(n: number): SignatureOps {
  return { requestSigns: 1, requestVerifies: n, receipts: 0 };
}

/** CPU µs of Ed25519 work per transfer at the floor. */
export function floorUs(ops: SignatureOps, c: Ed25519Costs): number {
  return (
    ops.requestSigns * c.requestSignUs +
    ops.requestVerifies * c.requestVerifyUs +
    ops.receipts * (c.signUs + c.verifyUs)
  );
}

/** Transfers/s `cores` cores could reach if everything but the floor's signatures were free. */
export function cryptoBound(ops: SignatureOps, c: Ed25519Costs, cores: number): number {
  return (cores * 1e6) / floorUs(ops, c);
}

/**
 * The three signed messages of a real transfer: the request (its proof carries the transfer op's
 * code), its receipt and a GET statement, from an in-process ledger holding `accounts` accounts
 * (as the bench's cluster does, so the proof is as deep).
 */
function transferMessages(accounts: number): {
  request: Uint8Array;
  receipt: Uint8Array;
  statement: Uint8Array;
  user: KeyPair;
} {
  const bank = new InProcessBank("crypto floor", GAS);
  const users = [generateKeyPair(), generateKeyPair()];
  // Accounts 0 and 1 belong to the two users; the rest to the bank (only the tree's depth matters).
  const owner = (i: number) => users[i] ?? bank.owner;
  for (let i = 0; i < accounts; i += BLOCK_REQUESTS)
    bank.block(
      Array.from({ length: Math.min(BLOCK_REQUESTS, accounts - i) }, (_, j) =>
        bank.request(owner(i + j), "bank/open", [acct(i + j)], new Writer().string(acct(i + j)).finish()),
      ),
    );
  bank.block([
    bank.request(
      bank.owner,
      "bank/mint",
      ["bank/.owner", acct(0)],
      new Writer().string(acct(0)).varint(1_000).finish(),
    ),
  ]);
  const transfer = ["bank/transfer", [acct(0), acct(1)]] as const;
  const getProof = bank.proofFor(transfer[0], [...transfer[1]]); // what a GET for the request answers
  const b = bank.body(
    users[0]!,
    transfer[0],
    [...transfer[1]],
    new Writer().string(acct(0)).string(acct(1)).varint(1).finish(),
  );
  const out = bank.block([
    assembleSignedRequest(b, signWith(users[0]!, requestSigningMessage(bank.chain, b))),
  ]);
  const statement = encodeStatement({
    chain: new Uint8Array(32),
    node: 0,
    height: out.height,
    timestamp: BigInt(out.timestamp),
    root: out.root,
    proofDigest: proofDigest(getProof),
  });
  return {
    request: requestSigningMessage(bank.chain, b),
    receipt: receiptSigningMessage(out.encodedReceipts[0]!),
    statement: statementSigningMessage(statement),
    user: users[0]!,
  };
}

/** Median µs per call of `op`, over ROUNDS rounds of OPS_PER_ROUND calls (after one warm-up round). */
function timeUs(op: () => unknown): number {
  const rounds: number[] = [];
  for (let r = 0; r <= ROUNDS; r++) {
    const t0 = nowUs();
    for (let i = 0; i < OPS_PER_ROUND; i++) op();
    if (r > 0) rounds.push((nowUs() - t0) / OPS_PER_ROUND);
  }
  return median(rounds);
}

/** Measures each role's Ed25519 cost on a real transfer's messages (a ledger of `accounts` accounts). */
export function measureEd25519(accounts: number): Ed25519Costs {
  const m = transferMessages(accounts);
  const node = generateKeyPair();
  const client = keyFromSeed(m.user.seed);
  const requestSig = clientSign(client, m.request);
  const check = (ok: boolean) => {
    if (!ok) throw new Error("crypto floor: a signature did not verify");
  };
  // Statements and receipts are both small (~100–200 bytes): one measurement each for sign and
  // verify, alternating the two messages.
  const small = [m.statement, m.receipt];
  const smallSigs = small.map((s) => signWith(node, s));
  check(nodeEd25519Verify(client.publicKey, m.request, requestSig));
  for (let j = 0; j < small.length; j++) check(clientVerify(node.publicKey, small[j]!, smallSigs[j]!));
  let i = 0;
  return {
    requestVerifyUs: timeUs(() => nodeEd25519Verify(client.publicKey, m.request, requestSig)),
    requestSignUs: timeUs(() => clientSign(client, m.request)),
    signUs: timeUs(() => signWith(node, small[i++ & 1]!)),
    verifyUs: timeUs(() => {
      const j = i++ & 1;
      return clientVerify(node.publicKey, small[j]!, smallSigs[j]!);
    }),
    requestBytes: m.request.length,
    smallBytes: Math.max(m.receipt.length, m.statement.length),
  };
}
