// The twin, twin-graph and dtdl-model nodes inside a real Node-RED runtime, on the CNC models.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import helper from 'node-red-node-test-helper';
import { collector, eventually, loadFlow, onCall, statusOf, type Collector, type Message, nodeRedSuite } from '../support/node-helpers';
import dtdlModelNode = require('../../nodes/dtdl-model/dtdl-model');
import twinGraphNode = require('../../nodes/twin-graph/twin-graph');
import twinNode = require('../../nodes/twin/twin');

helper.init(require.resolve('node-red'));

const nodes = [dtdlModelNode, twinGraphNode, twinNode];
const CNC = 'dtmi:twinflow:cnc:CNCMachine;1';
const LINE = 'dtmi:twinflow:plant:ProductionLine;1';
const HALL = 'dtmi:twinflow:plant:ProductionHall;1';

function flow(options: { twin?: Record<string, unknown>; graph?: Record<string, unknown>; extraTwins?: Record<string, unknown>[] } = {}) {
  return [
    { id: 'm1', type: 'dtdl-model', source: 'builtin' },
    { id: 'g1', type: 'twin-graph', models: 'm1', staleness: [], limits: [{ model: CNC, path: 'spindle/speedSetpoint', min: 0, max: 'spindle/maxSpeed' }], persist: true, ...options.graph },
    { id: 'tw1', type: 'twin', graph: 'g1', scope: 'one', twinId: 'cnc-1', model: CNC, autoCreate: true, wires: [['accepted'], ['refused'], ['alerts']], ...options.twin },
    ...(options.extraTwins ?? []),
    { id: 'accepted', type: 'helper' },
    { id: 'refused', type: 'helper' },
    { id: 'alerts', type: 'helper' },
  ];
}

let accepted: Collector;
let refused: Collector;
let alerts: Collector;
let errors: string[];

async function load(flowNodes: unknown[]): Promise<void> {
  await loadFlow(helper, nodes, flowNodes);
  accepted = collector(helper.getNode('accepted'));
  refused = collector(helper.getNode('refused'));
  alerts = collector(helper.getNode('alerts'));
  errors = [];
  onCall(helper.getNode('tw1'), 'error', (args) => errors.push(String((args[0] as Error)?.message ?? args[0])));
}

let counter = 0;
/** Sends a message to a node and waits for its answer on the accepted or refused output. */
async function send(msg: Record<string, unknown>, node = 'tw1'): Promise<{ ok?: Message; refused?: Message }> {
  const id = `m${++counter}`;
  helper.getNode(node).receive({ ...msg, _msgid: id });
  const answer = await Promise.race([
    accepted.waitFor((m) => m._msgid === id, 5000).then((m) => ({ ok: m })),
    refused.waitFor((m) => m._msgid === id, 5000).then((m) => ({ refused: m })),
  ]);
  return answer;
}

async function getTwin(id = 'cnc-1'): Promise<Record<string, any>> {
  const { ok } = await send({ action: 'get', payload: id });
  return ok!.payload as Record<string, any>;
}

