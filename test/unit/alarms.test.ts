// ISA-18.2 state transitions of the shared alarm table and the operator's inputs to it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AlarmError, AlarmTable, alarmActionFrom, applyAlarmAction } from '../../nodes/lib/alarms';

const condition = { severity: 'high' as const, message: 'speed out of sync', twin: { id: 'cnc-1', model: 'dtmi:x;1' } };

describe('alarm table (ISA-18.2)', () => {
  it('walks normal -> active-unacked -> active-acked -> normal', () => {
    const t = new AlarmTable({ source: 'rec' });
    assert.equal(t.raise('a', condition, 1)?.state, 'active-unacked');
    assert.equal(t.raise('a', condition, 2), undefined, 'raising a raised alarm changes no state');
    assert.equal(t.acknowledge('a', 3, 'ann')?.state, 'active-acked');
    assert.equal(t.acknowledge('a', 4), undefined, 'a second acknowledgement changes nothing');
    const back = t.clear('a', 5);
    assert.equal(back?.state, 'normal');
    assert.equal(back?.since, 5);
    assert.deepEqual(t.list(), []);
  });

  it('walks active-unacked -> rtn-unacked -> normal on acknowledgement, and back to active when it recurs', () => {
    const t = new AlarmTable({ source: 'rec' });
    t.raise('a', condition, 1);
    assert.equal(t.clear('a', 2)?.state, 'rtn-unacked');
    assert.equal(t.raise('a', condition, 3)?.state, 'active-unacked');
    assert.equal(t.clear('a', 4)?.state, 'rtn-unacked');
    assert.equal(t.acknowledge('a', 5)?.state, 'normal');
    assert.equal(t.clear('a', 6), undefined);
  });

  it('keeps following the condition while shelved and comes back in the state it calls for', () => {
    const t = new AlarmTable({ source: 'rec' });
    t.raise('a', condition, 1);
    assert.equal(t.shelve('a', 2, 100, 'bob')?.state, 'shelved');
    assert.equal(t.clear('a', 3), undefined, 'shelved alarms announce nothing');
    assert.equal(t.raise('a', condition, 4), undefined);
    assert.deepEqual(t.tick(50), []);
    const back = t.tick(100);
    assert.equal(back.length, 1);
    assert.equal(back[0]!.state, 'active-unacked', 'the condition is present at the end of shelving');

    t.shelve('a', 101);
    t.clear('a', 102);
    assert.equal(t.unshelve('a', 103)?.state, 'normal', 'the condition went away while shelved');
  });

  it('refuses actions on unknown alarms and shelving into the past, changing nothing', () => {
    const t = new AlarmTable({ source: 'rec' });
    assert.throws(() => t.acknowledge('nope', 1), (e: unknown) => e instanceof AlarmError && /nope.*no such alarm/.test(e.message));
    t.raise('a', condition, 1);
    assert.throws(() => t.shelve('a', 10, 5), /future/);
    assert.equal(t.get('a')?.state, 'active-unacked');
  });

  it('survives a snapshot round trip and refuses a damaged one', () => {
    const t = new AlarmTable({ source: 'rec' });
    t.raise('a', condition, 1);
    t.raise('b', { ...condition, message: 'other' }, 2);
    t.acknowledge('b', 3);
    const copy = new AlarmTable({ source: 'rec' });
    copy.restore(JSON.parse(JSON.stringify(t.snapshot())));
    assert.deepEqual(copy.list(), t.list());
    assert.equal(copy.clear('b', 4)?.state, 'normal');
    assert.throws(() => copy.restore({ version: 1, alarms: [{ id: 'x', state: 'weird', since: 1 }] }), /alarms\[0\]/);
    assert.equal(copy.list().length, 1, 'a refused snapshot leaves the table as it was');
  });
});

describe('alarm actions from messages', () => {
  it('reads acknowledge, shelve for a duration and unshelve, and applies them to all with "*"', () => {
    const t = new AlarmTable({ source: 'rec' });
    t.raise('a', condition, 1);
    t.raise('b', condition, 1);
    const ack = alarmActionFrom({ alarm: { action: 'acknowledge', id: '*', by: 'ann' } }, 10)!;
    assert.deepEqual(applyAlarmAction(t, ack, 10).map((a) => a.state), ['active-acked', 'active-acked']);
    const shelve = alarmActionFrom({ alarm: { action: 'shelve', id: 'a', forSeconds: 60 } }, 10)!;
    assert.equal(shelve.until, 60_010);
    assert.equal(applyAlarmAction(t, shelve, 10)[0]!.state, 'shelved');
    assert.equal(alarmActionFrom({ payload: 1 }, 10), undefined);
  });

  it('names the field and the rule for malformed actions', () => {
    assert.throws(() => alarmActionFrom({ alarm: 'ack' }, 0), /alarm: expected an object/);
    assert.throws(() => alarmActionFrom({ alarm: { action: 'silence', id: 'a' } }, 0), /alarm.action: must be acknowledge, shelve or unshelve/);
    assert.throws(() => alarmActionFrom({ alarm: { action: 'acknowledge' } }, 0), /alarm.id/);
    assert.throws(() => alarmActionFrom({ alarm: { action: 'shelve', id: 'a', forSeconds: -1 } }, 0), /alarm.forSeconds/);
    assert.throws(() => alarmActionFrom({ alarm: { action: 'shelve', id: 'a', until: 'soon' } }, 0), /alarm.until/);
  });
});
