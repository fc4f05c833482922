// How commands speak: readable lines by default, or exactly one JSON document with `--json`
// (bigints as decimal strings, bytes as hex); errors as one line on stderr with an exit code that
// scripts can branch on.
import { toHex } from "../common/bytes.js";
import { ArborError } from "../common/errors.js";
import { RequestRejected, UnavailableError } from "../../client/errors.js";
import { UsageError } from "./args.js";

export const EXIT_OK = 0;
export const EXIT_OTHER = 1;
export const EXIT_USAGE = 2;
export const EXIT_REJECTED = 3;
export const EXIT_UNAVAILABLE = 4;
/** `arbor audit` proved misbehaviour (and wrote the evidence). */
export const EXIT_EVIDENCE = 5;

/** JSON text for values holding bigints, bytes and maps. */
export function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (typeof v === "bigint") return v.toString();
      if (v instanceof Uint8Array) return toHex(v);
      if (v instanceof Map) return Object.fromEntries(v);
      return v;
    },
    indent,
  );
}

export class Output {
  constructor(readonly json: boolean) {}

  /** A readable line (suppressed in JSON mode, where only the document is printed). */
  line(text = ""): void {
    if (!this.json) process.stdout.write(text + "\n");
  }

  /** The command's JSON document (only in JSON mode). */
  doc(value: unknown): void {
    if (this.json) process.stdout.write(toJson(value) + "\n");
  }
}

/** gRPC failures that mean "could not reach a node" (UNAVAILABLE, DEADLINE_EXCEEDED). */
function isUnreachable(e: unknown): boolean {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === "number" && (c === 14 || c === 4);
}

export function exitCodeOf(e: unknown): number {
  if (e instanceof UsageError) return EXIT_USAGE;
  if (e instanceof RequestRejected) return EXIT_REJECTED;
  if (e instanceof UnavailableError || isUnreachable(e)) return EXIT_UNAVAILABLE;
  return EXIT_OTHER;
}

/** Stable code and readable message of any error a command can end with. */
export function describeError(e: unknown): { code: string; message: string } {
  if (e instanceof RequestRejected) return { code: e.code, message: `request rejected: ${e.message}` };
  if (e instanceof ArborError) return { code: e.code, message: e.message };
  if (isUnreachable(e)) {
    const d = (e as { details?: string }).details ?? "";
    return { code: "unavailable", message: `node unreachable: ${d}` };
  }
  if (e instanceof Error) {
    const sys = (e as NodeJS.ErrnoException).code;
    return { code: typeof sys === "string" ? sys : "error", message: e.message };
  }
  return { code: "error", message: String(e) };
}

/** Prints the error line on stderr (and, in JSON mode, an error document on stdout); returns the exit code. */
export function reportError(e: unknown, json: boolean): number {
  const { code, message } = describeError(e);
  // grpc-js details end in an empty "Resolution note:"; one line, without the noise.
  const oneLine = message
    .replace(/\s*Resolution note:\s*/g, " ")
    .replace(/\s*\n\s*/g, " ")
    .trim();
  const hint = e instanceof UsageError ? " (see `arbor help`)" : "";
  process.stderr.write(`arbor: ${oneLine}${hint}\n`);
  if (json) process.stdout.write(toJson({ ok: false, error: { code, message: oneLine } }) + "\n");
  return exitCodeOf(e);
}

/** Short form of a hash for tables: the first 12 hex digits. */
export function shortHex(b: Uint8Array): string {
  return toHex(b).slice(0, 12);
}

/** A value for people: printable UTF-8 as a quoted string, anything else as (possibly cut) hex. */
export function showValue(v: Uint8Array | null): string {
  if (v === null) return "(absent)";
  const text = printable(v);
  if (text !== null) return JSON.stringify(text);
  const hex = toHex(v);
  return v.length <= 48 ? `0x${hex} (${v.length} bytes)` : `0x${hex.slice(0, 96)}… (${v.length} bytes)`;
}

function printable(v: Uint8Array): string | null {
  if (v.length === 0 || v.length > 4096) return null;
  let s: string;
  try {
    s = new TextDecoder("utf-8", { fatal: true }).decode(v);
  } catch {
    return null;
  }
  return /^[\x20-\x7e\t\n\u00a0-\uffff]*$/.test(s) && !/[\ufffd]/.test(s) ? s : null;
}
