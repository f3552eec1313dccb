// Small numerical helpers for streaming analytics: running moments, dense symmetric matrices of a
// handful of rows (a detector watches a few signals, not thousands), and distribution quantiles.
// Plain TypeScript, no Node-RED.

/** Running mean and variance (Welford): one pass, numerically stable, mergeable. */
export class RunningStats {
  count = 0;
  mean = 0;
  /** sum of squared deviations from the mean */
  m2 = 0;

  push(x: number): void {
    this.count++;
    const delta = x - this.mean;
    this.mean += delta / this.count;
    this.m2 += delta * (x - this.mean);
  }

  /** Sample variance (n - 1); 0 with fewer than two values. */
  get variance(): number {
    return this.count > 1 ? this.m2 / (this.count - 1) : 0;
  }

  get sd(): number {
    return Math.sqrt(this.variance);
  }
}

/**
 * Cholesky factor L (lower, row-major n x n) of a symmetric positive definite matrix. Returns
 * undefined when the matrix is not positive definite (a signal that never varied, or two signals
 * that always move together exactly).
 */
export function cholesky(a: readonly number[], n: number): number[] | undefined {
  const l = new Array<number>(n * n).fill(0);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * n + j] as number;
      for (let k = 0; k < j; k++) sum -= (l[i * n + k] as number) * (l[j * n + k] as number);
      if (i === j) {
        if (!(sum > 0) || !Number.isFinite(sum)) return undefined;
        l[i * n + i] = Math.sqrt(sum);
      } else {
        l[i * n + j] = sum / (l[j * n + j] as number);
      }
    }
  }
  return l;
}

/** Solves (L L^T) x = b for x, given the Cholesky factor L. */
export function choleskySolve(l: readonly number[], n: number, b: readonly number[]): number[] {
  const y = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let sum = b[i] as number;
    for (let k = 0; k < i; k++) sum -= (l[i * n + k] as number) * (y[k] as number);
    y[i] = sum / (l[i * n + i] as number);
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i] as number;
    for (let k = i + 1; k < n; k++) sum -= (l[k * n + i] as number) * (x[k] as number);
    x[i] = sum / (l[i * n + i] as number);
  }
  return x;
}

/** Inverse of a symmetric positive definite matrix from its Cholesky factor. */
export function choleskyInverse(l: readonly number[], n: number): number[] {
  const inverse = new Array<number>(n * n).fill(0);
  for (let j = 0; j < n; j++) {
    const e = new Array<number>(n).fill(0);
    e[j] = 1;
    const column = choleskySolve(l, n, e);
    for (let i = 0; i < n; i++) inverse[i * n + j] = column[i] as number;
  }
  return inverse;
}

/** x^T A x for a row-major n x n matrix A. */
export function quadraticForm(a: readonly number[], x: readonly number[]): number {
  const n = x.length;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let row = 0;
    for (let j = 0; j < n; j++) row += (a[i * n + j] as number) * (x[j] as number);
    sum += (x[i] as number) * row;
  }
  return sum;
}

/**
 * Quantile of the standard normal distribution (Acklam's rational approximation, relative error
 * below 1.2e-9): the control limit for a given false alarm probability.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p: ${p} must be between 0 and 1`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/**
 * Wilson-Hilferty: a chi-square value with `dof` degrees of freedom as an approximately standard
 * normal score, so a Hotelling T^2 can be charted and smoothed like any z-score.
 */
export function chiSquareToZ(value: number, dof: number): number {
  const v = 2 / (9 * dof);
  return (Math.cbrt(Math.max(value, 0) / dof) - (1 - v)) / Math.sqrt(v);
}

/** Inverse of chiSquareToZ: the chi-square value that scores z. */
export function zToChiSquare(z: number, dof: number): number {
  const v = 2 / (9 * dof);
  const root = 1 - v + z * Math.sqrt(v);
  return root <= 0 ? 0 : dof * root * root * root;
}

/** Quantile of Student's t with `dof` degrees of freedom (Cornish-Fisher expansion around the normal). */
export function studentTQuantile(p: number, dof: number): number {
  const z = normalQuantile(p);
  if (!Number.isFinite(dof) || dof > 1e6) return z;
  const z2 = z * z;
  const g1 = (z2 * z + z) / 4;
  const g2 = (5 * z2 * z2 * z + 16 * z2 * z + 3 * z) / 96;
  const g3 = (3 * z2 * z2 * z2 * z + 19 * z2 * z2 * z + 17 * z2 * z - 15 * z) / 384;
  const g4 = (79 * z2 * z2 * z2 * z2 * z + 776 * z2 * z2 * z2 * z + 1482 * z2 * z2 * z - 1920 * z2 * z - 945 * z) / 92160;
  return z + g1 / dof + g2 / dof ** 2 + g3 / dof ** 3 + g4 / dof ** 4;
}

/** The value at fraction q (0..1) of sorted values, interpolated linearly. */
export function quantileOfSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return (sorted[below] as number) + ((sorted[above] as number) - (sorted[below] as number)) * (position - below);
}

export function median(values: readonly number[]): number {
  return quantileOfSorted([...values].sort((a, b) => a - b), 0.5);
}
