// The anomaly engine on synthetic machines with known change points: regime baselines with
// covariates, quiet on stationary operation, detection after the change, the multivariate detector
// on a broken correlation, flat lines, gaps, ISA-18.2 states, snapshots and relearning.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Random } from '../../../nodes/lib/random';
import { AnomalyConfigError, AnomalyEngine, anomalyConfig, type EngineSample, type EngineOutput } from '../../../nodes/lib/analytics';
import type { Alert } from '../../../nodes/lib/messages';

const T0 = Date.UTC(2026, 10, 25);

interface MachineOptions {
  seed: number;
  /** change point: from this second on, y is offset by `shift` while the regime is 100 */
  changeAt?: number;
  shift?: number;
  /** from this second on, y stops changing */
  stuckAt?: number;
  /** seconds during which y sends nothing */
  silent?: [number, number];
}

/**
 * A machine that alternates between standstill (regime 0, y rests near 1) and work (regime 100,
 * y = 2 + 0.5 x with x the load, which wanders), one sample a second.
 */
function machine(options: MachineOptions) {
  const random = new Random(options.seed);
  let x = 5;
  let stuckValue: number | undefined;
  return (second: number): EngineSample[] => {
    const time = T0 + second * 1000;
    const working = Math.floor(second / 300) % 2 === 1;
    x = working ? Math.min(10, Math.max(0, x + random.gaussian(0, 0.5))) : 0;
    let y = working ? 2 + 0.5 * x + random.gaussian(0, 0.1) : 1 + random.gaussian(0, 0.05);
    if (options.changeAt !== undefined && second >= options.changeAt && working) y += options.shift ?? 0;
    if (options.stuckAt !== undefined && second >= options.stuckAt) y = stuckValue ??= y;
    const samples: EngineSample[] = [
      { topic: 'setpoint', value: working ? 100 : 0, time, quality: 'good' },
      { topic: 'x', value: x, time, quality: 'good' },
    ];
    if (!options.silent || second < options.silent[0] || second >= options.silent[1]) samples.push({ topic: 'y', value: y, time, quality: 'good' });
    return samples;
  };
}

const baseConfig = {
  source: 'test',
  signals: [{ topic: 'y', covariates: ['x'] }],
  regime: { topic: 'setpoint', binWidth: 50, settleSeconds: 5 },
  training: { seconds: 3600 },
};

function run(engine: AnomalyEngine, feed: (second: number) => EngineSample[], from: number, to: number, out: { at: number; alert: Alert }[] = []) {
  const chart: EngineOutput['chart'] = [];
  for (let s = from; s < to; s++) {
    const o = engine.ingest(feed(s));
    for (const alert of o.alerts) out.push({ at: s, alert });
    chart.push(...o.chart);
  }
  return { alerts: out, chart };
}

const raised = (alerts: { at: number; alert: Alert }[]) => alerts.filter((a) => a.alert.state === 'active-unacked');

