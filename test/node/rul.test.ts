// The rul node inside a real Node-RED runtime: estimates from a wearing indicator with the threshold
// from the dialog, from a message, and from a twin's property in a real twin graph; the trend chart;
// the history kept across a restart; bad input refused with the field named and nothing changed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import helper from 'node-red-node-test-helper';
import { Random } from '../../nodes/lib/random';
import { collector, eventually, loadFlow, statusOf, type Collector, nodeRedSuite } from '../support/node-helpers';
import rulNode = require('../../nodes/rul/rul');
import dtdlModelNode = require('../../nodes/dtdl-model/dtdl-model');
import twinGraphNode = require('../../nodes/twin-graph/twin-graph');
import twinNode = require('../../nodes/twin/twin');

// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const completeNode = require('@node-red/nodes/core/common/24-complete.js');

helper.init(require.resolve('node-red'));

const T0 = Date.UTC(2026, 10, 25);
const PUMP = 'dtmi:test:rul:Pump;1';
/** A model with the limit as a property: "the failure threshold taken from the twin model". */
const MODEL = JSON.stringify({
  '@context': 'dtmi:dtdl:context;3',
  '@id': PUMP,
  '@type': 'Interface',
  contents: [
    { '@type': 'Telemetry', name: 'vibration', schema: 'double' },
    { '@type': 'Property', name: 'vibrationLimit', schema: 'double' },
  ],
});

const base = { indicator: 'vib', gateTopic: 'speed', gateMin: '1000', bucketSeconds: '10', windowSeconds: '3600', minBuckets: '6' };

