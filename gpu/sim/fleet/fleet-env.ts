/**
 * @module fleet/fleet-env
 * The fleet knobs `npm run sim` and node-server read from the environment:
 * SIM_PROFILE, SIM_TIME_SCALE, SIM_MIN_CONTAINERS, SIM_MAX_CONTAINERS,
 * SIM_MODAL_FRONT, SIM_GPU_SNAPSHOT. Unset variables leave the defaults
 * (no profile: today's simple pacing). A bad value throws a message naming
 * the variable.
 */
import { GPU_PROFILE_NAMES } from "../perf/profiles";
import type { FleetConfig } from "./fleet-config";

/** The subset of `process.env` read here. */
export type FleetEnv = Partial<Record<"SIM_PROFILE" | "SIM_TIME_SCALE" | "SIM_MIN_CONTAINERS" | "SIM_MAX_CONTAINERS" | "SIM_MODAL_FRONT" | "SIM_GPU_SNAPSHOT", string>>;

/** Fleet defaults from the environment. */
export function fleetDefaultsFromEnv(env: FleetEnv): Partial<FleetConfig> {
  const out: Partial<FleetConfig> = {};
  const set = (name: keyof FleetEnv) => {
    const raw = env[name];
    return raw === undefined || raw === "" ? undefined : raw;
  };
  const count = (name: keyof FleetEnv, min: number): number | undefined => {
    const raw = set(name);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be a whole number >= ${min}, got ${raw}`);
    return value;
  };
  const profile = set("SIM_PROFILE");
  if (profile !== undefined) {
    if (!(GPU_PROFILE_NAMES as string[]).includes(profile)) throw new Error(`SIM_PROFILE must be one of ${GPU_PROFILE_NAMES.join(", ")}, got ${profile}`);
    out.profile = profile as FleetConfig["profile"];
  }
  const scale = set("SIM_TIME_SCALE");
  if (scale !== undefined) {
    const value = Number(scale);
    if (!(value > 0) || !Number.isFinite(value)) throw new Error(`SIM_TIME_SCALE must be a positive number, got ${scale}`);
    out.time_scale = value;
  }
  const min = count("SIM_MIN_CONTAINERS", 0);
  if (min !== undefined) out.min_containers = min;
  const max = count("SIM_MAX_CONTAINERS", 1);
  if (max !== undefined) out.max_containers = max;
  const front = set("SIM_MODAL_FRONT");
  if (front !== undefined) {
    if (front !== "web_function" && front !== "server") throw new Error(`SIM_MODAL_FRONT must be web_function or server, got ${front}`);
    out.modal_front = front;
  }
  const snapshot = set("SIM_GPU_SNAPSHOT");
  if (snapshot !== undefined) out.gpu_snapshot = snapshot === "1" || snapshot === "true";
  return out;
}