describe('anomaly engine: baseline and detection', () => {
  it('learns per regime, with the covariate, then stays quiet through six hours of normal operation', () => {
    const engine = new AnomalyEngine(anomalyConfig(baseConfig));
    const feed = machine({ seed: 1 });
    run(engine, feed, 0, 3600);
    assert.equal(engine.phase, 'training', 'the window is not over before its last second');
    run(engine, feed, 3600, 3601);
    assert.equal(engine.phase, 'monitoring');
    const fit = engine.baseline!.channels.y!;
    assert.equal(fit.kind, 'univariate');
    if (fit.kind !== 'univariate') return;
    assert.deepEqual(Object.keys(fit.regimes).sort(), ['0', '2']);
    assert.ok(Math.abs(fit.regimes['2']!.coefficients[0]! - 0.5) < 0.02, 'y follows x with slope 0.5 at work');
    assert.ok(Math.abs(fit.regimes['2']!.residualSd - 0.1) < 0.01);
    assert.ok(Math.abs(fit.regimes['0']!.intercept - 1) < 0.01);
    const { alerts } = run(engine, feed, 3601, 3601 + 6 * 3600);
    assert.deepEqual(raised(alerts).map((a) => `${a.at} ${a.alert.id}`), [], 'no alarm on stationary operation');
    const status = engine.status();
    assert.ok(status.scored > 15_000 && status.unscored > 0, 'samples in the settling time after a regime change are not scored');
  });

  it('raises an alarm soon after a known change point, and never before it', () => {
    const changeAt = 3600 + 2 * 3600 + 300 + 17; // inside a working period
    for (const seed of [1, 2, 3]) {
      const engine = new AnomalyEngine(anomalyConfig(baseConfig));
      const { alerts } = run(engine, machine({ seed, changeAt, shift: 0.2 }), 0, changeAt + 600);
      const first = raised(alerts)[0];
      assert.ok(first, `seed ${seed}: a two-sigma shift is detected`);
      assert.ok(first.at >= changeAt, `seed ${seed}: no alarm before the change (first at ${first.at})`);
      // EWMA with lambda 0.05 needs tens of samples for two sigma, then the 30 s on-delay.
      assert.ok(first.at - changeAt < 150, `seed ${seed}: detected ${first.at - changeAt} s after the change`);
      assert.equal(first.alert.severity, 'high');
      assert.match(first.alert.message, /^y: .*expected/);
    }
  });

  it('the covariate takes the load\'s variation out of the residual: the same shift is found sooner', () => {
    const changeAt = 3600 + 1500 + 17; // inside a working period (5100-5400)
    const engine = new AnomalyEngine(anomalyConfig(baseConfig));
    // The same machine, judged without the covariate: the load's wandering is then noise of sd ~1.4.
    const plain = new AnomalyEngine(anomalyConfig({ ...baseConfig, signals: [{ topic: 'y' }] }));
    const a = raised(run(engine, machine({ seed: 4, changeAt, shift: 0.3 }), 0, changeAt + 900).alerts)[0];
    const b = raised(run(plain, machine({ seed: 4, changeAt, shift: 0.3 }), 0, changeAt + 900).alerts)[0];
    assert.ok(a && a.at >= changeAt && a.at - changeAt < 150, `with the covariate: ${a?.at} (change at ${changeAt})`);
    assert.ok(!b || b.at - changeAt > 3 * (a.at - changeAt), `without it: ${b?.at}`);
    const fit = plain.baseline!.channels.y!;
    assert.ok(fit.kind === 'univariate' && fit.regimes['2']!.residualSd > 1, 'without the covariate the residual is the load\'s spread');
  });

  it('chart points carry the value, the expected centre line and the limits in the signal\'s units', () => {
    const engine = new AnomalyEngine(anomalyConfig({ ...baseConfig, spc: { subgroupSize: 5 } }));
    const { chart } = run(engine, machine({ seed: 5 }), 0, 3600 + 1200);
    assert.ok(chart.length > 100);
    const working = chart.filter((p) => p.centre > 2);
    assert.ok(working.length > 10);
    for (const p of chart) {
      assert.equal(p.channel, 'y');
      assert.ok(p.lower < p.centre && p.centre < p.upper);
      assert.ok(p.time > T0 + 3600_000);
    }
    const inside = chart.filter((p) => p.value >= p.lower && p.value <= p.upper).length;
    assert.ok(inside / chart.length > 0.98, `${inside} of ${chart.length} points within their limits`);
    const score = new AnomalyEngine(anomalyConfig({ ...baseConfig, chart: 'score' }));
    const scored = run(score, machine({ seed: 5 }), 0, 3600 + 600).chart;
    assert.ok(scored.every((p) => p.centre === 0 && p.upper === 3 && p.lower === -3));
  });
});

