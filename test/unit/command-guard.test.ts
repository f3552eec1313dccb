// The command guard's checks without Node-RED: each rule refuses what it must and says why, in the
// fixed order, with a snapshot of the twin values it read; holds for one and two approvers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandGuard, GuardError, type GuardRequest, type GuardSettings } from '../../nodes/command-guard/guard-core';
import { parseGuardSettings } from '../../nodes/command-guard/guard-settings';
import { requestFrom, pendingRows } from '../../nodes/command-guard/guard-messages';

const none: GuardSettings = { roles: [], rateLimits: [], interlocks: [], ranges: [], ramps: [], approvals: [], whatIf: [], whatIfTimeoutMs: 10_000 };

function setup(over: Partial<GuardSettings>, state: Record<string, unknown> = {}) {
  const twin = { 'spindle/maxSpeed': 12000, 'spindle/speedSetpoint': 0, doorOpen: false, machineState: 'idle', ...state };
  const guard = new CommandGuard({ ...none, ...over }, (id, path) => (id === 'cnc-1' ? (twin as Record<string, unknown>)[path] : undefined));
  return { guard, twin: twin as Record<string, unknown> };
}

let n = 0;
const desired = (value: unknown, issuer = 'optimizer', target = 'spindle/speedSetpoint'): GuardRequest => ({ id: `r${++n}`, kind: 'desired', target, value, issuer, twin: 'cnc-1', receivedAt: 0 });
const command = (name: string, issuer = 'ann', request?: unknown): GuardRequest => ({ id: `c${++n}`, kind: 'command', target: name, value: request, issuer, twin: 'cnc-1', receivedAt: 0 });

