// Remaining useful life from a degradation indicator (e.g. vibration RMS): samples taken in the
// operating state that counts (a gate, e.g. spindle speed above 2500 rpm) are averaged per bucket,
// the buckets of the fitting window are fitted with a linear and an exponential trend, and the
// chosen trend's crossing of the failure threshold gives the RUL with its confidence interval.
// Time is the samples' source time. Plain TypeScript, no Node-RED.
import { crossing, fitExponential, fitLinear, trendAt, type Point, type TrendFit, type TrendModel } from './trend';

export interface RulConfig {
  /** the degradation indicator's topic */
  indicator: string;
  /** up: failure when the indicator rises to the threshold (vibration); down: when it falls to it */
  direction: 'up' | 'down';
  /** samples count only while the gate topic's last value is within [min, max] */
  gate?: { topic: string; min?: number; max?: number };
  bucketSeconds: number;
  /** buckets with fewer samples are dropped */
  minBucketSamples: number;
  /** fit on the buckets of this last stretch of source time */
  windowSeconds: number;
  /** no estimate before this many buckets */
  minBuckets: number;
  model: TrendModel | 'auto';
  /** of the interval, e.g. 0.9 */
  confidence: number;
  /** crossings further away than this are reported as beyond the horizon */
  horizonSeconds: number;
}

export type RulStatus = 'estimate' | 'beyond-horizon' | 'failed' | 'no-threshold' | 'learning' | 'no-fit';

export interface RulEstimate {
  status: RulStatus;
  /** source time of the estimate, ms */
  time: number;
  /** seconds until the fitted trend reaches the threshold (0 when it already has) */
  rulSeconds: number | null;
  /** the interval of the RUL at `confidence`; upper null: beyond the horizon */
  lowerSeconds: number | null;
  upperSeconds: number | null;
  confidence: number;
  threshold: number | null;
  model: TrendModel | null;
  /** the fitted indicator now, and its latest bucket mean */
  fitted: number | null;
  indicator: number | null;
  buckets: number;
  /** trend parameters (linear: a, b per s; exponential: c, A, B per s), t = 0 at `origin` */
  params: number[];
  origin: number | null;
  residualSd: number | null;
}

export interface RulSnapshot {
  version: 1;
  buckets: Point[];
  threshold?: number;
}

export class RulConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RulConfigError';
  }
}

function num(value: unknown, field: string, fallback: number, rule: { above?: number; min?: number; max?: number; integer?: boolean } = {}): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'string' ? Number(value.trim()) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new RulConfigError(`${field}: ${JSON.stringify(value)} is not a number`);
  if (rule.integer && !Number.isInteger(n)) throw new RulConfigError(`${field}: ${n} must be a whole number`);
  if (rule.above !== undefined && !(n > rule.above)) throw new RulConfigError(`${field}: ${n} must be above ${rule.above}`);
  if (rule.min !== undefined && n < rule.min) throw new RulConfigError(`${field}: ${n} is below the minimum ${rule.min}`);
  if (rule.max !== undefined && n > rule.max) throw new RulConfigError(`${field}: ${n} is above the maximum ${rule.max}`);
  return n;
}

function optional(value: unknown, field: string): number | undefined {
  return value === undefined || value === null || value === '' ? undefined : num(value, field, 0);
}

