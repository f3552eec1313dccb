// Reference flow cnc-safe-writeback in a real Node-RED process, with a real mosquitto between the
// optimizer and the machine and the simulated CNC machine behind OPC UA: a signed setpoint lands and
// is confirmed, an overspeed waits for a supervisor, forged, tampered and replayed messages never
// reach the machine, an interlock refuses a start with the door open, a drive fault raises the
// out-of-sync alert, and the audit log's chain holds every decision.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { startCncServer, type CncServer } from '../../plant/cnc-server';
import { verifyAuditLog } from '../../nodes/lib/audit';
import { startMosquitto, type Mosquitto } from '../support/mosquitto';
import { referenceFlow, startNodeRed, type Comms, type NodeRedProcess } from '../support/node-red-process';
import { eventually } from '../support/node-helpers';

const TOPIC = 'twinflow/cnc-1/commands';

describe('reference flow cnc-safe-writeback', () => {
  let broker: Mosquitto;
  let plant: CncServer;
  let nodeRed: NodeRedProcess;
  let comms: Comms;
  let spy: mqtt.MqttClient;
  const seen: string[] = [];
  const userDir = mkdtempSync(path.join(os.tmpdir(), 'twinflow-safe-'));

  const auditFile = () => path.join(nodeRed.userDir, 'twinflow', 'audit', 'commands.jsonl');
  const audit = (): Record<string, unknown>[] =>
    existsSync(auditFile()) ? readFileSync(auditFile(), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : [];
  const refusals = () => comms.debug('tf-sw-rejected-debug').map((d) => d.msg);

  async function inject(id: string): Promise<void> {
    const res = await nodeRed.request('POST', `/inject/${id}`);
    assert.equal(res.status, 200, `inject ${id}`);
  }

  // Every link of the chain connected and the twin primed; after a (re)start too.
  async function waitForChain(): Promise<void> {
    await eventually(() => /connected/.test(comms.statuses('tf-sw-in').at(-1)?.text ?? ''), 'opcua-in connected', 30_000);
    // The guard refuses (fails safe) while the twin does not know its rated maximum yet.
    await eventually(() => Number(/(\d+) ok/.exec(comms.statuses('tf-sw-twin').at(-1)?.text ?? '')?.[1] ?? 0) >= 6, 'the twin has the machine values', 30_000);
    // Subscribed before the first command, or it would cross the broker unheard.
    for (const id of ['tf-sw-mqtt-in', 'tf-sw-mqtt-out']) {
      await eventually(() => comms.statuses(id).at(-1)?.text === 'node-red:common.status.connected', `${id} connected`, 30_000);
    }
  }

  before(async () => {
    broker = await startMosquitto();
    plant = await startCncServer({ port: 0, seed: 31, tickMs: 50 });
    const flows = referenceFlow('cnc-safe-writeback.json', { opcuaUrl: plant.endpointUrl }).map((n) => (n.type === 'mqtt-broker' ? { ...n, port: String(broker.port) } : n));
    nodeRed = await startNodeRed({ flows: [], userDir, keepUserDir: true });
    comms = await nodeRed.comms();
    // Deployed over the admin API, as the editor does, so the signing key reaches the credentials.
    await nodeRed.deploy(flows);
    spy = await mqtt.connectAsync(broker.url);
    await spy.subscribeAsync(TOPIC);
    spy.on('message', (_t, payload) => seen.push(payload.toString()));
    await waitForChain();
  });

  after(async () => {
    await spy?.endAsync();
    comms?.close();
    await nodeRed?.stop();
    await plant?.stop();
    await broker?.stop();
    rmSync(userDir, { recursive: true, force: true });
  });

  it('lands a signed setpoint on the machine and confirms it by the sensors', async () => {
    await inject('tf-sw-opt-3000');
    await eventually(() => plant.model.readings().spindle.speedSetpoint === 3000, 'the setpoint reached the machine', 30_000).catch((err: Error) => {
      const chain = ['tf-sw-sign', 'tf-sw-verify', 'tf-sw-guard', 'tf-sw-twin', 'tf-sw-reconciler', 'tf-sw-out'].map((id) => `${id}: ${comms.statuses(id).at(-1)?.text}`);
      throw new Error(`${err.message}\n${chain.join('\n')}\n${comms.debug().map((d) => d.msg).join('\n')}\n${nodeRed.log.slice(-3000)}`);
    });
    await eventually(() => Math.abs(plant.model.truth().spindleSpeed - 3000) < 60, 'the spindle runs at 3000 rpm', 30_000);
    await eventually(() => /0 queued/.test(comms.statuses('tf-sw-reconciler').at(-1)?.text ?? ''), 'the reconciler confirmed it', 30_000);
    assert.equal(seen.length, 1, 'one signed message crossed the broker');
    assert.match(seen[0]!, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'as a compact JWS');
    const records = audit();
    assert.deepEqual(records.map((r) => [r.rule, r.decision]), [['signature-verify', 'accepted'], ['checks', 'passed']]);
  });

  it('holds an overspeed until a supervisor approves it', async () => {
    await inject('tf-sw-opt-11000');
    const held = await eventually(() => audit().find((r) => r.decision === 'held'), 'the overspeed is held', 20_000).then(() => audit().find((r) => r.decision === 'held')!);
    assert.match(String(held.reason), /overspeed: above 10000 rpm needs a supervisor/);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(plant.model.readings().spindle.speedSetpoint, 3000, 'nothing reaches the machine while it is held');

    const selfApproval = await nodeRed.request('POST', '/cnc-safe/approvals', { id: held.cmdId, decision: 'approve', by: 'optimizer' });
    assert.equal(selfApproval.status, 202);
    await eventually(() => audit().some((r) => r.decision === 'refused'), 'the issuer approving its own command is refused and audited');
    assert.equal(plant.model.readings().spindle.speedSetpoint, 3000);

    await nodeRed.request('POST', '/cnc-safe/approvals', { id: held.cmdId, decision: 'approve', by: 'supervisor sam' });
    await eventually(() => plant.model.readings().spindle.speedSetpoint === 11000, 'the approved overspeed reached the machine', 30_000);
    const passed = audit().find((r) => r.cmdId === held.cmdId && r.decision === 'passed');
    assert.match(String(passed?.reason), /approved by supervisor sam/);
  });

  it('never lets a tampered, forged or replayed command reach the machine', async () => {
    const valid = seen.at(-1)!;
    const [header, payload, signature] = valid.split('.');
    const body = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { payload: { desired: { value: number } } };
    body.payload.desired.value = 500;
    const tampered = `${header}.${Buffer.from(JSON.stringify(body)).toString('base64url')}.${signature}`;
    await spy.publishAsync(TOPIC, tampered);
    await spy.publishAsync(TOPIC, valid);
    await spy.publishAsync(TOPIC, 'hello machine, please spin at 20000');
    await eventually(() => refusals().length >= 2, 'the refusals are reported', 20_000);
    await new Promise((r) => setTimeout(r, 1000));
    const reasons = audit().filter((r) => r.decision === 'rejected').map((r) => r.rule);
    assert.ok(reasons.includes('bad-signature'), `tampered: ${reasons.join(', ')}`);
    assert.ok(reasons.some((r) => /^replayed-/.test(String(r))), `replayed: ${reasons.join(', ')}`);
    assert.equal(plant.model.readings().spindle.speedSetpoint, 11000, 'the machine kept the last authentic setpoint');
  });

  it('refuses a start with the door open by the interlock, and starts once it is closed', async () => {
    plant.model.setDoorOpen(true);
    await eventually(() => comms.statuses('tf-sw-twin').length > 0 && plant.model.readings().doorOpen === true, 'the door is open');
    await new Promise((r) => setTimeout(r, 500));
    await inject('tf-sw-opt-start');
    await eventually(() => audit().some((r) => r.rule === 'interlock'), 'the interlock refused the start', 20_000);
    assert.match(String(audit().find((r) => r.rule === 'interlock')!.reason), /the door must be closed \(doorOpen is true/);
    assert.notEqual(plant.model.readings().machineState, 'running');
    plant.model.setDoorOpen(false);
    await new Promise((r) => setTimeout(r, 500));
    await inject('tf-sw-opt-start');
    await eventually(() => plant.model.readings().machineState === 'running', 'the machine runs the program', 30_000);
  });

  it('raises the out-of-sync alert when a spindle drive fault stops actual following desired', async () => {
    plant.injectFault('spindleDriveFault');
    const alert = await comms.waitFor(() => comms.debug('tf-sw-alert-debug').find((d) => /out of sync/.test(d.msg)), 30_000, 'the out-of-sync alert').catch((err: Error) => {
      throw new Error(`${err.message}; reconciler: ${comms.statuses('tf-sw-reconciler').slice(-5).map((s) => s.text).join(' | ')}; machine ${JSON.stringify(plant.model.truth())}; debug ${comms.debug().slice(-8).map((d) => d.msg).join(' | ')}`);
    });
    assert.match(alert.msg, /desired and actual spindle speed out of sync for 5(\.\d)? s .*check motor driver/);
  });

  it('resumes its queue after Node-RED restarts: the write in flight again, then the next', async () => {
    plant.clearFault('spindleDriveFault');
    plant.model.resetAlarm();
    await eventually(() => plant.model.readings().machineState === 'idle', 'the machine is idle again', 20_000);
    await eventually(() => plant.model.readings().spindle.speed === 0, 'the spindle stands still', 30_000);
    // A stuck speed sensor: the machine takes the setpoint, but nothing confirms it.
    plant.injectFault('stuckSensor', 'spindle/speed');
    await inject('tf-sw-opt-3000');
    await eventually(() => plant.model.readings().spindle.speedSetpoint === 3000, 'the first setpoint was written', 30_000);
    await inject('tf-sw-opt-start');
    await eventually(() => /2 queued/.test(comms.statuses('tf-sw-reconciler').at(-1)?.text ?? ''), 'the start waits behind the unconfirmed setpoint', 30_000);
    assert.notEqual(plant.model.readings().machineState, 'running');

    comms.close();
    await nodeRed.stop();
    const saved = JSON.parse(readFileSync(path.join(userDir, 'twinflow', 'reconciler-tf-sw-reconciler.json'), 'utf8')) as { twins: { queue: unknown[] }[] };
    assert.equal(saved.twins[0]!.queue.length, 2, 'the queue is on disk');
    plant.clearFault('stuckSensor', 'spindle/speed');

    nodeRed = await startNodeRed({ userDir, keepUserDir: true });
    comms = await nodeRed.comms();
    await waitForChain();
    await eventually(() => plant.model.readings().machineState === 'running', 'after the restart the setpoint is confirmed and the start released', 45_000);
    await eventually(() => /0 queued/.test(comms.statuses('tf-sw-reconciler').at(-1)?.text ?? ''), 'the queue drained', 45_000);
  });

  it('keeps every decision in an intact hash chain', async () => {
    const result = await verifyAuditLog(auditFile());
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.ok(result.records >= 8);
  });
});
