// History queries: InfluxQL with bind parameters only, and the Dashboard 2.0 shapes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildStatements, chartMessages, HistorySchema, parseTime, rowsOf, tableRows } from '../../../nodes/lib/history';
import { cncModels } from '../eventlog/twin-workload';

const CNC = 'dtmi:twinflow:cnc:CNCMachine;1';

describe('history queries', () => {
  const schema = new HistorySchema(cncModels());

  it('puts every value in a bind parameter and quotes names from the model', () => {
    const statements = buildStatements(schema, { twinId: `x' OR '1'='1`, model: CNC, names: ['spindle/speed', 'spindle/motorCurrent', 'positionX'], from: 0, to: 60_000, aggregate: 'max', window: '10s', limit: 500 });
    assert.deepEqual(statements.map((s) => s.text), [
      'SELECT max("speed") AS "v0", max("motorCurrent") AS "v1" FROM "Spindle" WHERE "twin" = $twin0 AND "component" = $component0 AND time >= $from0 AND time <= $to0 GROUP BY time(10s) fill(none) LIMIT 500',
      'SELECT max("positionX") AS "v0" FROM "CNCMachine" WHERE "twin" = $twin1 AND "component" = $component1 AND time >= $from1 AND time <= $to1 GROUP BY time(10s) fill(none) LIMIT 500',
    ]);
    assert.deepEqual(statements[0]!.params, { twin0: `x' OR '1'='1`, component0: 'spindle', from0: '1970-01-01T00:00:00.000Z', to0: '1970-01-01T00:01:00.000Z' });
    assert.equal(statements[1]!.params.component1, '', 'the twin\'s own contents have no component tag');
  });

  it('turns results into rows, chart series and table rows', () => {
    const statements = buildStatements(schema, { twinId: 'cnc-1', model: CNC, names: ['spindle/speed', 'positionX'], from: 0, to: 10, limit: 10 });
    const rows = rowsOf(statements, [
      { series: [{ name: 'Spindle', columns: ['time', 'v0'], values: [[1, 100], [3, 300]] }] },
      { series: [{ name: 'CNCMachine', columns: ['time', 'v0'], values: [[1, 5], [2, null]] }] },
    ]);
    assert.deepEqual(rows, [{ time: 1, name: 'spindle/speed', value: 100 }, { time: 1, name: 'positionX', value: 5 }, { time: 3, name: 'spindle/speed', value: 300 }]);
    assert.deepEqual(chartMessages(['spindle/speed', 'positionX'], rows), [
      { topic: 'spindle/speed', payload: [{ x: 1, y: 100 }, { x: 3, y: 300 }], action: 'replace' },
      { topic: 'positionX', payload: [{ x: 1, y: 5 }], action: 'append' },
    ]);
    assert.deepEqual(tableRows(['spindle/speed', 'positionX'], rows), [
      { time: '1970-01-01T00:00:00.001Z', 'spindle/speed': 100, positionX: 5 },
      { time: '1970-01-01T00:00:00.003Z', 'spindle/speed': 300, positionX: null },
    ]);
  });

  it('reads times as ms, ISO 8601, now, or relative to now', () => {
    const now = Date.parse('2026-11-25T12:00:00Z');
    assert.equal(parseTime('-15m', 'from', now), now - 900_000);
    assert.equal(parseTime('-1h30m', 'from', now), now - 5_400_000);
    assert.equal(parseTime('now', 'to', now), now);
    assert.equal(parseTime('2026-11-25T11:00:00Z', 'from', now), now - 3_600_000);
    assert.equal(parseTime(12, 'from', now), 12);
    assert.equal(parseTime('12', 'from', now), 12);
    assert.throws(() => parseTime('-15 minutes', 'payload.from', now), /payload\.from: "-15 minutes" is not a time/);
  });
});
