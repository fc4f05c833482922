// What of a value is searchable: its text, when the bytes are UTF-8 (JSON is UTF-8 text too, and
// the 'simple' parser splits it into words at its punctuation). Bytes that are not text, or text
// with control characters (PostgreSQL text cannot hold U+0000), are kept without text.
import { MAX_INDEXED_TEXT_CHARS } from "./limits.js";

const DECODER = new TextDecoder("utf-8", { fatal: true });

export function valueText(value: Uint8Array): string | null {
  let s: string;
  try {
    s = DECODER.decode(value);
  } catch {
    return null;
  }
  // Tab, newline and carriage return are text; other C0 controls are not.
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s)) return null;
  return s.length > MAX_INDEXED_TEXT_CHARS ? s.slice(0, MAX_INDEXED_TEXT_CHARS) : s;
}

/** The key's domain as the index files it: its first segment before '/' ("" for a key without one). */
export function firstSegment(key: string): string {
  const i = key.indexOf("/");
  return i < 0 ? "" : key.slice(0, i);
}
