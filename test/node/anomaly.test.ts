// The anomaly node inside a real Node-RED runtime, fed by the seeded CNC simulator stepped faster
// than real time (batches as opcua-in sends them): learning, alerts with ISA-18.2 states and operator
// actions, SPC chart series, the baseline kept across a restart, relearning, gaps found by the timer,
// and bad input refused with the field named and nothing changed.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import helper from 'node-red-node-test-helper';
import { CncModel } from '../../plant/cnc-model';
import { EPOCH, TOPICS } from '../../bench/anomaly/scenario';
import { CNC_ANOMALY_CONFIG } from '../../bench/anomaly/cnc-config';
import { collector, eventually, loadFlow, statusOf, type Collector, type Message, nodeRedSuite } from '../support/node-helpers';
import anomalyNode = require('../../nodes/anomaly/anomaly');

// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const completeNode = require('@node-red/nodes/core/common/24-complete.js');

helper.init(require.resolve('node-red'));

const TRAINING = 1200;
const TWIN = { id: 'cnc-1', model: 'dtmi:twinflow:cnc:CNCMachine;1' };

/** The node's settings as the editor stores them, for the CNC configuration of the evaluation. */
function nodeConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'cnc-1 analytics',
    signals: CNC_ANOMALY_CONFIG.signals,
    multivariate: CNC_ANOMALY_CONFIG.multivariate,
    regimeTopic: CNC_ANOMALY_CONFIG.regime.topic,
    regimeBinWidth: '500',
    regimeSettle: '12',
    trainingSeconds: String(TRAINING),
    ...extra,
  };
}

