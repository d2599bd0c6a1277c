/**
 * Structured logging: one JSON object per line on stderr. Callers pass codes,
 * ids and counts — never values of personal fields (SPEC.md §2).
 */

export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A logger bound to a minimum level. */
export interface Logger {
  debug(event: string, data?: Record<string, unknown>): void;
  info(event: string, data?: Record<string, unknown>): void;
  warn(event: string, data?: Record<string, unknown>): void;
  error(event: string, data?: Record<string, unknown>): void;
}

/** A logger writing JSON lines to stderr at `level` and above. */
export function createLogger(level: LogLevel = "info"): Logger {
  const write = (at: LogLevel, event: string, data?: Record<string, unknown>) => {
    if (ORDER[at] < ORDER[level]) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level: at, event, ...data });
    console.error(line);
  };
  return {
    debug: (e, d) => write("debug", e, d),
    info: (e, d) => write("info", e, d),
    warn: (e, d) => write("warn", e, d),
    error: (e, d) => write("error", e, d),
  };
}
