// The twin graph's event log in a real Node-RED runtime: every accepted change logged with a
// gap-free version, causation and correlation; redelivered messages answered, not applied twice;
// expected versions checked; the twin-replay node rebuilding states at past times (also after a
// restart), listing changes and replaying a window into the flow.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import helper from 'node-red-node-test-helper';
import { collector, eventually, loadFlow, statusOf, type Collector, type Message, nodeRedSuite } from '../support/node-helpers';
import { deliver } from '../support/completion';
import dtdlModelNode = require('../../nodes/dtdl-model/dtdl-model');
import twinGraphNode = require('../../nodes/twin-graph/twin-graph');
import twinNode = require('../../nodes/twin/twin');
import twinReplayNode = require('../../nodes/twin-replay/twin-replay');

helper.init(require.resolve('node-red'));

const nodes = [dtdlModelNode, twinGraphNode, twinNode, twinReplayNode];
const CNC = 'dtmi:twinflow:cnc:CNCMachine;1';

function flow(graph: Record<string, unknown> = {}) {
  return [
    { id: 'm1', type: 'dtdl-model', source: 'builtin' },
    { id: 'g1', type: 'twin-graph', models: 'm1', staleness: [], limits: [], persist: true, eventLog: true, snapshotEvery: 5, ...graph },
    { id: 'tw1', type: 'twin', graph: 'g1', scope: 'one', twinId: 'cnc-1', model: CNC, autoCreate: true, wires: [['accepted'], ['refused'], []] },
    { id: 'rp', type: 'twin-replay', graph: 'g1', action: 'state', twinId: 'cnc-1', speed: 0, limit: 10000, wires: [['replayed']] },
    { id: 'accepted', type: 'helper' },
    { id: 'refused', type: 'helper' },
    { id: 'replayed', type: 'helper' },
  ];
}

let accepted: Collector;
let refused: Collector;
let replayed: Collector;

async function load(graph: Record<string, unknown> = {}): Promise<void> {
  await loadFlow(helper, nodes, flow(graph));
  accepted = collector(helper.getNode('accepted'));
  refused = collector(helper.getNode('refused'));
  replayed = collector(helper.getNode('replayed'));
}

let counter = 0;
async function send(msg: Record<string, unknown>): Promise<{ ok?: Message; refused?: Message }> {
  const id = `m${++counter}`;
  helper.getNode('tw1').receive({ ...msg, _msgid: id });
  return Promise.race([
    accepted.waitFor((m) => m._msgid === id, 5000).then((m) => ({ ok: m })),
    refused.waitFor((m) => m._msgid === id, 5000).then((m) => ({ refused: m })),
  ]);
}

async function ask(msg: Record<string, unknown>): Promise<Message> {
  const before = replayed.messages.length;
  const error = await deliver(helper.getNode('rp'), msg);
  if (error) throw error;
  return replayed.waitFor((m) => replayed.messages.indexOf(m) >= before);
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 3));

// Hooks for every test of the file: the helper's server, and a fresh user directory per test.
nodeRedSuite(helper, 'replay');

