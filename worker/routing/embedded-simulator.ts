/**
 * @module routing/embedded-simulator
 * The Worker's built-in copy of the simulator (gpu/sim): what test-mode keys
 * reach when no simulator backend is configured (production), so integrators
 * build against the real API without spending GPU time. The one file of
 * production code that imports gpu/sim (the dependency check holds it to that).
 */
import { createSimulator, type Simulator } from "../../gpu/sim/simulator";

let simulator: Simulator | undefined;

/** The built-in simulator, made on first use. */
export function embeddedSimulator(): Simulator {
  return (simulator ??= createSimulator());
}
