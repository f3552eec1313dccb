// Reference flow cnc-twin-plant in a real Node-RED process against the simulator: samples validated
// into the CNC twin, bad samples refused with their reasons, a plant graph answering relationship
// queries, and all of it still there after a clean restart and after a SIGKILL.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCncServer, type CncServer } from '../../plant/cnc-server';
import { referenceFlow, startNodeRed, type Comms, type NodeRedProcess } from '../support/node-red-process';

describe('reference flow cnc-twin-plant', () => {
  const userDir = mkdtempSync(path.join(os.tmpdir(), 'twinflow-twin-flow-'));
  let plant: CncServer;
  let nodeRed: NodeRedProcess;
  let comms: Comms;

  // Test-only injects beside the reference flow: a fourth machine and its place on the line.
  const extra = [
    { id: 'test-add-cnc-4', type: 'inject', z: 'tf-cnc-twin', props: [{ p: 'twin', v: '{"id":"cnc-4"}', vt: 'json' }, { p: 'action', v: 'create', vt: 'str' }, { p: 'payload', v: '{"id":"cnc-4","model":"dtmi:twinflow:cnc:CNCMachine;1"}', vt: 'json' }], repeat: '', once: false, topic: '', wires: [['tf-pl-graph']] },
    { id: 'test-link-cnc-4', type: 'inject', z: 'tf-cnc-twin', props: [{ p: 'twin', v: '{"id":"line-1"}', vt: 'json' }, { p: 'relationship', v: '{"op":"create","id":"line-1-contains-cnc-4","name":"contains","target":"cnc-4","properties":{"position":4}}', vt: 'json' }], repeat: '', once: false, topic: '', wires: [['tf-pl-graph']] },
  ];

  async function start(): Promise<void> {
    nodeRed = await startNodeRed({ userDir, keepUserDir: true, flows: [...referenceFlow('cnc-twin-plant.json', { opcuaUrl: plant.endpointUrl }), ...extra] });
    comms = await nodeRed.comms();
  }

  async function stop(kill = false): Promise<void> {
    comms.close();
    if (kill) await nodeRed.kill();
    else await nodeRed.stop();
  }

  async function inject(id: string): Promise<void> {
    const res = await nodeRed.request('POST', `/inject/${id}`);
    assert.equal(res.status, 200, `inject ${id}`);
  }

  const debugTexts = (id: string) => comms.debug(id).map((d) => d.msg);

  async function queryMachines(): Promise<string[]> {
    const before = comms.debug('tf-pl-answer').length;
    await inject('tf-pl-qi');
    const answer = await comms.waitFor(() => comms.debug('tf-pl-answer')[before], 15_000, 'the query answer');
    return (JSON.parse(answer.msg) as { machine: string }[]).map((r) => r.machine).sort();
  }

  before(async () => {
    plant = await startCncServer({ port: 0, seed: 21, autoCycle: true, timeScale: 2 });
    await start();
  });

  after(async () => {
    comms?.close();
    await nodeRed?.stop();
    await plant?.stop();
    rmSync(userDir, { recursive: true, force: true });
  });

  it('validates the simulator feed into the CNC twin', async () => {
    await comms.waitFor(() => comms.statuses('tf-tw-twin').some((s) => /^cnc-1 · operation · [1-9]\d* ok/.test(s.text ?? '')), 30_000, 'the twin accepting samples');
    assert.deepEqual(debugTexts('tf-tw-refused-debug'), [], 'the simulator sends nothing the model refuses');
  });

  it('refuses bad samples, each with the field and the rule', async () => {
    await inject('tf-tw-bad');
    const refusal = await comms.waitFor(() => comms.debug('tf-tw-refused-debug')[0], 15_000, 'the refusal');
    assert.match(refusal.msg, /3 of 3 samples refused/);
    assert.match(refusal.msg, /machineState/);
    assert.match(refusal.msg, /exploded/);
  });

  it('builds the plant graph on deploy and answers relationship queries', async () => {
    await comms.waitFor(() => comms.debug('tf-pl-built').length >= 9, 20_000, 'nine set-up steps done');
    assert.deepEqual(debugTexts('tf-pl-refused'), [], 'no set-up step was refused');
    assert.deepEqual(await queryMachines(), ['cnc-1', 'cnc-2', 'cnc-3']);
  });

  it('keeps twins and relationships across a clean restart, and the set-up runs again without refusals', async () => {
    await stop();
    await start();
    await comms.waitFor(() => comms.debug('tf-pl-built').length >= 9, 20_000, 'the set-up ran again');
    assert.deepEqual(debugTexts('tf-pl-refused'), [], 'running the set-up again refuses nothing');
    assert.deepEqual(await queryMachines(), ['cnc-1', 'cnc-2', 'cnc-3']);
  });

  it('keeps a twin and a relationship created just before a SIGKILL', async () => {
    const built = comms.debug('tf-pl-built').length;
    await inject('test-add-cnc-4');
    await inject('test-link-cnc-4');
    await comms.waitFor(() => comms.debug('tf-pl-built').length >= built + 2, 10_000, 'cnc-4 created and linked');
    await stop(true);
    await start();
    assert.deepEqual(await queryMachines(), ['cnc-1', 'cnc-2', 'cnc-3', 'cnc-4']);
    await comms.waitFor(() => comms.statuses('tf-tw-twin').some((s) => /^cnc-1 · operation · [1-9]/.test(s.text ?? '')), 30_000, 'the twin accepting samples again');
  });
});
