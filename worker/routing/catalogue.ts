/**
 * @module catalogue
 * Which models this deployment serves and which backend answers each, from
 * the `BACKENDS` variable. Parsing is cached per isolate by the raw text, so
 * it costs nothing on the hot path and a bad value is reported, not crashed on.
 *
 * An entry's `models` may name a model by its public alias (`limo`) or by the
 * name vLLM serves it under (`GAIR/LIMO`): aliases resolve to served names
 * here, since the backend is always called with the served name. A name that
 * is neither refuses the whole configuration (500 `misconfigured`, naming the
 * entry, on every request and on `/healthz`, logged at error level once per
 * isolate): a backend that serves nothing the catalogue knows would
 * otherwise be silently never chosen, or every request to it would fail.
 */
import { BackendsSchema, type BackendConfig } from "../../shared/backends";
import { MODEL_CATALOGUE, type CatalogueModel } from "../../shared/constants";
import { ApiError } from "../core/errors";
import { log } from "../core/log";

export interface Deployment {
  backends: readonly BackendConfig[];
  /** Catalogue models that at least one backend serves, in catalogue order. */
  models: readonly CatalogueModel[];
}

let cached: { raw: string; deployment: Deployment } | undefined;
/** The last refused configuration, logged once per isolate. */
let refused: string | undefined;

/** The parsed deployment, or a 500 `misconfigured` whose reason goes to the log only. */
export function loadDeployment(rawBackends: string | undefined): Deployment {
  const raw = rawBackends ?? "";
  if (cached?.raw === raw) return cached.deployment;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw misconfigured("BACKENDS is not valid JSON");
  }
  const parsed = BackendsSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw misconfigured(`BACKENDS is invalid at ${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
  }
  const backends = parsed.data.map((b, i) => ({ ...b, models: b.models.map((name) => servedNameOf(name, b.name, i, raw)) }));
  const served = new Set(backends.flatMap((b) => b.models));
  const deployment = {
    backends,
    models: MODEL_CATALOGUE.filter((m) => served.has(m.servedName)),
  };
  cached = { raw, deployment };
  return deployment;
}

/** A model named in entry `index` of BACKENDS, as the served name; an unknown name refuses the configuration. */
function servedNameOf(name: string, entry: string, index: number, raw: string): string {
  const model = MODEL_CATALOGUE.find((m) => m.servedName === name || m.id === name);
  if (model) return model.servedName;
  const known = MODEL_CATALOGUE.map((m) => `${m.servedName} (alias ${m.id})`).join(", ");
  const reason = `BACKENDS entry ${index} ("${entry}") names model "${name}", which the catalogue does not have: use one of ${known}`;
  if (refused !== raw) {
    refused = raw;
    log("error", "BACKENDS refused", { reason });
  }
  throw misconfigured(reason);
}

/** Why the configuration is refused (the reason of a `misconfigured` error), for `/healthz`; null if it loads. */
export function deploymentProblem(rawBackends: string | undefined): string | null {
  try {
    loadDeployment(rawBackends);
    return null;
  } catch (err) {
    if (err instanceof ApiError && err.code === "misconfigured") return err.internal ?? err.message;
    throw err;
  }
}

function misconfigured(internal: string): ApiError {
  return new ApiError("misconfigured", "The service is misconfigured. Please try again later.", { internal });
}

/** The Worker's built-in simulator: where test-mode keys go when no simulator backend is configured. */
export const EMBEDDED_SIMULATOR: BackendConfig = {
  name: "embedded-simulator",
  url: "http://embedded-simulator.invalid",
  models: MODEL_CATALOGUE.map((m) => m.servedName),
  weight: 1,
  kind: "simulator",
};

/**
 * Resolves a public id (`limo`) or a served name (`GAIR/LIMO`) to a deployed
 * model; unknown or undeployed models are a 404.
 */
export function resolveModel(deployment: Deployment, requested: string): CatalogueModel {
  const model = deployment.models.find((m) => m.id === requested || m.servedName === requested);
  if (!model) {
    throw new ApiError("model_not_found", `The model '${requested}' does not exist or you do not have access to it.`, {
      param: "model",
    });
  }
  return model;
}

/**
 * The backends that may answer a model for a key: every one that serves it,
 * or for a test-mode key only simulators (the built-in one if none is
 * configured): a test key never reaches a GPU. The router chooses among them.
 */
export function candidateBackends(deployment: Deployment, model: CatalogueModel, mode: "live" | "test"): BackendConfig[] {
  const serving = deployment.backends.filter((b) => b.models.includes(model.servedName));
  if (mode === "live") return serving;
  const simulators = serving.filter((b) => b.kind === "simulator");
  return simulators.length > 0 ? simulators : [EMBEDDED_SIMULATOR];
}
