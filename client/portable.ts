// The SDK's portable parts, for browsers and other runtimes without Node: nothing here (nor below
// it) imports gRPC or a node:* module — test/cli/packages.test.ts walks this entry's imports in the
// built package. Without a transport of its own, a browser app uses them to check what it gets
// through its own channel: keys and signatures, proof joining, the genesis and its chain id, and a
// light client over any HeaderSource. The full SDK (ArborClient over gRPC) is the package's main entry.
export { RequestRejected, VerificationError, UnavailableError } from "./errors.js";
export { generateKey, keyFromSeed, sign, verify, type ClientKey } from "./crypto.js";
export { joinAnswers, pruneProof, type ProofAnswer } from "./proofs.js";
export { LightClient, type HeaderSource } from "./light.js";
export type { Transition } from "./transition.js";
export { genesisRoot } from "./genesis-root.js";
export { chainId, genesisFromJson, type Genesis } from "../node/ledger/genesis.js";
export type { Receipt } from "../node/ledger/receipt.js";
// A block's receipts checked against its certified header, and one receipt by its inclusion path.
export { verifyBlockReceipts } from "./block-receipts-check.js";
export { openReceipt, checkAgainstHeader, outcomeByPath, type ReceiptAnswer } from "./receipt-check.js";
// What a page needs to check listings, key histories and partitions on its own (the explorer,
// explorer/app): the index range proofs, the history chain, the genesis index root, value hashes.
export { verifyRange, listingRange, entryRange } from "../node/store/core/index-proof.js";
export { verifyHistoryPage, type KeyChange, type HistoryCursor } from "../node/store/core/key-history.js";
export { genesisIndexRoot } from "./genesis-root.js";
export { valueHash } from "../node/store/core/label.js";
export { decodeStatement } from "../node/ledger/statement.js";
export { keyPath } from "../node/store/core/path.js";
export { Partition } from "../node/store/core/partition.js";
export { decodeCertifiedHeader, type CertifiedHeader } from "../node/ledger/header.js";
export { toHex, fromHex, fromUtf8 } from "../node/common/bytes.js";
