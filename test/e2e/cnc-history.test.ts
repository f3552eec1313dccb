// Reference flow cnc-history in a real Node-RED process beside the simulator and a real influxd:
// the machine's samples land in InfluxDB (raw policy, downsampling set up), the history charts get
// data, and "state at time T" answers the twin exactly as it was, also after a restart.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCncServer, type CncServer } from '../../plant/cnc-server';
import { startInfluxDb, type InfluxDbServer } from '../support/influxdb';
import { referenceFlow, startNodeRed, type Comms, type FlowNode, type NodeRedProcess } from '../support/node-red-process';

const CNC = 'dtmi:twinflow:cnc:CNCMachine;1';

interface TwinDoc {
  $etag: string;
  $metadata: { $lastUpdateTime: string };
  [key: string]: unknown;
}

describe('reference flow cnc-history', () => {
  const userDir = mkdtempSync(path.join(os.tmpdir(), 'twinflow-history-flow-'));
  let plant: CncServer;
  let influx: InfluxDbServer;
  let nodeRed: NodeRedProcess;
  let comms: Comms;

  // Test-only nodes beside the reference flow: the twin as the graph has it now (the truth to compare
  // "state at T" with), and a time fed into the dashboard's state-at-T path.
  const extra: FlowNode[] = [
    { id: 'test-get-in', type: 'http in', z: 'tf-hist', url: '/test/twin', method: 'get', wires: [['test-get-ask']] },
    { id: 'test-get-ask', type: 'change', z: 'tf-hist', rules: [{ t: 'set', p: 'action', pt: 'msg', to: 'get', tot: 'str' }], wires: [['test-get-twin']] },
    { id: 'test-get-twin', type: 'twin', z: 'tf-hist', graph: 'tf-graph-events', scope: 'one', twinId: 'cnc-1', model: CNC, autoCreate: false, wires: [['test-get-out'], [], []] },
    { id: 'test-get-out', type: 'http response', z: 'tf-hist', wires: [] },
    { id: 'test-at', type: 'inject', z: 'tf-hist', props: [{ p: 'payload' }], payload: '', payloadType: 'str', repeat: '', once: false, wires: [['tf-hist-state-ask']] },
  ];

  function flows(): FlowNode[] {
    return [
      ...referenceFlow('cnc-history.json', { opcuaUrl: plant.endpointUrl }).map((n) => (n.type === 'influx-server' ? { ...n, port: influx.httpPort } : n)),
      ...extra,
    ];
  }

  async function start(): Promise<void> {
    nodeRed = await startNodeRed({ userDir, keepUserDir: true, flows: flows() });
    comms = await nodeRed.comms();
  }

  async function getJson<T>(route: string): Promise<{ status: number; body: T }> {
    const res = await nodeRed.request('GET', route);
    return { status: res.status, body: (await res.json()) as T };
  }

  async function currentTwin(): Promise<TwinDoc> {
    return (await getJson<TwinDoc>('/test/twin')).body;
  }

  /** "State at T" for T = the twin's last update, compared with the twin as the graph had it then. */
  async function checkStateAtLastUpdate(): Promise<{ at: string; document: TwinDoc }> {
    for (let attempt = 0; ; attempt++) {
      const truth = await currentTwin();
      const at = truth.$metadata.$lastUpdateTime;
      const answer = await getJson<{ document: TwinDoc; version: number }>(`/twinflow/history/state?twin=cnc-1&at=${encodeURIComponent(at)}`);
      assert.equal(answer.status, 200);
      // Another change in the same millisecond would make T show it too: ask again then.
      if (answer.body.document.$etag === truth.$etag || attempt >= 10) {
        assert.deepEqual(answer.body.document, truth, `the state at ${at} is the twin as it was`);
        return { at, document: truth };
      }
    }
  }

  before(async () => {
    plant = await startCncServer({ port: 0, seed: 5, autoCycle: true, timeScale: 5 });
    influx = await startInfluxDb();
    await start();
  });

  after(async () => {
    comms?.close();
    await nodeRed?.stop();
    await plant?.stop();
    await influx?.stop();
    rmSync(userDir, { recursive: true, force: true });
  });

  it('writes the machine\'s samples into the raw policy, with the downsampling set up', async () => {
    const deadline = Date.now() + 60_000;
    let rows: Record<string, unknown>[] = [];
    while (Date.now() < deadline) {
      rows = await influx.rows('SELECT count("speed") AS n FROM "twinflow"."raw"."Spindle" WHERE "twin" = \'cnc-1\'').catch(() => []);
      if (((rows[0]?.n as number) ?? 0) >= 10) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.ok(((rows[0]?.n as number) ?? 0) >= 10, `spindle speeds in InfluxDB: ${JSON.stringify(rows)}`);
    const machine = await influx.rows('SELECT last("machineState") AS state FROM "twinflow"."raw"."CNCMachine"');
    assert.match(String(machine[0]?.state), /^(idle|running|alarm|emergencyStop)$/);
    const policies = Object.fromEntries((await influx.rows('SHOW RETENTION POLICIES ON "twinflow"')).map((p) => [p.name, p]));
    assert.equal(policies.raw?.duration, '168h0m0s');
    assert.equal(policies.raw?.default, true);
    assert.equal(policies.year?.duration, '8736h0m0s');
    const cqs = await influx.query('SHOW CONTINUOUS QUERIES');
    assert.ok(cqs.find((s) => s.name === 'twinflow')?.values.some((v) => v[0] === 'twinflow_year_1m'));
    assert.deepEqual(comms.debug('tf-hist-refused'), [], 'the simulator sends nothing the model refuses');
  });

  it('feeds the history charts and answers history over HTTP', async () => {
    await comms.waitFor(() => comms.statuses('tf-hist-q-speed').some((s) => /^[1-9][\d,]* values in \d+ ms/.test(s.text ?? '')), 30_000, 'the speed chart query returning values');
    await comms.waitFor(() => comms.statuses('tf-hist-q-temp').some((s) => /^[1-9][\d,]* values in \d+ ms/.test(s.text ?? '')), 30_000, 'the temperature chart query returning values');
    const values = await getJson<{ time: number; name: string; value: number }[]>('/twinflow/history/values?names=spindle/speed,spindle/motorCurrent&from=-5m');
    assert.equal(values.status, 200);
    assert.ok(values.body.some((r) => r.name === 'spindle/speed') && values.body.some((r) => r.name === 'spindle/motorCurrent'));
    const means = await getJson<{ time: number; value: number }[]>('/twinflow/history/values?names=spindle/bearingTemperature&from=-5m&aggregate=mean&window=10s');
    assert.ok(means.body.length >= 1 && means.body.every((r) => r.time % 10_000 === 0 && typeof r.value === 'number'));
    const bad = await getJson<{ error: string }>('/twinflow/history/values?names=spindle/warp');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /spindle\/warp/);
  });

  it('answers the state of the twin at a past time T exactly as it was', async () => {
    const first = await checkStateAtLastUpdate();
    // Later changes do not alter what T shows.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const later = await getJson<{ document: TwinDoc }>(`/twinflow/history/state?at=${encodeURIComponent(first.at)}`);
    assert.deepEqual(later.body.document, first.document);
    const beforeTwin = await getJson<{ document: unknown; version: number }>('/twinflow/history/state?at=2000-01-01T00:00:00Z');
    assert.equal(beforeTwin.body.document, null);
    const bad = await getJson<{ error: string }>('/twinflow/history/state?at=soon');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /payload\.at: "soon" is not a time/);
  });

  it('shows the state at T through the dashboard\'s path', async () => {
    const { at, document } = await checkStateAtLastUpdate();
    const seen = comms.debug('tf-hist-state-debug').length;
    const res = await nodeRed.request('POST', '/inject/test-at', { __user_inject_props__: [{ p: 'payload', v: at, vt: 'str' }] });
    assert.equal(res.status, 200);
    const shown = await comms.waitFor(() => comms.debug('tf-hist-state-debug')[seen], 15_000, 'the state at T on the dashboard path');
    const payload = JSON.parse(shown.msg) as { document: TwinDoc; atIso: string };
    assert.equal(payload.atIso, at);
    assert.equal(payload.document.$etag, document.$etag);
    assert.equal(payload.document.machineState, document.machineState);
  });

  it('still answers the same state at T after Node-RED restarts', async () => {
    const { at, document } = await checkStateAtLastUpdate();
    comms.close();
    await nodeRed.stop();
    await start();
    const answer = await getJson<{ document: TwinDoc }>(`/twinflow/history/state?at=${encodeURIComponent(at)}`);
    assert.deepEqual(answer.body.document, document);
    await checkStateAtLastUpdate();
  });
});
