// Structured logs: one JSON object per line on stderr, with a level filter.
export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  log(level: Level, msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(
  base: Record<string, unknown>,
  min: Level = "info",
  out: (line: string) => void = (l) => process.stderr.write(l),
): Logger {
  const log = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < ORDER[min]) return;
    out(
      JSON.stringify({ t: new Date().toISOString(), level, msg, ...base, ...fields }, (_k, v) =>
        typeof v === "bigint" ? v.toString() : v,
      ) + "\n",
    );
  };
  return {
    log,
    info: (m, f) => log("info", m, f),
    warn: (m, f) => log("warn", m, f),
    error: (m, f) => log("error", m, f),
    debug: (m, f) => log("debug", m, f),
  };
}
