// Command-line argument parsing for the `arbor` subcommands: declared flags only (an unknown flag
// is a usage error, not silently ignored), `--flag value` and `--flag=value`, repeatable flags,
// and positional arguments in order.
import { ArborError } from "../common/errors.js";
import { LogFormatError, parseLogFormat, type LogFormat } from "../log.js";

/** A mistake in how a command was called (exit code 2). */
export class UsageError extends ArborError {
  constructor(message: string) {
    super("usage", message);
  }
}

/** string: takes one value; list: repeatable; bool: no value. */
export type FlagKind = "string" | "list" | "bool";

export interface ParsedArgs {
  readonly positional: string[];
  readonly strings: Map<string, string>;
  readonly lists: Map<string, string[]>;
  readonly bools: Set<string>;
}

export function parseArgs(argv: readonly string[], spec: Readonly<Record<string, FlagKind>>): ParsedArgs {
  const out: ParsedArgs = { positional: [], strings: new Map(), lists: new Map(), bools: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      out.positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("--") || a === "-") {
      out.positional.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const kind = spec[name];
    if (kind === undefined) throw new UsageError(`unknown option --${name}`);
    if (kind === "bool") {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      out.bools.add(name);
      continue;
    }
    let value: string;
    if (eq >= 0) value = a.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) throw new UsageError(`--${name} needs a value`);
      value = next;
      i++;
    }
    if (kind === "string") {
      if (out.strings.has(name)) throw new UsageError(`--${name} given twice`);
      out.strings.set(name, value);
    } else out.lists.set(name, [...(out.lists.get(name) ?? []), value]);
  }
  return out;
}

/** A whole number flag within bounds, or the default. */
export function intFlag(a: ParsedArgs, name: string, dflt: number, min: number, max: number): number {
  const s = a.strings.get(name);
  if (s === undefined) return dflt;
  if (!/^\d+$/.test(s)) throw new UsageError(`--${name} must be a whole number, not "${s}"`);
  const v = Number(s);
  if (v < min || v > max) throw new UsageError(`--${name} must be in ${min}..${max}`);
  return v;
}

/** The largest height a flag may name: heights are u64 on the wire. */
const MAX_HEIGHT = (1n << 64n) - 1n;

/** A block height flag (a whole number within u64), or undefined when absent. */
export function heightFlag(a: ParsedArgs, name: string): bigint | undefined {
  const s = a.strings.get(name);
  if (s === undefined) return undefined;
  if (!/^\d+$/.test(s)) throw new UsageError(`--${name} must be a whole number, not "${s}"`);
  const v = BigInt(s);
  if (v > MAX_HEIGHT) throw new UsageError(`--${name} must be at most ${MAX_HEIGHT} (a height is 64 bits)`);
  return v;
}

export function requireString(a: ParsedArgs, name: string): string {
  const v = a.strings.get(name);
  if (v === undefined || v === "") throw new UsageError(`--${name} is required`);
  return v;
}

/** Values of a repeatable flag; with `split`, each also split on commas (`--touch a,b --touch c`). */
export function listFlag(a: ParsedArgs, name: string, split = true): string[] {
  const vs = a.lists.get(name) ?? [];
  return split ? vs.flatMap((v) => v.split(",")).filter((v) => v !== "") : [...vs];
}

/** `--log-format json|text`, or undefined when not given; a bad value is a usage error. */
export function logFormatFlag(a: ParsedArgs): LogFormat | undefined {
  const v = a.strings.get("log-format");
  if (v === undefined) return undefined;
  try {
    return parseLogFormat(v, "--log-format");
  } catch (e) {
    throw e instanceof LogFormatError ? new UsageError(e.detail) : e;
  }
}
