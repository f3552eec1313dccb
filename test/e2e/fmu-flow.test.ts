// The FMU reference flow deployed into Node-RED as a process, beside the simulated CNC machine:
// the motor co-simulation delivers values, a requested safe spindle setpoint is judged safe and an
// excessive one unsafe, the what-if follows the machine's setpoint, and stopping Node-RED frees
// every FMU.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCncServer, type CncServer } from '../../plant/cnc-server';
import { referenceFlow, startNodeRed, type Comms, type NodeRedProcess } from '../support/node-red-process';
import { ensureBuilt } from '../unit/fmu/helpers';

const MOTOR = 'tf-fmw-motor';
const WHAT_IF = 'tf-fmw-whatif';

describe('reference flow fmu-motor-whatif', () => {
  const cache = mkdtempSync(path.join(os.tmpdir(), 'twinflow-fmu-e2e-'));
  let plant: CncServer;
  let nodeRed: NodeRedProcess;
  let comms: Comms;

  before(async () => {
    await ensureBuilt();
    plant = await startCncServer({ port: 0, seed: 7 });
    nodeRed = await startNodeRed({
      flows: referenceFlow('fmu-motor-whatif.json', { opcuaUrl: plant.endpointUrl }),
      env: { TWINFLOW_FMU_CACHE: cache },
    });
    comms = await nodeRed.comms();
  });

  after(async () => {
    comms?.close();
    await nodeRed?.stop();
    await plant?.stop();
    rmSync(cache, { recursive: true, force: true });
  });

  const lastStatus = (id: string): string => comms.statuses(id).at(-1)?.text ?? '';

  async function inject(id: string): Promise<void> {
    const res = await nodeRed.request('POST', `/inject/${id}`);
    assert.equal(res.status, 200, `inject ${id}`);
  }

  /** The next line the verdict debug node shows that matches, after `from` debug messages. */
  function verdictLine(pattern: RegExp, from: number): Promise<string> {
    return comms.waitFor(
      () => comms.debug('tf-fmw-debug-verdict').slice(from).map((d) => d.msg).find((m) => pattern.test(m)),
      30_000,
      `a what-if line matching ${pattern}; seen: ${comms.debug('tf-fmw-debug-verdict').slice(-2).map((d) => d.msg).join(' | ')}`,
    );
  }

  it('runs the motor co-simulation live at a 1 ms step and sends its values', async () => {
    const simulated = await comms.waitFor(() => {
      const match = /^stepping · t=([\d.]+) s/.exec(lastStatus(MOTOR));
      return match && Number(match[1]) >= 2 ? Number(match[1]) : undefined;
    }, 30_000, `the motor status to pass t=2 s (now: ${lastStatus(MOTOR)})`);
    assert.ok(simulated >= 2);
    // Its debug node is off in the flow (30 values a second); switch it on as a person would.
    const enabled = await nodeRed.request('POST', '/debug/tf-fmw-debug-motor/enable');
    assert.equal(enabled.status, 200);
    const values = await comms.waitFor(() => {
      const seen = new Map<string, number>();
      for (const d of comms.debug('tf-fmw-debug-motor')) seen.set(d.topic ?? '', Number(d.msg));
      return seen.size === 3 ? seen : undefined;
    }, 20_000, 'speed, current and temperature values');
    assert.deepEqual([...values.keys()].sort(), ['electrical.current', 'electrical.speed', 'thermal.temperature']);
    // After the soft start: near synchronous speed (157 rad/s) under 20 N.m, a running current, a winding at or above ambient.
    const speed = values.get('electrical.speed')!;
    assert.ok(speed > 140 && speed < 157.1, `speed ${speed} rad/s`);
    assert.ok(values.get('electrical.current')! > 3, `current ${values.get('electrical.current')} A`);
    assert.ok(values.get('thermal.temperature')! >= 298.15, `temperature ${values.get('thermal.temperature')} K`);
    await nodeRed.request('POST', '/debug/tf-fmw-debug-motor/disable');
  });

  it('judges a requested 6000 rpm safe and shows the prediction', async () => {
    const from = comms.debug('tf-fmw-debug-verdict').length;
    await inject('tf-fmw-ask-safe');
    const verdict = await verdictLine(/^(safe|unsafe):/, from);
    assert.equal(verdict, 'safe: speedSetpoint = 6000; every limit held for 60 s');
    const prediction = await verdictLine(/^from /, from);
    assert.match(prediction, /^from 0 rpm now: peak speed 6000 rpm, peak current 1\d\.\d+ A, peak bearing temperature 2\d\.\d+ degC in 60 s$/);
    assert.match(lastStatus(WHAT_IF), /^what-if safe: speedSetpoint = 6000/);
  });

  it('judges a requested 16000 rpm unsafe, naming the limits it passes', async () => {
    const from = comms.debug('tf-fmw-debug-verdict').length;
    await inject('tf-fmw-ask-unsafe');
    const verdict = await verdictLine(/^(safe|unsafe):/, from);
    assert.match(verdict, /^unsafe: speedSetpoint = 16000; speed 120\d\d(\.\d+)? rpm above the maximum 12000 after [\d.]+ s; motorCurrent 1\d(\.\d+)? A above the maximum 16 after [\d.]+ s/);
    assert.match(lastStatus(WHAT_IF), /^what-if unsafe/);
  });

  it('predicts from the machine\'s current state: the what-if follows the setpoint read over OPC UA', async () => {
    plant.model.setSpeedSetpoint(8000);
    // The machine and the tracking FMU both ramp at 2000 rpm/s; ask until the prediction starts near 8000 rpm.
    let start = 0;
    for (let attempt = 0; attempt < 30 && start < 7900; attempt++) {
      const from = comms.debug('tf-fmw-debug-verdict').length;
      await inject('tf-fmw-ask-safe');
      const prediction = await verdictLine(/^from /, from);
      start = Number(/^from ([\d.]+) rpm now/.exec(prediction)![1]);
      if (start < 7900) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.ok(start >= 7900 && start <= 8000, `the prediction starts from the machine's speed (${start} rpm)`);
    assert.ok(Math.abs(plant.model.truth().spindleSpeed - start) < 1500, 'the machine runs at about that speed');
    // Nothing of the what-if reached the machine.
    assert.equal(plant.model.readings().spindle.speedSetpoint, 8000);
    assert.match(lastStatus(WHAT_IF), /what-if safe: speedSetpoint = 6000/);
  });

  it('serves the dashboard page, and frees every FMU when Node-RED stops', async () => {
    const page = await fetch(`${nodeRed.url}/dashboard/fmu-whatif`);
    assert.equal(page.status, 200);
    const instances = path.join(cache, 'instances');
    assert.equal(readdirSync(instances).length, 4, 'three motor FMUs and the spindle are loaded');
    assert.doesNotMatch(nodeRed.log, /\[error\]/);
    comms.close();
    await nodeRed.stop();
    assert.ok(!existsSync(instances) || readdirSync(instances).length === 0, 'every private FMU copy was removed on stop');
  });
});