/** Checks and completes a configuration; throws RulConfigError naming the field. */
export function rulConfig(raw: Record<string, unknown>): RulConfig {
  if (typeof raw.indicator !== 'string' || raw.indicator.trim() === '') throw new RulConfigError('indicator: the topic of the degradation indicator (e.g. spindle/vibrationRms) is required');
  const direction = raw.direction === undefined || raw.direction === '' ? 'up' : raw.direction;
  if (direction !== 'up' && direction !== 'down') throw new RulConfigError(`direction: ${JSON.stringify(raw.direction)} must be up or down`);
  const model = raw.model === undefined || raw.model === '' ? 'auto' : raw.model;
  if (model !== 'auto' && model !== 'linear' && model !== 'exponential') throw new RulConfigError(`model: ${JSON.stringify(raw.model)} must be auto, linear or exponential`);
  const gateRaw = (raw.gate ?? {}) as Record<string, unknown>;
  let gate: RulConfig['gate'];
  if (typeof gateRaw.topic === 'string' && gateRaw.topic.trim() !== '') {
    const min = optional(gateRaw.min, 'gate.min');
    const max = optional(gateRaw.max, 'gate.max');
    if (min === undefined && max === undefined) throw new RulConfigError('gate: give a minimum, a maximum or both for the gate topic');
    if (min !== undefined && max !== undefined && min > max) throw new RulConfigError(`gate.min: ${min} is above gate.max ${max}`);
    gate = { topic: gateRaw.topic.trim(), ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) };
  }
  const bucketSeconds = num(raw.bucketSeconds, 'bucketSeconds', 60, { above: 0 });
  const windowSeconds = num(raw.windowSeconds, 'windowSeconds', 3600, { above: 0 });
  if (windowSeconds < 3 * bucketSeconds) throw new RulConfigError(`windowSeconds: ${windowSeconds} must hold at least three buckets of ${bucketSeconds} s`);
  return {
    indicator: raw.indicator.trim(),
    direction,
    ...(gate ? { gate } : {}),
    bucketSeconds,
    minBucketSamples: num(raw.minBucketSamples, 'minBucketSamples', 3, { min: 1, integer: true }),
    windowSeconds,
    minBuckets: num(raw.minBuckets, 'minBuckets', 8, { min: 4, integer: true }),
    model,
    confidence: num(raw.confidence, 'confidence', 0.9, { above: 0, max: 0.999 }),
    horizonSeconds: num(raw.horizonSeconds, 'horizonSeconds', 30 * 24 * 3600, { above: 0 }),
  };
}

export class RulEstimator {
  readonly #buckets: Point[] = [];
  #open: { index: number; sum: number; count: number } | undefined;
  #gateValue: number | undefined;
  #threshold: number | undefined;
  #lastTime = Number.NEGATIVE_INFINITY;

  constructor(readonly config: RulConfig, snapshot?: RulSnapshot) {
    if (snapshot) {
      if (snapshot.version !== 1 || !Array.isArray(snapshot.buckets)) throw new RulConfigError('rul snapshot: expected { version: 1, buckets: [...] }');
      for (const b of snapshot.buckets) {
        if (!b || !Number.isFinite(b.time) || !Number.isFinite(b.value)) throw new RulConfigError('rul snapshot: every bucket needs a time and a value');
        this.#buckets.push({ time: b.time, value: b.value });
      }
      if (typeof snapshot.threshold === 'number' && Number.isFinite(snapshot.threshold)) this.#threshold = snapshot.threshold;
    }
  }

  /** The threshold set by message (overrides the one given to estimate()), if any. */
  get thresholdOverride(): number | undefined {
    return this.#threshold;
  }

  setThreshold(value: number | undefined): void {
    this.#threshold = value;
  }

  get bucketCount(): number {
    return this.#buckets.length;
  }

  /** The closed buckets of the fitting window (bucket mean at the bucket's end time). */
  buckets(): readonly Point[] {
    return this.#buckets;
  }

  /** Topics this estimator reads. */
  topics(): string[] {
    return this.config.gate ? [this.config.indicator, this.config.gate.topic] : [this.config.indicator];
  }

