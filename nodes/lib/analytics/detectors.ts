// Streaming change detectors on a standardised score z (a residual divided by its baseline standard
// deviation): EWMA with time-varying limits and a warm-up, two-sided tabular CUSUM for slow drift,
// and a Shewhart chart on subgroup means with Western Electric and Nelson run rules. Each takes one
// value at a time and says whether its out-of-control condition holds now.

export type Direction = 'both' | 'up' | 'down';

export interface EwmaOptions {
  /** weight of the newest value, 0 < lambda <= 1 (small: slow, sensitive to small shifts) */
  lambda: number;
  /** control limit in standard deviations of the EWMA statistic */
  limit: number;
  /** values seen before the detector may signal */
  warmup: number;
  direction: Direction;
}

export interface EwmaState {
  statistic: number;
  /** the limit now, in z units (narrower during the first values, as the exact variance says) */
  limit: number;
  /** 1 above the upper limit, -1 below the lower, 0 inside (or still warming up) */
  signal: -1 | 0 | 1;
  warmingUp: boolean;
}

export class EwmaDetector {
  #statistic = 0;
  #count = 0;
  /** (1 - lambda)^(2 i), for the exact variance of the first values */
  #decay = 1;

  constructor(readonly options: EwmaOptions, private readonly scale = 1) {}

  get count(): number {
    return this.#count;
  }

