// The command line's bytes as the kernel holds them. Node decodes argv as UTF-8 and turns bytes
// that are not UTF-8 into U+FFFD without a word, so a key typed in another encoding would be read
// (or written) as a different key. On Linux the raw bytes are in /proc/self/cmdline: an argument
// that is not UTF-8 is refused before any command runs. Elsewhere there is nothing to check.

import { readFileSync } from "node:fs";
import { UsageError } from "./args.js";

const strict = new TextDecoder("utf-8", { fatal: true });
const lossy = new TextDecoder("utf-8");

/** The process's arguments as raw bytes, or null where the platform does not show them. */
export function rawCommandLine(): Uint8Array | null {
  try {
    return new Uint8Array(readFileSync("/proc/self/cmdline"));
  } catch {
    return null;
  }
}

/**
 * Throws a usage error naming the first of the last `count` NUL-separated arguments of `cmdline`
 * (the command's own: node's path, its flags and the script's path come before them and are not
 * the user's words) that is not UTF-8.
 */
export function checkArgvEncoding(cmdline: Uint8Array | null, count: number): void {
  if (cmdline === null || count <= 0) return;
  const args: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < cmdline.length; i++)
    if (cmdline[i] === 0) {
      args.push(cmdline.subarray(start, i));
      start = i + 1;
    }
  if (start < cmdline.length) args.push(cmdline.subarray(start));
  for (const arg of args.slice(-count))
    try {
      strict.decode(arg);
    } catch {
      throw new UsageError(
        `the argument "${lossy.decode(arg)}" is not valid UTF-8 (U+FFFD marks the bytes that are not); ` +
          `arguments are read as UTF-8 text`,
      );
    }
}
