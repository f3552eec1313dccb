// The reconciler inside a real Node-RED runtime, between opcua-in and opcua-out and the simulated
// CNC machine: confirmation by the sensors, a spindle drive fault raising the divergence alarm, a
// stuck sensor timing out, refusals by the machine, bad input, and a restart with a non-empty queue.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import helper from 'node-red-node-test-helper';
import { startCncServer, type CncServer } from '../../plant/cnc-server';
import { collector, eventually, loadFlow, onCall, statusOf, type Collector } from '../support/node-helpers';
import endpointNode = require('../../nodes/opcua-endpoint/opcua-endpoint');
import inNode = require('../../nodes/opcua-in/opcua-in');
import outNode = require('../../nodes/opcua-out/opcua-out');
import reconcilerNode = require('../../nodes/reconciler/reconciler');

helper.init(require.resolve('node-red'));

const nodes = [endpointNode, inNode, outNode, reconcilerNode];
const userDir = mkdtempSync(path.join(os.tmpdir(), 'twinflow-reconciler-'));

const item = (nodeId: string, name: string) => ({ nodeId, name, samplingInterval: -1, deadbandType: 'none', deadbandValue: 0, queueSize: 1 });

function flow(endpointUrl: string, reconciler: Record<string, unknown> = {}) {
  return [
    { id: 'ep', type: 'opcua-endpoint', endpointUrl, securityMode: 'None', securityPolicy: 'None', identityType: 'anonymous' },
    {
      id: 'in', type: 'opcua-in', endpoint: 'ep', publishingInterval: 100, outputMode: 'change', twinId: 'cnc-1', twinModel: 'dtmi:twinflow:cnc:CNCMachine;1',
      items: [item('ns=1;s=CNC.spindle.speed', 'spindle/speed'), item('ns=1;s=CNC.machineState', 'machineState')],
      wires: [['rec']],
    },
    {
      id: 'rec', type: 'reconciler', twinId: 'cnc-1', loopMs: 100, confirmTimeout: 15, queueLimit: 10,
      rules: [{ desired: 'spindle/speedSetpoint', actual: 'spindle/speed', absolute: '50', percent: '2', grace: '5', hint: 'check motor driver' }],
      commandRules: [{ command: 'startCycle', actual: 'machineState', equals: 'running' }],
      ...reconciler,
      wires: [['out'], ['acks'], ['alerts'], ['progress']],
    },
    {
      id: 'out', type: 'opcua-out', endpoint: 'ep', timeout: 10,
      writes: [{ name: 'spindle/speedSetpoint', nodeId: 'ns=1;s=CNC.spindle.speedSetpoint' }],
      methods: [
        { name: 'startCycle', objectId: 'ns=1;s=CNC', methodId: 'ns=1;s=CNC.startCycle' },
        { name: 'resetAlarm', objectId: 'ns=1;s=CNC', methodId: 'ns=1;s=CNC.resetAlarm' },
      ],
      wires: [['rec']],
    },
    { id: 'acks', type: 'helper' },
    { id: 'alerts', type: 'helper' },
    { id: 'progress', type: 'helper' },
  ];
}

type Ack = { ac: number; av: number; ad: string };
const ackOf = (m: Record<string, unknown>) => m.ack as Ack;

