// The data directory's format marker. A node's data directory holds three LevelDB databases
// (store/, node/, consensus/) whose records change between versions: a version that opened a
// directory written by another one would run with records it relies on missing (ordered index
// entries, the operation table, block receipts …) and nothing would say so. The marker, one small
// file at the top of the directory, written atomically before any database is created, says which
// format the whole directory is in and which chain (genesis hash) it belongs to; a node refuses a
// directory whose marker it cannot honour, or that holds data but no marker (docs/protocol.md §13).

import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { bytesEqual, fromHex, toHex } from "./common/bytes.js";
import { ArborError } from "./common/errors.js";

/**
 * The format this version writes and reads. Bump it whenever a version stops reading correctly what
 * the previous one wrote, or relies on records the previous one did not write: a new record kind
 * every block must have (or must have had since genesis), a changed key or value encoding in any of
 * the three databases. A change that reads old directories correctly (a migration run on open, a
 * record that is optional) does not bump it. Directories written before the marker existed have no
 * marker and count as older than format 1. Format 2: consensus block ids are computed from a header
 * and a requests digest (docs/consensus.md §2), so format 1's stored blocks and QCs name ids no
 * format-2 node recomputes. Format 3: metering version 2 and the block's gas budget decide other
 * gas and verdicts for the same blocks, so a node replaying format 2's stored blocks would seal
 * headers other than those its peers certified. Format 4: a MEMBER add is refused (`member-invalid`)
 * for a port outside 1-65535, an address a current member has, or overlapping prefixes, which
 * format 3 accepted: replaying format 3's blocks could decide such an add otherwise. Format 5:
 * requests and membership approvals are signed over the chain id (tags `arbor:request:v3`,
 * `arbor:member-approval:v2`), and an add's address is compared normalised, so format 4's stored
 * blocks would be judged `bad-signature` on replay.
 */
export const DATA_FORMAT_VERSION = 5;

/** The marker file, at the top of the data directory. */
export const FORMAT_FILE = "FORMAT";

/** The databases under the data directory (subdirectory names). */
export const DATA_DATABASES = { store: "store", meta: "node", consensus: "consensus" } as const;

const TEMP_SUFFIX = ".tmp";

export type DataFormatCode = "store/unknown-format" | "store/format-mismatch" | "store/wrong-chain";

/** A data directory this version cannot run: no marker, another format, or another chain. */
export class DataFormatError extends ArborError {
  constructor(code: DataFormatCode, message: string) {
    super(code, message);
  }
}

export interface FormatMarker {
  readonly format: number;
  /** the chain id: the SHA-256 of the genesis (node/ledger/genesis.ts) */
  readonly chain: Uint8Array;
}

/** The marker's text: one JSON line, `{"format":N,"chain":"<64 hex digits>"}`. */
export function encodeMarker(m: FormatMarker): string {
  return JSON.stringify({ format: m.format, chain: toHex(m.chain) }) + "\n";
}

/**
 * The marker of the data directory `dir`, from its text. The format is read first: a marker of
 * another format (whose other fields may differ) is refused as a format mismatch, not as unreadable.
 */
export function decodeMarker(text: string, dir: string): FormatMarker {
  const unreadable = (why: string) =>
    new DataFormatError(
      "store/unknown-format",
      `the format marker (${FORMAT_FILE}) of the data directory ${dir} is unreadable (${why})`,
    );
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw unreadable("not JSON");
  }
  if (typeof v !== "object" || v === null) throw unreadable("not an object");
  const { format, chain } = v as { format?: unknown; chain?: unknown };
  if (typeof format !== "number" || !Number.isSafeInteger(format) || format < 0)
    throw unreadable("no format number");
  if (format !== DATA_FORMAT_VERSION) throw formatMismatch(dir, format);
  if (typeof chain !== "string" || !/^[0-9a-f]{64}$/.test(chain)) throw unreadable("no chain id");
  return { format, chain: fromHex(chain) };
}

/** The marker of `dir`, or undefined when it has none; refuses one it cannot honour the format of. */
export function readMarker(dir: string): FormatMarker | undefined {
  const file = join(dir, FORMAT_FILE);
  if (!existsSync(file)) return undefined;
  return decodeMarker(readFileSync(file, "utf8"), dir);
}

/** Writes the marker atomically. */
export function writeMarker(dir: string, m: FormatMarker): void {
  writeFileDurably(dir, FORMAT_FILE, encodeMarker(m));
}

/** Writes `dir/name` atomically and durably: a synced temporary file renamed into place, then the directory synced. */
export function writeFileDurably(dir: string, name: string, data: string | Uint8Array): void {
  const file = join(dir, name);
  const temp = file + TEMP_SUFFIX;
  const fd = openSync(temp, "w");
  try {
    if (typeof data === "string") writeSync(fd, data);
    else writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
  syncDirectory(dir);
}

function syncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, "r");
  } catch {
    return; // a platform that cannot open a directory (Windows) cannot sync one either
  }
  try {
    fsyncSync(fd);
  } catch {
    /* not supported for directories here */
  } finally {
    closeSync(fd);
  }
}

/** Whether any of the node's databases exists with something in it. */
function holdsData(dir: string): boolean {
  return Object.values(DATA_DATABASES).some((name) => {
    const db = join(dir, name);
    return existsSync(db) && readdirSync(db).length > 0;
  });
}

/**
 * Opens the data directory `dir` for the chain `chain`: creates it and its marker when it holds no
 * data, checks the marker when it has one, and refuses (DataFormatError) a directory with data and
 * no marker, a marker of another format, or one of another chain. Call before opening any database.
 */
export function openDataDir(dir: string, chain: Uint8Array): "created" | "opened" {
  mkdirSync(dir, { recursive: true });
  const m = readMarker(dir);
  if (m === undefined) {
    if (holdsData(dir))
      throw new DataFormatError(
        "store/unknown-format",
        `the data directory ${dir} has no format marker (${FORMAT_FILE}): it was written by an older ` +
          `version; re-sync or start from an empty directory`,
      );
    writeMarker(dir, { format: DATA_FORMAT_VERSION, chain });
    return "created";
  }
  if (!bytesEqual(m.chain, chain))
    throw new DataFormatError(
      "store/wrong-chain",
      `the data directory ${dir} belongs to chain ${toHex(m.chain).slice(0, 16)}…, but the genesis ` +
        `given is chain ${toHex(chain).slice(0, 16)}…; use that chain's genesis or another directory`,
    );
  return "opened";
}

function formatMismatch(dir: string, found: number): DataFormatError {
  const which =
    found < DATA_FORMAT_VERSION
      ? "an older version; re-sync or start from an empty directory"
      : "a newer version; run that version or a newer one";
  return new DataFormatError(
    "store/format-mismatch",
    `the data directory ${dir} is in format ${found} and this version reads format ` +
      `${DATA_FORMAT_VERSION}: it was written by ${which}`,
  );
}
