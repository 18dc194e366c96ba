import type { TestProject } from "vitest/node";
import { createServer } from "node:http";

export default async function setup(project: TestProject) {
  const server = createServer((_req, res) => res.end("placeholder"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  if (!addr || typeof addr === "string") throw new Error("no address");
  project.provide("simUrl", `http://127.0.0.1:${addr.port}`);
  return () => new Promise<void>((r) => server.close(() => r()));
}

declare module "vitest" {
  export interface ProvidedContext {
    simUrl: string;
  }
}