function flow(rul: Record<string, unknown>, extra: Record<string, unknown>[] = []) {
  return [
    { id: 'r1', type: 'rul', ...base, ...rul, wires: [['estimates'], ['trend']] },
    { id: 'estimates', type: 'helper' },
    { id: 'trend', type: 'helper' },
    { id: 'tf-catch', type: 'catch', scope: ['r1'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
    { id: 'tf-complete', type: 'complete', scope: ['r1'], uncaught: false, wires: [['completed']] },
    { id: 'completed', type: 'helper' },
    ...extra,
  ];
}

let estimates: Collector;
let trend: Collector;
let caught: Collector;
let completed: Collector;

async function load(rul: Record<string, unknown>, extra: Record<string, unknown>[] = []): Promise<void> {
  await loadFlow(helper, [rulNode, dtdlModelNode, twinGraphNode, twinNode, catchNode, completeNode], flow(rul, extra));
  estimates = collector(helper.getNode('estimates'));
  trend = collector(helper.getNode('trend'));
  caught = collector(helper.getNode('caught'));
  completed = collector(helper.getNode('completed'));
}

/** y = 0.1 + 0.01 exp(t / 400): reaches 0.71 at t = 400 ln 61 = 1644 s. Running 60 s of every 120. */
const curve = (t: number) => 0.1 + 0.01 * Math.exp(t / 400);

async function feed(from: number, to: number, seed = 1): Promise<void> {
  const random = new Random(seed);
  const node = helper.getNode('r1');
  const target = completed.messages.length + caught.messages.length + (to - from);
  for (let t = from; t < to; t++) {
    const running = Math.floor(t / 60) % 2 === 0;
    const sourceTime = T0 + t * 1000;
    node.receive({
      topic: 'samples',
      payload: [
        { topic: 'speed', payload: running ? 8000 : 0, sourceTime },
        { topic: 'vib', payload: running ? curve(t) + random.gaussian(0, 0.01) : 0.02, sourceTime },
        { topic: 'temperature', payload: 'ignored', sourceTime },
      ],
    });
  }
  await eventually(() => completed.messages.length + caught.messages.length >= target, 'every message done', 30_000);
}

async function exchange(msg: Record<string, unknown>): Promise<string | undefined> {
  const before = completed.messages.length + caught.messages.length;
  const caughtBefore = caught.messages.length;
  helper.getNode('r1').receive(msg);
  await eventually(() => completed.messages.length + caught.messages.length > before, 'the message done', 10_000);
  return caught.messages.length > caughtBefore ? String((caught.messages[caughtBefore]!.error as { message?: string }).message) : undefined;
}

const lastRul = () => estimates.messages.at(-1)!.rul as { status: string; rulSeconds: number; lowerSeconds: number; upperSeconds: number | null; threshold: number; model: string; buckets: number };

// Hooks for every test of the file: the helper's server, and a fresh user directory per test.
nodeRedSuite(helper, 'rul');

describe('rul node', () => {

  it('estimates the remaining life of a wearing part against the configured threshold, with a trend chart', async () => {
    await load({ threshold: '0.71' });
    await feed(0, 50);
    assert.equal(lastRul().status, 'learning');
    assert.match(statusOf(helper.getNode('r1'))?.text ?? '', /^\d\/6 buckets before a trend/);
    await feed(50, 1200);
    const message = estimates.messages.at(-1)!;
    const rul = lastRul();
    assert.equal(rul.status, 'estimate');
    assert.equal(rul.model, 'exponential');
    assert.equal(message.topic, 'vib:rul');
    assert.equal(message.payload, rul.rulSeconds);
    const truth = 400 * Math.log(61) - 1190;
    assert.ok(Math.abs(rul.rulSeconds - truth) < 0.3 * truth, `RUL ${rul.rulSeconds} s vs ${truth.toFixed(0)} s`);
    assert.ok(rul.lowerSeconds <= rul.rulSeconds && (rul.upperSeconds === null || rul.rulSeconds <= rul.upperSeconds));
    assert.match(statusOf(helper.getNode('r1'))?.text ?? '', /^RUL \d+(\.\d)? min \[.*\] · exponential/);
    const series = new Set(trend.messages.map((m) => m.topic));
    assert.deepEqual([...series].sort(), ['indicator', 'threshold', 'trend']);
    assert.ok(trend.messages.every((m) => typeof m.timestamp === 'number' && typeof m.payload === 'number'));
    await feed(1200, 1800);
    assert.equal(lastRul().status, 'failed');
    assert.equal(estimates.messages.at(-1)!.payload, 0);
  });

  it('takes the threshold from a message, keeps it and the history across a restart, and resets by message', async () => {
    // The machine runs in [0, 60), [120, 180) ... [960, 1020), [1080, 1140).
    await load({ threshold: '0.71' });
    await feed(0, 900);
    assert.equal(await exchange({ threshold: 0.3 }), undefined);
    await feed(960, 990);
    assert.equal(lastRul().threshold, 0.3);
    const buckets = lastRul().buckets;
    await helper.unload();
    await load({ threshold: '0.71' });
    await feed(990, 1001);
    assert.equal(lastRul().threshold, 0.3, 'the threshold set by message survived');
    assert.equal(lastRul().buckets, buckets + 1, 'the buckets survived');
    assert.equal(await exchange({ threshold: null }), undefined);
    await feed(1001, 1011);
    assert.equal(lastRul().threshold, 0.71);
    assert.equal(await exchange({ rul: 'reset' }), undefined);
    await feed(1080, 1100);
    assert.equal(lastRul().status, 'learning');
    assert.equal(lastRul().buckets, 1);
  });

  it('reads the threshold from a twin\'s property in the twin graph, and follows it', async () => {
    const graph = [
      { id: 'models', type: 'dtdl-model', source: 'inline', documents: MODEL },
      { id: 'plant', type: 'twin-graph', models: 'models', staleness: [], limits: [], persist: false },
      { id: 'tw', type: 'twin', graph: 'plant', scope: 'one', twinId: 'pump-1', model: PUMP, autoCreate: true, wires: [[], [], []] },
    ];
    await load({ thresholdSource: 'twin', graph: 'plant', twinId: 'pump-1', thresholdPath: 'vibrationLimit' }, graph);
    await feed(0, 300);
    assert.equal(lastRul().status, 'no-threshold');
    assert.match(statusOf(helper.getNode('r1'))?.text ?? '', /threshold: .*pump-1/);
    helper.getNode('tw').receive({ topic: 'vibrationLimit', payload: 0.4 });
    await feed(300, 900);
    assert.equal(lastRul().threshold, 0.4);
    assert.equal(lastRul().status, 'estimate');
    helper.getNode('tw').receive({ topic: 'vibrationLimit', payload: 0.9 });
    await feed(900, 920);
    assert.equal(lastRul().threshold, 0.9, 'a new limit on the twin is used at the next estimate');
  });

  it('refuses bad input with the field and the rule, changing nothing', async () => {
    await load({ threshold: '0.71' });
    await feed(0, 100);
    const before = lastRul().buckets;
    assert.match(String(await exchange({ topic: 'vib', payload: 'loud', sourceTime: T0 + 101_000 })), /rul: payload: "loud" is not a number \(vib\)/);
    assert.match(String(await exchange({ topic: 'samples', payload: [{ topic: 'speed', payload: 9000 }, { topic: 'vib', payload: null }] })), /payload\[1\]\.payload: null is not a number/);
    assert.match(String(await exchange({ threshold: 'high' })), /threshold: "high" is not a number/);
    assert.match(String(await exchange({ rul: 'forget' })), /rul: "forget" must be "reset"/);
    assert.match(String(await exchange({ topic: 'vib', payload: 1, sourceTime: 'soon' })), /sourceTime: "soon" must be a time/);
    await feed(120, 131);
    assert.equal(lastRul().buckets, before + 1, 'the refused samples left no trace');
  });

  it('a configuration error shows in the status and refuses input', async () => {
    await load({ indicator: '', threshold: '0.71' });
    assert.equal(statusOf(helper.getNode('r1'))?.fill, 'red');
    assert.match(statusOf(helper.getNode('r1'))?.text ?? '', /indicator: the topic/);
    assert.match(String(await exchange({ topic: 'vib', payload: 1 })), /rul: indicator: the topic/);
    await helper.unload();
    await load({ thresholdSource: 'twin', twinId: 'p', thresholdPath: 'x' });
    assert.match(statusOf(helper.getNode('r1'))?.text ?? '', /graph: choose the twin graph/);
  });
});
