// twin-history in a real Node-RED process with a real influxd: points queued while InfluxDB is down
// survive a clean Node-RED restart and a SIGKILL, and reach InfluxDB once each afterwards.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startInfluxDb, type InfluxDbServer } from '../support/influxdb';
import { startNodeRed, type Comms, type FlowNode, type NodeRedProcess } from '../support/node-red-process';
import { PRESS, PRESS_TEXT } from '../support/press-model';

const T0 = Date.parse('2026-11-25T00:00:00.000Z');

describe('twin-history across Node-RED restarts with a non-empty queue', () => {
  const userDir = mkdtempSync(path.join(os.tmpdir(), 'twinflow-history-restart-'));
  let influx: InfluxDbServer;
  let nodeRed: NodeRedProcess | undefined;
  let comms: Comms | undefined;

  const flows = (): FlowNode[] => [
    { id: 'tf-hr-tab', type: 'tab', label: 'history restart' },
    { id: 'tf-hr-models', type: 'dtdl-model', source: 'inline', documents: PRESS_TEXT },
    { id: 'tf-hr-influx', type: 'influx-server', host: '127.0.0.1', port: influx.httpPort, database: 'restart', createDatabase: true, timeout: 2 },
    { id: 'tf-hr-in', type: 'http in', z: 'tf-hr-tab', url: '/points', method: 'post', wires: [['tf-hr-shape']] },
    { id: 'tf-hr-shape', type: 'change', z: 'tf-hr-tab', rules: [
      { t: 'set', p: 'twin', pt: 'msg', to: 'payload.twin', tot: 'msg' },
      { t: 'set', p: 'topic', pt: 'msg', to: 'samples', tot: 'str' },
      { t: 'set', p: 'payload', pt: 'msg', to: 'payload.samples', tot: 'msg' },
    ], wires: [['tf-hr-history']] },
    // Answered only once twin-history completed the message: its points are on disk by then.
    { id: 'tf-hr-done', type: 'complete', z: 'tf-hr-tab', scope: ['tf-hr-history'], uncaught: false, wires: [['tf-hr-ok']] },
    { id: 'tf-hr-ok', type: 'http response', z: 'tf-hr-tab', statusCode: '200', wires: [] },
    { id: 'tf-hr-history', type: 'twin-history', z: 'tf-hr-tab', server: 'tf-hr-influx', models: 'tf-hr-models', precision: 'ms', batchSize: 100, flushInterval: 100, maxBacklog: 20, overflow: 'refuse-new', wires: [] },
  ];

  async function start(): Promise<void> {
    nodeRed = await startNodeRed({ userDir, keepUserDir: true, flows: flows() });
    comms = await nodeRed.comms(['status/#']);
  }

  async function post(from: number, count: number): Promise<void> {
    const samples = Array.from({ length: count }, (_, k) => ({ topic: 'cycles', payload: from + k, sourceTime: T0 + from + k }));
    const res = await nodeRed!.request('POST', '/points', { twin: { id: 'press-1', model: PRESS }, samples });
    assert.equal(res.status, 200);
  }

  async function queuedStatus(count: number): Promise<void> {
    const text = count.toLocaleString('en-US');
    await comms!.waitFor(() => comms!.statuses('tf-hr-history').some((s) => new RegExp(`unreachable: .* · ${text} queued`).test(s.text ?? '')), 30_000, `${text} points queued`);
  }

  async function storedValues(): Promise<number[]> {
    return (await influx.rows('SELECT "cycles" FROM "Press" ORDER BY time', { db: 'restart' })).map((r) => r.cycles as number);
  }

  async function waitForValues(count: number): Promise<number[]> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const values = await storedValues().catch(() => []);
      if (values.length >= count || Date.now() > deadline) return values;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  before(async () => {
    influx = await startInfluxDb();
    await start();
  });

  after(async () => {
    comms?.close();
    await nodeRed?.stop();
    await influx?.stop();
    rmSync(userDir, { recursive: true, force: true });
  });

  it('keeps queued points through a clean restart and writes them when InfluxDB is back', async () => {
    await influx.halt();
    for (let i = 0; i < 10; i++) await post(i * 100, 100);
    await queuedStatus(1000);
    comms!.close();
    await nodeRed!.stop();
    await start();
    await queuedStatus(1000);
    await influx.restart();
    const values = await waitForValues(1000);
    assert.deepEqual(values, Array.from({ length: 1000 }, (_, i) => i));
  });

  it('keeps queued points through a SIGKILL of Node-RED', async () => {
    await influx.halt();
    for (let i = 10; i < 20; i++) await post(i * 100, 100);
    await queuedStatus(1000);
    comms!.close();
    await nodeRed!.kill();
    await influx.restart();
    await start();
    const values = await waitForValues(2000);
    assert.deepEqual(values, Array.from({ length: 2000 }, (_, i) => i), 'every point once, none lost');
    await comms!.waitFor(() => comms!.statuses('tf-hr-history').some((s) => /^[\d,]+ written · 0 queued$/.test(s.text ?? '')), 20_000, 'nothing left queued');
  });
});
