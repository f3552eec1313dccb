// The twin-history query node against a real InfluxDB 1.x holding points written by twin-history:
// raw rows, aggregates per window, Dashboard 2.0 chart and table shapes, downsampled policies, and
// values that try to change the query staying values.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import helper from 'node-red-node-test-helper';
import { deliver } from '../support/completion';
import { startInfluxDb, type InfluxDbServer } from '../support/influxdb';
import { collector, eventually, loadFlow, type Collector, type Message } from '../support/node-helpers';
import dtdlModelNode = require('../../nodes/dtdl-model/dtdl-model');
import influxServerNode = require('../../nodes/influx-server/influx-server');
import twinHistoryNode = require('../../nodes/twin-history/twin-history');
import twinHistoryQueryNode = require('../../nodes/twin-history-query/twin-history-query');

helper.init(require.resolve('node-red'));

const CNC = 'dtmi:twinflow:cnc:CNCMachine;1';
const T0 = Date.parse('2026-11-25T10:00:00.000Z');

describe('twin-history query', () => {
  let influx: InfluxDbServer;
  let userDir = '';
  let out: Collector;

  async function ask(payload: Record<string, unknown>, twin: Record<string, unknown> = { id: 'cnc-1', model: CNC }): Promise<{ error?: Error; messages: Message[] }> {
    const before = out.messages.length;
    const error = await deliver(helper.getNode('query'), { payload, twin });
    if (error) return { error, messages: [] };
    await eventually(() => out.messages.length > before, 'the answer');
    await new Promise((resolve) => setTimeout(resolve, 20));
    return { messages: out.messages.slice(before) };
  }

  before(async () => {
    influx = await startInfluxDb();
    userDir = mkdtempSync(path.join(os.tmpdir(), 'twinflow-query-'));
    helper.settings({ userDir });
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
    await loadFlow(helper, [dtdlModelNode, influxServerNode, twinHistoryNode, twinHistoryQueryNode], [
      { id: 'models', type: 'dtdl-model', source: 'builtin' },
      { id: 'influx', type: 'influx-server', host: '127.0.0.1', port: influx.httpPort, database: 'plant', createDatabase: true, timeout: 5 },
      { id: 'hist', type: 'twin-history', server: 'influx', models: 'models', precision: 'ms', batchSize: 1000, flushInterval: 20, maxBacklog: 10, overflow: 'refuse-new' },
      { id: 'query', type: 'twin-history-query', server: 'influx', models: 'models', twinId: 'cnc-1', model: CNC, names: 'spindle/speed', from: '-1h', aggregate: '', window: '1m', output: 'rows', limit: 10000, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]);
    out = collector(helper.getNode('out'));
    // Two machines, two minutes: a speed each second, a position every 10 s, the door state twice.
    for (const twin of ['cnc-1', 'cnc-2']) {
      const samples = [];
      for (let s = 0; s < 120; s++) {
        samples.push({ topic: 'spindle/speed', payload: (twin === 'cnc-1' ? 1000 : 5000) + s, sourceTime: T0 + s * 1000 });
        if (s % 10 === 0) samples.push({ topic: 'positionX', payload: s / 10, sourceTime: T0 + s * 1000 });
      }
      samples.push({ topic: 'doorOpen', payload: true, sourceTime: T0 + 5000 }, { topic: 'doorOpen', payload: false, sourceTime: T0 + 65_000 });
      assert.equal(await deliver(helper.getNode('hist'), { topic: 'samples', twin: { id: twin, model: CNC }, payload: samples }), undefined);
    }
    await eventually(async () => (await influx.rows('SELECT count("speed") AS n FROM "Spindle"', { db: 'plant' }))[0]?.n === 240, 'the points written', 20_000);
  });

  after(async () => {
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    await influx?.stop();
    rmSync(userDir, { recursive: true, force: true });
  });

  it('returns raw rows of several names across measurements, in time order, for one twin only', async () => {
    const { messages, error } = await ask({ from: T0, to: T0 + 20_000, names: ['spindle/speed', 'positionX', 'doorOpen'] });
    assert.equal(error, undefined);
    const rows = messages[0]!.payload as { time: number; name: string; value: unknown }[];
    assert.equal(rows.filter((r) => r.name === 'spindle/speed').length, 21);
    assert.deepEqual(rows.filter((r) => r.name === 'positionX').map((r) => [r.time, r.value]), [[T0, 0], [T0 + 10_000, 1], [T0 + 20_000, 2]]);
    assert.deepEqual(rows.filter((r) => r.name === 'doorOpen').map((r) => r.value), [true]);
    assert.ok(rows.every((r, i) => i === 0 || r.time >= rows[i - 1]!.time));
    assert.ok(rows.filter((r) => r.name === 'spindle/speed').every((r) => (r.value as number) < 5000), 'no values of cnc-2');
    assert.deepEqual(messages[0]!.history, { from: T0, to: T0 + 20_000, names: ['spindle/speed', 'positionX', 'doorOpen'], points: rows.length });
  });

  it('aggregates per window: mean, min, max', async () => {
    for (const [aggregate, expected] of [['mean', [1029.5, 1089.5]], ['min', [1000, 1060]], ['max', [1059, 1119]]] as const) {
      const { messages } = await ask({ from: T0, to: T0 + 119_999, aggregate, window: '1m' });
      assert.deepEqual((messages[0]!.payload as { time: number; value: number }[]).map((r) => [r.time, r.value]), [[T0, expected[0]], [T0 + 60_000, expected[1]]], aggregate);
    }
  });

  it('shapes results for Dashboard 2.0: one ui-chart series per name with x in ms, and ui-table rows', async () => {
    const chart = await ask({ from: T0, to: T0 + 30_000, names: ['spindle/speed', 'positionX'], output: 'chart' });
    assert.deepEqual(chart.messages.map((m) => [m.topic, (m as { action?: string }).action]), [['spindle/speed', 'replace'], ['positionX', 'append']]);
    assert.deepEqual((chart.messages[1]!.payload as unknown[]), [{ x: T0, y: 0 }, { x: T0 + 10_000, y: 1 }, { x: T0 + 20_000, y: 2 }, { x: T0 + 30_000, y: 3 }]);
    const empty = await ask({ from: T0 - 60_000, to: T0 - 1, output: 'chart' });
    assert.deepEqual(empty.messages.map((m) => [m.payload, (m as { action?: string }).action]), [[[], 'replace']], 'no data clears the chart');
    const table = await ask({ from: T0, to: T0 + 10_000, names: ['spindle/speed', 'positionX'], output: 'table' });
    const rows = table.messages[0]!.payload as Record<string, unknown>[];
    assert.equal(rows.length, 11);
    assert.deepEqual(rows[0], { time: new Date(T0).toISOString(), 'spindle/speed': 1000, positionX: 0 });
    assert.deepEqual(rows[1], { time: new Date(T0 + 1000).toISOString(), 'spindle/speed': 1001, positionX: null });
  });

  it('keeps every value a value: a twin id or component that tries to change the query finds nothing and changes nothing', async () => {
    for (const id of ['cnc-1\' OR \'1\'=\'1', 'cnc-1"; DROP DATABASE "plant', 'x\\\' OR twin =~ /.*/']) {
      const { messages, error } = await ask({ from: T0, to: T0 + 120_000 }, { id, model: CNC });
      assert.equal(error, undefined, String(error));
      assert.deepEqual(messages[0]!.payload, [], id);
    }
    assert.ok((await influx.rows('SHOW DATABASES')).some((r) => r.name === 'plant'), 'the database is still there');
    const { messages } = await ask({ from: T0, to: T0 + 1000 });
    assert.equal((messages[0]!.payload as unknown[]).length, 2, 'and still answers');
  });

  it('refuses what it cannot ask, naming the field', async () => {
    assert.match(String((await ask({ names: ['spindle/warp'] })).error), /spindle\/warp/);
    assert.match(String((await ask({ names: ['startCycle'] })).error), /startCycle is a Command/);
    assert.match(String((await ask({ aggregate: 'mean', window: '1 minute' })).error), /window: "1 minute" must be an InfluxQL duration/);
    assert.match(String((await ask({ aggregate: 'drop' })).error), /payload\.aggregate: "drop" must be one of/);
    assert.match(String((await ask({ from: 'yesterday-ish' })).error), /payload\.from: "yesterday-ish" is not a time/);
    assert.match(String((await ask({ from: T0 + 10, to: T0 })).error), /from: .* is after to/);
    assert.match(String((await ask({ from: T0 - 10 * 365 * 86_400_000, aggregate: 'mean', window: '1s' })).error), /more than 100000; choose a longer window/);
    assert.match(String((await ask({}, { id: 'cnc-1', model: 'dtmi:nope:X;1' })).error), /not among the loaded models/);
  });

  it('reads downsampled means from another retention policy', async () => {
    await influx.query('CREATE RETENTION POLICY "year" ON "plant" DURATION 52w REPLICATION 1');
    await influx.query('SELECT mean(*) INTO "plant"."year".:MEASUREMENT FROM "plant"."autogen"./.*/ WHERE time >= ' + `${T0}ms AND time < ${T0 + 120_000}ms GROUP BY time(1m), *`, { db: 'plant' });
    const { messages, error } = await ask({ from: T0, to: T0 + 119_999, retentionPolicy: 'year', downsampled: true });
    assert.equal(error, undefined, String(error));
    assert.deepEqual((messages[0]!.payload as { time: number; value: number }[]).map((r) => [r.time, r.value]), [[T0, 1029.5], [T0 + 60_000, 1089.5]]);
  });
});