function flow(config: Record<string, unknown>, id = 'an1') {
  return [
    { id, type: 'anomaly', ...config, wires: [['alerts'], ['chart'], ['indicators']] },
    { id: 'alerts', type: 'helper' },
    { id: 'chart', type: 'helper' },
    { id: 'indicators', type: 'helper' },
    { id: 'tf-catch', type: 'catch', scope: [id], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
    { id: 'tf-complete', type: 'complete', scope: [id], uncaught: false, wires: [['completed']] },
    { id: 'completed', type: 'helper' },
  ];
}

/** The simulator as opcua-in's batches: one message per simulated second with every sensor. */
class Feed {
  readonly model: CncModel;
  constructor(seed: number) {
    this.model = new CncModel({ seed, autoCycle: true });
  }

  next(): Record<string, unknown> {
    this.model.step(1);
    const r = this.model.readings();
    const sourceTime = EPOCH + Math.round(this.model.time * 1000);
    const samples: Record<string, unknown>[] = [];
    for (const [sensor, topic] of TOPICS) {
      const [group, name] = sensor.split('.') as [string, string];
      const value = (r as unknown as Record<string, Record<string, number | null>>)[group]![name];
      samples.push(value === null ? { topic, payload: null, sourceTime, quality: 'bad' } : { topic, payload: value, sourceTime, quality: 'good' });
    }
    samples.push({ topic: 'spindle/speedSetpoint', payload: r.spindle.speedSetpoint, sourceTime, quality: 'good' });
    samples.push({ topic: 'machineState', payload: r.machineState, sourceTime, quality: 'good' });
    return { topic: 'samples', payload: samples, twin: TWIN };
  }
}

let alerts: Collector;
let chart: Collector;
let indicators: Collector;
let caught: Collector;
let completed: Collector;

async function load(config: Record<string, unknown>, id = 'an1'): Promise<void> {
  await loadFlow(helper, [anomalyNode, catchNode, completeNode], flow(config, id));
  alerts = collector(helper.getNode('alerts'));
  chart = collector(helper.getNode('chart'));
  indicators = collector(helper.getNode('indicators'));
  caught = collector(helper.getNode('caught'));
  completed = collector(helper.getNode('completed'));
}

/** Sends simulated seconds and waits until the node has finished with every one of them. */
async function feedSeconds(feed: Feed, seconds: number, id = 'an1'): Promise<void> {
  const target = completed.messages.length + caught.messages.length + seconds;
  const node = helper.getNode(id);
  for (let i = 0; i < seconds; i++) node.receive(feed.next());
  await eventually(() => completed.messages.length + caught.messages.length >= target, `${seconds} messages done`, 60_000);
}

/** Sends one message and returns the error the node reported for it, if any. */
async function exchange(msg: Record<string, unknown>, id = 'an1'): Promise<string | undefined> {
  const before = completed.messages.length + caught.messages.length;
  const caughtBefore = caught.messages.length;
  helper.getNode(id).receive(msg);
  await eventually(() => completed.messages.length + caught.messages.length > before, 'the message done', 10_000);
  const error = caught.messages[caughtBefore]?.error as { message?: string } | undefined;
  return caught.messages.length > caughtBefore ? String(error?.message) : undefined;
}

const raisedAlerts = (): Message[] => alerts.messages.filter((m) => (m.alert as { state: string } | undefined)?.state === 'active-unacked');
const baselineFile = (id = 'an1') => path.join(currentUserDir(), 'twinflow', `anomaly-${id}.json`);

// Hooks for every test of the file: the helper's server, and a fresh user directory per test.
const currentUserDir = nodeRedSuite(helper, 'anomaly');

describe('anomaly node', () => {

  it('learns the baseline, then raises an ISA-18.2 alert for a failing coolant pump and charts the flow', async () => {
    await load(nodeConfig());
    const feed = new Feed(5);
    await feedSeconds(feed, 600);
    await eventually(() => /^learning the baseline 4\d% · \d+ samples/.test(statusOf(helper.getNode('an1'))?.text ?? ''), 'the status shows the training progress');
    await feedSeconds(feed, TRAINING - 600 + 300);
    await eventually(() => /^monitoring/.test(statusOf(helper.getNode('an1'))?.text ?? ''), 'monitoring');
    assert.ok(existsSync(baselineFile()), 'the baseline is on disk once learned');
    assert.deepEqual(raisedAlerts(), [], 'no alarm in five minutes of normal operation');

    feed.model.injectFault('coolantPumpFailure');
    await feedSeconds(feed, 90);
    const first = raisedAlerts()[0];
    assert.ok(first, 'an alarm');
    const alert = first.alert as { id: string; source: string; severity: string; state: string; message: string; twin: unknown; since: number };
    assert.match(alert.id, /^coolant\/flow:/);
    assert.equal(alert.source, 'cnc-1 analytics');
    assert.equal(alert.severity, 'high');
    assert.deepEqual(alert.twin, TWIN);
    assert.equal(first.topic, alert.id);
    assert.match(String(first.payload), /^active-unacked: coolant\/flow: .*expected (19\.9\d|20)/);
    assert.ok(alert.since > EPOCH + (TRAINING + 300) * 1000, 'since is source time');
    assert.ok(Array.isArray(first.alarms) && (first.alarms as unknown[]).length >= 1, 'the alarm list rides along');
    assert.match(statusOf(helper.getNode('an1'))?.text ?? '', /alarms? active/);

    // The chart: four series per subgroup, x in ms of source time.
    const flow = chart.messages.filter((m) => m.channel === 'coolant/flow');
    assert.deepEqual([...new Set(flow.map((m) => m.topic))].sort(), ['CL', 'LCL', 'UCL', 'coolant/flow']);
    const lastValue = flow.filter((m) => m.topic === 'coolant/flow').at(-1)!;
    const lastUcl = flow.filter((m) => m.topic === 'UCL').at(-1)!;
    const lastLcl = flow.filter((m) => m.topic === 'LCL').at(-1)!;
    assert.equal(typeof lastValue.timestamp, 'number');
    assert.equal(lastValue.timestamp, lastUcl.timestamp);
    assert.ok((lastValue.payload as number) < (lastLcl.payload as number), 'the failing flow is below its lower limit');
    assert.ok(((lastValue.spc as { violations: string[] }).violations).includes('beyond3Sigma'));

    // Output 3: condition-normalised indicators, a batch per scored batch.
    const batch = indicators.messages.at(-1)!;
    assert.equal(batch.topic, 'samples');
    assert.deepEqual(batch.twin, TWIN);
    const vibration = (batch.payload as Message[]).find((m) => m.topic === 'spindle/vibrationRms:normalised');
    assert.ok(vibration && typeof vibration.payload === 'number' && typeof vibration.sourceTime === 'number');
    assert.equal((vibration.anomaly as { channel: string }).channel, 'spindle/vibrationRms');
  });

  it('acknowledges and shelves by message; an unknown alarm or a bad action is refused', async () => {
    await load(nodeConfig());
    const feed = new Feed(6);
    await feedSeconds(feed, TRAINING + 60);
    feed.model.injectFault('coolantPumpFailure');
    await feedSeconds(feed, 90);
    const id = (raisedAlerts()[0]!.alert as { id: string }).id;
    alerts.clear();
    assert.equal(await exchange({ alarm: { action: 'acknowledge', id, by: 'ann' } }), undefined);
    await alerts.waitFor((m) => (m.alert as { state: string }).state === 'active-acked');
    assert.match(String(await exchange({ alarm: { action: 'acknowledge', id: 'nope:ewma' } })), /alarm "nope:ewma": no such alarm/);
    assert.match(String(await exchange({ alarm: { action: 'silence', id } })), /alarm\.action: must be acknowledge, shelve or unshelve/);
    assert.equal(await exchange({ alarm: { action: 'shelve', id, forSeconds: 600 } }), undefined);
    await alerts.waitFor((m) => (m.alert as { id: string; state: string }).id === id && (m.alert as { state: string }).state === 'shelved');
    const list = await new Promise<Message>((resolve) => {
      alerts.waitFor((m) => m.topic === 'alarms').then(resolve);
      helper.getNode('an1').receive({ action: 'alarms' });
    });
    assert.ok((list.payload as { id: string; state: string }[]).some((a) => a.id === id && a.state === 'shelved'));
  });

  it('keeps the baseline and the alarm states across a restart: no new training', async () => {
    await load(nodeConfig());
    const feed = new Feed(7);
    await feedSeconds(feed, TRAINING + 60);
    feed.model.injectFault('coolantPumpFailure');
    await feedSeconds(feed, 90);
    const id = (raisedAlerts()[0]!.alert as { id: string }).id;
    await exchange({ alarm: { action: 'acknowledge', id } });
    const saved = JSON.parse(readFileSync(baselineFile(), 'utf8')) as { baseline: { from: number; to: number }; alarms: { alarms: { id: string; state: string }[] } };
    assert.equal(saved.alarms.alarms.find((a) => a.id === id)?.state, 'active-acked', 'the acknowledgement is on disk at once');

    await helper.unload();
    await load(nodeConfig());
    assert.match(statusOf(helper.getNode('an1'))?.text ?? '', /^monitoring/, 'monitoring straight after the restart');
    const again = JSON.parse(readFileSync(baselineFile(), 'utf8')) as typeof saved;
    assert.deepEqual(again.baseline, saved.baseline);

    // Still judged against the restored baseline: a stuck vibration sensor is found without training.
    const fresh = new Feed(8);
    await feedSeconds(fresh, 120);
    fresh.model.injectFault('stuckSensor', 'spindle.vibrationRms');
    await feedSeconds(fresh, 60);
    assert.ok(raisedAlerts().some((m) => (m.alert as { id: string }).id === 'spindle/vibrationRms:flatline'), 'flat line found after the restart');
  });

  it('a changed configuration learns a new baseline, and a damaged file is kept aside', async () => {
    await load(nodeConfig());
    await feedSeconds(new Feed(9), TRAINING + 5);
    await helper.unload();
    await load(nodeConfig({ regimeBinWidth: '1000' }));
    assert.match(statusOf(helper.getNode('an1'))?.text ?? '', /^learning the baseline 0%/);
    await helper.unload();

    mkdirSync(path.dirname(baselineFile('an2')), { recursive: true });
    writeFileSync(baselineFile('an2'), '{ not json');
    await load(nodeConfig(), 'an2');
    assert.match(statusOf(helper.getNode('an2'))?.text ?? '', /^learning the baseline/);
    const aside = readdirSync(path.dirname(baselineFile('an2'))).filter((f) => f.startsWith('anomaly-an2.json.unrestorable-'));
    assert.ok(aside.some((f) => f.endsWith('.json')), `the damaged file was kept aside (${aside.join(', ')})`);
  });

  it('relearns by message: alarms return to normal conditions, the status says it learns', async () => {
    await load(nodeConfig());
    const feed = new Feed(10);
    await feedSeconds(feed, TRAINING + 60);
    feed.model.injectFault('coolantPumpFailure');
    await feedSeconds(feed, 90);
    alerts.clear();
    assert.equal(await exchange({ baseline: 'relearn' }), undefined);
    assert.ok(alerts.messages.length > 0 && alerts.messages.every((m) => (m.alert as { state: string }).state === 'rtn-unacked'));
    assert.match(statusOf(helper.getNode('an1'))?.text ?? '', /^learning the baseline 0%/);
    const saved = JSON.parse(readFileSync(baselineFile(), 'utf8')) as { baseline?: unknown };
    assert.equal(saved.baseline, undefined, 'the old baseline is gone from disk too');
    assert.match(String(await exchange({ baseline: 'forget' })), /baseline: "forget" must be "relearn"/);
  });

  it('finds silence with its timer when every sample stops', async () => {
    await load(nodeConfig({ gapSeconds: '2', trainingSeconds: '300' }));
    await feedSeconds(new Feed(11), 330);
    assert.deepEqual(raisedAlerts(), []);
    const gaps = await alerts.waitFor((m) => /:gap$/.test(String(m.topic)) && (m.alert as { state: string }).state === 'active-unacked', 10_000);
    assert.match(String(gaps.payload), /no sample for \d+ s/);
  });

  it('refuses bad input with the field and the rule, and changes nothing', async () => {
    await load(nodeConfig());
    const feed = new Feed(12);
    await feedSeconds(feed, 10);
    const before = statusOf(helper.getNode('an1'))?.text;
    assert.match(String(await exchange({ topic: 'spindle/vibrationRms', payload: 'high', sourceTime: EPOCH + 11_000 })), /anomaly: payload: "high" is not a number \(spindle\/vibrationRms/);
    const batch = feed.next();
    (batch.payload as Record<string, unknown>[])[2]!.payload = '0.2';
    assert.match(String(await exchange(batch)), /payload\[2\]\.payload: "0\.2" is not a number/);
    assert.match(String(await exchange({ topic: 'samples', payload: { a: 1 } })), /payload: a batch \(topic "samples"\) holds an array/);
    assert.match(String(await exchange({ topic: 'spindle/motorCurrent', payload: 3, sourceTime: 'yesterday' })), /sourceTime: "yesterday" must be a time/);
    assert.match(String(await exchange({ topic: 'spindle/motorCurrent', payload: 3, quality: 'great' })), /quality: "great" must be good, uncertain or bad/);
    assert.match(String(await exchange({ payload: 3 })), /topic: the DTDL path/);
    assert.equal(statusOf(helper.getNode('an1'))?.text, before, 'no sample of a refused message was counted');
    assert.equal(await exchange({ topic: 'positionX', payload: 'not watched' }), undefined, 'topics the node does not read are ignored');
  });

  it('a configuration error shows in the status and refuses every input', async () => {
    await load({ name: 'broken', signals: [], trainingSeconds: '60' });
    assert.equal(statusOf(helper.getNode('an1'))?.fill, 'red');
    assert.match(statusOf(helper.getNode('an1'))?.text ?? '', /signals: watch at least one/);
    assert.match(String(await exchange({ topic: 'x', payload: 1 })), /anomaly: signals: watch at least one/);
    await helper.unload();
    await load(nodeConfig({ ewmaLambda: '2' }));
    assert.match(statusOf(helper.getNode('an1'))?.text ?? '', /ewma\.lambda: 2 is above the maximum 1/);
  });
});
