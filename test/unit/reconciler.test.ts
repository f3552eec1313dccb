// The reconciler's domain without Node-RED: versions, the FIFO queue with confirmation by the
// sensors, timeouts, refusals, divergence alarms through their ISA-18.2 states, and restart.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Reconciler, ReconcileError, codeForStatus, type ReconcilerSettings } from '../../nodes/reconciler/reconciler-core';
import { applyInput, effectMessages, inputKind } from '../../nodes/reconciler/reconciler-messages';
import { parseSettings } from '../../nodes/reconciler/reconciler-settings';

const settings = (over: Partial<ReconcilerSettings> = {}): ReconcilerSettings => ({
  rules: [{ desired: 'spindle/speedSetpoint', actual: 'spindle/speed', absolute: 50, percent: 2, graceMs: 2000, label: 'spindle speed', hint: 'check motor driver', severity: 'high' }],
  commandRules: [{ command: 'startCycle', actual: 'machineState', equals: 'running' }],
  confirmTimeoutMs: 10_000,
  queueLimit: 3,
  source: 'rec',
  ...over,
});

describe('reconciler: queue and confirmation', () => {
  it('releases one entry at a time and the next only after the sensors confirm the first', () => {
    const r = new Reconciler(settings());
    const first = r.desire('cnc-1', 'spindle/speedSetpoint', 3000, { issuer: 'opt' }, 0);
    assert.equal(first.release.length, 1);
    assert.equal(first.release[0]!.version, 1);
    assert.deepEqual(first.progress.map((p) => p.status), ['queued', 'released']);
    const second = r.desire('cnc-1', 'spindle/speedSetpoint', 5000, {}, 10);
    assert.equal(second.release.length, 0, 'the second waits for the first');
    assert.equal(r.queueLength('cnc-1'), 2);

    assert.equal(r.sample('cnc-1', 'spindle/speed', 1500, 500).acks.length, 0, 'still ramping');
    const confirmed = r.sample('cnc-1', 'spindle/speed', 2980, 900);
    assert.deepEqual(first.acks, [{ twin: 'cnc-1', path: 'spindle/speedSetpoint', ac: 202, av: 1, ad: 'spindle/speedSetpoint = 3000 (v1): sent to the machine' }]);
    assert.deepEqual(confirmed.acks.map((a) => [a.ac, a.av, a.ad]), [
      [200, 1, 'spindle/speedSetpoint = 3000 (v1): confirmed, spindle/speed is 2980'],
      [202, 2, 'spindle/speedSetpoint = 5000 (v2): sent to the machine'],
    ]);
    assert.equal(confirmed.release.length, 1);
    assert.equal(confirmed.release[0]!.value, 5000, 'the next entry is released on confirmation');
    assert.equal(confirmed.release[0]!.version, 2);
  });

  it('does not count a reading from before the release as confirmation', () => {
    const r = new Reconciler(settings());
    r.sample('cnc-1', 'spindle/speed', 0, 0);
    r.desire('cnc-1', 'spindle/speedSetpoint', 0, {}, 100);
    assert.equal(r.queueLength(), 1);
    assert.equal(r.tick(150).acks.length, 0, 'the reading at 0 ms predates the release at 100 ms');
    assert.equal(r.sample('cnc-1', 'spindle/speed', 10, 200).acks[0]!.ac, 200);
  });

  it('fails an entry that is not confirmed in time with 504 and says what the sensors showed', () => {
    const r = new Reconciler(settings());
    r.desire('cnc-1', 'spindle/speedSetpoint', 3000, {}, 0);
    r.desire('cnc-1', 'spindle/speedSetpoint', 4000, {}, 0);
    r.sample('cnc-1', 'spindle/speed', 100, 1000);
    assert.equal(r.tick(9_999).acks.length, 0);
    const late = r.tick(10_000);
    assert.equal(late.acks[0]!.ac, 504);
    assert.match(late.acks[0]!.ad, /not confirmed within 10 s \(spindle\/speed is 100, desired 3000, tolerance ±60\)/);
    assert.equal(late.release[0]!.value, 4000, 'the queue moves on');
  });

  it('fails an entry the machine refuses, with a code for the refusal, and releases the next', () => {
    const r = new Reconciler(settings());
    const { release } = r.desire('cnc-1', 'spindle/speedSetpoint', 3000, {}, 0);
    r.command('cnc-1', { name: 'reset', id: 'c1', issuer: 'ann', issuedAt: 0 }, 0);
    const refused = r.outcome(release[0]!.id, { good: false, status: 'BadInvalidState', description: 'emergency stop' }, 50);
    assert.equal(refused.acks.length, 1);
    assert.equal(refused.acks[0]!.ac, 409);
    assert.match(refused.acks[0]!.ad, /machine refused spindle\/speedSetpoint = 3000 \(v1\): BadInvalidState \(emergency stop\)/);
    assert.equal(refused.release[0]!.command!.name, 'reset');
    const done = r.outcome(refused.release[0]!.id, { good: true, status: 'Good' }, 60);
    assert.deepEqual(done.progress.map((p) => [p.status, p.ac]), [['confirmed', 200]], 'a command without a rule is done when the machine says Good');
    assert.equal(done.acks.length, 0, 'commands are not property acknowledgements');
    assert.throws(() => r.outcome(release[0]!.id, { good: true }, 70), (e: unknown) => e instanceof ReconcileError && e.code === 'unknown-entry');
    assert.deepEqual([codeForStatus('BadUserAccessDenied'), codeForStatus('BadOutOfRange'), codeForStatus('BadTimeout'), codeForStatus('BadInternalError')], [403, 400, 504, 502]);
  });

  it('confirms a command by its rule on the twin state', () => {
    const r = new Reconciler(settings());
    const { release } = r.command('cnc-1', { name: 'startCycle', request: 'P1', id: 'c1', issuer: 'ann', issuedAt: 0 }, 0);
    const written = r.outcome(release[0]!.id, { good: true, status: 'Good' }, 10);
    assert.deepEqual(written.progress.map((p) => p.status), ['written']);
    assert.equal(r.sample('cnc-1', 'machineState', 'idle', 20).progress.length, 0);
    assert.deepEqual(r.sample('cnc-1', 'machineState', 'running', 30).progress.map((p) => p.status), ['confirmed']);
  });

  it('refuses stale versions, non-numbers for compared properties and a full queue, changing nothing', () => {
    const r = new Reconciler(settings());
    r.desire('cnc-1', 'spindle/speedSetpoint', 1000, { version: 5 }, 0);
    const before = JSON.stringify(r.snapshot());
    assert.throws(() => r.desire('cnc-1', 'spindle/speedSetpoint', 2000, { version: 5 }, 1), /desired version 5 is not newer than version 5/);
    assert.throws(() => r.desire('cnc-1', 'spindle/speedSetpoint', 'fast', {}, 1), /must be a number to be compared with spindle\/speed/);
    assert.throws(() => r.desire('cnc-1', 'spindle/speedSetpoint', 2000, { version: 1.5 }, 1), /desired.version/);
    assert.throws(() => r.desire('cnc-1', '', 1, {}, 1), /topic/);
    assert.throws(() => r.command('cnc-1', { name: '' } as never, 1), /command.name/);
    r.desire('cnc-1', 'coolant/flowSetpoint', 3, {}, 1);
    r.desire('cnc-1', 'coolant/flowSetpoint', 4, {}, 1);
    const full = JSON.stringify(r.snapshot());
    assert.throws(() => r.desire('cnc-1', 'coolant/flowSetpoint', 5, {}, 1), (e: unknown) => e instanceof ReconcileError && e.code === 'queue-full' && /3 entries waiting/.test(e.message));
    assert.equal(JSON.stringify(r.snapshot()), full);
    assert.notEqual(before, full);
  });

  it('cancels waiting entries but not the one in flight, and never reuses their versions', () => {
    const r = new Reconciler(settings());
    r.desire('cnc-1', 'spindle/speedSetpoint', 1000, {}, 0);
    r.desire('cnc-1', 'spindle/speedSetpoint', 2000, {}, 0);
    const cancelled = r.cancelWaiting('cnc-1', 'ann');
    assert.deepEqual(cancelled.progress.map((p) => [p.status, p.ac]), [['cancelled', 410]]);
    assert.match(cancelled.progress[0]!.ad, /cancelled by ann/);
    assert.equal(r.queueLength(), 1);
    const next = r.desire('cnc-1', 'spindle/speedSetpoint', 3000, {}, 1);
    assert.equal(next.progress[0]!.entry.version, 3);
  });
});

