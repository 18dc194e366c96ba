/**
 * @module helpers/logs
 * What the Worker and its Durable Objects print (they share the test's
 * isolate), captured for the secret scans.
 */
import { vi } from "vitest";

/** Everything console.* printed while `run` ran. Restore with `vi.restoreAllMocks()`. */
export async function captureLogs(run: () => Promise<void>): Promise<string> {
  const lines: string[] = [];
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
  }
  await run();
  return lines.join("\n");
}
