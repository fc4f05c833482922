// Structured logs: one event per line on stderr, with a level filter. The default format is a JSON
// object per line (for log collectors); `text` is a readable `time LEVEL message key=value…` line
// for a terminal. Both carry the same fields.
import { ArborError } from "./common/errors.js";

export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export const LOG_FORMATS = ["json", "text"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** A log format that is not one of LOG_FORMATS (from a flag or a config file). */
export class LogFormatError extends ArborError {
  /** the explanation without the code (a command line shows it as a usage error) */
  readonly detail: string;
  constructor(value: unknown, where: string) {
    const detail = `${where} must be one of ${LOG_FORMATS.join(", ")} (got ${JSON.stringify(value)})`;
    super("log/bad-format", detail);
    this.detail = detail;
  }
}

/** The format named by `value`; `where` says where it came from, for the error. */
export function parseLogFormat(value: unknown, where: string): LogFormat {
  if (typeof value === "string" && (LOG_FORMATS as readonly string[]).includes(value))
    return value as LogFormat;
  throw new LogFormatError(value, where);
}

export interface Logger {
  log(level: Level, msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
}

const bigintsAsStrings = (_k: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);

/** A field value in a text line: bare when it has no spaces or quotes, JSON otherwise. */
function textValue(v: unknown): string {
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "string") return /^[^\s"=]*$/.test(v) && v !== "" ? v : JSON.stringify(v);
  return JSON.stringify(v, bigintsAsStrings) ?? String(v);
}

function formatLine(format: LogFormat, level: Level, msg: string, fields: Record<string, unknown>): string {
  const t = new Date().toISOString();
  if (format === "json") return JSON.stringify({ t, level, msg, ...fields }, bigintsAsStrings) + "\n";
  const kv = Object.entries(fields).map(([k, v]) => `${k}=${textValue(v)}`);
  return `${t} ${level.toUpperCase().padEnd(5)} ${msg}${kv.length > 0 ? "  " + kv.join(" ") : ""}\n`;
}

export function createLogger(
  base: Record<string, unknown>,
  min: Level = "info",
  out: (line: string) => void = (l) => process.stderr.write(l),
  format: LogFormat = "json",
): Logger {
  const log = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < ORDER[min]) return;
    out(formatLine(format, level, msg, { ...base, ...fields }));
  };
  return {
    log,
    info: (m, f) => log("info", m, f),
    warn: (m, f) => log("warn", m, f),
    error: (m, f) => log("error", m, f),
    debug: (m, f) => log("debug", m, f),
  };
}