describe('reconciler: divergence alarms', () => {
  it('raises after the grace time, with the operator hint, and walks the ISA-18.2 states', () => {
    const r = new Reconciler(settings());
    r.desire('cnc-1', 'spindle/speedSetpoint', 3000, {}, 0);
    r.sample('cnc-1', 'spindle/speed', 3000, 500);
    r.sample('cnc-1', 'spindle/speed', 2000, 1000);
    assert.equal(r.tick(2999).alerts.length, 0, 'within the grace time');
    const raised = r.tick(3000).alerts;
    assert.equal(raised.length, 1);
    assert.equal(raised[0]!.state, 'active-unacked');
    assert.equal(raised[0]!.message, 'cnc-1: desired and actual spindle speed out of sync for 2 s (desired 3000, actual 2000, tolerance ±60): check motor driver');
    assert.equal(r.tick(3100).alerts.length, 0, 'raised once');
    assert.equal(r.alarmAction({ action: 'acknowledge', id: raised[0]!.id, by: 'ann' }, 3200).alerts[0]!.state, 'active-acked');
    const back = r.sample('cnc-1', 'spindle/speed', 2990, 4000).alerts;
    assert.equal(back[0]!.state, 'normal');
    assert.match(back[0]!.message, /in sync again/);
  });

  it('gives a new setpoint the whole grace time to ramp', () => {
    const r = new Reconciler(settings());
    r.desire('cnc-1', 'spindle/speedSetpoint', 1000, {}, 0);
    r.sample('cnc-1', 'spindle/speed', 1000, 100);
    r.desire('cnc-1', 'spindle/speedSetpoint', 8000, {}, 200);
    r.sample('cnc-1', 'spindle/speed', 1200, 5000);
    assert.equal(r.tick(5000).alerts.length, 0, 'diverging since 5000, not since the release of v2 at 200');
    assert.equal(r.tick(7000).alerts.length, 1);
  });

  it('shelves an alarm and brings it back when the shelving ends', () => {
    const r = new Reconciler(settings());
    r.desire('cnc-1', 'spindle/speedSetpoint', 3000, {}, 0);
    r.sample('cnc-1', 'spindle/speed', 0, 10);
    const [alert] = r.tick(3000).alerts;
    assert.equal(r.alarmAction({ action: 'shelve', id: alert!.id, until: 60_000 }, 3000).alerts[0]!.state, 'shelved');
    assert.equal(r.tick(59_000).alerts.length, 0);
    assert.equal(r.tick(60_000).alerts[0]!.state, 'active-unacked');
  });
});

