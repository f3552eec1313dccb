// The streaming detectors on synthetic series with known change points: how soon they signal after
// the change, that they stay quiet on stationary noise, and the run rules one by one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Random } from '../../../nodes/lib/random';
import {
  CusumDetector, EwmaDetector, FlatLineDetector, NELSON_RULES, SpcChart, WESTERN_ELECTRIC_RULES,
  RunningCovariance, RunningStats, chiSquareToZ, cholesky, choleskySolve, normalQuantile, regressLast, studentTQuantile, zToChiSquare,
  type SpcRule,
} from '../../../nodes/lib/analytics';

/** N(0,1) noise, plus `shift` from index `at` on. */
function series(seed: number, length: number, at = Number.POSITIVE_INFINITY, shift = 0): number[] {
  const random = new Random(seed);
  return Array.from({ length }, (_, i) => random.gaussian() + (i >= at ? shift : 0));
}

function firstSignal(values: number[], update: (z: number) => number): number | undefined {
  for (let i = 0; i < values.length; i++) if (update(values[i]!) !== 0) return i;
  return undefined;
}

describe('numerical helpers', () => {
  it('normal and t quantiles match tables', () => {
    assert.ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-5);
    assert.ok(Math.abs(normalQuantile(0.00135) + 3.0) < 1e-3);
    assert.ok(Math.abs(normalQuantile(0.5)) < 1e-12);
    assert.ok(Math.abs(studentTQuantile(0.975, 10) - 2.228) < 5e-3);
    assert.ok(Math.abs(studentTQuantile(0.975, 30) - 2.042) < 2e-3);
    assert.throws(() => normalQuantile(1), /between 0 and 1/);
  });

  it('maps chi-square values to z-scores and back', () => {
    // Wilson-Hilferty: the 99.73 % point of chi-square(3) is 14.16; it should score about +2.78.
    const z = chiSquareToZ(14.16, 3);
    assert.ok(Math.abs(z - normalQuantile(0.9973)) < 0.05, `z ${z}`);
    for (const v of [0.5, 3, 10, 40]) assert.ok(Math.abs(zToChiSquare(chiSquareToZ(v, 4), 4) - v) < 1e-9);
  });

  it('solves a symmetric positive definite system and refuses a singular one', () => {
    const a = [4, 2, 0.6, 2, 5, 1, 0.6, 1, 3];
    const l = cholesky(a, 3)!;
    const x = choleskySolve(l, 3, [1, 2, 3]);
    const back = [0, 1, 2].map((i) => a[i * 3]! * x[0]! + a[i * 3 + 1]! * x[1]! + a[i * 3 + 2]! * x[2]!);
    back.forEach((v, i) => assert.ok(Math.abs(v - (i + 1)) < 1e-12));
    assert.equal(cholesky([1, 1, 1, 1], 2), undefined);
  });

  it('recovers a linear relation and its noise from running moments', () => {
    const random = new Random(3);
    const cov = new RunningCovariance(3);
    for (let i = 0; i < 5000; i++) {
      const a = random.uniform(0, 10);
      const b = random.uniform(-5, 5);
      cov.push([a, b, 1.5 + 0.3 * a - 2 * b + random.gaussian(0, 0.1)]);
    }
    const fit = regressLast(cov)!;
    assert.ok(Math.abs(fit.intercept - 1.5) < 0.01);
    assert.ok(Math.abs(fit.coefficients[0]! - 0.3) < 0.002);
    assert.ok(Math.abs(fit.coefficients[1]! + 2) < 0.002);
    assert.ok(Math.abs(fit.residualSd - 0.1) < 0.005);
    const stats = new RunningStats();
    for (const v of [2, 4, 4, 4, 5, 5, 7, 9]) stats.push(v);
    assert.equal(stats.mean, 5);
    assert.ok(Math.abs(stats.variance - 32 / 7) < 1e-12);
  });
});

