/**
 * Structured logs for the gateway and the embedded server: one line per event, as text or JSON,
 * with fields such as the connection id. Element contents (and so SASL payloads) are never
 * logged. Where lines go and the time they carry are the runtime's (each binding's
 * `createLogger` passes stderr and the wall clock).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createLogger } from "./log.ts";
 * const lines: string[] = [];
 * const log = createLogger("info", "json", (line) => lines.push(line), () => "T");
 * log("info", "connection opened", { conn: "c1" });
 * assertEquals(lines, ['{"time":"T","level":"info","message":"connection opened","conn":"c1"}']);
 * ```
 * @module
 */

/** Log levels, least severe first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Writes one log event. */
export type Logger = (
  level: LogLevel,
  message: string,
  fields?: Readonly<Record<string, unknown>>,
) => void;

const ORDER: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * A logger writing lines at or above `minimum` through `write`, stamped with `timestamp()`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createLogger } from "./log.ts";
 * const lines: string[] = [];
 * createLogger("warn", "text", (l) => lines.push(l), () => "T")("info", "dropped");
 * assertEquals(lines.length, 0);
 * ```
 */
export function createLogger(
  minimum: LogLevel,
  format: "text" | "json",
  write: (line: string) => void,
  timestamp: () => string,
): Logger {
  return (level, message, fields = {}) => {
    if (ORDER[level] < ORDER[minimum]) return;
    const time = timestamp();
    if (format === "json") return write(JSON.stringify({ time, level, message, ...fields }));
    const extra = Object.entries(fields).map(([k, v]) =>
      `${k}=${typeof v === "string" && !/\s/.test(v) ? v : JSON.stringify(v)}`
    );
    write([time, level.toUpperCase().padEnd(5), message, ...extra].join(" "));
  };
}

/** `createLogger` with the clock bound: what each runtime binding exports as `createLogger`. */
export type BoundLoggerFactory = (
  minimum: LogLevel,
  format: "text" | "json",
  write?: (line: string) => void,
) => Logger;

/**
 * Binds {@link createLogger} to a runtime's wall clock and default destination (stderr), so
 * that each binding's `createLogger` is this one line.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { boundLoggerFactory } from "./log.ts";
 * const defaults: string[] = [];
 * const createLogger = boundLoggerFactory(() => "T", (line) => defaults.push(line));
 * createLogger("info", "text")("warn", "disk almost full");
 * const lines: string[] = [];
 * createLogger("warn", "text", (line) => lines.push(line))("info", "dropped");
 * assertEquals([defaults.length, lines.length], [1, 0]);
 * ```
 */
export function boundLoggerFactory(
  timestamp: () => string,
  defaultWrite: (line: string) => void,
): BoundLoggerFactory {
  return (minimum, format, write = defaultWrite) => createLogger(minimum, format, write, timestamp);
}