describe('twin node', () => {
  const currentUserDir = nodeRedSuite(helper, 'twin');

  it('records telemetry and reported properties, validated, with a JSON Patch change event', async () => {
    await load(flow());
    const speed = await send({ topic: 'spindle/speed', payload: 3012.5, sourceTime: Date.parse('2026-11-25T10:00:00Z'), quality: 'good' });
    assert.ok(speed.ok, JSON.stringify(speed.refused?.error));
    assert.deepEqual(speed.ok.twin, { id: 'cnc-1', model: CNC });
    const event = speed.ok.event as { kind: string; version: number; etag: string; patch: { op: string; path: string }[] };
    assert.equal(event.kind, 'telemetry');
    assert.ok(event.patch.some((op) => op.path.includes('spindle~1speed') || op.path.includes('spindle/speed')), JSON.stringify(event.patch));
    const state = await send({ topic: 'machineState', payload: 'running' });
    assert.equal((state.ok!.event as { kind: string }).kind, 'property');
    const twin = await getTwin();
    assert.equal(twin.machineState, 'running');
    assert.equal(twin.$telemetry['spindle/speed'].value, 3012.5);
    assert.equal(twin.$telemetry['spindle/speed'].sourceTime, '2026-11-25T10:00:00.000Z');
    assert.equal(twin.$metadata.$model, CNC);
    await eventually(() => /^cnc-1 · operation · 3 ok/.test(statusOf(helper.getNode('tw1'))?.text ?? ''), 'status shows the twin, its stage and the accepted count');
  });

  it('refuses a wrong value with the field and the rule, on the second output and to Catch, and changes nothing', async () => {
    await load(flow());
    await send({ topic: 'machineState', payload: 'idle' });
    const before = await getTwin();
    const bad = await send({ topic: 'machineState', payload: 'exploded' });
    assert.ok(bad.refused);
    assert.match((bad.refused.error as { message: string }).message, /machineState/);
    assert.match((bad.refused.error as { message: string }).message, /exploded/);
    await eventually(() => errors.some((e) => /machineState/.test(e)), 'the error reached Catch');
    const unknown = await send({ topic: 'spindle/warpDrive', payload: 1 });
    assert.match((unknown.refused!.error as { message: string }).message, /warpDrive/);
    const type = await send({ topic: 'spindle/speed', payload: 'fast' });
    assert.match((type.refused!.error as { message: string }).message, /spindle\/speed.*"fast"/);
    const after = await getTwin();
    assert.equal(after.$etag, before.$etag, 'the etag did not change');
    assert.equal(after.machineState, 'idle');
  });

  it('applies a batch sample by sample: good ones accepted, bad ones refused with their reasons', async () => {
    await load(flow());
    const sourceTime = Date.now();
    const result = await send({ topic: 'samples', payload: [
      { topic: 'spindle/speed', payload: 1000, sourceTime, quality: 'good', opcua: { statusCode: 0 } },
      { topic: 'coolant/temperature', payload: 'hot', quality: 'good' },
      { topic: 'positionX', payload: 12.5 },
    ] });
    // Accepted samples go on as they came (opcua-in's fields too); one without a quality says 'good'.
    assert.deepEqual(result.ok!.payload, [
      { topic: 'spindle/speed', payload: 1000, sourceTime, quality: 'good', opcua: { statusCode: 0 } },
      { topic: 'positionX', payload: 12.5, quality: 'good' },
    ]);
    const rejectedBatch = await refused.waitFor((m) => Array.isArray(m.payload));
    assert.equal((rejectedBatch.payload as { topic: string }[])[0]!.topic, 'coolant/temperature');
    assert.match(((rejectedBatch.payload as { error: { message: string } }[])[0]!.error.message), /coolant\/temperature/);
    assert.equal((await getTwin()).$telemetry.positionX.value, 12.5);
  });

  it('sets desired values of writable properties only, within limits, with increasing versions, and records acknowledgements', async () => {
    await load(flow());
    await send({ topic: 'spindle/maxSpeed', payload: 12000 });
    const first = await send({ topic: 'spindle/speedSetpoint', payload: 3000, desired: { issuer: 'optimizer' } });
    assert.equal((first.ok!.desired as { version: number }).version, 1);
    const second = await send({ topic: 'spindle/speedSetpoint', payload: 3500, desired: { issuer: 'optimizer' } });
    assert.equal((second.ok!.desired as { version: number }).version, 2);
    const over = await send({ topic: 'spindle/speedSetpoint', payload: 15000, desired: { issuer: 'optimizer' } });
    assert.match((over.refused!.error as { message: string }).message, /15000/);
    assert.match((over.refused!.error as { message: string }).message, /maxSpeed|12000/);
    const readOnly = await send({ topic: 'spindle/maxSpeed', payload: 20000, desired: { issuer: 'optimizer' } });
    assert.match((readOnly.refused!.error as { message: string }).message, /maxSpeed/);
    assert.match((readOnly.refused!.error as { message: string }).message, /writable/);
    const ack = await send({ topic: 'spindle/speedSetpoint', payload: 3500, ack: { ac: 200, av: 2, ad: 'confirmed by the sensors' } });
    assert.ok(ack.ok, JSON.stringify(ack.refused?.error));
    const meta = (await getTwin()).spindle.$metadata.speedSetpoint;
    assert.equal(meta.desiredValue, 3500);
    assert.equal(meta.desiredVersion, 2);
    assert.equal(meta.ackVersion, 2);
    assert.equal(meta.ackCode, 200);
    assert.equal(meta.ackDescription, 'confirmed by the sensors');
  });

  it('validates command requests against the model and sends valid ones on', async () => {
    await load(flow());
    const ok = await send({ command: { name: 'startCycle', request: 'P1000', id: 'c1', issuer: 'operator', issuedAt: Date.now() } });
    assert.ok(ok.ok, JSON.stringify(ok.refused?.error));
    assert.equal((ok.ok.event as { kind: string }).kind, 'command');
    assert.deepEqual((ok.ok.command as { name: string }).name, 'startCycle');
    const bad = await send({ command: { name: 'startCycle', request: 42, id: 'c2', issuer: 'operator', issuedAt: Date.now() } });
    assert.match((bad.refused!.error as { message: string }).message, /startCycle/);
    const unknown = await send({ command: { name: 'selfDestruct', id: 'c3', issuer: 'x', issuedAt: 1 } });
    assert.match((unknown.refused!.error as { message: string }).message, /selfDestruct/);
  });

  it('builds a small plant as a twin graph and answers relationship queries', async () => {
    await load(flow({
      twin: { scope: 'model', model: 'dtmi:twinflow:plant:ProductionHall;1', twinId: '' },
      extraTwins: [{ id: 'line-node', type: 'twin', graph: 'g1', scope: 'model', twinId: '', model: LINE, autoCreate: true, wires: [['accepted'], ['refused'], ['alerts']] },
        { id: 'machines', type: 'twin', graph: 'g1', scope: 'model', twinId: '', model: CNC, autoCreate: true, wires: [['accepted'], ['refused'], ['alerts']] }],
    }));
    for (const id of ['cnc-1', 'cnc-2', 'cnc-3']) assert.ok((await send({ twin: { id }, topic: 'machineState', payload: 'idle' }, 'machines')).ok);
    assert.ok((await send({ twin: { id: 'line-1' }, action: 'create', payload: { id: 'line-1', model: LINE } }, 'line-node')).ok);
    assert.ok((await send({ action: 'create', payload: { id: 'hall-1', model: HALL } })).ok);
    assert.ok((await send({ twin: { id: 'hall-1' }, relationship: { op: 'create', name: 'contains', target: 'line-1' } })).ok);
    for (const [i, id] of ['cnc-1', 'cnc-2', 'cnc-3'].entries()) {
      const r = await send({ twin: { id: 'line-1' }, relationship: { op: 'create', name: 'contains', target: id, properties: { position: i + 1 } } }, 'line-node');
      assert.ok(r.ok, JSON.stringify(r.refused?.error));
    }
    const wrongTarget = await send({ twin: { id: 'hall-1' }, relationship: { op: 'create', name: 'contains', target: 'cnc-1' } });
    assert.match((wrongTarget.refused!.error as { message: string }).message, /cnc-1|ProductionLine/);
    const match = await send({ query: "SELECT m FROM DIGITALTWINS MATCH (h)-[:contains*1..2]->(m) WHERE h.$dtId = 'hall-1' AND IS_OF_MODEL(m, 'dtmi:twinflow:cnc:CNCMachine;1')" });
    assert.ok(match.ok, JSON.stringify(match.refused?.error));
    const ids = (match.ok.payload as { m: { $dtId: string } }[]).map((row) => row.m.$dtId).sort();
    assert.deepEqual(ids, ['cnc-1', 'cnc-2', 'cnc-3']);
    const select = await send({ query: "SELECT T.$dtId FROM DIGITALTWINS T WHERE IS_OF_MODEL('dtmi:twinflow:cnc:CNCMachine;1') AND T.machineState = 'idle'" });
    assert.equal((select.ok!.payload as unknown[]).length, 3);
    const unsupported = await send({ query: 'SELECT * FROM DIGITALTWINS T JOIN X RELATED T.contains' });
    assert.match((unsupported.refused!.error as { message: string }).message, /JOIN/);
    const wrongModel = await send({ twin: { id: 'cnc-1' }, topic: 'positionX', payload: 1 }, 'line-node');
    assert.match((wrongModel.refused!.error as { message: string }).message, /cnc-1/);
  });

  it('follows the lifecycle: a decommissioned twin refuses writes and stays queryable', async () => {
    await load(flow());
    await send({ topic: 'positionX', payload: 1 });
    assert.ok((await send({ lifecycle: 'adaptation' })).ok);
    assert.ok((await send({ lifecycle: 'decommissioned' })).ok);
    const write = await send({ topic: 'positionX', payload: 2 });
    assert.match((write.refused!.error as { message: string }).message, /decommissioned/);
    const back = await send({ lifecycle: 'operation' });
    assert.ok(back.refused);
    const twin = await getTwin();
    assert.equal(twin.$lifecycle.stage, 'decommissioned');
    assert.equal(twin.$telemetry.positionX.value, 1);
    const bad = await send({ lifecycle: 'retired' });
    assert.match((bad.refused!.error as { message: string }).message, /lifecycle: "retired"/);
  });

  it('raises a stale alert when a value is older than its maximum age, and clears it when fresh', async () => {
    await load(flow({ graph: { staleness: [{ model: CNC, path: 'spindle/speed', maxAge: 1 }] } }));
    await send({ topic: 'spindle/speed', payload: 100 });
    const stale = await alerts.waitFor((m) => (m.alert as { state: string }).state === 'active-unacked', 6000);
    assert.equal(stale.topic, 'spindle/speed');
    assert.match(stale.payload as string, /cnc-1: spindle\/speed is stale/);
    await eventually(() => /^stale: spindle\/speed/.test(statusOf(helper.getNode('tw1'))?.text ?? ''), 'status says stale');
    // The data source resumes: fresh values every 200 ms. (A single value sent just after a check
    // would be judged by the next check, a second later, as older than the 1 s maximum again.)
    const fresh = alerts.waitFor((m) => (m.alert as { state: string }).state === 'rtn-unacked', 6000);
    const resumed = setInterval(() => helper.getNode('tw1').receive({ topic: 'spindle/speed', payload: 101 }), 200);
    try {
      const back = await fresh;
      assert.match(back.payload as string, /cnc-1: spindle\/speed is fresh again/);
    } finally {
      clearInterval(resumed);
    }
  });

  it('records a twin made on first use even when that first message is refused, and saves it with the delayed save', async () => {
    await load(flow());
    const changes: { kind: string }[] = [];
    (helper.getNode('g1') as unknown as NodeJS.EventEmitter).on('changes', (events: { kind: string }[]) => changes.push(...events));
    const file = path.join(currentUserDir(), 'twinflow', 'twin-graph-g1.json');
    const saved = () => { try { return readFileSync(file, 'utf8'); } catch { return ''; } };
    const bad = await send({ topic: 'spindle/speed', payload: 'fast' });
    assert.ok(bad.refused, 'the sample is refused');
    assert.deepEqual(changes.map((e) => e.kind), ['create'], 'the twin the refused message made is recorded');
    await eventually(() => /"cnc-1"/.test(saved()), 'the twin reaches the file with the delayed save');
    const batch = await send({ topic: 'samples', payload: [{ topic: 'spindle/speed', payload: 2900 }, { topic: 'positionX', payload: 12.5 }] });
    assert.equal((batch.ok!.payload as unknown[]).length, 2);
    await eventually(() => /2900/.test(saved()) && /12\.5/.test(saved()), 'the batch follows with the next delayed save');
  });

  it('applies, counts and saves a batch the same whether or not anything hears its change events', async () => {
    await load(flow());
    const file = path.join(currentUserDir(), 'twinflow', 'twin-graph-g1.json');
    const saved = () => { try { return readFileSync(file, 'utf8'); } catch { return ''; } };
    // Nothing records or hears changes yet: the batch's telemetry makes no events.
    const given = [{ topic: 'spindle/speed', payload: 2900, quality: 'good' }, { topic: 'positionX', payload: 12.5, sourceTime: Date.now(), quality: 'uncertain' }];
    const quiet = await send({ topic: 'samples', payload: given });
    assert.deepEqual(quiet.ok!.payload, given, 'a batch accepted whole goes on as it came');
    await eventually(() => /^cnc-1 · operation · 3 ok$/.test(statusOf(helper.getNode('tw1'))?.text ?? ''), 'the status counts the creation and both samples');
    await eventually(() => /2900/.test(saved()) && /12\.5/.test(saved()), 'the batch reaches the file with the delayed save');
    assert.equal((await getTwin()).$telemetry.positionX.value, 12.5);
    // A later batch, with no creation to save alongside it, is saved too.
    await send({ topic: 'samples', payload: [{ topic: 'positionX', payload: 14.25 }] });
    await eventually(() => /14\.25/.test(saved()), 'the second batch reaches the file with the delayed save');
    // Once something listens (as twin-history does), every sample of a batch has its event again.
    const changes: { kind: string; path?: string }[] = [];
    (helper.getNode('g1') as unknown as NodeJS.EventEmitter).on('changes', (events: { kind: string; path?: string }[]) => changes.push(...events));
    await send({ topic: 'samples', payload: [{ topic: 'positionX', payload: 13 }, { topic: 'activeProgram', payload: 'O1000' }] });
    assert.deepEqual(changes.map((e) => `${e.kind} ${e.path}`), ['telemetry positionX', 'property activeProgram']);
    assert.equal((await getTwin()).$telemetry.positionX.value, 13);
  });

  it('keeps the twins across a redeploy, and sets aside a saved state it cannot read instead of losing it', async () => {
    await load(flow());
    await send({ topic: 'spindle/maxSpeed', payload: 12000 });
    await send({ topic: 'spindle/speedSetpoint', payload: 4200, desired: { issuer: 'optimizer' } });
    await helper.unload();
    await load(flow());
    const twin = await getTwin();
    assert.equal(twin.spindle.$metadata.speedSetpoint.desiredValue, 4200);
    await helper.unload();
    const dir = path.join(currentUserDir(), 'twinflow');
    writeFileSync(path.join(dir, 'twin-graph-g1.json'), '{ not json');
    await load(flow());
    assert.ok(readdirSync(dir).some((f) => f.includes('unrestorable')), 'the unreadable file was kept aside');
    assert.ok((await send({ topic: 'positionX', payload: 3 })).ok, 'the graph works, starting empty');
  });

  it('adds model versions from a message and refuses a changed version', async () => {
    await load(flow());
    await send({ topic: 'positionX', payload: 0 });
    const v1 = JSON.parse(readFileSync(path.join(__dirname, '..', '..', '..', 'models', 'dtmi', 'twinflow', 'cnc', 'cncmachine-1.json'), 'utf8'));
    // Version 2 renumbers every @id of the interface, inner schemas included (each @id is unique in a model set).
    const v2 = { ...JSON.parse(JSON.stringify(v1).replace(/dtmi:twinflow:cnc:CNCMachine((?::[A-Za-z]+)*);1/g, 'dtmi:twinflow:cnc:CNCMachine$1;2')), description: 'version 2' };
    const added = await send({ models: [v2] });
    assert.ok(added.ok, JSON.stringify(added.refused?.error));
    assert.deepEqual((added.ok!.payload as { added: string[] }).added, ['dtmi:twinflow:cnc:CNCMachine;2']);
    const created = await send({ action: 'create', payload: { id: 'cnc-9', model: 'dtmi:twinflow:cnc:CNCMachine;2' } });
    assert.ok(created.ok, JSON.stringify(created.refused?.error));
    assert.equal((await getTwin('cnc-1')).$metadata.$model, CNC);
    const changed = await send({ models: [{ ...v1, description: 'edited in place' }] });
    assert.match((changed.refused!.error as { message: string }).message, /already loaded with different content/);
  });

  it('says what is wrong with its configuration', async () => {
    await load(flow({ twin: { twinId: '' } }));
    assert.match(statusOf(helper.getNode('tw1'))?.text ?? '', /twinId: the twin this node addresses is required/);
    await helper.unload();
    await load(flow({ twin: { model: 'dtmi:example:Nothing;1' } }));
    assert.match(statusOf(helper.getNode('tw1'))?.text ?? '', /model: dtmi:example:Nothing;1 is not among the loaded models/);
    const refusedInput = await send({ topic: 'positionX', payload: 1 });
    assert.ok(refusedInput.refused);
  });
});