describe('EWMA detector', () => {
  const options = { lambda: 0.1, limit: 3, warmup: 10, direction: 'both' as const };

  it('signals a one-sigma shift soon after the change point, and not before it', () => {
    const delays: number[] = [];
    for (let seed = 1; seed <= 20; seed++) {
      const values = series(seed, 2000, 1000, 1);
      const ewma = new EwmaDetector({ ...options, limit: 4 });
      const first = firstSignal(values, (z) => ewma.update(z).signal);
      assert.ok(first !== undefined && first >= 1000, `seed ${seed}: first signal at ${first} (change at 1000)`);
      delays.push(first - 1000);
    }
    // For lambda 0.1 and L 4 the run length after a 1-sigma shift averages about 20 samples.
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    assert.ok(mean > 5 && mean < 40, `mean delay ${mean}`);
  });

  it('stays quiet on stationary noise with a wide limit, and never during the warm-up', () => {
    const ewma = new EwmaDetector({ ...options, limit: 4.5 });
    assert.equal(firstSignal(series(7, 20_000), (z) => ewma.update(z).signal), undefined);
    const warm = new EwmaDetector({ ...options, warmup: 10 });
    for (let i = 0; i < 10; i++) assert.equal(warm.update(50).signal, 0, 'no signal during the warm-up');
    assert.equal(warm.update(50).signal, 1);
  });

  it('uses the exact, narrower limits for the first values', () => {
    const ewma = new EwmaDetector(options);
    const first = ewma.update(0).limit;
    for (let i = 0; i < 200; i++) ewma.update(0);
    const settled = ewma.update(0).limit;
    assert.ok(Math.abs(first - 3 * 0.1) < 1e-12, 'the first value: L * lambda');
    assert.ok(Math.abs(settled - 3 * EwmaDetector.nominalSd(0.1)) < 1e-9);
  });

  it('watches one side only when told', () => {
    const up = new EwmaDetector({ ...options, direction: 'up' });
    assert.equal(firstSignal(series(2, 1000, 100, -3), (z) => up.update(z).signal), undefined);
    const down = new EwmaDetector({ ...options, direction: 'down' });
    assert.equal(down.update(-40).signal, 0);
    for (let i = 0; i < 10; i++) down.update(-40);
    assert.equal(down.update(-40).signal, -1);
  });
});

describe('CUSUM detector', () => {
  it('finds a slow drift that a Shewhart limit would miss for a long time', () => {
    // The mean creeps up by 0.002 sigma per sample from index 1000: after 500 samples it is only 1 sigma.
    const random = new Random(11);
    const values = Array.from({ length: 4000 }, (_, i) => random.gaussian() + (i >= 1000 ? 0.002 * (i - 1000) : 0));
    const cusum = new CusumDetector({ k: 0.5, h: 8, direction: 'both' });
    const first = firstSignal(values, (z) => cusum.update(z).signal);
    assert.ok(first !== undefined && first > 1000 && first < 1700, `first CUSUM signal at ${first}`);
    const shewhart = values.findIndex((v, i) => i >= 1000 && Math.abs(v) > 4);
    assert.ok(shewhart === -1 || shewhart > first, 'a 4-sigma limit on single values signals later, if at all');
  });

  it('stays quiet on stationary noise, keeps signalling while the shift lasts, and ignores the other side', () => {
    const quiet = new CusumDetector({ k: 0.5, h: 12, direction: 'both' });
    assert.equal(firstSignal(series(5, 50_000), (z) => quiet.update(z).signal), undefined);
    const up = new CusumDetector({ k: 0.5, h: 5, direction: 'up' });
    const values = series(6, 600, 100, 2);
    const first = firstSignal(values, (z) => up.update(z).signal)!;
    assert.ok(first > 100 && first < 120);
    let signalling = 0;
    for (let i = 0; i < 100; i++) if (up.update(2 + (i % 2 ? 0.5 : -0.5)).signal === 1) signalling++;
    assert.equal(signalling, 100, 'the sums are not reset on a signal');
    const onlyUp = new CusumDetector({ k: 0.5, h: 5, direction: 'up' });
    assert.equal(firstSignal(series(6, 600, 100, -2), (z) => onlyUp.update(z).signal), undefined);
  });
});

