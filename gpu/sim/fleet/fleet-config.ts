/**
 * @module fleet/fleet-config
 * The `/sim/config` knobs of the GPU fleet model, kept apart from the wire
 * knobs in ../config.ts (which spreads them in). With `profile` null (the
 * default) an instance keeps today's simple pacing; with a profile it
 * becomes a Modal deployment of vLLM: containers, an edge queue, boots,
 * scale-down, the 150 s cut and the step-by-step engine. Null fields are
 * derived from the profile (perf/arithmetic.ts `modalSettings`).
 */
import * as z from "zod";
import { modalSettings } from "../perf/arithmetic";
import { GPU_PROFILE_NAMES, gpuProfile, type GpuProfile, type GpuProfileName } from "../perf/profiles";

/** Modal cuts a request whose response has not started after this long (webhook-timeouts guide). */
export const MODAL_REQUEST_CUT_SECONDS = 150;
/** gpu/modal_app.py's defaults: LIMO_MIN_CONTAINERS, LIMO_MAX_CONTAINERS, LIMO_SCALEDOWN_MINUTES. */
const DEFAULT_MIN_CONTAINERS = 0;
const DEFAULT_MAX_CONTAINERS = 4;
const DEFAULT_SCALEDOWN_WINDOW_SECONDS = 15 * 60;
/** Largest time scale accepted: beyond it the wall-clock timers cannot keep up anyway. */
const MAX_TIME_SCALE = 10_000;

const positiveInt = () => z.number().int().min(1);

/** The fleet knobs with their wire types (spread into SimConfigSchema). */
export const FLEET_CONFIG_SHAPE = {
  /** GPU profile of the modelled deployment; null = today's simple pacing (no fleet). */
  profile: z.enum(GPU_PROFILE_NAMES as [GpuProfileName, ...GpuProfileName[]]).nullable(),
  /** Simulated seconds per wall second (SIM_TIME_SCALE): 100 runs a minute in 0.6 s. */
  time_scale: z.number().gt(0).max(MAX_TIME_SCALE),
  /** `web_function` (@modal.web_server: held, cut at 150 s with a 303) or `server` (app.server: 503 with no live replica). */
  modal_front: z.enum(["web_function", "server"]),
  min_containers: z.number().int().min(0).max(100),
  max_containers: positiveInt().max(100),
  /** @modal.concurrent(max_inputs); null = derived from the profile. */
  max_inputs: positiveInt().nullable(),
  /** @modal.concurrent(target_inputs); null = derived. */
  target_inputs: positiveInt().nullable(),
  /** vLLM --max-num-seqs; null = derived (full sequences that fit). */
  max_num_seqs: positiveInt().nullable(),
  /** vLLM --gpu-memory-utilization; null = the profile's. */
  gpu_memory_utilization: z.number().gt(0).max(1).nullable(),
  /** Boot from a GPU memory snapshot (the profile's snapshotBootSeconds). */
  gpu_snapshot: z.boolean(),
  /** Container boot time; null = the profile's (or its snapshot boot). */
  boot_seconds: z.number().min(0).nullable(),
  scaledown_window_seconds: z.number().min(0),
  request_cut_seconds: z.number().gt(0),
  /** Mean rate at which a warm container is lost (preempted) mid-work; 0 = never by chance. */
  container_loss_per_hour: z.number().min(0),
  /** Seed for the fleet's random choices (which container takes an input, when one is lost). */
  fleet_seed: z.string().min(1).max(200),
};

type FleetShape = typeof FLEET_CONFIG_SHAPE;
export type FleetConfig = { [K in keyof FleetShape]: z.infer<FleetShape[K]> };

/** Defaults: no fleet; when a profile is set, gpu/modal_app.py's own defaults. */
export const FLEET_CONFIG_DEFAULTS: Readonly<FleetConfig> = Object.freeze({
  profile: null,
  time_scale: 1,
  modal_front: "web_function",
  min_containers: DEFAULT_MIN_CONTAINERS,
  max_containers: DEFAULT_MAX_CONTAINERS,
  max_inputs: null,
  target_inputs: null,
  max_num_seqs: null,
  gpu_memory_utilization: null,
  gpu_snapshot: false,
  boot_seconds: null,
  scaledown_window_seconds: DEFAULT_SCALEDOWN_WINDOW_SECONDS,
  request_cut_seconds: MODAL_REQUEST_CUT_SECONDS,
  container_loss_per_hour: 0,
  fleet_seed: "fleet",
});

/** True when a patch touches a fleet knob: the deployment is rebuilt from the new settings. */
export function touchesFleet(patch: Record<string, unknown>): boolean {
  return Object.keys(patch).some((key) => key in FLEET_CONFIG_SHAPE && patch[key] !== undefined);
}

/** Everything a modelled deployment runs with, nulls resolved. */
export interface DeploymentSettings {
  profile: Readonly<GpuProfile>;
  front: FleetConfig["modal_front"];
  minContainers: number;
  maxContainers: number;
  maxInputs: number;
  targetInputs: number;
  maxNumSeqs: number;
  gpuMemoryUtilization: number;
  bootSeconds: number;
  scaledownWindowSeconds: number;
  requestCutSeconds: number;
  containerLossPerHour: number;
  seed: string;
}

/** The settings for a config, or null when the instance runs today's simple pacing. */
export function deploymentSettings(config: FleetConfig): DeploymentSettings | null {
  if (config.profile === null) return null;
  const profile = gpuProfile(config.profile);
  const derived = modalSettings(profile);
  const maxInputs = config.max_inputs ?? derived.maxInputs;
  return {
    profile,
    front: config.modal_front,
    minContainers: Math.min(config.min_containers, config.max_containers),
    maxContainers: config.max_containers,
    maxInputs,
    targetInputs: Math.min(config.target_inputs ?? derived.targetInputs, maxInputs),
    maxNumSeqs: config.max_num_seqs ?? derived.maxNumSeqs,
    gpuMemoryUtilization: config.gpu_memory_utilization ?? profile.gpuMemoryUtilization,
    bootSeconds: config.boot_seconds ?? (config.gpu_snapshot ? profile.snapshotBootSeconds : profile.bootSeconds),
    scaledownWindowSeconds: config.scaledown_window_seconds,
    requestCutSeconds: config.request_cut_seconds,
    containerLossPerHour: config.container_loss_per_hour,
    seed: config.fleet_seed,
  };
}