describe('reconciler: restart', () => {
  it('resumes the queue: the write in flight is sent again, waiting entries follow, alarms and versions kept', () => {
    const r = new Reconciler(settings());
    r.desire('cnc-1', 'spindle/speedSetpoint', 3000, {}, 0);
    r.desire('cnc-1', 'spindle/speedSetpoint', 5000, {}, 0);
    r.sample('cnc-1', 'spindle/speed', 0, 10);
    r.tick(3000);
    const saved = JSON.parse(JSON.stringify(r.snapshot()));

    const after = new Reconciler(settings());
    const resumed = after.restore(saved, 100_000);
    assert.equal(resumed.release.length, 1);
    assert.equal(resumed.release[0]!.value, 3000);
    assert.equal(after.queueLength(), 2);
    assert.equal(after.alerts().length, 1);
    assert.equal(after.sample('cnc-1', 'spindle/speed', 3000, 100_001).release[0]!.value, 5000);
    assert.equal(after.desire('cnc-1', 'spindle/speedSetpoint', 1, {}, 100_002).progress[0]!.entry.version, 3);
  });

  it('never sends a command twice: without a rule its outcome is reported unknown', () => {
    const r = new Reconciler(settings());
    r.command('cnc-1', { name: 'reset', id: 'c1', issuer: 'ann', issuedAt: 0 }, 0);
    r.command('cnc-1', { name: 'startCycle', request: 'P1', id: 'c2', issuer: 'ann', issuedAt: 0 }, 0);
    const after = new Reconciler(settings());
    const resumed = after.restore(JSON.parse(JSON.stringify(r.snapshot())), 50);
    assert.deepEqual(resumed.progress.map((p) => [p.entry.command!.name, p.status, p.ac]), [['reset', 'failed', 500], ['startCycle', 'released', 202]]);
    assert.match(resumed.progress[0]!.ad, /outcome unknown/);
  });

  it('refuses a damaged snapshot and keeps its state', () => {
    const r = new Reconciler(settings());
    r.desire('cnc-1', 'spindle/speedSetpoint', 3000, {}, 0);
    assert.throws(() => r.restore({ version: 1, sequence: 1, twins: [{ id: 'x' }], alarms: { version: 1, alarms: [] } }, 1), /twins\[0\]/);
    assert.throws(() => r.restore({ version: 2 }, 1), /expected \{ version: 1/);
    assert.equal(r.queueLength(), 1);
  });
});

describe('reconciler: messages and settings', () => {
  it('tells inputs apart, ignores the twin echoing acknowledgements and shapes the outputs', () => {
    assert.equal(inputKind({ topic: 'spindle/speedSetpoint', ack: { ac: 200 } }), 'echo');
    assert.equal(inputKind({ topic: 'x', desired: {}, reconcile: { entry: 'a#1' }, good: true }), 'outcome');
    assert.equal(inputKind({ topic: 'x', desired: {}, reconcile: { entry: 'a#1' } }), 'desired');
    const r = new Reconciler(settings());
    const effects = applyInput(r, { topic: 'spindle/speedSetpoint', payload: 2500, desired: { version: 7, issuer: 'opt' }, twin: { id: 'cnc-1', model: 'dtmi:m;1' } }, '', 0);
    const [release, acks, alerts, progress] = effectMessages(effects as never, (t) => r.modelOf(t));
    assert.deepEqual(release[0], { topic: 'spindle/speedSetpoint', payload: 2500, twin: { id: 'cnc-1', model: 'dtmi:m;1' }, desired: { version: 7, issuer: 'opt' }, reconcile: { entry: 'cnc-1#1', twin: 'cnc-1' } });
    assert.deepEqual(acks, [{ topic: 'spindle/speedSetpoint', twin: { id: 'cnc-1', model: 'dtmi:m;1' }, ack: { ac: 202, av: 7, ad: 'spindle/speedSetpoint = 2500 (v7): sent to the machine' } }]);
    assert.deepEqual([alerts.length, progress.length], [0, 2]);
    assert.throws(() => applyInput(r, { topic: 'spindle/speed', payload: 1 }, '', 0), /twin.id: the message names no twin/);
    assert.throws(() => applyInput(r, { topic: 'samples', payload: [{ topic: 'a', payload: 1 }, { topic: 'b' }] }, 'cnc-1', 0), /payload\[1\].payload/);
    assert.throws(() => applyInput(r, { action: 'explode' }, 'cnc-1', 0), /action: must be state or cancel/);
    assert.equal(applyInput(r, { topic: 'spindle/speedSetpoint', ack: { ac: 202 } }, 'cnc-1', 0), undefined);
  });

  it('reads dialog values and names the field and rule of bad ones', () => {
    const s = parseSettings({ rules: [{ desired: 'a/b', actual: 'a/c', absolute: '5', grace: '1.5' }], commandRules: [{ command: 'go', actual: 'state', equals: 'true' }] }, 'n1');
    assert.equal(s.rules[0]!.graceMs, 1500);
    assert.equal(s.rules[0]!.label, 'a c');
    assert.equal(s.commandRules[0]!.equals, true);
    assert.equal(s.loopMs, 100);
    assert.throws(() => parseSettings({ rules: [{ desired: 'a', actual: 'b', percent: 150 }] }, 'n'), /rules\[0\].percent: 150 must be a percentage/);
    assert.throws(() => parseSettings({ rules: [{ desired: 'a' }] }, 'n'), /rules\[0\].actual/);
    assert.throws(() => parseSettings({ loopMs: 5 }, 'n'), /loopMs: 5 must be from 10/);
    assert.throws(() => parseSettings({ commandRules: [{ command: 'go', actual: 's' }] }, 'n'), /commandRules\[0\].equals/);
  });
});