describe('anomaly engine: multivariate detector', () => {
  const config = {
    source: 'test',
    signals: [{ topic: 'a', detectors: ['ewma', 'cusum', 'spc'] }, { topic: 'b', detectors: ['ewma', 'cusum', 'spc'] }],
    multivariate: [{ name: 'pair', topics: ['a', 'b'] }],
    training: { seconds: 1800 },
  };

  /** a ~ N(10, 1) drifting slowly; b follows a closely, until `breakAt`, when it mirrors it. */
  function pair(seed: number, breakAt: number) {
    const random = new Random(seed);
    return (second: number): EngineSample[] => {
      const time = T0 + second * 1000;
      const a = 10 + random.gaussian(0, 1);
      const b = second < breakAt ? a + random.gaussian(0, 0.1) : 20 - a + random.gaussian(0, 0.1);
      return [{ topic: 'a', value: a, time, quality: 'good' }, { topic: 'b', value: b, time, quality: 'good' }];
    };
  }

  it('catches a broken correlation that no single signal shows', () => {
    const engine = new AnomalyEngine(anomalyConfig(config));
    const { alerts } = run(engine, pair(8, 4000), 0, 5000);
    const ids = new Set(raised(alerts).map((a) => a.alert.id));
    assert.ok([...ids].some((id) => id.startsWith('pair:')), `the multivariate channel alarms (${[...ids].join(', ')})`);
    assert.ok(![...ids].some((id) => id.startsWith('a:') || id.startsWith('b:')), 'each signal alone stays within its baseline');
    const first = raised(alerts).find((a) => a.alert.id.startsWith('pair:'))!;
    assert.ok(first.at >= 4000 && first.at < 4100, `found ${first.at - 4000} s after the break`);
    assert.match(first.alert.message, /T² .* of a, b/);
  });
});

describe('anomaly engine: sensor health', () => {
  it('a stuck sensor raises a flat-line alarm, while a signal that rests in a regime is left alone', () => {
    const restingConfig = { ...baseConfig, signals: [{ topic: 'y', covariates: ['x'] }, { topic: 'x' }] };
    const engine = new AnomalyEngine(anomalyConfig(restingConfig));
    // x is exactly 0 at standstill: that regime must not count as stuck.
    const quiet = run(engine, machine({ seed: 6 }), 0, 3600 + 3600);
    assert.deepEqual(raised(quiet.alerts).map((a) => a.alert.id), []);
    assert.deepEqual(engine.baseline!.topics.x!.restingRegimes, [0]);
    const stuck = run(engine, machine({ seed: 6, stuckAt: 7200 + 310 }), 7200, 7200 + 400);
    const flat = raised(stuck.alerts).find((a) => a.alert.id === 'y:flatline');
    assert.ok(flat, 'y stuck while it should move');
    assert.ok(flat.at - 7510 >= 30 && flat.at - 7510 < 40, `after the 30 s flat-line time (${flat.at - 7510} s)`);
    assert.equal(flat.alert.severity, 'medium');
    assert.match(flat.alert.message, /stuck at/);
  });

  it('a dropout raises a gap alarm from the other signals\' times, from tick(), and from bad quality; it returns when samples do', () => {
    const engine = new AnomalyEngine(anomalyConfig({ ...baseConfig, signals: [{ topic: 'y', covariates: ['x'] }, { topic: 'x' }] }));
    const { alerts } = run(engine, machine({ seed: 7, silent: [5000, 5100] }), 0, 5200);
    const gap = alerts.filter((a) => a.alert.id === 'y:gap');
    assert.deepEqual(gap.map((a) => a.alert.state), ['active-unacked', 'rtn-unacked']);
    assert.equal(gap[0]!.at, 5000 + 10, 'ten typical intervals of silence');
    assert.equal(gap[1]!.at, 5100);
    assert.match(gap[0]!.alert.message, /no sample for 11 s/);

    // Everything silent: only the clock (a timer in the node) can tell.
    const out = engine.tick(T0 + 5200 * 1000 + 30_000);
    assert.deepEqual(out.alerts.map((a) => `${a.id} ${a.state}`).sort(), ['x:gap active-unacked', 'y:gap active-unacked']);

    // Bad quality says so at once.
    const fresh = engine.ingest([{ topic: 'x', value: 1, time: T0 + 5231_000, quality: 'good' }, { topic: 'y', value: null, time: T0 + 5231_000, quality: 'bad' }]);
    assert.deepEqual(fresh.alerts.map((a) => `${a.id} ${a.state}`), ['x:gap rtn-unacked'], 'x is back; y stays in its gap');
    assert.match(engine.alarms().find((a) => a.id === 'y:gap')!.message, /no sample|bad quality/);
  });
});

