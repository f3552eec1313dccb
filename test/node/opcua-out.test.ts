// opcua-out inside a real Node-RED runtime: typed writes, method calls, refusals, and a server that
// goes away in the middle of a write.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import helper from 'node-red-node-test-helper';
import { startCncServer, type CncServer } from '../../plant/cnc-server';
import { TcpProxy } from '../support/tcp-proxy';
import { collector, eventually, loadFlow, onCall, statusOf } from '../support/node-helpers';
import endpointNode = require('../../nodes/opcua-endpoint/opcua-endpoint');
import outNode = require('../../nodes/opcua-out/opcua-out');
import modelNode = require('../../nodes/dtdl-model/dtdl-model');

helper.init(require.resolve('node-red'));

const nodes = [endpointNode, outNode, modelNode];
const userDir = mkdtempSync(path.join(os.tmpdir(), 'twinflow-opcua-out-'));

const WRITES = [
  { name: 'spindle/speedSetpoint', nodeId: 'ns=1;s=CNC.spindle.speedSetpoint' },
  { name: 'doorOpen', nodeId: 'ns=1;s=CNC.doorOpen' },
];
const METHODS = [
  { name: 'startCycle', objectId: 'ns=1;s=CNC', methodId: 'ns=1;s=CNC.startCycle' },
  { name: 'emergencyStop', objectId: 'ns=1;s=CNC', methodId: 'ns=1;s=CNC.emergencyStop' },
  { name: 'resetAlarm', objectId: 'ns=1;s=CNC', methodId: 'ns=1;s=CNC.resetAlarm' },
];

function flow(endpointUrl: string, timeout = 10) {
  return [
    { id: 'ep', type: 'opcua-endpoint', endpointUrl, securityMode: 'None', securityPolicy: 'None', identityType: 'anonymous' },
    { id: 'out', type: 'opcua-out', endpoint: 'ep', writes: WRITES, methods: METHODS, timeout, wires: [['result']] },
    { id: 'result', type: 'helper' },
  ];
}

