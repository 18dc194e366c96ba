/**
 * @module log
 * Structured JSON log lines (Workers Logs indexes their fields). Callers pass
 * ids and codes, never secrets or request bodies.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export function log(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, message, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
