// The command guard inside a real Node-RED runtime: twin state from samples and from a twin graph,
// refusals on their output with the reason, dual approval by messages, a timeout, a ramp released
// step by step, a what-if round trip through a real fmu node, held requests across a restart.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import helper from 'node-red-node-test-helper';
import { collector, eventually, loadFlow, onCall, statusOf, type Collector } from '../support/node-helpers';
import guardNode = require('../../nodes/command-guard/command-guard');
import fmuNode = require('../../nodes/fmu/fmu');
import modelNode = require('../../nodes/dtdl-model/dtdl-model');
import graphNode = require('../../nodes/twin-graph/twin-graph');
import twinNode = require('../../nodes/twin/twin');

helper.init(require.resolve('node-red'));

const nodes = [guardNode, fmuNode, modelNode, graphNode, twinNode];
const userDir = mkdtempSync(path.join(os.tmpdir(), 'twinflow-guard-'));
const CNC = 'dtmi:twinflow:cnc:CNCMachine;1';

const RULES = {
  ranges: [{ target: 'spindle/speedSetpoint', min: '0', max: 'spindle/maxSpeed' }],
  interlocks: [
    { target: 'startCycle', path: 'doorOpen', op: '==', value: 'false', text: 'the door must be closed' },
    { target: 'startCycle', path: 'machineState', op: '!=', value: 'emergencyStop', text: 'no start after an emergency stop' },
  ],
  approvals: [{ target: 'spindle/speedSetpoint', op: '>', value: '10000', approvers: '2', timeout: '2', text: 'overspeed' }],
  roles: [{ role: 'operator', issuers: 'ann, bob, carl', allow: '*' }, { role: 'optimizer', issuers: 'opt', allow: 'spindle/speedSetpoint' }],
};

function flow(guard: Record<string, unknown>, extra: unknown[] = []) {
  return [
    { id: 'guard', type: 'command-guard', twinId: 'cnc-1', ...RULES, ...guard, wires: [['passed'], ['rejected'], ['pending'], ['audit'], guard.whatIf ? ['sim'] : []] },
    { id: 'passed', type: 'helper' },
    { id: 'rejected', type: 'helper' },
    { id: 'pending', type: 'helper' },
    { id: 'audit', type: 'helper' },
    ...extra,
  ];
}

