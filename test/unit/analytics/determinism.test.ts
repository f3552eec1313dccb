// The evaluation's foundation: the seeded simulator stepped faster than real time gives the same
// baseline and the same alarms, to the millisecond, every time; another seed gives another machine.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runScenario } from '../../../bench/anomaly/scenario';
import { CNC_ANOMALY_CONFIG } from '../../../bench/anomaly/cnc-config';

describe('anomaly detection on the seeded simulator', () => {
  const plan = { kind: 'bearingWear', options: { timeToFailureSeconds: 1800 }, atSeconds: 5400 };

  it('is deterministic: same seed, same baseline, same alarms', () => {
    let failedAt: number | undefined;
    const run = () => runScenario({
      seed: 3,
      config: CNC_ANOMALY_CONFIG,
      durationSeconds: 5400 + 1900,
      fault: plan,
      onSample: (model) => { if (failedAt === undefined && model.truth().bearingFailed) failedAt = model.time; },
    });
    const a = run();
    failedAt = undefined;
    const b = run();
    assert.deepEqual(b.engine.baseline, a.engine.baseline);
    assert.deepEqual(b.alerts, a.alerts);
    const first = a.alerts.find((e) => e.alert.state === 'active-unacked');
    assert.ok(first, 'the wearing bearing raised an alarm');
    assert.ok(first.at >= 5400, `no alarm before the fault (first at ${first.at} s)`);
    assert.ok(failedAt !== undefined && first.at < failedAt - 600, `detected at ${first.at} s, at least ten minutes before the failure threshold (${failedAt} s)`);
    assert.match(first.alert.id, /vibration|spindle/);
  });

  it('another seed is another machine', () => {
    const a = runScenario({ seed: 3, config: CNC_ANOMALY_CONFIG, durationSeconds: 3700 });
    const b = runScenario({ seed: 4, config: CNC_ANOMALY_CONFIG, durationSeconds: 3700 });
    assert.equal(a.engine.phase, 'monitoring');
    assert.notDeepEqual(b.engine.baseline!.channels, a.engine.baseline!.channels);
  });
});