describe('command guard: checks', () => {
  it('refuses values outside the engineering range, with the rated maximum read from the twin', () => {
    const { guard, twin } = setup({ ranges: [{ target: 'spindle/speedSetpoint', min: 0, max: { path: 'spindle/maxSpeed' } }] });
    assert.equal(guard.check(desired(11000), 0).decision, 'passed');
    const over = guard.check(desired(12500), 0);
    assert.equal(over.decision, 'rejected');
    assert.equal(over.rule, 'range');
    assert.equal(over.reason, 'spindle/speedSetpoint: 12500 is above the maximum 12000 (spindle/maxSpeed)');
    assert.deepEqual(over.snapshot, { 'spindle/speedSetpoint': 0, 'spindle/maxSpeed': 12000 });
    assert.match(guard.check(desired(-1), 0).reason, /-1 is below the minimum 0/);
    assert.match(guard.check(desired('fast'), 0).reason, /"fast" is not a number/);
    delete twin['spindle/maxSpeed'];
    assert.match(guard.check(desired(100), 0).reason, /the maximum \(spindle\/maxSpeed\) of cnc-1 is unknown/);
  });

  it('refuses a change faster than the ramp rate, or ramps to it in steps', () => {
    const reject = setup({ ramps: [{ target: 'spindle/speedSetpoint', ratePerSecond: 100, mode: 'reject', periodMs: 1000 }] }).guard;
    const fast = reject.check(desired(3000), 0);
    assert.equal(fast.rule, 'rate-of-change');
    assert.equal(fast.reason, 'spindle/speedSetpoint: a change from 0 to 3000 is faster than 100 per second (at most 100 now)');
    assert.equal(reject.check(desired(100), 0).decision, 'passed');
    assert.equal(reject.check(desired(150), 200).decision, 'rejected', '50 rpm in 0.2 s is 250 rpm/s');
    assert.equal(reject.check(desired(120), 200).decision, 'passed', '20 rpm in 0.2 s is 100 rpm/s');

    const ramp = setup({ ramps: [{ target: 'spindle/speedSetpoint', ratePerSecond: 100, mode: 'ramp', periodMs: 500 }] }).guard;
    const ramped = ramp.check(desired(230), 0);
    assert.equal(ramped.decision, 'passed');
    assert.deepEqual(ramped.steps, [50, 100, 150, 200, 230]);
    assert.equal(ramped.periodMs, 500);
  });

  it('refuses a command whose interlock does not hold, and fails safe when the value is unknown', () => {
    const interlocks = [
      { target: 'startCycle', path: 'doorOpen', op: '==' as const, value: false, text: 'the door must be closed' },
      { target: 'startCycle', path: 'machineState', op: '!=' as const, value: 'emergencyStop', text: 'no start after an emergency stop' },
    ];
    const { guard, twin } = setup({ interlocks });
    assert.equal(guard.check(command('startCycle'), 0).decision, 'passed');
    twin.doorOpen = true;
    const door = guard.check(command('startCycle'), 0);
    assert.equal(door.rule, 'interlock');
    assert.match(door.reason, /startCycle c\d+ from ann: the door must be closed \(doorOpen is true, required == false\)/);
    assert.deepEqual(door.snapshot, { doorOpen: true, machineState: 'idle' });
    twin.doorOpen = false;
    twin.machineState = 'emergencyStop';
    assert.match(guard.check(command('startCycle'), 0).reason, /no start after an emergency stop \(machineState is "emergencyStop"/);
    delete twin.machineState;
    assert.match(guard.check(command('startCycle'), 0).reason, /machineState of cnc-1 is unknown \(interlocks fail safe\)/);
    assert.equal(guard.check(command('resetAlarm'), 0).decision, 'passed', 'interlocks apply to their command only');
  });

  it('limits requests per command and issuer within a window', () => {
    const { guard } = setup({ rateLimits: [{ target: 'startCycle', perIssuer: true, max: 2, windowMs: 10_000 }] });
    assert.equal(guard.check(command('startCycle', 'ann'), 0).decision, 'passed');
    assert.equal(guard.check(command('startCycle', 'ann'), 1000).decision, 'passed');
    const third = guard.check(command('startCycle', 'ann'), 2000);
    assert.equal(third.rule, 'rate-limit');
    assert.match(third.reason, /more than 2 startCycle from ann within 10 s/);
    assert.equal(guard.check(command('startCycle', 'bob'), 2000).decision, 'passed', 'per issuer');
    assert.equal(guard.check(command('startCycle', 'ann'), 10_001).decision, 'passed', 'the window moved on');
  });

  it('lets each role send only what it is allowed to', () => {
    const { guard } = setup({ roles: [{ role: 'operator', issuers: ['ann'], allow: ['startCycle', 'resetAlarm'] }, { role: 'optimizer', issuers: ['opt'], allow: ['spindle/speedSetpoint'] }] });
    assert.equal(guard.check(command('startCycle', 'ann'), 0).decision, 'passed');
    assert.equal(guard.check(desired(100, 'opt'), 0).decision, 'passed');
    const wrong = guard.check(desired(100, 'ann'), 0);
    assert.equal(wrong.rule, 'role');
    assert.match(wrong.reason, /issuer ann \(role operator\) may not send spindle\/speedSetpoint/);
    assert.match(guard.check(command('startCycle', 'mallory'), 0).reason, /issuer mallory has no role/);
  });

  it('checks in order: role before rate limit before interlock before range', () => {
    const { guard, twin } = setup({
      roles: [{ role: 'op', issuers: ['ann'], allow: ['*'] }],
      interlocks: [{ target: '*', path: 'machineState', op: '!=', value: 'emergencyStop', text: 'no changes in an emergency stop' }],
      ranges: [{ target: 'spindle/speedSetpoint', max: 12000 }],
    });
    twin.machineState = 'emergencyStop';
    assert.equal(guard.check(desired(99999, 'eve'), 0).rule, 'role');
    assert.equal(guard.check(desired(99999, 'ann'), 0).rule, 'interlock');
  });
});

describe('command guard: approvals and what-if', () => {
  const approvals = [{ target: 'spindle/speedSetpoint', op: '>' as const, value: 10000, approvers: 2 as const, timeoutMs: 60_000, text: 'overspeed' }];

  it('holds a high-risk request until two different people approve, never the issuer, never one person twice', () => {
    const { guard } = setup({ approvals, ranges: [{ target: 'spindle/speedSetpoint', max: { path: 'spindle/maxSpeed' } }] });
    assert.equal(guard.check(desired(9000), 0).decision, 'passed', 'below the approval threshold');
    const req = desired(11000, 'opt');
    const held = guard.check(req, 0);
    assert.equal(held.decision, 'held');
    assert.match(held.reason, /held for approval by two different people within 60 s: overspeed/);
    assert.deepEqual(pendingRows(guard.pending(), 30_000).map((r) => [r.request, r.approvals, r.expiresIn]), [['spindle/speedSetpoint = 11000', '0 of 2', '30 s']]);
    assert.throws(() => guard.approve(req.id, 'approve', 'opt', 1), (e: unknown) => e instanceof GuardError && /opt issued .* cannot approve it \(four-eyes rule\)/.test(e.message));
    assert.equal(guard.approve(req.id, 'approve', 'ann', 2), undefined);
    assert.throws(() => guard.approve(req.id, 'approve', 'ann', 3), /ann approved .* already; 2 different people must approve/);
    assert.equal(guard.pending().length, 1, 'still held');
    const released = guard.approve(req.id, 'approve', 'bob', 4)!;
    assert.equal(released.decision, 'passed');
    assert.match(released.reason, /approved by ann and bob/);
    assert.deepEqual(released.approvals!.map((a) => a.by), ['ann', 'bob']);
    assert.throws(() => guard.approve(req.id, 'approve', 'carl', 5), /is not waiting for approval/);
  });

  it('rejects when a person rejects and when the approval times out', () => {
    const { guard } = setup({ approvals });
    const a = desired(11000);
    guard.check(a, 0);
    const no = guard.approve(a.id, 'reject', 'ann', 1, 'not during the night shift')!;
    assert.equal(no.decision, 'rejected');
    assert.match(no.reason, /rejected by ann: not during the night shift/);
    const b = desired(11500);
    guard.check(b, 0);
    guard.approve(b.id, 'approve', 'ann', 1000);
    assert.deepEqual(guard.tick(59_999), []);
    const [late] = guard.tick(60_000);
    assert.equal(late!.decision, 'rejected');
    assert.match(late!.reason, /approval timed out after 60 s \(1 of 2 approvals: ann\)/);
  });

  it('checks the state again when an approval arrives: an interlock that closed meanwhile still refuses', () => {
    const { guard, twin } = setup({ approvals: [{ target: 'startCycle', approvers: 1, timeoutMs: 60_000, text: 'start needs a supervisor' }], interlocks: [{ target: 'startCycle', path: 'doorOpen', op: '==', value: false, text: 'the door must be closed' }] });
    const req = command('startCycle', 'ann');
    assert.equal(guard.check(req, 0).decision, 'held');
    twin.doorOpen = true;
    const verdict = guard.approve(req.id, 'approve', 'bob', 1)!;
    assert.equal(verdict.rule, 'interlock');
  });

  it('asks the simulation before release and refuses what it finds unsafe', () => {
    const { guard } = setup({ whatIf: ['spindle/speedSetpoint'], whatIfTimeoutMs: 5000 });
    const safe = desired(5000);
    assert.equal(guard.check(safe, 0).decision, 'what-if');
    assert.equal(guard.verdict(safe.id, { verdict: 'safe', summary: 'safe: speed settles at 5000' }, 10).decision, 'passed');
    const unsafe = desired(16000);
    guard.check(unsafe, 0);
    const refused = guard.verdict(unsafe.id, { verdict: 'unsafe', summary: 'speed 12000.01 rpm above the maximum 12000 after 6.01 s' }, 10);
    assert.equal(refused.rule, 'what-if');
    assert.match(refused.reason, /the simulation found it unsafe \(speed 12000.01 rpm above the maximum/);
    const silent = desired(100);
    guard.check(silent, 0);
    assert.match(guard.tick(5000)[0]!.reason, /no what-if verdict within 5 s/);
    assert.throws(() => guard.verdict('nope', { verdict: 'safe' }, 1), /guard.hold/);
  });

  it('keeps held requests across a restart', () => {
    const { guard } = setup({ approvals });
    const req = desired(11000);
    guard.check(req, 0);
    const copy = setup({ approvals }).guard;
    copy.restore(JSON.parse(JSON.stringify(guard.snapshot())));
    assert.equal(copy.pending().length, 1);
    copy.approve(req.id, 'approve', 'ann', 1);
    assert.equal(copy.approve(req.id, 'approve', 'bob', 2)!.decision, 'passed');
    assert.throws(() => copy.restore({ version: 1, holds: [{}], lastPassed: [] }), /holds\[0\]/);
  });
});

describe('command guard: messages and settings', () => {
  it('takes the verified issuer and refuses a message claiming another', () => {
    const r = requestFrom({ command: { name: 'startCycle', request: 'P1000' }, verified: { iss: 'ann', cmdId: 'abc', aud: 'cnc-1' } }, '', 5);
    assert.deepEqual([r.id, r.issuer, r.twin, r.target, r.value], ['abc', 'ann', 'cnc-1', 'startCycle', 'P1000']);
    assert.throws(() => requestFrom({ command: { name: 'startCycle', issuer: 'boss' }, verified: { iss: 'ann' } }, 'cnc-1', 5), /command.issuer: "boss" is not the verified issuer "ann"/);
    assert.throws(() => requestFrom({ topic: 'spindle/speedSetpoint', payload: 1, desired: {} }, 'cnc-1', 5), /desired.issuer: who sends the request is required/);
    assert.throws(() => requestFrom({ topic: 'spindle/speedSetpoint', desired: { issuer: 'a' } }, 'cnc-1', 5), /payload: the desired value/);
    assert.throws(() => requestFrom({ command: { name: 'x', issuer: 'a' } }, '', 5), /twin.id/);
  });

  it('reads the dialog tables and names the row and column of bad values', () => {
    const s = parseGuardSettings({
      roles: [{ role: 'operator', issuers: 'ann, bob', allow: 'startCycle,resetAlarm' }],
      ranges: [{ target: 'spindle/speedSetpoint', min: '0', max: 'spindle/maxSpeed' }],
      interlocks: [{ target: 'startCycle', path: 'doorOpen', op: '==', value: 'false' }],
      approvals: [{ target: 'spindle/speedSetpoint', op: '>', value: '10000', approvers: '2', timeout: '120' }],
      ramps: [{ target: 'spindle/speedSetpoint', rate: '100', mode: 'ramp' }],
      whatIf: 'spindle/speedSetpoint',
    });
    assert.deepEqual(s.roles[0]!.issuers, ['ann', 'bob']);
    assert.deepEqual(s.ranges[0], { target: 'spindle/speedSetpoint', min: 0, max: { path: 'spindle/maxSpeed' } });
    assert.equal(s.interlocks[0]!.value, false);
    assert.equal(s.approvals[0]!.timeoutMs, 120_000);
    assert.equal(s.ramps[0]!.periodMs, 1000);
    assert.throws(() => parseGuardSettings({ ranges: [{ target: 'a' }] }), /ranges\[0\]: give a min, a max or both/);
    assert.throws(() => parseGuardSettings({ interlocks: [{ target: 'a', path: 'b', op: '=~', value: 1 }] }), /interlocks\[0\].op: must be one of/);
    assert.throws(() => parseGuardSettings({ approvals: [{ target: 'a', approvers: 3 }] }), /approvals\[0\].approvers: 3 must be 1 or 2/);
    assert.throws(() => parseGuardSettings({ rateLimits: [{ target: 'a', max: 0, window: 1 }] }), /rateLimits\[0\].max/);
    assert.throws(() => parseGuardSettings({ ramps: [{ target: 'a', rate: 10, mode: 'slow' }] }), /ramps\[0\].mode/);
  });
});
