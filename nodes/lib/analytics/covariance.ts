// Running mean vector and covariance of a few variables (Welford's update for vectors), and the
// two things the detectors ask of it: a linear regression of one variable on the others, and the
// inverse covariance for a Mahalanobis distance (Hotelling T^2).
import { cholesky, choleskyInverse } from './stats';

export class RunningCovariance {
  count = 0;
  readonly mean: number[];
  /** co-moment matrix (sum of products of deviations), row-major dim x dim */
  readonly comoment: number[];

  constructor(readonly dim: number) {
    this.mean = new Array<number>(dim).fill(0);
    this.comoment = new Array<number>(dim * dim).fill(0);
  }

  push(x: readonly number[]): void {
    const n = this.dim;
    this.count++;
    const before = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      before[i] = (x[i] as number) - (this.mean[i] as number);
      this.mean[i] = (this.mean[i] as number) + (before[i] as number) / this.count;
    }
    for (let i = 0; i < n; i++) {
      const after = (x[i] as number) - (this.mean[i] as number);
      for (let j = 0; j < n; j++) this.comoment[i * n + j] = (this.comoment[i * n + j] as number) + after * (before[j] as number);
    }
  }

  /** Sample covariance matrix (n - 1). */
  covariance(): number[] {
    const divisor = Math.max(1, this.count - 1);
    // Symmetrise: the update above accumulates the two triangles in slightly different orders.
    const n = this.dim;
    const out = new Array<number>(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) out[i * n + j] = ((this.comoment[i * n + j] as number) + (this.comoment[j * n + i] as number)) / (2 * divisor);
    }
    return out;
  }
}

/** y = intercept + coefficients . x, with the residual standard deviation. */
export interface LinearFit {
  intercept: number;
  coefficients: number[];
  residualSd: number;
  count: number;
}

/**
 * Regresses the last variable on the others, from the running covariance. A small ridge keeps a
 * covariate that never varied in this regime from making the system singular (its coefficient goes
 * to about zero instead).
 */
export function regressLast(cov: RunningCovariance): LinearFit | undefined {
  const p = cov.dim - 1;
  if (cov.count < p + 3) return undefined;
  const c = cov.covariance();
  const n = cov.dim;
  const syy = c[p * n + p] as number;
  if (p === 0) return { intercept: cov.mean[0] as number, coefficients: [], residualSd: Math.sqrt(Math.max(syy, 0)), count: cov.count };
  const sxx = new Array<number>(p * p);
  const sxy = new Array<number>(p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < p; j++) sxx[i * p + j] = c[i * n + j] as number;
    sxy[i] = c[i * n + p] as number;
  }
  for (let i = 0; i < p; i++) sxx[i * p + i] = (sxx[i * p + i] as number) * (1 + 1e-9) + 1e-12;
  const l = cholesky(sxx, p);
  if (!l) return undefined;
  const inverse = choleskyInverse(l, p);
  const coefficients = new Array<number>(p).fill(0);
  for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) coefficients[i] = (coefficients[i] as number) + (inverse[i * p + j] as number) * (sxy[j] as number);
  let explained = 0;
  for (let i = 0; i < p; i++) explained += (coefficients[i] as number) * (sxy[i] as number);
  // Residual variance with the degrees of freedom the fit used up.
  const residualVariance = Math.max(0, ((syy - explained) * (cov.count - 1)) / Math.max(1, cov.count - p - 1));
  let intercept = cov.mean[p] as number;
  for (let i = 0; i < p; i++) intercept -= (coefficients[i] as number) * (cov.mean[i] as number);
  return { intercept, coefficients, residualSd: Math.sqrt(residualVariance), count: cov.count };
}
