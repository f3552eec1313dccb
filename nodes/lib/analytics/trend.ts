// Degradation trends fitted by least squares, and when they cross a failure threshold, with a
// confidence interval: a straight line y = a + b t, and an exponential y = c + A exp(B t) (wear that
// accelerates), fitted by variable projection (for a given B the rest is linear; B is searched).
// The interval of the crossing time comes from the confidence band of the fitted mean (delta method
// with the parameters' covariance): the earliest time the band's upper edge reaches the threshold,
// and the earliest its lower edge does.
import { cholesky, choleskyInverse, studentTQuantile } from './stats';

export type TrendModel = 'linear' | 'exponential';

export interface TrendFit {
  model: TrendModel;
  /** linear: [a, b]; exponential: [c, A, B]; t in seconds from `origin` */
  params: number[];
  /** covariance of the parameters */
  covariance: number[];
  /** residual standard deviation */
  sigma: number;
  /** source time (ms) where t = 0 */
  origin: number;
  count: number;
  sse: number;
  /** small-sample Akaike information criterion, for choosing between the models */
  aicc: number;
}

export interface Point {
  /** ms */
  time: number;
  value: number;
}

function evaluate(fit: TrendFit, t: number): { mean: number; se: number } {
  const p = fit.params;
  const g = fit.model === 'linear' ? [1, t] : [1, Math.exp(p[2]! * t), p[1]! * t * Math.exp(p[2]! * t)];
  const n = g.length;
  let variance = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) variance += g[i]! * fit.covariance[i * n + j]! * g[j]!;
  const mean = fit.model === 'linear' ? p[0]! + p[1]! * t : p[0]! + p[1]! * Math.exp(p[2]! * t);
  return { mean, se: Math.sqrt(Math.max(variance, 0)) };
}

/** The fitted mean and its standard error at a source time (ms). */
export function trendAt(fit: TrendFit, time: number): { mean: number; se: number } {
  return evaluate(fit, (time - fit.origin) / 1000);
}

function aicc(sse: number, n: number, k: number): number {
  const base = n * Math.log(Math.max(sse, 1e-300) / n) + 2 * k;
  return n - k - 1 > 0 ? base + (2 * k * (k + 1)) / (n - k - 1) : Number.POSITIVE_INFINITY;
}

/** Ordinary least squares of y on the columns of x (row-major n x k); undefined when singular. */
function leastSquares(x: number[][], y: number[]): { beta: number[]; sse: number; xtxInverse: number[] } | undefined {
  const k = x[0]!.length;
  const xtx = new Array<number>(k * k).fill(0);
  const xty = new Array<number>(k).fill(0);
  for (let r = 0; r < x.length; r++) {
    const row = x[r]!;
    for (let i = 0; i < k; i++) {
      xty[i]! += row[i]! * y[r]!;
      for (let j = 0; j < k; j++) xtx[i * k + j]! += row[i]! * row[j]!;
    }
  }
  const l = cholesky(xtx, k);
  if (!l) return undefined;
  const xtxInverse = choleskyInverse(l, k);
  const beta = new Array<number>(k).fill(0);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) beta[i]! += xtxInverse[i * k + j]! * xty[j]!;
  let sse = 0;
  for (let r = 0; r < x.length; r++) {
    let fitted = 0;
    for (let i = 0; i < k; i++) fitted += x[r]![i]! * beta[i]!;
    sse += (y[r]! - fitted) ** 2;
  }
  return { beta, sse, xtxInverse };
}

export function fitLinear(points: readonly Point[], origin: number): TrendFit | undefined {
  const n = points.length;
  if (n < 3) return undefined;
  const x = points.map((p) => [1, (p.time - origin) / 1000]);
  const y = points.map((p) => p.value);
  const ls = leastSquares(x, y);
  if (!ls) return undefined;
  const sigma2 = ls.sse / (n - 2);
  return {
    model: 'linear',
    params: ls.beta,
    covariance: ls.xtxInverse.map((v) => v * sigma2),
    sigma: Math.sqrt(sigma2),
    origin,
    count: n,
    sse: ls.sse,
    aicc: aicc(ls.sse, n, 2),
  };
}

/**
 * y = c + A exp(B t). `rising`: the degradation grows with A > 0 (vibration, wear); otherwise it
 * falls (A < 0 with B > 0, e.g. a shrinking insulation resistance). B is searched on a log grid over
 * the time span and refined by golden-section search.
 */