  update(z: number): EwmaState {
    const { lambda, limit, warmup, direction } = this.options;
    this.#count++;
    this.#statistic = lambda * z + (1 - lambda) * this.#statistic;
    this.#decay *= (1 - lambda) * (1 - lambda);
    const sd = this.scale * Math.sqrt((lambda / (2 - lambda)) * (1 - this.#decay));
    const bound = limit * sd;
    const warmingUp = this.#count <= warmup;
    let signal: -1 | 0 | 1 = 0;
    if (!warmingUp) {
      if (this.#statistic > bound && direction !== 'down') signal = 1;
      else if (this.#statistic < -bound && direction !== 'up') signal = -1;
    }
    return { statistic: this.#statistic, limit: bound, signal, warmingUp };
  }

  /** Asymptotic standard deviation of the statistic for white noise of unit variance. */
  static nominalSd(lambda: number): number {
    return Math.sqrt(lambda / (2 - lambda));
  }
}

export interface CusumOptions {
  /** allowance (reference value) in z units: half the shift to detect fastest */
  k: number;
  /** decision interval in z units */
  h: number;
  direction: Direction;
}

export interface CusumState {
  high: number;
  low: number;
  signal: -1 | 0 | 1;
}

/** Page's tabular CUSUM; the sums are not reset on a signal, so the condition lasts while the shift does. */
export class CusumDetector {
  #high = 0;
  #low = 0;

  constructor(readonly options: CusumOptions, private readonly scale = 1) {}

  update(z: number): CusumState {
    const { k, h, direction } = this.options;
    const x = z / this.scale;
    this.#high = direction === 'down' ? 0 : Math.max(0, this.#high + x - k);
    this.#low = direction === 'up' ? 0 : Math.max(0, this.#low - x - k);
    const signal: -1 | 0 | 1 = this.#high > h ? 1 : this.#low > h ? -1 : 0;
    return { high: this.#high, low: this.#low, signal };
  }
}

// ---- Shewhart chart with run rules --------------------------------------------------------------

/** The run rules, by what they look for (each side separately where a side applies). */
export const SPC_RULES = {
  /** Western Electric 1, Nelson 1: one point beyond 3 sigma */
  beyond3Sigma: 'one point beyond 3 sigma',
  /** Western Electric 2, Nelson 5: two of three beyond 2 sigma on one side */
  twoOfThreeBeyond2Sigma: 'two of three points beyond 2 sigma on one side',
  /** Western Electric 3, Nelson 6: four of five beyond 1 sigma on one side */
  fourOfFiveBeyond1Sigma: 'four of five points beyond 1 sigma on one side',
  /** Western Electric 4: eight in a row on one side of the centre line */
  eightOnOneSide: 'eight points in a row on one side of the centre line',
  /** Nelson 2: nine in a row on one side */
  nineOnOneSide: 'nine points in a row on one side of the centre line',
  /** Nelson 3: six in a row steadily increasing or decreasing */
  sixTrending: 'six points in a row steadily increasing or decreasing',
  /** Nelson 4: fourteen in a row alternating up and down */
  fourteenAlternating: 'fourteen points in a row alternating up and down',
  /** Nelson 7: fifteen in a row within 1 sigma (less variation than the baseline) */
  fifteenWithin1Sigma: 'fifteen points in a row within 1 sigma of the centre line',
  /** Nelson 8: eight in a row beyond 1 sigma, on either side */
  eightBeyond1Sigma: 'eight points in a row beyond 1 sigma on either side',
} as const;

export type SpcRule = keyof typeof SPC_RULES;

export const WESTERN_ELECTRIC_RULES: readonly SpcRule[] = ['beyond3Sigma', 'twoOfThreeBeyond2Sigma', 'fourOfFiveBeyond1Sigma', 'eightOnOneSide'];
export const NELSON_RULES: readonly SpcRule[] = [
  'beyond3Sigma', 'nineOnOneSide', 'sixTrending', 'fourteenAlternating',
  'twoOfThreeBeyond2Sigma', 'fourOfFiveBeyond1Sigma', 'fifteenWithin1Sigma', 'eightBeyond1Sigma',
];

export function isSpcRule(name: unknown): name is SpcRule {
  return typeof name === 'string' && Object.hasOwn(SPC_RULES, name);
}

/** Rules that say nothing about a side: they cannot tell a one-sided detector which way it moved. */
const SIDELESS: ReadonlySet<SpcRule> = new Set<SpcRule>(['fourteenAlternating', 'fifteenWithin1Sigma', 'eightBeyond1Sigma']);

export interface SpcOptions {
  /** values per subgroup (1 = individuals chart) */
  subgroupSize: number;
  rules: readonly SpcRule[];
  /** centre-to-limit distance in sigma of the subgroup mean (3 by Shewhart) */
  sigmaLimit: number;
  direction: Direction;
}

export interface SpcPoint {
  /** subgroup mean in sigma units of the subgroup mean (0 = centre line) */
  u: number;
  /** rules the newest point violates */
  violations: SpcRule[];
  /** 1 when a violation says the process moved up, -1 down, 0 when none (or sideless) */
  side: -1 | 0 | 1;
}

/** How many points the longest rule looks back. */
const HISTORY = 15;

export class SpcChart {
  readonly #points: number[] = [];
  #sum = 0;
  #count = 0;

  /** scale: how much wider the subgroup means spread than white noise says (from calibration) */
  constructor(readonly options: SpcOptions, private readonly scale = 1) {}

  /** The sigma of a subgroup mean, in z units. */
  get subgroupSigma(): number {
    return this.scale / Math.sqrt(this.options.subgroupSize);
  }

  /** Adds one value; returns a point when it completes a subgroup. */
  update(z: number): SpcPoint | undefined {
    this.#sum += z;
    this.#count++;
    if (this.#count < this.options.subgroupSize) return undefined;
    const u = this.#sum / this.#count / this.subgroupSigma;
    this.#sum = 0;
    this.#count = 0;
    this.#points.push(u);
    if (this.#points.length > HISTORY) this.#points.shift();
    return this.#judge(u);
  }

  #judge(u: number): SpcPoint {
    const p = this.#points;
    const last = (n: number) => (p.length >= n ? p.slice(-n) : undefined);
    const limit = this.options.sigmaLimit;
    const violations: SpcRule[] = [];
    let up = false;
    let down = false;
    const note = (rule: SpcRule, side: -1 | 0 | 1) => {
      if (!this.options.rules.includes(rule)) return;
      if (side === 1 && this.options.direction === 'down') return;
      if (side === -1 && this.options.direction === 'up') return;
      if (side === 0 && this.options.direction !== 'both' && SIDELESS.has(rule)) return;
      violations.push(rule);
      if (side === 1) up = true;
      if (side === -1) down = true;
    };
    const sideOf = (values: number[], beyond: number, need: number): -1 | 0 | 1 => {
      if (values.filter((v) => v > beyond).length >= need) return 1;
      if (values.filter((v) => v < -beyond).length >= need) return -1;
      return 0;
    };
    if (u > limit) note('beyond3Sigma', 1);
    else if (u < -limit) note('beyond3Sigma', -1);
    const three = last(3);
    // A run rule fires when the newest point is part of the run.
    if (three && Math.abs(u) > (2 * limit) / 3) {
      const side = sideOf(three, (2 * limit) / 3, 2);
      if (side !== 0 && Math.sign(u) === side) note('twoOfThreeBeyond2Sigma', side);
    }
    const five = last(5);
    if (five && Math.abs(u) > limit / 3) {
      const side = sideOf(five, limit / 3, 4);
      if (side !== 0 && Math.sign(u) === side) note('fourOfFiveBeyond1Sigma', side);
    }
    for (const [rule, n] of [['eightOnOneSide', 8], ['nineOnOneSide', 9]] as const) {
      const run = last(n);
      if (run && (run.every((v) => v > 0) || run.every((v) => v < 0))) note(rule, run[0]! > 0 ? 1 : -1);
    }
    const six = last(6);
    if (six) {
      let rising = true;
      let falling = true;
      for (let i = 1; i < six.length; i++) {
        if (!(six[i]! > six[i - 1]!)) rising = false;
        if (!(six[i]! < six[i - 1]!)) falling = false;
      }
      if (rising) note('sixTrending', 1);
      else if (falling) note('sixTrending', -1);
    }
    const fourteen = last(14);
    if (fourteen) {
      let alternating = true;
      for (let i = 2; i < fourteen.length && alternating; i++) {
        const a = fourteen[i - 1]! - fourteen[i - 2]!;
        const b = fourteen[i]! - fourteen[i - 1]!;
        if (!(a * b < 0)) alternating = false;
      }
      if (alternating) note('fourteenAlternating', 0);
    }
    const fifteen = last(15);
    if (fifteen && fifteen.every((v) => Math.abs(v) < limit / 3)) note('fifteenWithin1Sigma', 0);
    const eight = last(8);
    if (eight && eight.every((v) => Math.abs(v) > limit / 3) && eight.some((v) => v > 0) && eight.some((v) => v < 0)) note('eightBeyond1Sigma', 0);
    const side: -1 | 0 | 1 = up && !down ? 1 : down && !up ? -1 : 0;
    return { u, violations, side };
  }
}

// ---- Sensor health: flat line and gaps ------------------------------------------------------------

export interface FlatLineOptions {
  /** how long the value may stay unchanged, seconds */
  seconds: number;
  /** and in at least this many samples */
  minSamples: number;
  /** changes no larger than this count as no change (0 = exactly equal) */
  tolerance: number;
}

export interface FlatRun {
  /** the value equals the previous one (within the tolerance) */
  repeated: boolean;
  /** how long the value has stayed unchanged, seconds */
  seconds: number;
  samples: number;
  /** the run is long enough to count as a stuck sensor */
  stuck: boolean;
}

/** A sensor whose reading stops changing although fresh samples keep arriving is stuck. */
export class FlatLineDetector {
  #runValue: number | undefined;
  #runStart = 0;
  #runSamples = 0;

  constructor(public options: FlatLineOptions) {}

  update(value: number, time: number): FlatRun {
    if (this.#runValue === undefined || Math.abs(value - this.#runValue) > this.options.tolerance) {
      this.#runValue = value;
      this.#runStart = time;
      this.#runSamples = 1;
      return { repeated: false, seconds: 0, samples: 1, stuck: false };
    }
    this.#runSamples++;
    const seconds = (time - this.#runStart) / 1000;
    return { repeated: true, seconds, samples: this.#runSamples, stuck: seconds >= this.options.seconds && this.#runSamples >= this.options.minSamples };
  }

  reset(): void {
    this.#runValue = undefined;
    this.#runSamples = 0;
  }
}
