// Reference flow cnc-analytics in a real Node-RED process beside the simulator (at 20 times real
// time) and a real InfluxDB: the twin's samples reach InfluxDB, the anomaly node learns its baseline,
// a wearing spindle bearing injected through the simulator raises an alert, and the rul node
// estimates the remaining life; the dashboard page is served.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCncServer, type CncServer } from '../../plant/cnc-server';
import { InfluxDbServer } from '../support/influxdb';
import { referenceFlow, startNodeRed, type Comms, type FlowNode, type NodeRedProcess } from '../support/node-red-process';

const TIME_SCALE = 20;

describe('reference flow cnc-analytics', () => {
  let plant: CncServer;
  let influx: InfluxDbServer;
  let nodeRed: NodeRedProcess;
  let comms: Comms;

  before(async () => {
    influx = await InfluxDbServer.start();
    plant = await startCncServer({ port: 0, seed: 31, autoCycle: true, timeScale: TIME_SCALE });
    // The flow as shipped, pointed at the test's servers, with a training window of ten simulated
    // minutes (30 s here) instead of an hour.
    const flows = referenceFlow('cnc-analytics.json', { opcuaUrl: plant.endpointUrl }).map((node): FlowNode => {
      if (node.id === 'tf-influx') return { ...node, port: influx.httpPort };
      if (node.id === 'tf-ana-anomaly') return { ...node, trainingSeconds: 600, minRegimeSamples: 10 };
      if (node.id === 'tf-ana-rul') return { ...node, minBuckets: 6 };
      return node;
    });
    nodeRed = await startNodeRed({ flows });
    comms = await nodeRed.comms();
  });

  after(async () => {
    comms?.close();
    await nodeRed?.stop();
    await plant?.stop();
    await influx?.stop();
  });

  const status = (id: string) => comms.statuses(id).at(-1)?.text ?? '';

  it('keeps the twin\'s history in InfluxDB', async () => {
    await comms.waitFor(() => /^cnc-1 · operation · [1-9]/.test(status('tf-ana-twin')), 30_000, 'the twin accepting samples');
    assert.deepEqual(comms.debug('tf-ana-refused'), [], 'the simulator sends nothing the model refuses');
    let count = 0;
    const deadline = Date.now() + 30_000;
    while (count === 0 && Date.now() < deadline) {
      const rows = await influx.rows('SELECT count("vibrationRms") AS n FROM "Spindle"', { db: 'twinflow' }).catch(() => []);
      count = Number(rows[0]?.n ?? 0);
      if (count === 0) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.ok(count > 0, 'spindle vibration samples are in InfluxDB');
  });

  it('learns the baseline, then raises an alert for a wearing bearing and estimates its remaining life', async () => {
    await comms.waitFor(() => /^monitoring/.test(status('tf-ana-anomaly')), 120_000, 'the anomaly node monitoring');
    assert.deepEqual(comms.debug('tf-ana-alerts'), [], 'no alarm while the machine runs normally');
    // Ten simulated minutes to failure: 30 s here.
    plant.injectFault('bearingWear', '', { timeToFailureSeconds: 600 });
    const alert = await comms.waitFor(() => comms.debug('tf-ana-alerts').map((d) => JSON.parse(d.msg) as { id: string; state: string; severity: string; message: string; twin: { id: string } }).find((a) => a.state === 'active-unacked'), 90_000, 'an alert');
    assert.match(alert.id, /^spindle/);
    assert.equal(alert.twin.id, 'cnc-1');
    assert.match(status('tf-ana-anomaly'), /alarms? active/);
    const estimate = await comms.waitFor(() => comms.debug('tf-ana-rul-debug').map((d) => JSON.parse(d.msg) as { status: string; rulSeconds: number | null; threshold: number }).find((r) => r.status === 'estimate' || r.status === 'failed'), 90_000, 'a RUL estimate');
    assert.equal(estimate.threshold, 0.71);
    assert.equal(typeof estimate.rulSeconds, 'number');
    assert.ok(estimate.rulSeconds! >= 0);
  });

  it('serves the dashboard page', async () => {
    const res = await fetch(`${nodeRed.url}/dashboard/cnc-analytics`);
    assert.equal(res.status, 200);
  });
});
