/**
 * @module plan/erlang
 * The M/M/k queue the planner sizes containers with: Erlang C (the chance
 * an arrival waits), by the numerically stable Erlang B recursion, and the
 * waiting-time tail P(W > t) = C exp(-(k mu - lambda) t), stretched by the
 * Allen-Cunneen factor 2 / (Ca^2 + Cs^2) when service is not exponential
 * (exact, factor 1, for Poisson arrivals and exponential service).
 */

/** Erlang C: P(an arrival waits) with `servers` servers and offered load `load` = lambda / mu (< servers). */
export function erlangC(servers: number, load: number): number {
  if (load <= 0) return 0;
  if (load >= servers) return 1;
  // Erlang B by recursion: B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)).
  let b = 1;
  for (let k = 1; k <= servers; k++) b = (load * b) / (k + load * b);
  return (servers * b) / (servers - load * (1 - b));
}

/** A queue of `servers` servers: arrivals per second, mean service seconds, service SCV (1 = exponential). */
export interface QueueShape {
  servers: number;
  arrivalsPerSecond: number;
  meanServiceSeconds: number;
  serviceScv: number;
}

/** The tail's decay rate (1/s): (k mu - lambda) x 2 / (1 + Cs^2), Poisson arrivals. */
function decayPerSecond(q: QueueShape): number {
  return (q.servers / q.meanServiceSeconds - q.arrivalsPerSecond) * (2 / (1 + q.serviceScv));
}

/** P(W > t): the chance a request waits longer than `seconds` for a server. */
export function waitTail(q: QueueShape, seconds: number): number {
  const load = q.arrivalsPerSecond * q.meanServiceSeconds;
  if (load >= q.servers) return 1;
  return erlangC(q.servers, load) * Math.exp(-decayPerSecond(q) * Math.max(0, seconds));
}

/** The wait not exceeded by a share `p` of requests (0 when fewer than 1 - p wait at all); Infinity when unstable. */
export function waitQuantile(q: QueueShape, p: number): number {
  const load = q.arrivalsPerSecond * q.meanServiceSeconds;
  if (load >= q.servers) return Number.POSITIVE_INFINITY;
  const c = erlangC(q.servers, load);
  if (c <= 1 - p) return 0;
  return Math.log(c / (1 - p)) / decayPerSecond(q);
}