describe('command guard in Node-RED', () => {
  let passed: Collector;
  let rejected: Collector;
  let pending: Collector;
  let audit: Collector;
  let errors: string[];

  async function start(guard: Record<string, unknown> = {}, extra: unknown[] = []): Promise<void> {
    await loadFlow(helper, nodes, flow(guard, extra));
    passed = collector(helper.getNode('passed'));
    rejected = collector(helper.getNode('rejected'));
    pending = collector(helper.getNode('pending'));
    audit = collector(helper.getNode('audit'));
    errors = [];
    onCall(helper.getNode('guard'), 'error', (args) => errors.push(String((args[0] as Error).message)));
  }
  const send = (msg: Record<string, unknown>) => helper.getNode('guard').receive(msg);
  const state = (values: Record<string, unknown>) => { for (const [topic, payload] of Object.entries(values)) send({ topic, payload }); };

  before(async () => {
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    rmSync(path.join(userDir, 'twinflow'), { recursive: true, force: true });
  });
  after(async () => {
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    rmSync(userDir, { recursive: true, force: true });
  });

  it('passes a safe command and refuses unsafe ones with the rule and the reason, auditing each', async () => {
    await start();
    state({ doorOpen: false, machineState: 'idle', 'spindle/maxSpeed': 12000 });
    send({ command: { name: 'startCycle', request: 'P1000', id: 'c1', issuer: 'ann' } });
    const ok = await passed.waitFor((m) => (m.guard as { id: string }).id === 'c1');
    assert.equal((ok.guard as { decision: string }).decision, 'passed');
    assert.deepEqual(ok.command, { name: 'startCycle', request: 'P1000', id: 'c1', issuer: 'ann' });

    state({ doorOpen: true });
    send({ command: { name: 'startCycle', request: 'P1000', id: 'c2', issuer: 'ann' } });
    send({ topic: 'spindle/speedSetpoint', payload: 12500, desired: { issuer: 'opt', id: 'd1' } });
    send({ command: { name: 'resetAlarm', id: 'c3', issuer: 'opt' } });
    await eventually(() => rejected.messages.length === 3, 'three rejections');
    const reasons = rejected.messages.map((m) => (m.rejection as { rule: string; reason: string }));
    assert.deepEqual(reasons.map((r) => r.rule), ['interlock', 'range', 'role']);
    assert.match(reasons[0]!.reason, /the door must be closed \(doorOpen is true, required == false\)/);
    assert.equal(reasons[1]!.reason, 'spindle/speedSetpoint: 12500 is above the maximum 12000 (spindle/maxSpeed)');
    assert.match(reasons[2]!.reason, /issuer opt \(role optimizer\) may not send resetAlarm/);
    await eventually(() => audit.messages.length === 4, 'four audit records');
    const record = audit.messages[1]!.payload as Record<string, unknown>;
    assert.equal(record.actor, 'ann');
    assert.equal(record.decision, 'rejected');
    assert.equal(record.rule, 'interlock');
    assert.deepEqual(record.snapshot, { doorOpen: true, machineState: 'idle' });
    assert.match(statusOf(helper.getNode('guard'))?.text ?? '', /1 passed · 3 rejected/);
  });

  it('holds an overspeed for two different approvers and releases it only then', async () => {
    await start({ approvals: [{ target: 'spindle/speedSetpoint', op: '>', value: '10000', approvers: '2', timeout: '60', text: 'overspeed' }] });
    state({ 'spindle/maxSpeed': 12000 });
    send({ topic: 'spindle/speedSetpoint', payload: 11000, desired: { issuer: 'opt', id: 'fast-1' } });
    const list = await pending.waitFor((m) => Array.isArray(m.payload) && (m.payload as unknown[]).length === 1);
    assert.deepEqual((list.payload as Record<string, unknown>[])[0]!.approvals, '0 of 2');
    send({ approval: { id: 'fast-1', decision: 'approve', by: 'ann' } });
    send({ approval: { id: 'fast-1', decision: 'approve', by: 'ann' } });
    send({ approval: { id: 'fast-1', decision: 'approve', by: 'opt' } });
    await eventually(() => errors.length === 2, 'two refused approvals');
    assert.match(errors[0]!, /ann approved fast-1 already; 2 different people must approve/);
    assert.match(errors[1]!, /opt issued fast-1 and cannot approve it/);
    assert.equal(passed.messages.length, 0, 'nothing passed with one approver');
    send({ approval: { id: 'fast-1', decision: 'approve', by: 'bob' } });
    const released = await passed.waitFor((m) => m.topic === 'spindle/speedSetpoint');
    assert.equal(released.payload, 11000);
    assert.deepEqual((released.guard as { approvals: { by: string }[] }).approvals.map((a) => a.by), ['ann', 'bob']);
    await pending.waitFor((m) => Array.isArray(m.payload) && (m.payload as unknown[]).length === 0);
    await eventually(() => audit.messages.some((m) => (m.payload as { decision: string }).decision === 'refused'), 'the refused approval is audited');
  });

  it('rejects a held request when its approval times out', async () => {
    await start();
    state({ 'spindle/maxSpeed': 12000 });
    send({ topic: 'spindle/speedSetpoint', payload: 11500, desired: { issuer: 'opt', id: 'late-1' } });
    send({ approval: { id: 'late-1', decision: 'approve', by: 'ann' } });
    const late = await rejected.waitFor((m) => (m.rejection as { rule: string }).rule === 'approval', 10_000);
    assert.match((late.rejection as { reason: string }).reason, /approval timed out after 2 s \(1 of 2 approvals: ann\)/);
  });

  it('ramps a setpoint step by step at the allowed rate', async () => {
    await start({ approvals: [], ramps: [{ target: 'spindle/speedSetpoint', rate: '1000', mode: 'ramp', period: '0.2' }] });
    state({ 'spindle/maxSpeed': 12000, 'spindle/speedSetpoint': 0 });
    send({ topic: 'spindle/speedSetpoint', payload: 700, desired: { issuer: 'opt' } });
    await eventually(() => passed.messages.length === 4, 'four steps', 10_000);
    assert.deepEqual(passed.messages.map((m) => m.payload), [200, 400, 600, 700]);
    assert.deepEqual(passed.messages.map((m) => (m.guard as { ramp: { step: number } }).ramp.step), [1, 2, 3, 4]);
  });

  it('asks a real fmu what-if simulation and refuses what it finds unsafe', async () => {
    const sim = {
      id: 'sim', type: 'fmu', fmu: 'spindle-fmi2', stepSize: 0.01, mode: 'whatif', stepping: 'none', whatIfDuration: 30, whatIfMaxPoints: 50,
      whatIfLimits: [{ variable: 'motorCurrent', max: 16 }], inputMap: [{ topic: 'spindle/speedSetpoint', input: 'speedSetpoint' }], wires: [['guard']],
    };
    await start({ approvals: [], ranges: [], whatIf: 'spindle/speedSetpoint', whatIfTimeout: '20' }, [sim]);
    await eventually(() => /what-if|ready|tracking/.test(statusOf(helper.getNode('sim'))?.text ?? ''), 'the fmu is loaded', 20_000);
    send({ topic: 'spindle/speedSetpoint', payload: 3000, desired: { issuer: 'opt', id: 'safe-1' } });
    const ok = await passed.waitFor((m) => (m.guard as { id: string }).id === 'safe-1', 20_000);
    assert.match((ok.guard as { reason: string }).reason, /simulated safe/);
    assert.equal(ok.whatIf !== undefined, true, 'the verdict travels on');
    send({ topic: 'spindle/speedSetpoint', payload: 40000, desired: { issuer: 'opt', id: 'wild-1' } });
    const no = await rejected.waitFor((m) => (m.guard as { id: string }).id === 'wild-1', 20_000);
    assert.equal((no.rejection as { rule: string }).rule, 'what-if');
    assert.match((no.rejection as { reason: string }).reason, /the simulation found it unsafe \(unsafe: .*motorCurrent/);
  });

  it('reads interlocks from the twin graph the twin node writes', async () => {
    const twinFlow = [
      { id: 'm1', type: 'dtdl-model', source: 'builtin' },
      { id: 'g1', type: 'twin-graph', models: 'm1', persist: false },
      { id: 'tw1', type: 'twin', graph: 'g1', scope: 'one', twinId: 'cnc-1', model: CNC, autoCreate: true, wires: [[], [], []] },
    ];
    await start({ graph: 'g1', approvals: [] }, twinFlow);
    const twin = helper.getNode('tw1');
    twin.receive({ topic: 'doorOpen', payload: true });
    twin.receive({ topic: 'machineState', payload: 'idle' });
    await new Promise((r) => setTimeout(r, 100));
    send({ command: { name: 'startCycle', request: 'P1000', id: 'g1', issuer: 'ann' } });
    const no = await rejected.waitFor((m) => (m.guard as { id: string }).id === 'g1');
    assert.match((no.rejection as { reason: string }).reason, /the door must be closed \(doorOpen is true/);
    twin.receive({ topic: 'doorOpen', payload: false });
    await new Promise((r) => setTimeout(r, 100));
    send({ command: { name: 'startCycle', request: 'P1000', id: 'g2', issuer: 'ann' } });
    await passed.waitFor((m) => (m.guard as { id: string }).id === 'g2');
  });

  it('keeps a held request across a restart and releases it on approval afterwards', async () => {
    await start({ approvals: [{ target: 'spindle/speedSetpoint', op: '>', value: '10000', approvers: '1', timeout: '120', text: 'overspeed' }] });
    state({ 'spindle/maxSpeed': 12000 });
    send({ topic: 'spindle/speedSetpoint', payload: 10500, desired: { issuer: 'opt', id: 'keep-1' } });
    await pending.waitFor((m) => Array.isArray(m.payload) && (m.payload as unknown[]).length === 1);
    await helper.unload();
    await start({ approvals: [{ target: 'spindle/speedSetpoint', op: '>', value: '10000', approvers: '1', timeout: '120', text: 'overspeed' }] });
    state({ 'spindle/maxSpeed': 12000 });
    send({ action: 'pending' });
    const list = await pending.waitFor((m) => Array.isArray(m.payload) && (m.payload as unknown[]).length === 1);
    assert.equal((list.payload as { id: string }[])[0]!.id, 'keep-1');
    send({ approval: { id: 'keep-1', decision: 'approve', by: 'ann' } });
    const released = await passed.waitFor((m) => m.topic === 'spindle/speedSetpoint');
    assert.deepEqual([released.payload, (released.desired as { issuer: string }).issuer, (released.twin as { id: string }).id], [10500, 'opt', 'cnc-1']);
  });

  it('appends every decision to the hash-chained audit log and finds a record edited afterwards', async () => {
    await start({ approvals: [] });
    state({ doorOpen: true, machineState: 'idle', 'spindle/maxSpeed': 12000 });
    send({ command: { name: 'startCycle', request: 'P1000', id: 'a1', issuer: 'ann' } });
    send({ topic: 'spindle/speedSetpoint', payload: 5000, desired: { issuer: 'opt', id: 'a2' } });
    await eventually(() => audit.messages.length === 2, 'two decisions');
    send({ action: 'verify-audit' });
    const good = await audit.waitFor((m) => m.topic === 'verify-audit');
    assert.deepEqual([(good.payload as { ok: boolean }).ok, (good.payload as { records: number }).records], [true, 2]);
    const file = path.join(userDir, 'twinflow', 'audit', 'commands.jsonl');
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.map((l) => [l.actor, l.decision, l.rule, l.cmdId]), [['ann', 'rejected', 'interlock', 'a1'], ['opt', 'passed', 'checks', 'a2']]);
    assert.deepEqual(lines[0]!.snapshot, { doorOpen: true, machineState: 'idle' });
    // Someone turns the refusal into an acceptance after the fact.
    writeFileSync(file, readFileSync(file, 'utf8').replace('"decision":"rejected"', '"decision":"passed"'));
    audit.clear();
    send({ action: 'verify-audit' });
    const bad = await audit.waitFor((m) => m.topic === 'verify-audit');
    assert.equal((bad.payload as { ok: boolean }).ok, false);
    assert.match(JSON.stringify((bad.payload as { problem: unknown }).problem), /"seq":1|line.?1/);
  });

  it('sends malformed input to Catch with the field and the rule, changing nothing', async () => {
    await start();
    send({ command: { request: 'P1' } });
    send({ topic: 'spindle/speedSetpoint', payload: 5, desired: {} });
    send({ approval: { id: 'nope', decision: 'approve', by: 'ann' } });
    send({ approval: { id: 'nope', decision: 'maybe', by: 'ann' } });
    send({ command: { name: 'startCycle', issuer: 'boss' }, verified: { iss: 'ann' } });
    send({ action: 'explode' });
    await eventually(() => errors.length === 6, 'six errors');
    assert.match(errors[0]!, /^command-guard: command.name/);
    assert.match(errors[1]!, /desired.issuer: who sends the request is required/);
    assert.match(errors[2]!, /approval.id: "nope" is not waiting for approval/);
    assert.match(errors[3]!, /approval.decision: must be approve or reject/);
    assert.match(errors[4]!, /command.issuer: "boss" is not the verified issuer "ann"/);
    assert.match(errors[5]!, /action: must be pending or verify-audit/);
    assert.equal(passed.messages.length + rejected.messages.length + audit.messages.length, 0);
  });
});
