/**
 * @module sim-host
 * The benchmark's simulator, in a process of its own so that its CPU is
 * neither the load generator's nor a Worker's: `startSimServer` as
 * `npm run sim` runs it, with the same SIM_* environment (`simOptionsFromEnv`),
 * as fast as it goes (no time to first token, no pacing). Prints one JSON
 * line, `{"url": ...}`, once it listens, and stops when its parent closes
 * stdin.
 *
 * Long answers: the simulator writes LIMO-shaped answers of 80 to 400 tokens
 * unless told otherwise. run.ts sets SIM_MIN_TOKENS (the simulator's
 * `min_tokens` knob) to the longest `max_tokens` the benchmark asks for, so
 * every answer runs to its `max_tokens` (a `max_tokens: 2000` stream is 2,000
 * tokens) on every path, direct, floor and gateway alike, while the requests
 * stay ordinary OpenAI requests.
 */
import { simOptionsFromEnv, startSimServer } from "../gpu/sim/node-server";

async function main(): Promise<void> {
  const server = await startSimServer({ ...simOptionsFromEnv(process.env), host: "127.0.0.1", port: 0 });
  process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
  const stop = () => void server.close().finally(() => process.exit(0));
  process.stdin.on("end", stop).on("close", stop).resume();
  process.once("SIGTERM", stop);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(`bench simulator failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