describe('anomaly engine: alarms, snapshots, relearning', () => {
  function trained(seed = 9): AnomalyEngine {
    const engine = new AnomalyEngine(anomalyConfig(baseConfig));
    run(engine, machine({ seed }), 0, 3700);
    assert.equal(engine.phase, 'monitoring');
    return engine;
  }

  it('restores the baseline from a snapshot and scores exactly as before', () => {
    const engine = trained();
    const snapshot = JSON.parse(JSON.stringify(engine.snapshot()));
    const restored = new AnomalyEngine(anomalyConfig(baseConfig), snapshot);
    assert.equal(restored.phase, 'monitoring');
    assert.equal(restored.restoredBaseline, true);
    assert.deepEqual(restored.baseline, engine.baseline);
    // Both detect the same shift; the restored one only lacks the last regime change (it waits for one to settle).
    const a = raised(run(engine, machine({ seed: 10, changeAt: 4000, shift: 0.3 }), 3700, 5000).alerts)[0];
    const b = raised(run(restored, machine({ seed: 10, changeAt: 4000, shift: 0.3 }), 3700, 5000).alerts)[0];
    assert.ok(a && b && a.at >= 4000 && b.at >= 4000 && a.at < 4150);
    assert.equal(b.alert.id, a.alert.id);
    assert.ok(Math.abs(b.at - a.at) <= 15, `original ${a.at}, restored ${b.at}`);
  });

  it('ignores a snapshot of another configuration and learns afresh', () => {
    const snapshot = trained().snapshot();
    const other = new AnomalyEngine(anomalyConfig({ ...baseConfig, regime: { ...baseConfig.regime, binWidth: 25 } }), snapshot);
    assert.equal(other.phase, 'training');
    assert.equal(other.restoredBaseline, false);
  });

  it('keeps ISA-18.2 states across a snapshot: acknowledged stays acknowledged, and clears when the condition does', () => {
    const engine = trained(11);
    const { alerts } = run(engine, machine({ seed: 11, changeAt: 4000, shift: 0.4 }), 3700, 4300);
    const id = raised(alerts)[0]!.alert.id;
    const acked = engine.alarmAction({ action: 'acknowledge', id, by: 'operator' });
    assert.deepEqual(acked.map((a) => a.state), ['active-acked']);
    const restored = new AnomalyEngine(anomalyConfig(baseConfig), JSON.parse(JSON.stringify(engine.snapshot())));
    assert.equal(restored.alarms().find((a) => a.id === id)?.state, 'active-acked');
    // The shift ends: the condition clears after the off-delay and the acknowledged alarm returns to normal.
    const after = run(restored, machine({ seed: 12 }), 4300, 6500);
    assert.ok(after.alerts.some((a) => a.alert.id === id && a.alert.state === 'normal'), 'the alarm returned to normal');
  });

  it('shelves by operator action and comes back when the shelving ends', () => {
    const engine = trained(13);
    const feed = machine({ seed: 13, changeAt: 3900, shift: 0.4 });
    let second = 3700;
    let first: { at: number; alert: Alert } | undefined;
    while (!first && second < 4100) first = raised(run(engine, feed, second, ++second).alerts)[0];
    assert.ok(first, 'raised while the machine works (3900-4200)');
    const shelved = engine.alarmAction({ action: 'shelve', id: first.alert.id, until: engine.now + 20_000, by: 'operator' });
    assert.equal(shelved[0]!.state, 'shelved');
    assert.equal(engine.alarms().find((a) => a.id === first.alert.id)?.state, 'shelved');
    const later = run(engine, feed, second, second + 25);
    const back = later.alerts.find((a) => a.alert.id === first.alert.id);
    assert.equal(back?.alert.state, 'active-unacked', 'unshelved when the time is up, with the condition present');
    assert.equal(back!.at, second - 1 + 20, 'twenty seconds after the last sample before shelving');
  });

  it('relearns on request: back to training, active alarms return to normal conditions', () => {
    const engine = trained(14);
    const { alerts } = run(engine, machine({ seed: 14, changeAt: 4000, shift: 0.4 }), 3700, 4300);
    assert.ok(raised(alerts).length > 0);
    const out = engine.relearn();
    assert.equal(engine.phase, 'training');
    assert.ok(out.alerts.length > 0 && out.alerts.every((a) => a.state === 'rtn-unacked'));
    assert.match(out.alerts[0]!.message, /learned again/);
    // The new normal (shifted) is learned and judged normal.
    const next = run(engine, machine({ seed: 14, changeAt: 0, shift: 0.4 }), 4300, 4300 + 3600 + 1800);
    assert.equal(engine.phase, 'monitoring');
    assert.deepEqual(raised(next.alerts), []);
  });

  it('says which channels got no baseline, and why', () => {
    const engine = new AnomalyEngine(anomalyConfig({ ...baseConfig, signals: [{ topic: 'y', covariates: ['x'] }, { topic: 'never' }] }));
    run(engine, machine({ seed: 15 }), 0, 3700);
    assert.match(engine.baseline!.unlearned.never!, /no training samples/);
    assert.deepEqual(engine.status().unlearned, ['never']);
  });
});

