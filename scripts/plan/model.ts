/**
 * @module plan/model
 * The capacity planner behind `npm run plan`, over the simulator's own
 * performance model (gpu/sim/perf): each container offers `max_num_seqs`
 * sequence slots (KV-safe: no preemption); a sequence's service time is its
 * first-token step plus one decode step per further token, the step timed
 * at the batch and KV occupancy the utilisation implies (a fixed point);
 * the containers needed are the fewest whose M/G/k queue (Erlang C,
 * Allen-Cunneen for non-exponential answers) keeps p95 time to first token
 * under the target. Cold starts follow from the scale-down window and
 * min_containers; cost from Modal's list prices. Derivations and
 * approximations: gpu/sim/perf/profiles.md, "The planner".
 */
import { kvCapacityTokens, modalSettings, stepMs } from "../../gpu/sim/perf/arithmetic";
import type { GpuProfile } from "../../gpu/sim/perf/profiles";
import type { AnswerDistribution } from "./distribution";
import { erlangC, waitQuantile, waitTail, type QueueShape } from "./erlang";

/** gpu/modal-prices.json. */
export interface ModalPrices {
  as_of: string;
  gpu_per_second: Record<string, { price: number }>;
  cpu_core_per_second: { price: number };
  memory_gib_per_second: { price: number };
  container: { cpu_cores: number; memory_gib: number };
}

export interface PlanInput {
  requestsPerSecond: number;
  answer: AnswerDistribution;
  promptTokens: number;
  /** `n`: sequences per request. */
  sequencesPerRequest: number;
  profile: GpuProfile;
  p95TtftSeconds: number;
  scaledownWindowSeconds: number;
  minContainers: number;
  maxContainers: number;
  /** Boot from a GPU memory snapshot. */
  snapshot: boolean;
  /** Overrides the profile's boot time. */
  bootSeconds?: number;
  prices: ModalPrices;
}

/** The queue and step times at one container count. */
export interface Operating {
  containers: number;
  stable: boolean;
  utilisation: number;
  stepMs: number;
  firstTokenMs: number;
  meanServiceSeconds: number;
  serviceScv: number;
  pWait: number;
  p95QueueWaitSeconds: number;
  p95TtftSeconds: number;
}

export interface PlanResult {
  perContainer: { kvCapacityTokens: number; maxNumSeqs: number; maxInputs: number; targetInputs: number };
  /** Fewest containers meeting the target warm, or null when even maxContainers cannot. */
  containersNeeded: number | null;
  meetsTarget: boolean;
  operating: Operating | null;
  /** Output tokens a second per GPU at that utilisation, and per sequence. */
  tokensPerSecondPerGpu: number;
  tokensPerSecondPerSequence: number;
  cold: { bootSeconds: number; pColdStart: number; expectedColdWaitSeconds: number; p95TtftSecondsWithCold: number };
  cost: {
    asOf: string;
    containerDollarsPerHour: number;
    containersUpAverage: number;
    bootSecondsPerHour: number;
    dollarsPerHour: number;
    outputTokensPerSecond: number;
    dollarsPerMillionOutputTokens: number;
    /** The same work on `containersNeeded` containers kept up all the time. */
    alwaysOnDollarsPerMillionOutputTokens: number;
  };
}

/** Utilisation is solved to this precision. */
const FIXED_POINT_TOLERANCE = 1e-12;
const FIXED_POINT_MAX_ITERATIONS = 500;

/** Step and queue figures with `containers` containers; unstable when utilisation reaches 1. */
export function operatingPoint(input: PlanInput, containers: number): Operating {
  const { profile, answer, promptTokens: p, sequencesPerRequest: n } = input;
  const slots = modalSettings(profile, n).maxNumSeqs;
  const seqPerSecond = input.requestsPerSecond * n;
  // Time-average context of a busy sequence: prompt + E[L^2] / (2 E[L]) (longer answers hold a slot longer).
  const context = p + answer.secondMoment / (2 * answer.mean);
  const at = (utilisation: number) => {
    const busy = utilisation * slots;
    const step = stepMs(profile, { decodeSequences: busy, contextTokens: busy * context, prefillTokens: 0 });
    const first = stepMs(profile, { decodeSequences: busy, contextTokens: busy * context + p, prefillTokens: p });
    const meanService = (first + (answer.mean - 1) * step) / 1000;
    return { step, first, meanService, next: (seqPerSecond * meanService) / (containers * slots) };
  };
  let utilisation = 0;
  let point = at(utilisation);
  for (let i = 0; i < FIXED_POINT_MAX_ITERATIONS && point.next < 1; i++) {
    const done = Math.abs(point.next - utilisation) < FIXED_POINT_TOLERANCE;
    utilisation = point.next;
    point = at(utilisation);
    if (done) break;
  }
  const stable = point.next < 1;
  const variance = answer.secondMoment - answer.mean * answer.mean;
  const serviceScv = ((point.step / 1000) ** 2 * variance) / point.meanService ** 2;
  const queue: QueueShape = { servers: containers * slots, arrivalsPerSecond: seqPerSecond, meanServiceSeconds: point.meanService, serviceScv };
  const wait = stable ? waitQuantile(queue, 0.95) : Number.POSITIVE_INFINITY;
  return {
    containers,
    stable,
    utilisation: stable ? utilisation : 1,
    stepMs: point.step,
    firstTokenMs: point.first,
    meanServiceSeconds: point.meanService,
    serviceScv,
    pWait: stable ? erlangC(queue.servers, seqPerSecond * point.meanService) : 1,
    p95QueueWaitSeconds: wait,
    p95TtftSeconds: wait + point.first / 1000,
  };
}