export function fitExponential(points: readonly Point[], origin: number, rising = true): TrendFit | undefined {
  const n = points.length;
  if (n < 4) return undefined;
  const ts = points.map((p) => (p.time - origin) / 1000);
  const y = points.map((p) => p.value);
  const span = Math.max(...ts) - Math.min(...ts);
  if (!(span > 0)) return undefined;
  const profile = (rate: number) => {
    const ls = leastSquares(ts.map((t) => [1, Math.exp(rate * t)]), y);
    if (!ls) return undefined;
    const direction = rising ? ls.beta[1]! > 0 : ls.beta[1]! < 0;
    return direction ? ls : undefined;
  };
  // Rates from "almost a straight line" (0.01 e-foldings over the span) to 40 e-foldings.
  let best: { rate: number; sse: number } | undefined;
  const grid: number[] = [];
  for (let e = Math.log(0.01); e <= Math.log(40); e += 0.15) grid.push(Math.exp(e) / span);
  for (const rate of grid) {
    const ls = profile(rate);
    if (ls && (!best || ls.sse < best.sse)) best = { rate, sse: ls.sse };
  }
  if (!best) return undefined;
  // Golden-section refinement between the grid neighbours (in log rate).
  let lo = Math.log(best.rate) - 0.15;
  let hi = Math.log(best.rate) + 0.15;
  const phi = (Math.sqrt(5) - 1) / 2;
  const sseAt = (logRate: number) => profile(Math.exp(logRate))?.sse ?? Number.POSITIVE_INFINITY;
  let a = hi - phi * (hi - lo);
  let b = lo + phi * (hi - lo);
  let fa = sseAt(a);
  let fb = sseAt(b);
  for (let i = 0; i < 40; i++) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - phi * (hi - lo);
      fa = sseAt(a);
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + phi * (hi - lo);
      fb = sseAt(b);
    }
  }
  const rate = Math.min(fa, fb) < best.sse ? Math.exp(fa < fb ? a : b) : best.rate;
  const ls = profile(rate)!;
  const [c, amplitude] = ls.beta as [number, number];
  const sigma2 = ls.sse / (n - 3);
  // Covariance of (c, A, B) from the Jacobian at the optimum (Gauss-Newton approximation).
  const jtj = new Array<number>(9).fill(0);
  for (const t of ts) {
    const e = Math.exp(rate * t);
    const g = [1, e, amplitude * t * e];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) jtj[i * 3 + j]! += g[i]! * g[j]!;
  }
  const l = cholesky(jtj, 3);
  if (!l) return undefined;
  return {
    model: 'exponential',
    params: [c, amplitude, rate],
    covariance: choleskyInverse(l, 3).map((v) => v * sigma2),
    sigma: Math.sqrt(sigma2),
    origin,
    count: n,
    sse: ls.sse,
    aicc: aicc(ls.sse, n, 3),
  };
}

export interface Crossing {
  /** seconds after `from` until the fitted mean reaches the threshold; undefined: not within the horizon */
  seconds: number | undefined;
  /** the interval's bounds in seconds; upper undefined: not within the horizon */
  lower: number | undefined;
  upper: number | undefined;
}

/**
 * When the trend reaches `threshold` after source time `from` (ms): the fitted mean, and the
 * earliest and latest crossing the confidence band allows (confidence e.g. 0.9), within `horizon` s.
 */
export function crossing(fit: TrendFit, threshold: number, from: number, horizonSeconds: number, confidence: number, rising = true): Crossing {
  const dof = Math.max(1, fit.count - fit.params.length);
  const q = studentTQuantile(0.5 + confidence / 2, dof);
  const t0 = (from - fit.origin) / 1000;
  const reached = (offset: number, edge: -1 | 0 | 1): boolean => {
    const { mean, se } = evaluate(fit, t0 + offset);
    const v = mean + edge * q * se;
    return rising ? v >= threshold : v <= threshold;
  };
  // The earliest crossing: the first grid step where the curve is past the threshold, then bisection.
  const first = (edge: -1 | 0 | 1): number | undefined => {
    if (reached(0, edge)) return 0;
    const steps = 400;
    let previous = 0;
    for (let i = 1; i <= steps; i++) {
      // Finer steps near now, where an estimate matters most.
      const offset = horizonSeconds * (i / steps) ** 2;
      if (reached(offset, edge)) {
        let lo = previous;
        let hi = offset;
        for (let k = 0; k < 50; k++) {
          const mid = (lo + hi) / 2;
          if (reached(mid, edge)) hi = mid;
          else lo = mid;
        }
        return hi;
      }
      previous = offset;
    }
    return undefined;
  };
  // Rising: the band's upper edge (+1) crosses first (lower bound of the time), its lower edge last.
  const early = first(rising ? 1 : -1);
  const mean = first(0);
  const late = first(rising ? -1 : 1);
  return { seconds: mean, lower: early, upper: late };
}