describe('anomaly configuration', () => {
  it('fills in defaults and names the field of each mistake', () => {
    const c = anomalyConfig({ signals: [{ topic: 'a', covariates: 'b, c' }] });
    assert.deepEqual(c.signals[0]!.covariates, ['b', 'c']);
    assert.deepEqual(c.signals[0]!.detectors, ['ewma', 'cusum', 'spc', 'flatline', 'gap']);
    assert.equal(c.ewma.lambda, 0.05);
    const bad: [unknown, RegExp][] = [
      [{ signals: [] }, /signals: watch at least one/],
      [{ signals: [{ topic: '' }] }, /signals\[0\]\.topic/],
      [{ signals: [{ topic: 'a', covariates: ['a'] }] }, /cannot explain itself/],
      [{ signals: [{ topic: 'a' }, { topic: 'a' }] }, /listed twice/],
      [{ signals: [{ topic: 'a', direction: 'sideways' }] }, /signals\[0\]\.direction/],
      [{ signals: [{ topic: 'a', detectors: ['magic'] }] }, /signals\[0\]\.detectors\[0\]/],
      [{ signals: [{ topic: 'a' }], ewma: { lambda: 0 } }, /ewma\.lambda: 0 must be above 0/],
      [{ signals: [{ topic: 'a' }], ewma: { lambda: 'fast' } }, /ewma\.lambda: "fast" is not a number/],
      [{ signals: [{ topic: 'a' }], spc: { rules: ['beyond4Sigma'] } }, /spc\.rules\[0\]/],
      [{ signals: [{ topic: 'a' }], regime: { topic: 's' } }, /regime\.binWidth/],
      [{ signals: [{ topic: 'a' }], multivariate: [{ topics: ['a'] }] }, /multivariate\[0\]\.topics: needs at least two/],
      [{ signals: [{ topic: 'a' }], alarm: { processSeverity: 'urgent' } }, /alarm\.processSeverity/],
      [{ signals: [{ topic: 'a' }], training: { seconds: -1 } }, /training\.seconds/],
    ];
    for (const [raw, pattern] of bad) assert.throws(() => anomalyConfig(raw), (err: Error) => err instanceof AnomalyConfigError && pattern.test(err.message), JSON.stringify(raw));
  });
});