/** P(TTFT > t) when a share `pCold` of requests also waits `boot` seconds for a container. */
function ttftTail(input: PlanInput, op: Operating, pCold: number, boot: number, t: number): number {
  const slots = modalSettings(input.profile, input.sequencesPerRequest).maxNumSeqs;
  const queue: QueueShape = {
    servers: op.containers * slots,
    arrivalsPerSecond: input.requestsPerSecond * input.sequencesPerRequest,
    meanServiceSeconds: op.meanServiceSeconds,
    serviceScv: op.serviceScv,
  };
  const warmTail = (x: number) => (x < op.firstTokenMs / 1000 ? 1 : waitTail(queue, x - op.firstTokenMs / 1000));
  return (1 - pCold) * warmTail(t) + pCold * warmTail(t - boot);
}

/** E[min(cap, ceil(N / perContainer))] for N ~ Poisson(mean): containers the autoscaler keeps busy. */
function busyContainers(mean: number, perContainer: number, cap: number): number {
  let logPmf = -mean;
  let total = 0;
  const last = Math.ceil(mean + 20 * Math.sqrt(mean) + 20);
  for (let k = 0; k <= last; k++) {
    if (k > 0) logPmf += Math.log(mean / k);
    total += Math.exp(logPmf) * Math.min(cap, Math.ceil(k / perContainer));
  }
  return total;
}

/** Plans one deployment. */
export function plan(input: PlanInput): PlanResult {
  const settings = modalSettings(input.profile, input.sequencesPerRequest);
  let chosen: Operating | null = null;
  let last: Operating | null = null;
  for (let c = Math.max(1, input.minContainers); c <= input.maxContainers; c++) {
    last = operatingPoint(input, c);
    if (last.stable && last.p95TtftSeconds <= input.p95TtftSeconds) {
      chosen = last;
      break;
    }
  }
  const op = chosen ?? (last?.stable ? last : null);
  const boot = input.bootSeconds ?? (input.snapshot ? input.profile.snapshotBootSeconds : input.profile.bootSeconds);
  const lambda = input.requestsPerSecond;
  const meanService = op?.meanServiceSeconds ?? 0;
  // M/G/infinity with each request's presence stretched by the window: the deployment is scaled to
  // zero when no request arrived within its service time plus the window.
  const pColdTime = input.minContainers >= 1 ? 0 : Math.exp(-lambda * (meanService + input.scaledownWindowSeconds));
  const pColdStart = op ? pColdTime : 1;
  let p95WithCold = Number.POSITIVE_INFINITY;
  if (op) {
    let lo = 0;
    let hi = boot + op.p95TtftSeconds + op.firstTokenMs / 1000 + 1;
    for (let i = 0; i < 200; i++) {
      const mid = (lo + hi) / 2;
      if (ttftTail(input, op, pColdStart, boot, mid) > 0.05) lo = mid;
      else hi = mid;
    }
    p95WithCold = hi;
  }
  const prices = input.prices;
  const gpuPrice = prices.gpu_per_second[input.profile.modalGpu]?.price;
  if (gpuPrice === undefined) throw new Error(`gpu/modal-prices.json has no price for ${input.profile.modalGpu}`);
  const containerPerSecond = gpuPrice + prices.container.cpu_cores * prices.cpu_core_per_second.price + prices.container.memory_gib * prices.memory_gib_per_second.price;
  const inFlight = lambda * meanService;
  const cap = op?.containers ?? input.maxContainers;
  const idleWarm = Math.max(0, Math.exp(-inFlight) - pColdTime);
  const up = Math.max(input.minContainers, busyContainers(inFlight, settings.targetInputs, cap) + idleWarm);
  const bootSecondsPerHour = 3600 * lambda * pColdTime * boot;
  const dollarsPerHour = (up * 3600 + bootSecondsPerHour) * containerPerSecond;
  const outputTokensPerSecond = lambda * input.sequencesPerRequest * input.answer.mean;
  const perMillion = (dollars: number) => (outputTokensPerSecond > 0 ? (dollars / (outputTokensPerSecond * 3600)) * 1e6 : Number.POSITIVE_INFINITY);
  const busySequences = op ? op.utilisation * settings.maxNumSeqs : 0;
  return {
    perContainer: { kvCapacityTokens: kvCapacityTokens(input.profile), maxNumSeqs: settings.maxNumSeqs, maxInputs: settings.maxInputs, targetInputs: settings.targetInputs },
    containersNeeded: chosen?.containers ?? null,
    meetsTarget: chosen !== null && p95WithCold <= input.p95TtftSeconds,
    operating: op,
    tokensPerSecondPerGpu: op ? busySequences / (op.stepMs / 1000) : 0,
    tokensPerSecondPerSequence: op ? 1000 / op.stepMs : 0,
    cold: { bootSeconds: boot, pColdStart, expectedColdWaitSeconds: pColdStart * boot, p95TtftSecondsWithCold: p95WithCold },
    cost: {
      asOf: prices.as_of,
      containerDollarsPerHour: containerPerSecond * 3600,
      containersUpAverage: up,
      bootSecondsPerHour,
      dollarsPerHour,
      outputTokensPerSecond,
      dollarsPerMillionOutputTokens: perMillion(dollarsPerHour),
      alwaysOnDollarsPerMillionOutputTokens: perMillion((chosen?.containers ?? cap) * 3600 * containerPerSecond),
    },
  };
}