describe('dtdl-model live validation route', () => {
  before(async () => {
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
    helper.settings({ userDir: mkdtempSync(path.join(os.tmpdir(), 'twinflow-dtdl-route-')) });
  });
  after(async () => {
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
  });

  it('lists the interfaces of valid models and puts each error of pasted text on its line', async () => {
    await loadFlow(helper, nodes, [{ id: 'm1', type: 'dtdl-model', source: 'builtin' }]);
    const builtin = await helper.request().post('/twinflow/dtdl/validate').send({ source: 'builtin' }).expect(200);
    assert.equal(builtin.body.valid, true);
    assert.ok(builtin.body.interfaces.includes(CNC));
    const text = JSON.stringify({ '@context': 'dtmi:dtdl:context;3', '@id': 'dtmi:example:Bad;1', '@type': 'Interface', contents: [{ '@type': 'Telemetry', name: 'ok', schema: 'double' }, { '@type': 'Telemetry', name: '9lives', schema: 'double' }] }, null, 2);
    const pasted = await helper.request().post('/twinflow/dtdl/validate').send({ source: 'inline', documents: text }).expect(200);
    assert.equal(pasted.body.valid, false);
    const error = pasted.body.errors[0] as { message: string; at: { line: number } };
    assert.match(error.message, /9lives/);
    assert.match(text.split('\n')[error.at.line - 1]!, /9lives/);
    const broken = await helper.request().post('/twinflow/dtdl/validate').send({ source: 'inline', documents: '{ "@id": ' }).expect(200);
    assert.match(broken.body.errors[0].message, /not valid JSON/);
  });
});
