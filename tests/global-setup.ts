/**
 * @module global-setup
 * Starts one simulator (gpu/sim) on a free loopback port for the whole run and
 * hands its URL to the tests as `inject("simUrl")`. Tests never share its
 * state: each addresses its own isolated instance (`newSim()` in helpers/sim).
 */
import type { TestProject } from "vitest/node";
import { startSimServer } from "../gpu/sim/node-server";

export default async function setup(project: TestProject) {
  const sim = await startSimServer({ host: "127.0.0.1", port: 0 });
  project.provide("simUrl", sim.url);
  return () => sim.close();
}

declare module "vitest" {
  export interface ProvidedContext {
    simUrl: string;
  }
}