describe('reconciler against the simulated CNC machine', () => {
  let plant: CncServer;
  let acks: Collector;
  let alerts: Collector;
  let progress: Collector;

  async function start(options: Record<string, unknown> = {}): Promise<void> {
    await loadFlow(helper, nodes, flow(plant.endpointUrl, options));
    acks = collector(helper.getNode('acks'));
    alerts = collector(helper.getNode('alerts'));
    progress = collector(helper.getNode('progress'));
    await eventually(() => /connected/.test(statusOf(helper.getNode('in'))?.text ?? ''), 'opcua-in connected');
  }

  const desire = (payload: unknown, extra: Record<string, unknown> = {}) =>
    helper.getNode('rec').receive({ topic: 'spindle/speedSetpoint', payload, desired: { issuer: 'optimizer' }, twin: { id: 'cnc-1', model: 'dtmi:twinflow:cnc:CNCMachine;1' }, ...extra });

  before(async () => {
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    await plant?.stop();
    // Each test starts without the queue a previous one left behind.
    rmSync(path.join(userDir, 'twinflow'), { recursive: true, force: true });
  });
  after(async () => {
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    rmSync(userDir, { recursive: true, force: true });
  });

  it('sends a desired speed to the machine and acknowledges it when the spindle gets there', async () => {
    plant = await startCncServer({ port: 0, seed: 11, tickMs: 50 });
    await start();
    desire(3000);
    const sent = await acks.waitFor((m) => ackOf(m).ac === 202);
    assert.equal(ackOf(sent).av, 1);
    assert.equal(sent.topic, 'spindle/speedSetpoint');
    assert.deepEqual(sent.twin, { id: 'cnc-1', model: 'dtmi:twinflow:cnc:CNCMachine;1' });
    const done = await acks.waitFor((m) => ackOf(m).ac === 200, 20_000);
    assert.match(ackOf(done).ad, /spindle\/speedSetpoint = 3000 \(v1\): confirmed, spindle\/speed is \d+/);
    assert.equal(plant.model.readings().spindle.speedSetpoint, 3000);
    assert.ok(Math.abs(plant.model.truth().spindleSpeed - 3000) <= 60, 'the spindle really runs at the setpoint');
    await progress.waitFor((m) => (m.reconcile as { status: string }).status === 'confirmed');
    assert.deepEqual(progress.messages.map((m) => (m.reconcile as { status: string }).status), ['queued', 'released', 'written', 'confirmed']);
    assert.equal(alerts.messages.length, 0, 'a spindle ramping within the grace time raises nothing');
  });

  it('raises "out of sync" when a spindle drive fault makes actual stop following desired', async () => {
    plant = await startCncServer({ port: 0, seed: 12, tickMs: 50 });
    await start();
    desire(4000);
    await acks.waitFor((m) => ackOf(m).ac === 200, 20_000);
    plant.injectFault('spindleDriveFault');
    const raised = await alerts.waitFor((m) => (m.alert as { state: string }).state === 'active-unacked', 20_000);
    const alert = raised.alert as { id: string; message: string; severity: string; twin: { id: string } };
    assert.match(alert.message, /^cnc-1: desired and actual spindle speed out of sync for 5(\.\d)? s \(desired 4000, actual \d+(\.\d+)?, tolerance ±80\): check motor driver$/);
    assert.equal(alert.severity, 'high');
    assert.equal(alert.id, 'cnc-1:spindle/speedSetpoint:divergence');
    assert.match(statusOf(helper.getNode('rec'))?.text ?? '', /1 active alarm/);

    helper.getNode('rec').receive({ alarm: { action: 'acknowledge', id: alert.id, by: 'operator ann' } });
    await alerts.waitFor((m) => (m.alert as { state: string }).state === 'active-acked');

    // The machine trips into alarm: a new setpoint is refused by the machine and failed at once.
    await eventually(() => plant.model.readings().machineState === 'alarm', 'the drive fault trips the machine', 20_000);
    const errors: string[] = [];
    onCall(helper.getNode('out'), 'error', (args) => errors.push(String((args[0] as Error).message)));
    desire(5000);
    const refused = await acks.waitFor((m) => ackOf(m).av === 2 && ackOf(m).ac >= 400, 20_000);
    assert.equal(ackOf(refused).ac, 409);
    assert.match(ackOf(refused).ad, /the machine refused spindle\/speedSetpoint = 5000 \(v2\): BadInvalidState/);
    assert.notEqual(plant.model.readings().spindle.speedSetpoint, 5000);
  });

  it('fails a change the sensors never confirm (stuck speed sensor) with 504 and goes on with the next', async () => {
    plant = await startCncServer({ port: 0, seed: 13, tickMs: 50 });
    await start({ confirmTimeout: 3 });
    await eventually(() => helper.getNode('rec') && plant.model.readings().spindle.speed === 0, 'spindle at rest');
    plant.injectFault('stuckSensor', 'spindle/speed');
    desire(2000);
    desire(2500);
    const timedOut = await acks.waitFor((m) => ackOf(m).ac === 504, 20_000);
    assert.equal(ackOf(timedOut).av, 1);
    assert.match(ackOf(timedOut).ad, /spindle\/speedSetpoint = 2000 \(v1\): not confirmed within 3 s \(spindle\/speed is 0, desired 2000, tolerance ±50\)/);
    await acks.waitFor((m) => ackOf(m).ac === 202 && ackOf(m).av === 2);
    await eventually(() => plant.model.readings().spindle.speedSetpoint === 2500, 'the next entry went to the machine');
  });

  it('confirms a command by the machine state it should bring about', async () => {
    plant = await startCncServer({ port: 0, seed: 14, tickMs: 50 });
    await start();
    helper.getNode('rec').receive({ command: { name: 'startCycle', request: 'P1000', id: 'cmd-1', issuer: 'ann', issuedAt: Date.now() } });
    const written = await progress.waitFor((m) => (m.reconcile as { status: string }).status === 'written');
    assert.equal(written.topic, 'startCycle');
    const confirmed = await progress.waitFor((m) => (m.reconcile as { status: string }).status === 'confirmed', 20_000);
    assert.match(String(confirmed.payload), /startCycle cmd-1: confirmed, machineState is "running"/);
    assert.equal(plant.model.readings().machineState, 'running');
  });

  it('refuses bad input with the field and the rule, and changes no state', async () => {
    plant = await startCncServer({ port: 0, seed: 15, tickMs: 50 });
    await start();
    const rec = helper.getNode('rec');
    const errors: string[] = [];
    onCall(rec, 'error', (args) => errors.push(String((args[0] as Error).message)));
    rec.receive({ topic: 'spindle/speedSetpoint', payload: 'fast', desired: {} });
    rec.receive({ topic: 'spindle/speedSetpoint', payload: 100, desired: { version: 0 } });
    rec.receive({ command: { request: 1 } });
    rec.receive({ topic: 'samples', payload: 'nope' });
    rec.receive({ alarm: { action: 'silence', id: 'x' } });
    rec.receive({ reconcile: { entry: 'cnc-1#99' }, good: true });
    await eventually(() => errors.length === 6, 'six errors reach Catch nodes');
    assert.match(errors[0]!, /^reconciler: spindle\/speedSetpoint: desired value "fast" must be a number to be compared with spindle\/speed$/);
    assert.match(errors[1]!, /desired.version: 0 is not a whole number from 1 up/);
    assert.match(errors[2]!, /command.name/);
    assert.match(errors[3]!, /payload: a samples batch must be an array/);
    assert.match(errors[4]!, /alarm.action: must be acknowledge, shelve or unshelve/);
    assert.match(errors[5]!, /reconcile.entry: cnc-1#99 is not the command in flight/);
    assert.equal(acks.messages.length, 0);
    assert.equal(progress.messages.length, 0);
    assert.equal(existsSync(path.join(userDir, 'twinflow', 'reconciler-rec.json')) ? JSON.parse(readFileSync(path.join(userDir, 'twinflow', 'reconciler-rec.json'), 'utf8')).twins.every((t: { queue: unknown[] }) => t.queue.length === 0) : true, true);
  });

  it('resumes a non-empty queue after a restart: the write in flight again, then the rest', async () => {
    plant = await startCncServer({ port: 0, seed: 16, tickMs: 50 });
    await start({ confirmTimeout: 60 });
    plant.injectFault('stuckSensor', 'spindle/speed');
    desire(1500);
    desire(2500);
    helper.getNode('rec').receive({ command: { name: 'startCycle', request: 'P1000', id: 'cmd-7', issuer: 'ann', issuedAt: Date.now() } });
    await acks.waitFor((m) => ackOf(m).ac === 202 && ackOf(m).av === 1);
    await eventually(() => /3 queued/.test(statusOf(helper.getNode('rec'))?.text ?? ''), 'three entries held');
    await helper.unload();

    const saved = JSON.parse(readFileSync(path.join(userDir, 'twinflow', 'reconciler-rec.json'), 'utf8'));
    assert.equal(saved.twins[0].queue.length, 3, 'the queue is on disk');
    plant.clearFault('stuckSensor', 'spindle/speed');

    await start({ confirmTimeout: 60 });
    const errs: string[] = [];
    onCall(helper.getNode('out'), 'error', (args) => errs.push(String((args[0] as Error).message)));
    onCall(helper.getNode('rec'), 'error', (args) => errs.push(String((args[0] as Error).message)));
    const first = await acks.waitFor((m) => ackOf(m).ac === 200 && ackOf(m).av === 1, 30_000);
    assert.match(ackOf(first).ad, /1500 \(v1\): confirmed/);
    await acks.waitFor((m) => ackOf(m).ac === 200 && ackOf(m).av === 2, 30_000);
    await progress.waitFor((m) => (m.reconcile as { status: string }).status === 'confirmed' && m.topic === 'startCycle', 30_000);
    assert.equal(plant.model.readings().machineState, 'running');
    assert.deepEqual(errs, []);
    helper.getNode('rec').receive({ topic: 'spindle/speedSetpoint', payload: 100, desired: {} });
    await acks.waitFor((m) => ackOf(m).av === 3, 10_000);
  });
});
