/**
 * Logging for every daemon: LogTape behind two functions, so a later switch to
 * `@std/log` touches only this file. One category per daemon (`["pipelinin",
 * "router"]`), structured fields, level from `--log-level` or `PIPELININ_LOG_LEVEL`.
 *
 * @module
 */
import {
  configure,
  getConsoleSink,
  getJsonLinesFormatter,
  getLogger as logtapeLogger,
  getTextFormatter,
  isLogLevel,
  type Logger,
  type LogLevel,
  reset,
} from "@logtape/logtape";

export type { Logger, LogLevel };

/** Where log lines go and how they look. */
export interface LogOptions {
  /** Lowest level printed. Default `info`, or `PIPELININ_LOG_LEVEL`. */
  level?: string;
  /** `text` for people, `json` for machines. Default `text`, or `PIPELININ_LOG_FORMAT`. */
  format?: "text" | "json";
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // No env permission: use the defaults.
  }
}

/**
 * Parses a level name; accepts `warn` for `warning`.
 *
 * @throws {RangeError} for an unknown level.
 */
export function parseLevel(level: string): LogLevel {
  const name = level === "warn" ? "warning" : level.toLowerCase();
  if (!isLogLevel(name)) {
    throw new RangeError(
      `Unknown log level "${level}": use trace, debug, info, warning, error or fatal`,
    );
  }
  return name;
}

/** Sets up logging once per process; later calls replace the setup. */
export async function setupLogging(options: LogOptions = {}): Promise<void> {
  const level = parseLevel(options.level ?? env("PIPELININ_LOG_LEVEL") ?? "info");
  const format = options.format ?? (env("PIPELININ_LOG_FORMAT") === "json" ? "json" : "text");
  await reset();
  await configure({
    reset: true,
    sinks: {
      console: getConsoleSink({
        formatter: format === "json" ? getJsonLinesFormatter() : getTextFormatter({
          timestamp: "date-time-tz",
          value: (value) => typeof value === "string" ? value : JSON.stringify(value),
        }),
      }),
    },
    loggers: [
      { category: ["pipelinin"], lowestLevel: level, sinks: ["console"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
    ],
  });
}

/** The logger of one part of pipelinin, e.g. `getLogger("router")`. */
export function getLogger(...category: string[]): Logger {
  return logtapeLogger(["pipelinin", ...category]);
}
