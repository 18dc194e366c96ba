/**
 * @module fleet/fleet
 * An instance's modelled Modal deployment of vLLM: the container pool and
 * its autoscaler (deployment.ts), Modal's HTTP front (modal-edge.ts), and
 * the stats `/sim/stats` reports under `fleet`: per container (inputs,
 * running and waiting sequences, KV usage, busy time) and in total
 * (edge-queued time, 303s, cold starts, preemptions, tokens, billed
 * container seconds).
 */
import type { SimClock } from "./clock";
import { Deployment, type ContainerStats, type DeploymentTotals } from "./deployment";
import type { DeploymentSettings } from "./fleet-config";
import { ModalEdge, type EdgeCounters } from "./modal-edge";

/** `/sim/stats` → `fleet`. Times are simulated seconds. */
export interface FleetStats {
  profile: string;
  front: DeploymentSettings["front"];
  /** Simulated seconds per wall second. */
  time_scale: number;
  /** Simulated seconds since the deployment was built. */
  sim_seconds: number;
  settings: {
    min_containers: number;
    max_containers: number;
    max_inputs: number;
    target_inputs: number;
    max_num_seqs: number;
    gpu_memory_utilization: number;
    boot_seconds: number;
    scaledown_window_seconds: number;
    request_cut_seconds: number;
  };
  containers: ContainerStats[];
  /** Inputs waiting at Modal's edge now: vLLM's metrics cannot see them. */
  edge_queued: number;
  /** Calls whose response has not started (queued, booting, or a non-streamed answer still running). */
  held: number;
  edge: EdgeCounters;
  totals: DeploymentTotals;
}

export class Fleet {
  readonly deployment: Deployment;
  readonly edge: ModalEdge;

  constructor(settings: DeploymentSettings, clock: SimClock) {
    this.deployment = new Deployment(settings, clock);
    this.edge = new ModalEdge(this.deployment);
  }

  get clock(): SimClock {
    return this.deployment.clock;
  }

  stats(): FleetStats {
    const s = this.deployment.settings;
    return {
      profile: s.profile.name,
      front: s.front,
      time_scale: this.clock.scale,
      sim_seconds: this.clock.now() / 1000,
      settings: {
        min_containers: s.minContainers,
        max_containers: s.maxContainers,
        max_inputs: s.maxInputs,
        target_inputs: s.targetInputs,
        max_num_seqs: s.maxNumSeqs,
        gpu_memory_utilization: s.gpuMemoryUtilization,
        boot_seconds: s.bootSeconds,
        scaledown_window_seconds: s.scaledownWindowSeconds,
        request_cut_seconds: s.requestCutSeconds,
      },
      containers: this.deployment.containerStats(),
      edge_queued: this.deployment.queueLength,
      held: this.edge.held,
      edge: { ...this.edge.counters },
      totals: this.deployment.totals(),
    };
  }
}
