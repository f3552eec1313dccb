// twin-history (writes) and influx-server inside a real Node-RED runtime against a real InfluxDB 1.x:
// typed points from DTDL schemas, precise timestamps, events, refusals, mirror, credentials, set-up.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import helper from 'node-red-node-test-helper';
import { startInfluxDb, type InfluxDbServer } from '../support/influxdb';
import { deliver as deliverTo } from '../support/completion';
import { collector, eventually, loadFlow, onCall, statusOf } from '../support/node-helpers';
import { PRESS, PRESS_TEXT } from '../support/press-model';
import dtdlModelNode = require('../../nodes/dtdl-model/dtdl-model');
import twinGraphNode = require('../../nodes/twin-graph/twin-graph');
import twinNode = require('../../nodes/twin/twin');
import influxServerNode = require('../../nodes/influx-server/influx-server');
import twinHistoryNode = require('../../nodes/twin-history/twin-history');

helper.init(require.resolve('node-red'));

const nodes = [dtdlModelNode, twinGraphNode, twinNode, influxServerNode, twinHistoryNode];
const CNC = 'dtmi:twinflow:cnc:CNCMachine;1';
const T0 = Date.parse('2026-11-25T10:00:00.000Z');

/** Sends a message to a node, resolving with the error its done() got (undefined for none). */
function deliver(nodeId: string, msg: Record<string, unknown>): { done: Promise<Error | undefined> } {
  return { done: deliverTo(helper.getNode(nodeId), msg) };
}

