// Seeded pseudo-random numbers for simulations and analytics: the same seed always gives the same
// sequence, on every platform, so experiments and tests are reproducible. Not for cryptography.

/** Mixes a 32-bit value so that nearby inputs (seeds 1, 2, 3) give unrelated outputs (splitmix32). */
function splitmix32(state: number): number {
  let z = (state + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/** Turns any finite number into a 32-bit seed, keeping the fractional part so 1.5 and 1 differ. */
function seedBits(seed: number): number {
  if (!Number.isFinite(seed)) throw new RangeError(`seed: ${seed} is not a finite number`);
  const low = seed >>> 0;
  const high = Math.floor(seed / 4294967296) >>> 0;
  const fraction = Math.round((seed - Math.floor(seed)) * 4294967296) >>> 0;
  return (low ^ splitmix32(high) ^ splitmix32(fraction ^ 0x5bd1e995)) >>> 0;
}

const TWO_POW_32 = 4294967296;

/**
 * xoshiro128** (Blackman and Vigna): small state, fast on 32-bit integer math, good statistical
 * quality for simulation work.
 */
export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** Second value of the last Box-Muller pair, used by the next gaussian() call. */
  private spareGaussian: number | null = null;

  constructor(seed = 1) {
    let state = seedBits(seed);
    state = splitmix32(state);
    this.s0 = state;
    state = splitmix32(state);
    this.s1 = state;
    state = splitmix32(state);
    this.s2 = state;
    state = splitmix32(state);
    this.s3 = state;
    // An all-zero state would only ever produce zeros.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Uniform in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Integer uniform in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`n: ${n} must be a positive integer`);
    return Math.floor(this.next() * n);
  }

  /** Normal deviate with the given mean and standard deviation (Box-Muller, pairs cached). */
  gaussian(mean = 0, standardDeviation = 1): number {
    if (this.spareGaussian !== null) {
      const spare = this.spareGaussian;
      this.spareGaussian = null;
      return mean + standardDeviation * spare;
    }
    // 1 - next() is in (0, 1], so the logarithm is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - this.next()));
    const angle = 2 * Math.PI * this.next();
    this.spareGaussian = radius * Math.sin(angle);
    return mean + standardDeviation * radius * Math.cos(angle);
  }

  /** A generator for a sub-task, independent of this one's later draws. */
  fork(): Random {
    return new Random(this.nextUint32() + this.nextUint32() * TWO_POW_32);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * Counter-based noise: each value is a pure function of (seed, counter, channel). A simulation can
 * give every sample its own noise without a shared stream, so reading a sensor more or less often
 * never changes what other sensors or later samples report.
 */
export class CounterNoise {
  private readonly key: number;

  constructor(seed = 1) {
    this.key = splitmix32(seedBits(seed) ^ 0x2545f491);
  }

  /** Uniform in [0, 1) for this counter (e.g. a time step) and channel (e.g. a sensor). */
  uniform(counter: number, channel: number): number {
    let h = splitmix32(this.key ^ Math.imul(channel + 1, 0x27d4eb2f));
    h = splitmix32(h ^ (counter >>> 0));
    h = splitmix32(h ^ (Math.floor(counter / TWO_POW_32) >>> 0));
    return h / TWO_POW_32;
  }

  /** Standard normal deviate for this counter and channel. */
  gaussian(counter: number, channel: number): number {
    const u1 = this.uniform(counter, 2 * channel);
    const u2 = this.uniform(counter, 2 * channel + 1);
    return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }
}