async function send(msg: Record<string, unknown>, timeoutMs = 15_000): Promise<{ out?: Record<string, unknown>; errors: string[] }> {
  const node = helper.getNode('out');
  const results = collector(helper.getNode('result'));
  const errors: string[] = [];
  onCall(node, 'error', (args) => errors.push(String((args[0] as Error)?.message ?? args[0])));
  const id = `m${Math.random()}`;
  node.receive({ ...msg, _msgid: id });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = results.messages.find((m) => m._msgid === id);
    if (out && (out.good === true || errors.length > 0)) return { out, errors };
    if (!out && errors.length > 0) return { errors };
    if (Date.now() > deadline) return { ...(out ? { out } : {}), errors };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('opcua-out against the simulated CNC machine', () => {
  let plant: CncServer;

  before(async () => {
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
    helper.settings({ userDir });
    plant = await startCncServer({ port: 0, seed: 1, tickMs: 50 });
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await plant.stop();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
  });

  it('writes a desired change to the mapped variable and reports Good', async () => {
    await loadFlow(helper, nodes, flow(plant.endpointUrl));
    const { out, errors } = await send({ topic: 'spindle/speedSetpoint', payload: 3000, desired: { version: 4, issuer: 'optimizer' } });
    assert.deepEqual(errors, []);
    assert.equal(out?.good, true);
    assert.equal(out?.statusCode, 0);
    assert.deepEqual(out?.desired, { version: 4, issuer: 'optimizer' }, 'the desired version travels on for confirmation');
    assert.equal((out?.results as { target: string; status: string }[])[0]!.status, 'Good');
    assert.equal(plant.model.readings().spindle.speedSetpoint, 3000);
    assert.match(statusOf(helper.getNode('out'))?.text ?? '', /wrote spindle\/speedSetpoint/);
  });

  it('writes several mapped items from one object, coercing "true" text for a Boolean', async () => {
    await loadFlow(helper, nodes, flow(plant.endpointUrl));
    const { out, errors } = await send({ payload: { 'spindle/speedSetpoint': 1500, doorOpen: 'true' } });
    assert.deepEqual(errors, []);
    assert.equal(out?.good, true);
    assert.equal((out?.results as unknown[]).length, 2);
    assert.equal(plant.model.readings().spindle.speedSetpoint, 1500);
    assert.equal(plant.model.readings().doorOpen, true);
    await send({ topic: 'doorOpen', payload: false });
    assert.equal(plant.model.readings().doorOpen, false);
  });

  it('refuses a value that does not fit the DataType and writes nothing of the message', async () => {
    await loadFlow(helper, nodes, flow(plant.endpointUrl));
    await send({ topic: 'spindle/speedSetpoint', payload: 1000 });
    const { out, errors } = await send({ payload: { 'spindle/speedSetpoint': 2500, doorOpen: 'perhaps' } });
    assert.equal(out, undefined, 'no outcome message for a refused input');
    assert.match(errors[0] ?? '', /payload\.doorOpen: "perhaps" is not a Boolean/);
    assert.equal(plant.model.readings().spindle.speedSetpoint, 1000, 'the valid half was not written either');
    const text = await send({ topic: 'spindle/speedSetpoint', payload: 'fast' });
    assert.match(text.errors[0] ?? '', /payload: "fast" is not a finite number \(Double\)/);
  });

  it('refuses a value the twin model rejects before writing anything, and writes what it accepts', async () => {
    await loadFlow(helper, nodes, [
      ...flow(plant.endpointUrl).map((n) => (n.id === 'out' ? { ...n, models: 'm1', twinModel: 'dtmi:twinflow:cnc:CNCMachine;1', writes: [...WRITES, { name: 'bench/tag', nodeId: 'ns=1;s=CNC.spindle.speedSetpoint' }] } : n)),
      { id: 'm1', type: 'dtdl-model', source: 'builtin' },
    ]);
    const before = plant.model.readings().spindle.speedSetpoint;
    const bad = await send({ topic: 'spindle/speedSetpoint', payload: 'fast' });
    assert.match(bad.errors[0] ?? '', /^opcua-out: spindle\/speedSetpoint: "fast" is not a double; nothing was written$/);
    const wrongRequest = await send({ command: { name: 'startCycle', request: 1000 } });
    assert.match(wrongRequest.errors[0] ?? '', /startCycle\/request: 1000 is not a string; nothing was written/);
    const mixed = await send({ payload: { 'spindle/speedSetpoint': 2500, doorOpen: 'yes' } });
    assert.match(mixed.errors[0] ?? '', /doorOpen: "yes" is not a boolean/);
    assert.equal(plant.model.readings().spindle.speedSetpoint, before, 'nothing of a refused message was written');
    const good = await send({ topic: 'spindle/speedSetpoint', payload: 2500 });
    assert.deepEqual(good.errors, []);
    assert.equal(plant.model.readings().spindle.speedSetpoint, 2500);
    const beside = await send({ topic: 'bench/tag', payload: 2600 });
    assert.deepEqual(beside.errors, [], 'a name the model does not know is left to the server');
  });

  it('passes on the server refusal of an out-of-range write with its StatusCode', async () => {
    await loadFlow(helper, nodes, flow(plant.endpointUrl));
    const { out, errors } = await send({ topic: 'spindle/speedSetpoint', payload: 99_000 });
    assert.equal(out?.good, false);
    assert.equal((out?.results as { status: string }[])[0]!.status, 'BadOutOfRange');
    assert.match(errors[0] ?? '', /spindle\/speedSetpoint: BadOutOfRange/);
    assert.notEqual(plant.model.readings().spindle.speedSetpoint, 99_000);
  });

  it('calls methods from commands and answers their output arguments', async () => {
    await loadFlow(helper, nodes, flow(plant.endpointUrl));
    plant.model.setDoorOpen(true);
    const refused = await send({ command: { name: 'startCycle', request: { programId: 'P1000' }, id: 'c1', issuer: 'operator', issuedAt: Date.now() } });
    assert.equal(refused.out?.good, true, 'the call itself succeeded');
    assert.deepEqual(refused.out?.payload, { status: 'rejected: door open' });
    plant.model.setDoorOpen(false);
    const started = await send({ command: { name: 'startCycle', request: 'P1000', id: 'c2', issuer: 'operator', issuedAt: Date.now() } });
    assert.deepEqual(started.out?.payload, { status: 'started' });
    assert.equal((started.out?.command as { response: unknown }).response && (started.out?.command as { status: string }).status, 'Good');
    const stop = await send({ command: { name: 'emergencyStop', id: 'c3', issuer: 'operator', issuedAt: Date.now() } });
    assert.deepEqual(stop.out?.payload, { stopConfirmed: true });
    assert.equal(plant.model.readings().machineState, 'emergencyStop');
    const reset = await send({ method: { objectId: 'ns=1;s=CNC', methodId: 'ns=1;s=CNC.resetAlarm' } });
    assert.equal(reset.out?.good, true);
    await eventually(() => plant.model.readings().machineState === 'idle', 'reset brings the machine back to idle');
  });

  it('names what is wrong with a command: unknown name, wrong arguments', async () => {
    await loadFlow(helper, nodes, flow(plant.endpointUrl));
    const unknown = await send({ command: { name: 'selfDestruct' } });
    assert.match(unknown.errors[0] ?? '', /command\.name: "selfDestruct" is not a configured method \(configured: startCycle, emergencyStop, resetAlarm\)/);
    const extra = await send({ command: { name: 'startCycle', request: { programId: 'P1000', speed: 3 } } });
    assert.match(extra.errors[0] ?? '', /command\.request: unknown argument "speed"/);
    const missing = await send({ command: { name: 'startCycle' } });
    assert.match(missing.errors[0] ?? '', /command\.request: the method needs 1 argument\(s\): programId/);
    const nothing = await send({ payload: 42 });
    assert.match(nothing.errors[0] ?? '', /nothing to do/);
    const badTopic = await send({ topic: 'spindle/speed', payload: 1 });
    assert.match(badTopic.errors[0] ?? '', /topic: "spindle\/speed" is not a configured item/);
  });
});

describe('opcua-out when the server goes away', () => {
  before(async () => {
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    rmSync(userDir, { recursive: true, force: true });
  });

  it('gives a clear error when the server stops answering during a write, then works again once it is back', async () => {
    const plant = await startCncServer({ port: 0, seed: 2, tickMs: 50 });
    const proxy = new TcpProxy(plant.port);
    await proxy.listen();
    try {
      await loadFlow(helper, nodes, flow(`opc.tcp://127.0.0.1:${proxy.port}`, 2));
      await eventually(async () => (await send({ topic: 'spindle/speedSetpoint', payload: 100 }, 3000)).out?.good === true, 'first write succeeds', 20_000);
      proxy.freeze();
      const lost = await send({ topic: 'spindle/speedSetpoint', payload: 200 }, 10_000);
      assert.match(lost.errors[0] ?? '', /no answer from opc\.tcp:\/\/127\.0\.0\.1:\d+|not connected to/);
      proxy.thaw();
      proxy.cut();
      let recovered = false;
      const deadline = Date.now() + 40_000;
      while (!recovered && Date.now() < deadline) {
        recovered = (await send({ topic: 'spindle/speedSetpoint', payload: 300 }, 3000)).out?.good === true;
        if (!recovered) await new Promise((resolve) => setTimeout(resolve, 500));
      }
      assert.ok(recovered, 'writes work again after the connection is repaired');
      assert.equal(plant.model.readings().spindle.speedSetpoint, 300);
    } finally {
      await helper.unload();
      await proxy.close();
      await plant.stop();
    }
  });

  it('says "not connected" when the server is gone, without crashing Node-RED', async () => {
    const plant = await startCncServer({ port: 0, seed: 2, tickMs: 50 });
    await loadFlow(helper, nodes, flow(plant.endpointUrl, 2));
    await eventually(async () => (await send({ topic: 'spindle/speedSetpoint', payload: 100 }, 3000)).out?.good === true, 'first write succeeds', 20_000);
    await plant.stop();
    const result = await send({ topic: 'spindle/speedSetpoint', payload: 200 }, 10_000);
    assert.match(result.errors[0] ?? '', /not connected to|no answer from/);
    assert.equal(result.out, undefined);
  });
});
