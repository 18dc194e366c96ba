/**
 * @module sim/fleet-env.test
 * SIM_PROFILE and friends: unset leaves today's simple pacing, set values
 * become fleet defaults, bad values are refused with the variable's name.
 */
import { describe, expect, it } from "vitest";
import { fleetDefaultsFromEnv } from "../../gpu/sim/fleet/fleet-env";

describe("fleetDefaultsFromEnv", () => {
  it("reads nothing from an empty environment: no profile, no fleet", () => {
    expect(fleetDefaultsFromEnv({})).toEqual({});
    expect(fleetDefaultsFromEnv({ SIM_PROFILE: "" })).toEqual({});
  });

  it("turns the variables into fleet knobs", () => {
    expect(
      fleetDefaultsFromEnv({ SIM_PROFILE: "h100-fp8", SIM_TIME_SCALE: "100", SIM_MIN_CONTAINERS: "1", SIM_MAX_CONTAINERS: "3", SIM_MODAL_FRONT: "server", SIM_GPU_SNAPSHOT: "1" }),
    ).toEqual({ profile: "h100-fp8", time_scale: 100, min_containers: 1, max_containers: 3, modal_front: "server", gpu_snapshot: true });
  });

  it("refuses bad values, naming the variable", () => {
    expect(() => fleetDefaultsFromEnv({ SIM_PROFILE: "a100" })).toThrow(/SIM_PROFILE must be one of h200-bf16, h100-fp8/);
    expect(() => fleetDefaultsFromEnv({ SIM_TIME_SCALE: "0" })).toThrow(/SIM_TIME_SCALE/);
    expect(() => fleetDefaultsFromEnv({ SIM_MAX_CONTAINERS: "0" })).toThrow(/SIM_MAX_CONTAINERS/);
    expect(() => fleetDefaultsFromEnv({ SIM_MODAL_FRONT: "lambda" })).toThrow(/SIM_MODAL_FRONT/);
  });
});
