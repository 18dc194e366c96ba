/**
 * @module plan/distribution
 * Answer-length distributions for `npm run plan --answer-tokens DIST`, with
 * the two moments the queueing model needs (mean and second moment of the
 * tokens a sequence generates). `exp` and `fixed` have exact moments (the
 * Erlang C test depends on `exp` being exactly exponential); the others are
 * integrated deterministically over their quantile function.
 */

/** A distribution of answer lengths in tokens. */
export interface AnswerDistribution {
  /** As written on the command line, for the report. */
  spec: string;
  mean: number;
  /** E[L^2]. */
  secondMoment: number;
}

/**
 * LIMO's answers run 10k-32k tokens (DESIGN.md, the paper's full-length
 * evaluation): a log-normal with median 16,000 and sigma 0.35 puts the
 * middle 80% at 10,200-25,000, clipped to [2,000, 32,000].
 */
export const LIMO_ANSWER_SPEC = "lognormal:16000:0.35:2000:32000";

/** Midpoints of the quantile integral: enough for moments to 4 significant figures. */
const QUADRATURE_POINTS = 20_000;

/** Parses `exp:MEAN`, `fixed:N`, `uniform:MIN:MAX`, `lognormal:MEDIAN:SIGMA[:MIN:MAX]` or `limo`. */
export function parseDistribution(spec: string): AnswerDistribution {
  const [kind, ...rest] = spec.trim().split(":");
  const nums = rest.map(Number);
  const bad = (why: string) => new RangeError(`--answer-tokens ${JSON.stringify(spec)}: ${why}`);
  if (nums.some((n) => !Number.isFinite(n) || n < 0)) throw bad("every parameter must be a non-negative number");
  const [a = Number.NaN, b = Number.NaN, c, d] = nums;
  switch (kind) {
    case "limo":
      if (rest.length > 0) throw bad("limo takes no parameters");
      return { ...parseDistribution(LIMO_ANSWER_SPEC), spec: `limo (${LIMO_ANSWER_SPEC})` };
    case "exp":
      if (rest.length !== 1 || !(a > 0)) throw bad("exp:MEAN with MEAN > 0");
      return { spec, mean: a, secondMoment: 2 * a * a };
    case "fixed":
      if (rest.length !== 1 || !(a > 0)) throw bad("fixed:N with N > 0");
      return { spec, mean: a, secondMoment: a * a };
    case "uniform":
      if (rest.length !== 2 || !(b > a)) throw bad("uniform:MIN:MAX with MAX > MIN");
      return fromQuantile(spec, (u) => a + u * (b - a));
    case "lognormal": {
      if ((rest.length !== 2 && rest.length !== 4) || !(a > 0) || !(b > 0)) throw bad("lognormal:MEDIAN:SIGMA[:MIN:MAX] with MEDIAN, SIGMA > 0");
      const lo = c ?? 0;
      const hi = d ?? Number.POSITIVE_INFINITY;
      if (!(hi > lo)) throw bad("MAX must exceed MIN");
      return fromQuantile(spec, (u) => Math.min(hi, Math.max(lo, a * Math.exp(b * normalQuantile(u)))));
    }
    default:
      throw bad("expected exp:MEAN, fixed:N, uniform:MIN:MAX, lognormal:MEDIAN:SIGMA[:MIN:MAX] or limo");
  }
}

function fromQuantile(spec: string, quantile: (u: number) => number): AnswerDistribution {
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < QUADRATURE_POINTS; i++) {
    const x = quantile((i + 0.5) / QUADRATURE_POINTS);
    sum += x;
    sumSq += x * x;
  }
  return { spec, mean: sum / QUADRATURE_POINTS, secondMoment: sumSq / QUADRATURE_POINTS };
}

/** The standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const poly = (k: number[], x: number) => k.reduce((acc, coef) => acc * x + coef, 0);
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    return poly(c, q) / (poly(d, q) * q + 1);
  }
  if (p > 1 - 0.02425) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -poly(c, q) / (poly(d, q) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return (poly(a, r) * q) / (poly(b, r) * r + 1);
}
