// Remaining useful life: least-squares trends (linear, exponential) on synthetic degradation with a
// known failure time, the confidence interval's coverage, model choice, gating, buckets, the window,
// snapshots and configuration errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Random } from '../../../nodes/lib/random';
import { RulConfigError, RulEstimator, crossing, fitExponential, fitLinear, rulConfig, trendAt, type Point } from '../../../nodes/lib/analytics';

const T0 = Date.UTC(2026, 10, 25);

/** Points every `step` seconds over `seconds`, from a noiseless curve plus N(0, sd). */
function points(seed: number, seconds: number, step: number, curve: (t: number) => number, sd: number): Point[] {
  const random = new Random(seed);
  const out: Point[] = [];
  for (let t = step; t <= seconds; t += step) out.push({ time: T0 + t * 1000, value: curve(t) + random.gaussian(0, sd) });
  return out;
}

describe('trend fits', () => {
  it('a straight line: parameters, crossing and an interval that covers the truth about as often as it says', () => {
    // y = 1 + 0.001 t reaches 3 at t = 2000 s; we see the first 1000 s.
    let covered = 0;
    const errors: number[] = [];
    for (let seed = 1; seed <= 40; seed++) {
      const data = points(seed, 1000, 20, (t) => 1 + 0.001 * t, 0.05);
      const origin = data.at(-1)!.time;
      const fit = fitLinear(data, origin)!;
      assert.ok(Math.abs(fit.params[1]! - 0.001) < 0.0002, `slope ${fit.params[1]}`);
      const c = crossing(fit, 3, origin, 1e6, 0.9);
      errors.push(c.seconds! - 1000);
      if (c.lower! <= 1000 && 1000 <= c.upper!) covered++;
      assert.ok(c.lower! <= c.seconds! && c.seconds! <= c.upper!);
    }
    const meanError = errors.reduce((a, b) => a + b, 0) / errors.length;
    assert.ok(Math.abs(meanError) < 60, `mean error ${meanError.toFixed(0)} s of 1000`);
    assert.ok(covered >= 30 && covered <= 40, `the 90 % interval covered the truth ${covered} times in 40`);
  });

  it('an accelerating degradation: the exponential finds the rate and the crossing', () => {
    // y = 0.1 + 0.01 exp(t / 300) reaches 0.71 at t = 300 ln(61) = 1233 s; we see 900 s.
    const truth = 300 * Math.log(61);
    const data = points(3, 900, 15, (t) => 0.1 + 0.01 * Math.exp(t / 300), 0.005);
    const origin = data.at(-1)!.time;
    const exp = fitExponential(data, origin)!;
    const lin = fitLinear(data, origin)!;
    assert.ok(Math.abs(exp.params[2]! - 1 / 300) / (1 / 300) < 0.1, `rate ${exp.params[2]}`);
    assert.ok(exp.aicc < lin.aicc, 'the exponential explains the data better, for its extra parameter');
    const c = crossing(exp, 0.71, origin, 1e6, 0.9);
    assert.ok(Math.abs(c.seconds! - (truth - 900)) < 40, `RUL ${c.seconds} vs ${truth - 900}`);
    assert.ok(c.lower! < truth - 900 && truth - 900 < c.upper!);
    const straight = crossing(lin, 0.71, origin, 1e6, 0.9);
    assert.ok(straight.seconds! > 2 * (truth - 900), 'a straight line misses the acceleration and promises far too much');
    assert.ok(Math.abs(trendAt(exp, origin).mean - (0.1 + 0.01 * Math.exp(3))) < 0.01);
  });

  it('a falling indicator crosses downwards; a flat one never does', () => {
    const data = points(4, 600, 10, (t) => 100 - 0.05 * t, 0.2);
    const origin = data.at(-1)!.time;
    const fit = fitLinear(data, origin)!;
    const c = crossing(fit, 50, origin, 1e6, 0.9, false);
    assert.ok(Math.abs(c.seconds! - 400) < 30, `RUL ${c.seconds}`);
    const flat = points(5, 600, 10, () => 1, 0.01);
    const none = crossing(fitLinear(flat, flat.at(-1)!.time)!, 2, flat.at(-1)!.time, 3600, 0.9);
    assert.equal(none.seconds, undefined);
    assert.equal(none.upper, undefined);
  });
});