describe('twin-graph event log and twin-replay', () => {

  it('rebuilds the twin at any past time, also after a restart, from a gap-free log', async () => {
    await load();
    const moments: { time: number; doc: unknown }[] = [];
    const changes: Record<string, unknown>[] = [
      { topic: 'machineState', payload: 'idle' },
      { topic: 'spindle/maxSpeed', payload: 12000 },
      { topic: 'samples', payload: [{ topic: 'spindle/speed', payload: 1000, sourceTime: 1 }, { topic: 'positionX', payload: 5 }] },
      { topic: 'spindle/speedSetpoint', payload: 3000, desired: { issuer: 'optimizer' } },
      { command: { name: 'startCycle', request: 'P1', id: 'c1', issuer: 'operator', issuedAt: 1 } },
      { topic: 'machineState', payload: 'running' },
      { lifecycle: 'adaptation', actor: 'engineer' },
      { topic: 'spindle/speedSetpoint', payload: 3000, ack: { ac: 200, av: 1 } },
      { topic: 'spindle/speed', payload: 2990 },
      { topic: 'machineState', payload: 'idle' },
    ];
    for (const change of changes) {
      const result = await send(change);
      assert.ok(result.ok, JSON.stringify(result.refused?.error));
      await tick();
      moments.push({ time: Date.now(), doc: (await send({ action: 'get' })).ok!.payload });
      await tick();
    }
    for (const moment of moments) {
      const answer = await ask({ payload: moment.time });
      assert.deepEqual((answer.payload as { document: unknown }).document, moment.doc);
    }
    const before = await ask({ payload: moments[0]!.time - 60_000 });
    assert.equal((before.payload as { document: unknown }).document, null, 'nothing before the twin existed');

    await helper.unload();
    await load();
    await eventually(() => /changes of 1 twins/.test(statusOf(helper.getNode('rp'))?.text ?? ''), 'the replay node sees the reopened log');
    for (const moment of moments) {
      assert.deepEqual(((await ask({ payload: new Date(moment.time).toISOString() })).payload as { document: unknown }).document, moment.doc);
    }
    assert.ok((await send({ topic: 'machineState', payload: 'alarm' })).ok);
    const events = (await ask({ action: 'events', payload: { from: 0 } })).payload as { kind: string; logged: { version: number } }[];
    assert.deepEqual(events.map((e) => e.logged.version), Array.from({ length: events.length }, (_, i) => i + 1), 'versions 1, 2, 3 ... without gaps across the restart');
    assert.equal(events[0]!.kind, 'create');
    assert.equal(events.at(-1)!.kind, 'property');
  });

  it('logs causation and correlation, answers a redelivered message once, refuses a reused id, and checks expected versions', async () => {
    await load();
    const first = await send({ topic: 'machineState', payload: 'idle', eventId: 'opc-42', correlationId: 'shift-7' });
    assert.ok(first.ok);
    const again = await send({ topic: 'machineState', payload: 'idle', eventId: 'opc-42', correlationId: 'shift-7' });
    assert.equal(again.ok?.duplicate, true, 'the redelivery is answered as a duplicate');
    const events = (await ask({ action: 'events', payload: { from: 0 } })).payload as { kind: string; logged: { id: string; version: number; causationId: string; correlationId: string } }[];
    assert.deepEqual(events.map((e) => e.kind), ['create', 'property'], 'applied once');
    // The twin made on first use is logged on its own, caused by the message but not under its
    // eventId, which names the change the message asked for.
    assert.notEqual(events[0]!.logged.id, 'opc-42');
    assert.equal(events[1]!.logged.id, 'opc-42');
    for (const event of events) {
      assert.equal(event.logged.correlationId, 'shift-7');
      assert.equal(event.logged.causationId, first.ok!._msgid);
    }
    const reused = await send({ topic: 'machineState', payload: 'running', eventId: 'opc-42' });
    assert.match((reused.refused!.error as { message: string }).message, /eventId: "opc-42" was used before for a different change \(twin cnc-1, log version 2\)/);
    const stale = await send({ topic: 'machineState', payload: 'running', expectedVersion: 1 });
    assert.match((stale.refused!.error as { message: string }).message, /expectedVersion: twin cnc-1 is at version 2 in the event log, not 1/);
    assert.ok((await send({ topic: 'machineState', payload: 'running', expectedVersion: 2 })).ok);
    const doc = (await send({ action: 'get' })).ok!.payload as { machineState: string };
    assert.equal(doc.machineState, 'running');
  });

  it('replays a time window into the flow in the order it happened, as sample messages', async () => {
    await load();
    const start = Date.now();
    await send({ topic: 'machineState', payload: 'idle' });
    await send({ topic: 'samples', payload: [{ topic: 'spindle/speed', payload: 100, sourceTime: 11 }, { topic: 'spindle/speed', payload: 200, sourceTime: 12, quality: 'uncertain' }] });
    await send({ topic: 'spindle/speedSetpoint', payload: 500, desired: { issuer: 'op' } });
    const error = await deliver(helper.getNode('rp'), { action: 'replay', payload: { from: start, to: 'now' } });
    assert.equal(error, undefined);
    await eventually(() => replayed.messages.length >= 5, 'five replayed changes');
    const out = replayed.messages.map((m) => [m.topic, m.payload, (m as { sourceTime?: number }).sourceTime, (m as { quality?: string }).quality]);
    assert.deepEqual(out, [
      ['create', { stage: 'operation' }, undefined, undefined],
      ['machineState', 'idle', undefined, undefined],
      ['spindle/speed', 100, 11, 'good'],
      ['spindle/speed', 200, 12, 'uncertain'],
      ['spindle/speedSetpoint', { value: 500, version: 1 }, undefined, undefined],
    ]);
    assert.deepEqual(replayed.messages.map((m) => (m.replay as { index: number }).index), [0, 1, 2, 3, 4]);
    assert.deepEqual(replayed.messages[2]!.twin, { id: 'cnc-1', model: CNC });
  });

  it('says clearly when the graph\'s event log is off, and refuses bad requests naming the field', async () => {
    await load({ eventLog: false });
    const off = await deliver(helper.getNode('rp'), { payload: 'now' });
    assert.match(String(off?.message), /twin-replay: the twin graph's event log is off/);
    await eventually(() => /event log is off/.test(statusOf(helper.getNode('rp'))?.text ?? ''), 'the status saying the log is off');
    const versioned = await send({ topic: 'machineState', payload: 'idle', expectedVersion: 0 });
    assert.match((versioned.refused!.error as { message: string }).message, /expectedVersion: needs the event log/);
    await helper.unload();
    await load();
    assert.match(String((await deliver(helper.getNode('rp'), { payload: 'last tuesday' }))?.message), /payload\.at: "last tuesday" is not a time/);
    assert.match(String((await deliver(helper.getNode('rp'), { action: 'rewind' }))?.message), /action: "rewind" must be state, events, replay or stop/);
    assert.match(String((await deliver(helper.getNode('rp'), { action: 'events', payload: { from: 'now', to: '-1h' } }))?.message), /payload\.from: .* is after payload\.to/);
  });
});
