/**
 * Structured logging: one JSON object per line on stderr. Callers pass codes,
 * ids and counts — never values of personal fields (the catalog marks them).
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

/**
 * An error as a log line or a stored message may carry it: its name and message, and
 * for a failed database query the query and the database's own error — never the
 * query's parameters, which Drizzle lists in its message and which can be values of
 * personal fields.
 */
export function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error).slice(0, 500);
  const query = (error as { query?: unknown }).query;
  if (typeof query === "string" && "params" in error) {
    const cause = error.cause instanceof Error ? errorText(error.cause) : "no cause given";
    return `Failed query (${query.slice(0, 200)}): ${cause}`;
  }
  return `${error.name === "Error" ? "" : `${error.name}: `}${error.message}`.slice(0, 1000);
}
