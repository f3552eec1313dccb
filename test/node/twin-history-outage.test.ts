// Store-and-forward against a real InfluxDB 1.x: influxd is stopped by PID for 30 s in the middle of
// a steady stream of twin samples and started again on the same port and data; every point must be
// in InfluxDB exactly once, in order of sending, and the status must tell the story.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import helper from 'node-red-node-test-helper';
import { deliver } from '../support/completion';
import { startInfluxDb, type InfluxDbServer } from '../support/influxdb';
import { freePort } from '../support/ports';
import { eventually, loadFlow, onCall, statusOf } from '../support/node-helpers';
import { PRESS, PRESS_TEXT } from '../support/press-model';
import dtdlModelNode = require('../../nodes/dtdl-model/dtdl-model');
import influxServerNode = require('../../nodes/influx-server/influx-server');
import twinHistoryNode = require('../../nodes/twin-history/twin-history');

helper.init(require.resolve('node-red'));

const OUTAGE_MS = 30_000;
const T0 = Date.parse('2026-11-25T00:00:00.000Z');

describe('twin-history store-and-forward through a 30 s InfluxDB outage', () => {
  let influx: InfluxDbServer;
  let userDir = '';

  before(async () => {
    influx = await startInfluxDb();
    userDir = mkdtempSync(path.join(os.tmpdir(), 'twinflow-outage-'));
    helper.settings({ userDir });
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
  });
  after(async () => {
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    await influx?.stop();
    rmSync(userDir, { recursive: true, force: true });
  });

  it('writes every point exactly once after influxd was down for 30 s during a steady stream', async () => {
    await loadFlow(helper, [dtdlModelNode, influxServerNode, twinHistoryNode], [
      { id: 'models', type: 'dtdl-model', source: 'inline', documents: PRESS_TEXT },
      { id: 'influx', type: 'influx-server', host: '127.0.0.1', port: influx.httpPort, database: 'outage', createDatabase: true, timeout: 2 },
      { id: 'hist', type: 'twin-history', server: 'influx', models: 'models', precision: 'ms', batchSize: 50, flushInterval: 100, maxBacklog: 50, overflow: 'refuse-new' },
    ]);
    const hist = helper.getNode('hist');
    const statuses: string[] = [];
    onCall(hist, 'status', (args) => {
      const text = (args[0] as { text?: string } | undefined)?.text ?? '';
      if (statuses.at(-1) !== text) statuses.push(text);
    });
    const history = (hist as unknown as { history: { writer: { state: { written: number; backlog: number; reachable?: boolean } } } }).history;

    // The stream: one message every 10 ms, each with three values of one instant, until told to stop.
    let sent = 0;
    const failures: string[] = [];
    const pending: Promise<void>[] = [];
    let streaming = true;
    const stream = (async () => {
      while (streaming) {
        const i = sent++;
        pending.push(deliver(hist, {
          topic: 'samples',
          twin: { id: 'press-1', model: PRESS },
          payload: [
            { topic: 'cycles', payload: i, sourceTime: T0 + i },
            { topic: 'pressure', payload: i / 10, sourceTime: T0 + i },
            { topic: 'hydraulics/strokes', payload: i, sourceTime: T0 + i },
          ],
        }).then((err) => { if (err) failures.push(err.message); }));
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();

    await eventually(() => history.writer.state.written > 200, 'points flowing before the outage', 20_000);
    const beforeOutage = sent;
    await influx.halt();
    const stoppedAt = Date.now();
    await eventually(() => history.writer.state.reachable === false, 'the writer noticing the outage', 20_000);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - stoppedAt))));
    const duringOutage = sent - beforeOutage;
    assert.ok(history.writer.state.backlog > 1000, `the backlog held the outage's points (${history.writer.state.backlog})`);
    await influx.restart();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    streaming = false;
    await stream;
    await Promise.all(pending);
    assert.deepEqual(failures, [], 'no message was refused');

    await eventually(async () => {
      const rows = await influx.rows('SELECT count("cycles") AS n FROM "Press"', { db: 'outage' });
      return rows[0]?.n === sent;
    }, `all ${sent} points in InfluxDB`, 60_000);
    const rows = await influx.rows('SELECT "cycles", "pressure" FROM "Press" ORDER BY time', { db: 'outage' });
    assert.equal(rows.length, sent);
    assert.deepEqual(rows.map((r) => r.cycles), Array.from({ length: sent }, (_, i) => i), 'each point once, none missing');
    assert.ok(rows.every((r) => r.time === T0 + (r.cycles as number) && r.pressure === (r.cycles as number) / 10));
    const strokes = await influx.rows('SELECT count("strokes") AS n FROM "Hydraulics"', { db: 'outage' });
    assert.equal(strokes[0]!.n, sent);
    // Each point was acknowledged by InfluxDB once: none was sent again.
    assert.equal(history.writer.state.written, sent * 2, 'two lines (Press and Hydraulics) per message, each written once');
    assert.ok(duringOutage > 1500, `the stream went on during the outage (${duringOutage} messages)`);
    assert.ok(statuses.some((s) => /^InfluxDB unreachable: .* · [\d,]+ queued/.test(s)), `the status showed the outage and the backlog: ${statuses.slice(0, 5).join(' | ')}`);
    await eventually(() => /^[\d,]+ written · 0 queued$/.test(statusOf(hist)?.text ?? ''), 'the status back to green with nothing queued');
  });

  for (const overflow of ['refuse-new', 'drop-oldest'] as const) {
    it(`says loudly when the queue is full and then ${overflow === 'refuse-new' ? 'refuses new points to Catch' : 'drops the oldest points'}`, async () => {
      await helper.unload();
      const closedPort = await freePort();
      await loadFlow(helper, [dtdlModelNode, influxServerNode, twinHistoryNode], [
        { id: 'models', type: 'dtdl-model', source: 'inline', documents: PRESS_TEXT },
        { id: 'nowhere', type: 'influx-server', host: '127.0.0.1', port: closedPort, database: 'full', createDatabase: true, timeout: 1 },
        { id: `full-${overflow}`, type: 'twin-history', server: 'nowhere', models: 'models', precision: 'ms', batchSize: 100, flushInterval: 50, maxBacklog: 1, overflow },
      ]);
      const hist = helper.getNode(`full-${overflow}`);
      const errors: string[] = [];
      onCall(hist, 'error', (args) => errors.push(String((args[0] as Error)?.message ?? args[0])));
      const results: (Error | undefined)[] = [];
      for (let m = 0; m < 150; m++) {
        const payload = Array.from({ length: 100 }, (_, k) => ({ topic: 'cycles', payload: m * 100 + k, sourceTime: T0 + m * 100 + k }));
        results.push(await deliver(hist, { topic: 'samples', twin: { id: 'press-full', model: PRESS }, payload }));
      }
      if (overflow === 'refuse-new') {
        const refused = results.filter((r) => r !== undefined);
        assert.ok(refused.length > 0, 'some messages were refused');
        assert.match(refused[0]!.message, /twin-history: the backlog is full \(.* MiB of 1\.0 MiB\) while InfluxDB fails: .*ECONNREFUSED.*; these 100 point\(s\) were not stored/);
        await eventually(() => errors.some((e) => /backlog is FULL .* NEW points are REFUSED/.test(e)), 'a loud error saying new points are refused');
        await eventually(() => /^backlog full: refusing new points/.test(statusOf(hist)?.text ?? ''), 'a red status saying so');
      } else {
        assert.deepEqual(results.filter((r) => r !== undefined), [], 'nothing refused');
        await eventually(() => errors.some((e) => /backlog is FULL .* OLDEST points are being DROPPED/.test(e)), 'a loud error saying the oldest points are dropped');
        await eventually(() => /^backlog full: [\d,]+ oldest dropped/.test(statusOf(hist)?.text ?? ''), 'a red status counting the dropped points');
      }
    });
  }
});