describe('RUL estimator', () => {
  const base = { indicator: 'vib', gate: { topic: 'speed', min: 1000 }, bucketSeconds: 10, windowSeconds: 3600, minBuckets: 6 };

  /** Feeds one sample a second: the speed alternates 60 s running / 60 s stopped; vib follows `curve` while running. */
  function feed(estimator: RulEstimator, seed: number, from: number, to: number, curve: (t: number) => number) {
    const random = new Random(seed);
    for (let t = from; t < to; t++) {
      const running = Math.floor(t / 60) % 2 === 0;
      const time = T0 + t * 1000;
      estimator.add('speed', running ? 8000 : 0, time);
      // Stopped, the indicator reads low (no load): the gate keeps those samples out.
      estimator.add('vib', running ? curve(t) + random.gaussian(0, 0.01) : 0.02, time);
    }
  }

  it('buckets only gated samples, keeps the window, and estimates an exponential wear', () => {
    const rul = new RulEstimator(rulConfig({ ...base, windowSeconds: 1200 }));
    const curve = (t: number) => 0.1 + 0.01 * Math.exp(t / 400);
    feed(rul, 6, 0, 2000, curve);
    for (const b of rul.buckets()) assert.ok(b.value > 0.08, 'no stopped sample in any bucket');
    assert.ok(rul.buckets()[0]!.time > T0 + (2000 - 1200) * 1000, 'buckets older than the window are gone');
    const e = rul.estimate(0.71);
    // 0.1 + 0.01 exp(t/400) = 0.71 at t = 400 ln(61) = 1644 s: already passed at 2000 s.
    assert.equal(e.status, 'failed');
    assert.equal(e.rulSeconds, 0);

    const early = new RulEstimator(rulConfig(base));
    feed(early, 7, 0, 1200, curve);
    const estimate = early.estimate(0.71);
    assert.equal(estimate.status, 'estimate');
    assert.equal(estimate.model, 'exponential');
    const truth = 400 * Math.log(61) - estimate.time / 1000 + T0 / 1000;
    assert.ok(Math.abs(estimate.rulSeconds! - truth) < 0.25 * truth, `RUL ${estimate.rulSeconds!.toFixed(0)} vs ${truth.toFixed(0)}`);
    assert.ok(estimate.lowerSeconds! <= estimate.rulSeconds! && estimate.rulSeconds! <= (estimate.upperSeconds ?? Infinity));
    assert.equal(estimate.threshold, 0.71);
    assert.equal(estimate.confidence, 0.9);
  });

  it('says what it cannot say: no threshold, too few buckets, no degradation', () => {
    const rul = new RulEstimator(rulConfig(base));
    feed(rul, 8, 0, 60, () => 0.1);
    assert.equal(rul.estimate(undefined).status, 'no-threshold');
    assert.equal(rul.estimate(0.71).status, 'learning');
    feed(rul, 8, 60, 3000, () => 0.1);
    const flat = rul.estimate(0.71);
    assert.ok(flat.status === 'beyond-horizon' || (flat.status === 'estimate' && flat.rulSeconds! > 1e5), `${flat.status} ${flat.rulSeconds}`);
  });

  it('a threshold by message overrides the given one and survives a snapshot', () => {
    const rul = new RulEstimator(rulConfig(base));
    feed(rul, 9, 0, 1000, (t) => 0.1 + 0.0002 * t);
    rul.setThreshold(0.5);
    assert.equal(rul.estimate(0.71).threshold, 0.5);
    const copy = new RulEstimator(rulConfig(base), JSON.parse(JSON.stringify(rul.snapshot())));
    assert.deepEqual(copy.buckets(), rul.buckets());
    assert.deepEqual(copy.estimate(0.71), rul.estimate(0.71));
    assert.throws(() => new RulEstimator(rulConfig(base), { version: 1, buckets: [{ time: 'x' }] } as never), /every bucket needs a time and a value/);
  });

  it('drops thin buckets and late samples', () => {
    const rul = new RulEstimator(rulConfig({ ...base, gate: undefined, minBucketSamples: 5 }));
    for (let t = 0; t < 100; t += 3) rul.add('vib', 1, T0 + t * 1000);
    assert.equal(rul.bucketCount, 0, 'four samples per 10 s bucket are too few');
    const dense = new RulEstimator(rulConfig({ ...base, gate: undefined }));
    for (let t = 0; t < 25; t++) dense.add('vib', t < 10 ? 1 : 2, T0 + t * 1000);
    dense.add('vib', 100, T0 + 5_000);
    assert.deepEqual(dense.buckets().map((b) => b.value), [1, 2], 'a sample older than the newest is ignored');
  });

  it('configuration errors name the field', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{}, /indicator: the topic/],
      [{ indicator: 'v', model: 'cubic' }, /model: "cubic" must be auto, linear or exponential/],
      [{ indicator: 'v', direction: 'sideways' }, /direction/],
      [{ indicator: 'v', gate: { topic: 's' } }, /gate: give a minimum, a maximum or both/],
      [{ indicator: 'v', gate: { topic: 's', min: 5, max: 1 } }, /gate\.min: 5 is above gate\.max 1/],
      [{ indicator: 'v', bucketSeconds: 60, windowSeconds: 100 }, /windowSeconds: 100 must hold at least three buckets/],
      [{ indicator: 'v', confidence: 1 }, /confidence: 1 is above the maximum 0\.999/],
      [{ indicator: 'v', bucketSeconds: 'often' }, /bucketSeconds: "often" is not a number/],
    ];
    for (const [raw, pattern] of bad) assert.throws(() => rulConfig(raw), (err: Error) => err instanceof RulConfigError && pattern.test(err.message), JSON.stringify(raw));
  });
});