  /**
   * Takes one sample; returns the bucket it closed (the caller then asks for an estimate), if any.
   * Samples older than the newest one are ignored.
   */
  add(topic: string, value: number, time: number): Point | undefined {
    const gate = this.config.gate;
    if (gate && topic === gate.topic) this.#gateValue = value;
    if (topic !== this.config.indicator) return undefined;
    if (time < this.#lastTime) return undefined;
    this.#lastTime = time;
    const bucketMs = this.config.bucketSeconds * 1000;
    const index = Math.floor(time / bucketMs);
    let closed: Point | undefined;
    if (this.#open && index !== this.#open.index) closed = this.#close();
    if (gate) {
      const v = this.#gateValue;
      if (v === undefined || (gate.min !== undefined && v < gate.min) || (gate.max !== undefined && v > gate.max)) return closed;
    }
    if (!this.#open) this.#open = { index, sum: 0, count: 0 };
    this.#open.sum += value;
    this.#open.count++;
    return closed;
  }

  #close(): Point | undefined {
    const open = this.#open!;
    this.#open = undefined;
    if (open.count < this.config.minBucketSamples) return undefined;
    const point = { time: (open.index + 1) * this.config.bucketSeconds * 1000, value: open.sum / open.count };
    this.#buckets.push(point);
    const from = point.time - this.config.windowSeconds * 1000;
    while (this.#buckets.length > 0 && this.#buckets[0]!.time <= from) this.#buckets.shift();
    return point;
  }

  /** The fits of the window's buckets (both models), for charts and for choosing. */
  fits(): { linear?: TrendFit; exponential?: TrendFit } {
    const points = this.#buckets;
    if (points.length < this.config.minBuckets) return {};
    const origin = points[points.length - 1]!.time;
    const rising = this.config.direction === 'up';
    const out: { linear?: TrendFit; exponential?: TrendFit } = {};
    if (this.config.model !== 'exponential') {
      const linear = fitLinear(points, origin);
      if (linear) out.linear = linear;
    }
    if (this.config.model !== 'linear') {
      const exponential = fitExponential(points, origin, rising);
      if (exponential) out.exponential = exponential;
    }
    return out;
  }

  /** The estimate now, against `threshold` (a message's threshold overrides it). */
  estimate(threshold: number | undefined): RulEstimate {
    const limit = this.#threshold ?? threshold;
    const last = this.#buckets[this.#buckets.length - 1];
    const base: RulEstimate = {
      status: 'learning',
      time: last?.time ?? this.#lastTime,
      rulSeconds: null,
      lowerSeconds: null,
      upperSeconds: null,
      confidence: this.config.confidence,
      threshold: limit ?? null,
      model: null,
      fitted: null,
      indicator: last?.value ?? null,
      buckets: this.#buckets.length,
      params: [],
      origin: null,
      residualSd: null,
    };
    if (limit === undefined || !Number.isFinite(limit)) return { ...base, status: 'no-threshold' };
    if (!last || this.#buckets.length < this.config.minBuckets) return base;
    const rising = this.config.direction === 'up';
    const fits = this.fits();
    const candidates = [fits.linear, fits.exponential].filter((f): f is TrendFit => f !== undefined);
    if (candidates.length === 0) return { ...base, status: 'no-fit' };
    const fit = candidates.reduce((a, b) => (b.aicc < a.aicc ? b : a));
    const now = trendAt(fit, last.time).mean;
    const withFit = { ...base, model: fit.model, fitted: now, params: fit.params, origin: fit.origin, residualSd: fit.sigma };
    const past = (v: number) => (rising ? v >= limit : v <= limit);
    if (past(now) || past(last.value)) return { ...withFit, status: 'failed', rulSeconds: 0, lowerSeconds: 0, upperSeconds: 0 };
    const c = crossing(fit, limit, last.time, this.config.horizonSeconds, this.config.confidence, rising);
    return {
      ...withFit,
      status: c.seconds === undefined ? 'beyond-horizon' : 'estimate',
      rulSeconds: c.seconds ?? null,
      lowerSeconds: c.lower ?? null,
      upperSeconds: c.upper ?? null,
    };
  }

  snapshot(): RulSnapshot {
    return { version: 1, buckets: this.#buckets.map((b) => ({ ...b })), ...(this.#threshold !== undefined ? { threshold: this.#threshold } : {}) };
  }

  /** Forgets the history (a new bearing). */
  reset(): void {
    this.#buckets.length = 0;
    this.#open = undefined;
  }
}

/** The fitted trend of an estimate at a source time (ms), from its parameters; null without a fit. */
export function estimateAt(estimate: RulEstimate, time: number): number | null {
  if (!estimate.model || estimate.origin === null) return null;
  const t = (time - estimate.origin) / 1000;
  const p = estimate.params;
  return estimate.model === 'linear' ? p[0]! + p[1]! * t : p[0]! + p[1]! * Math.exp(p[2]! * t);
}