describe('SPC chart with run rules', () => {
  const chart = (rules: readonly SpcRule[] = NELSON_RULES, direction: 'both' | 'up' | 'down' = 'both') =>
    new SpcChart({ subgroupSize: 1, rules: [...rules], sigmaLimit: 3, direction });

  /** Feeds points (in sigma of the subgroup mean) and returns the violations of the last one. */
  function last(points: number[], c = chart()): SpcRule[] {
    let out: SpcRule[] = [];
    for (const p of points) out = c.update(p)!.violations;
    return out;
  }

  it('finds each Western Electric and Nelson pattern in the point that completes it', () => {
    assert.deepEqual(last([0.1, -0.2, 3.2]), ['beyond3Sigma']);
    assert.ok(last([0.1, 2.2, 0.5, 2.4]).includes('twoOfThreeBeyond2Sigma'));
    assert.ok(last([0.1, 1.2, 1.5, 0.2, 1.1, 1.3]).includes('fourOfFiveBeyond1Sigma'));
    assert.ok(last([-0.5, 0.2, 0.3, 0.1, 0.4, 0.2, 0.3, 0.5, 0.1, 0.2]).includes('nineOnOneSide'));
    assert.ok(last([0.2, 0.3, 0.1, 0.4, 0.2, 0.3, 0.5, 0.1], chart(WESTERN_ELECTRIC_RULES)).includes('eightOnOneSide'));
    assert.ok(last([0, -1, -0.8, -0.5, 0, 0.4, 0.9]).includes('sixTrending'));
    assert.ok(last(Array.from({ length: 14 }, (_, i) => (i % 2 ? 0.5 : -0.5))).includes('fourteenAlternating'));
    assert.ok(last(Array.from({ length: 15 }, (_, i) => (i % 3) * 0.2 - 0.2)).includes('fifteenWithin1Sigma'));
    assert.ok(last([1.5, -1.4, 1.2, -2, 1.8, -1.1, 1.3, -1.6]).includes('eightBeyond1Sigma'));
  });

  it('does not fire on the near misses', () => {
    assert.deepEqual(last([2.9]), []);
    assert.ok(!last([2.2, 0.5, -2.4]).includes('twoOfThreeBeyond2Sigma'), 'two beyond 2 sigma on opposite sides');
    assert.ok(!last([0.2, 0.3, 0.1, 0.4, -0.2, 0.3, 0.5, 0.1, 0.2]).includes('nineOnOneSide'));
    assert.ok(!last([0, -1, -0.8, -0.5, 0, -0.1, 0.9]).includes('sixTrending'));
    assert.ok(!last([-1, -0.8, -0.5, 0, 0.4]).includes('sixTrending'), 'five rising points are not six');
    assert.ok(!last(Array.from({ length: 14 }, (_, i) => (i % 2 ? 0.5 : -0.5)).map((v, i) => (i === 7 ? -0.6 : v))).includes('fourteenAlternating'));
  });

  it('reports only the side it watches', () => {
    assert.deepEqual(last([-3.5], chart(NELSON_RULES, 'up')), []);
    assert.deepEqual(last([3.5], chart(NELSON_RULES, 'up')), ['beyond3Sigma']);
    assert.deepEqual(last(Array.from({ length: 14 }, (_, i) => (i % 2 ? 0.5 : -0.5)), chart(NELSON_RULES, 'up')), [], 'sideless rules say nothing to a one-sided chart');
  });

  it('averages subgroups and scales by the subgroup sigma', () => {
    const c = new SpcChart({ subgroupSize: 4, rules: ['beyond3Sigma'], sigmaLimit: 3, direction: 'both' }, 2);
    assert.equal(c.update(1), undefined);
    assert.equal(c.update(2), undefined);
    assert.equal(c.update(3), undefined);
    const point = c.update(4)!;
    // mean 2.5, sigma of the mean 2 / sqrt(4) = 1
    assert.equal(point.u, 2.5);
    assert.deepEqual(point.violations, []);
  });

  it('false alarm rate on white noise is what the rules promise (Western Electric: about 1 in 92 points)', () => {
    const c = chart(WESTERN_ELECTRIC_RULES);
    const values = series(21, 200_000);
    let signals = 0;
    for (const v of values) if (c.update(v)!.violations.length > 0) signals++;
    const arl = values.length / signals;
    assert.ok(arl > 60 && arl < 130, `in-control average run length ${arl.toFixed(0)}`);
  });
});

describe('flat-line detector', () => {
  it('counts a value that stops changing as stuck after the time and the number of samples', () => {
    const flat = new FlatLineDetector({ seconds: 10, minSamples: 5, tolerance: 0 });
    assert.equal(flat.update(1.23, 0).stuck, false);
    assert.equal(flat.update(1.24, 1000).repeated, false);
    let stuckAt: number | undefined;
    for (let t = 2; t < 30; t++) if (flat.update(1.24, t * 1000).stuck && stuckAt === undefined) stuckAt = t;
    assert.equal(stuckAt, 11, 'ten seconds after the value last changed (at 1 s)');
    assert.equal(flat.update(1.25, 31_000).stuck, false, 'a change ends the run');
  });

  it('needs the samples as well as the time, and honours the tolerance', () => {
    const sparse = new FlatLineDetector({ seconds: 10, minSamples: 5, tolerance: 0 });
    sparse.update(5, 0);
    assert.equal(sparse.update(5, 60_000).stuck, false, 'two samples a minute apart prove little');
    const tolerant = new FlatLineDetector({ seconds: 3, minSamples: 2, tolerance: 0.01 });
    tolerant.update(5, 0);
    tolerant.update(5.005, 1000);
    tolerant.update(4.996, 2000);
    assert.equal(tolerant.update(5.001, 3000).stuck, true);
  });
});