describe('twin-history (writes) against InfluxDB 1.x', () => {
  let influx: InfluxDbServer;
  let userDir = '';
  let db = '';
  let dbCounter = 0;

  function flow(history: Record<string, unknown> = {}, server: Record<string, unknown> = {}, extra: unknown[] = []): Record<string, unknown>[] {
    return [
      { id: 'models', type: 'dtdl-model', source: 'inline', documents: PRESS_TEXT },
      { id: 'cnc-models', type: 'dtdl-model', source: 'builtin' },
      { id: 'influx', type: 'influx-server', host: '127.0.0.1', port: influx.httpPort, database: db, createDatabase: true, timeout: 5, ...server },
      { id: 'hist', type: 'twin-history', server: 'influx', models: 'models', precision: 'ms', batchSize: 100, flushInterval: 50, maxBacklog: 10, overflow: 'drop-oldest', ...history },
      ...(extra as Record<string, unknown>[]),
    ];
  }

  before(async () => {
    influx = await startInfluxDb();
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
  });
  after(async () => {
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    await influx?.stop();
  });
  beforeEach(() => {
    userDir = mkdtempSync(path.join(os.tmpdir(), 'twinflow-history-'));
    helper.settings({ userDir });
    db = `t${++dbCounter}_${process.pid}`;
  });
  afterEach(async () => {
    await helper.unload();
    rmSync(userDir, { recursive: true, force: true });
  });

  /** Waits until InfluxDB returns at least `n` rows for the query. */
  async function rowsEventually(q: string, n: number, what: string): Promise<Record<string, unknown>[]> {
    let rows: Record<string, unknown>[] = [];
    await eventually(async () => {
      rows = await influx.rows(q, { db });
      return rows.length >= n;
    }, what, 20_000);
    return rows;
  }

  it('writes each DTDL type as the matching InfluxDB field type, at the sample\'s sourceTime in ms', async () => {
    await loadFlow(helper, nodes, flow());
    const twin = { id: 'press-1', model: PRESS };
    const samples = [
      { topic: 'cycles', payload: 3 },
      { topic: 'counter', payload: 9_007_199_254_740_991 },
      { topic: 'pressure', payload: 3000 },
      { topic: 'load', payload: 0.25 },
      { topic: 'running', payload: true },
      { topic: 'label', payload: 'lot "A", line\\2' },
      { topic: 'mode', payload: 'auto' },
      { topic: 'level', payload: 2 },
      { topic: 'position', payload: { x: 1.5, y: -2 } },
      { topic: 'batchNumber', payload: 41 },
    ];
    const result = deliver('hist', { topic: 'samples', twin, payload: samples.map((s) => ({ ...s, sourceTime: T0 + 123, quality: 'good' })) });
    assert.equal(await result.done, undefined);
    const fields = await (async () => {
      let series: Record<string, unknown>[] = [];
      await eventually(async () => {
        series = await influx.rows('SHOW FIELD KEYS FROM "Press"', { db });
        return series.length >= samples.length;
      }, 'the fields to exist', 20_000);
      return Object.fromEntries(series.map((r) => [r.fieldKey, r.fieldType]));
    })();
    assert.deepEqual(fields, {
      batchNumber: 'integer', counter: 'integer', cycles: 'integer', label: 'string', level: 'integer',
      load: 'float', mode: 'string', position: 'string', pressure: 'float', running: 'boolean',
    });
    const [row] = await rowsEventually('SELECT * FROM "Press"', 1, 'the point');
    assert.equal(row!.time, T0 + 123, 'time is the sourceTime, in ms');
    assert.equal(row!.cycles, 3);
    assert.equal(row!.pressure, 3000);
    assert.equal(row!.running, true);
    assert.equal(row!.label, 'lot "A", line\\2');
    assert.deepEqual(JSON.parse(row!.position as string), { x: 1.5, y: -2 });
    assert.equal(row!.twin, 'press-1');
    assert.equal(row!.model, PRESS);
    // One line for the whole batch: all ten values share the series and the time.
    const count = await influx.rows('SELECT count("cycles") FROM "Press"', { db });
    assert.equal(count[0]!.count, 1);
    const counter = await influx.query('SELECT "counter" FROM "Press"', { db, epoch: 'ms' });
    assert.equal(counter[0]!.values[0]![1], 9_007_199_254_740_991);
  });

  it('puts component contents into the Component\'s measurement with a component tag, and marks bad quality', async () => {
    await loadFlow(helper, nodes, flow());
    const twin = { id: 'press-2', model: PRESS };
    assert.equal(await deliver('hist', { topic: 'hydraulics/oilTemperature', payload: 48.5, twin, sourceTime: T0, quality: 'good' }).done, undefined);
    assert.equal(await deliver('hist', { topic: 'hydraulics/strokes', payload: 7, twin, sourceTime: T0 + 1, quality: 'bad' }).done, undefined);
    const rows = await rowsEventually('SELECT * FROM "Hydraulics" WHERE "twin" = \'press-2\'', 2, 'both points');
    assert.deepEqual(rows.map((r) => [r.time, r.component, r.oilTemperature, r.strokes, r.quality]), [
      [T0, 'hydraulics', 48.5, null, null],
      [T0 + 1, 'hydraulics', null, 7, 'bad'],
    ]);
  });

  it('refuses what does not fit the model, naming the field, and writes nothing of that message', async () => {
    await loadFlow(helper, nodes, flow());
    const twin = { id: 'press-3', model: PRESS };
    const notInteger = await deliver('hist', { topic: 'samples', twin, payload: [{ topic: 'pressure', payload: 1.5, sourceTime: T0 }, { topic: 'cycles', payload: 2.5, sourceTime: T0 }] }).done;
    assert.match(String(notInteger?.message), /payload\[1\]\.cycles: 2\.5 is not an integer/);
    const unknown = await deliver('hist', { topic: 'warpDrive', payload: 1, twin }).done;
    assert.match(String(unknown?.message), /warpDrive/);
    const command = await deliver('hist', { topic: 'stop', payload: 1, twin }).done;
    assert.match(String(command?.message), /stop is a Command/);
    const noTwin = await deliver('hist', { topic: 'cycles', payload: 1 }).done;
    assert.match(String(noTwin?.message), /twin\.id: required/);
    const badTag = await deliver('hist', { topic: 'cycles', payload: 1, twin: { id: 'press\\', model: PRESS } }).done;
    assert.match(String(badTag?.message), /twin\.id "press\\\\": a tag value cannot end with a backslash/);
    const badTime = await deliver('hist', { topic: 'cycles', payload: 1, twin, sourceTime: 'yesterday' }).done;
    assert.match(String(badTime?.message), /sourceTime: "yesterday" is not a time/);
    // A valid message afterwards is written; nothing of the refused ones is.
    assert.equal(await deliver('hist', { topic: 'cycles', payload: 5, twin, sourceTime: T0 + 5 }).done, undefined);
    const rows = await rowsEventually('SELECT * FROM "Press" WHERE "twin" = \'press-3\'', 1, 'the valid point');
    assert.deepEqual(rows.map((r) => [r.time, r.cycles]), [[T0 + 5, 5]]);
    assert.equal((await influx.rows('SHOW FIELD KEYS FROM "Press"', { db })).length, 1, 'only the valid field exists');
    await eventually(() => /1 written .* 6 invalid/.test(statusOf(helper.getNode('hist'))?.text ?? ''), 'the status counts written and invalid messages');
  });

  it('writes in the configured precision (ns keeps sub-millisecond sourceTimes; s truncates)', async () => {
    await loadFlow(helper, nodes, flow({ precision: 'ns' }));
    const twin = { id: 'press-4', model: PRESS };
    assert.equal(await deliver('hist', { topic: 'cycles', payload: 1, twin, sourceTime: T0 + 0.25 }).done, undefined);
    await rowsEventually('SELECT * FROM "Press"', 1, 'the point');
    const ns = await influx.query('SELECT "cycles" FROM "Press"', { db, epoch: 'ns' });
    assert.equal(String(ns[0]!.values[0]![0]), String(BigInt(T0) * 1_000_000n + 250_000n));
    await helper.unload();
    await loadFlow(helper, nodes, flow({ precision: 's' }));
    assert.equal(await deliver('hist', { topic: 'cycles', payload: 2, twin: { id: 'press-5', model: PRESS }, sourceTime: T0 + 1999 }).done, undefined);
    const rows = await rowsEventually('SELECT * FROM "Press" WHERE "twin" = \'press-5\'', 1, 'the point in seconds');
    assert.equal(rows[0]!.time, T0 + 1000);
  });

  it('records desired values, acknowledgements, commands and lifecycle from a twin node as event points', async () => {
    const extra = [
      { id: 'g1', type: 'twin-graph', models: 'cnc-models', staleness: [], limits: [], persist: false },
      { id: 'tw1', type: 'twin', graph: 'g1', scope: 'one', twinId: 'cnc-1', model: CNC, autoCreate: true, wires: [['hist', 'ok'], ['refused'], []] },
      { id: 'ok', type: 'helper' },
      { id: 'refused', type: 'helper' },
    ];
    await loadFlow(helper, nodes, flow({ models: 'cnc-models' }, {}, extra));
    const ok = collector(helper.getNode('ok'));
    const tw = helper.getNode('tw1');
    tw.receive({ topic: 'spindle/maxSpeed', payload: 12000, actor: 'commissioning' });
    tw.receive({ topic: 'spindle/speedSetpoint', payload: 3000, desired: { issuer: 'optimizer' } });
    tw.receive({ topic: 'spindle/speedSetpoint', payload: 3000, ack: { ac: 200, av: 1, ad: 'reached' } });
    tw.receive({ command: { name: 'startCycle', request: 'P1000', id: 'c1', issuer: 'operator', issuedAt: T0 } });
    tw.receive({ lifecycle: 'adaptation', actor: 'engineer' });
    tw.receive({ topic: 'spindle/speed', payload: 2990.5, sourceTime: T0 });
    await ok.waitFor(() => ok.messages.length >= 6);
    // (The creation travels inside the first message, whose event is the property's; the mirror sees it.)
    const events = await rowsEventually('SELECT * FROM "twin_events"', 4, 'four event points');
    const byKind = Object.fromEntries(events.map((e) => [e.kind, e]));
    assert.deepEqual(Object.keys(byKind).sort(), ['ack', 'command', 'desired', 'lifecycle']);
    assert.equal(byKind.desired!.name, 'spindle/speedSetpoint');
    assert.deepEqual(JSON.parse(byKind.desired!.detail as string), { value: 3000, version: 1 });
    assert.equal(byKind.desired!.actor, 'optimizer');
    assert.deepEqual(JSON.parse(byKind.ack!.detail as string), { version: 1, code: 200, description: 'reached' });
    assert.deepEqual(JSON.parse(byKind.command!.detail as string), { name: 'startCycle', request: 'P1000', requestId: 'c1' });
    assert.deepEqual(JSON.parse(byKind.lifecycle!.detail as string), { from: 'operation', to: 'adaptation' });
    const versions = await influx.query('SHOW FIELD KEYS FROM "twin_events"', { db });
    assert.deepEqual(Object.fromEntries(versions[0]!.values.map((v) => [v[0], v[1]])), { actor: 'string', detail: 'string', version: 'integer' });
    // The property and the telemetry land in their own measurements too.
    const spindle = await rowsEventually('SELECT * FROM "Spindle"', 3, 'maxSpeed, the acknowledged setpoint and the speed');
    assert.ok(spindle.some((r) => r.maxSpeed === 12000));
    assert.ok(spindle.some((r) => r.speedSetpoint === 3000));
    assert.ok(spindle.some((r) => r.speed === 2990.5 && r.time === T0));
  });

  it('mirrors every change of a twin graph without wires', async () => {
    const extra = [
      { id: 'g1', type: 'twin-graph', models: 'cnc-models', staleness: [], limits: [], persist: false },
      { id: 'tw1', type: 'twin', graph: 'g1', scope: 'one', twinId: 'cnc-9', model: CNC, autoCreate: true, wires: [['ok'], [], []] },
      { id: 'ok', type: 'helper' },
    ];
    await loadFlow(helper, nodes, flow({ models: 'cnc-models', mirror: 'g1' }, {}, extra));
    const ok = collector(helper.getNode('ok'));
    const tw = helper.getNode('tw1');
    tw.receive({ topic: 'samples', payload: [{ topic: 'spindle/speed', payload: 1500, sourceTime: T0 }, { topic: 'positionX', payload: 10.5, sourceTime: T0 }] });
    tw.receive({ topic: 'machineState', payload: 'running', sourceTime: T0 + 1 });
    await ok.waitFor(() => ok.messages.length >= 2);
    const spindle = await rowsEventually('SELECT * FROM "Spindle" WHERE "twin" = \'cnc-9\'', 1, 'the spindle speed');
    assert.equal(spindle[0]!.speed, 1500);
    const machine = await rowsEventually('SELECT * FROM "CNCMachine" WHERE "twin" = \'cnc-9\'', 2, 'positionX and machineState');
    assert.deepEqual(machine.map((r) => [r.time, r.positionX, r.machineState]), [[T0, 10.5, null], [T0 + 1, null, 'running']]);
    await rowsEventually('SELECT * FROM "twin_events" WHERE "kind" = \'create\'', 1, 'the creation');
  });

  it('creates the retention policies and the downsampling continuous query it is asked for', async () => {
    await loadFlow(helper, nodes, flow({}, { retentionPolicy: 'raw', rawRetention: '7d', downsampleInterval: '1s', downsamplePolicy: 'year', downsampleRetention: '52w' }));
    const now = Date.now();
    const twin = { id: 'press-6', model: PRESS };
    for (let i = 0; i < 5; i++) assert.equal(await deliver('hist', { topic: 'pressure', payload: 10 + i, twin, sourceTime: now - 5000 + i * 100 }).done, undefined);
    const policies = await influx.rows(`SHOW RETENTION POLICIES ON "${db}"`);
    const byName = Object.fromEntries(policies.map((p) => [p.name, p]));
    assert.equal(byName.raw!.duration, '168h0m0s');
    assert.equal(byName.raw!.default, true);
    assert.equal(byName.year!.duration, '8736h0m0s');
    const queries = await influx.query('SHOW CONTINUOUS QUERIES');
    const mine = queries.find((s) => s.name === db);
    assert.ok(mine?.values.some((v) => v[0] === 'twinflow_year_1s'), JSON.stringify(mine));
    const raw = await influx.rows(`SELECT * FROM "${db}"."raw"."Press"`);
    assert.equal(raw.length, 5, 'points go to the raw policy');
    // Current points are downsampled by the continuous query at its next 1 s run. A run covers only the
    // interval just ended, so a point that lands late (a busy machine) is never downsampled: keep
    // sending until one interval is caught.
    await eventually(async () => {
      assert.equal(await deliver('hist', { topic: 'pressure', payload: 100, twin, sourceTime: Date.now() }).done, undefined);
      return (await influx.rows(`SELECT "mean_pressure" FROM "${db}"."year"."Press"`)).some((r) => r.mean_pressure === 100);
    }, 'a one-second mean in the year policy', 20_000);
  });

  it('sends credentials, and keeps points while InfluxDB refuses them (401) until the credentials are right', async () => {
    const secured = await startInfluxDb({ admin: { username: 'admin', password: 'p@ss word' } });
    try {
      await loadFlow(helper, nodes, flow({}, { port: secured.httpPort }), { influx: { username: 'admin', password: 'wrong' } });
      const twin = { id: 'press-7', model: PRESS };
      assert.equal(await deliver('hist', { topic: 'cycles', payload: 1, twin, sourceTime: T0 }).done, undefined, 'the point is queued on disk');
      await eventually(() => /unreachable: .*401.* · 1 queued/.test(statusOf(helper.getNode('hist'))?.text ?? ''), 'the status says InfluxDB refuses, and that one point is queued', 20_000);
      await helper.unload();
      // The same node id with the right password sends what the queue kept.
      await loadFlow(helper, nodes, flow({}, { port: secured.httpPort }), { influx: { username: 'admin', password: 'p@ss word' } });
      await eventually(async () => (await secured.rows('SELECT * FROM "Press"', { db })).length === 1, 'the queued point reached InfluxDB', 20_000);
    } finally {
      await secured.stop();
    }
  });

  it('reports unusable settings on the status and to Catch', async () => {
    await loadFlow(helper, nodes, flow({}, { database: '', port: 70000 }));
    const errors: string[] = [];
    onCall(helper.getNode('hist'), 'error', (args) => errors.push(String((args[0] as Error)?.message ?? args[0])));
    const result = await deliver('hist', { topic: 'cycles', payload: 1, twin: { id: 'p', model: PRESS } }).done;
    assert.match(String(result?.message), /server: port: "70000" must be a number from 1 to 65535/);
    assert.match(statusOf(helper.getNode('hist'))?.text ?? '', /port/);
  });
});
