// The OPC UA control reference flow, operated as an operator would: on its Dashboard 2.0 page in
// Chromium, the setpoint slider writes through opcua-out, the buttons call the machine's methods,
// and a refusal by the machine shows up as a notification.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startCncServer, type CncServer } from '../../plant/cnc-server';
import { referenceFlow, startNodeRed, type NodeRedProcess } from '../support/node-red-process';
import { eventually } from '../support/node-helpers';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/browser';

describe('reference flow cnc-opcua-control on its dashboard', () => {
  let plant: CncServer;
  let nodeRed: NodeRedProcess;
  let browser: Browser;
  let page: Page;

  before(async () => {
    plant = await startCncServer({ port: 0, seed: 4 });
    nodeRed = await startNodeRed({ flows: referenceFlow('cnc-opcua-control.json', { opcuaUrl: plant.endpointUrl }) });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${nodeRed.url}/dashboard/cnc-control`);
    await page.waitForFunction(() => /Machine state\s+idle/.test(document.body.innerText), undefined, { timeout: 30_000 });
  });

  after(async () => {
    await browser?.close();
    await nodeRed?.stop();
    await plant?.stop();
  });

  const lastOutcome = (pattern: RegExp) =>
    page.waitForFunction((source) => new RegExp(source).test(document.body.innerText.split('Last outcome')[1] ?? ''), pattern.source, { timeout: 20_000 });

  async function setSetpoint(value: number): Promise<void> {
    const field = page.locator('input[type="number"]').first();
    await field.fill(String(value));
    await field.press('Enter');
  }

  it('writes the speed setpoint from the slider and the spindle follows', async () => {
    await setSetpoint(3000);
    await eventually(() => plant.model.readings().spindle.speedSetpoint === 3000, 'the setpoint reached the machine');
    await lastOutcome(/spindle\/speedSetpoint = 3000: Good/);
    await eventually(() => Math.abs(plant.model.truth().spindleSpeed - 3000) < 100, 'the spindle runs at the setpoint', 20_000);
  });

  it('starts a program, stops the machine and resets it from the buttons', async () => {
    await page.getByRole('button', { name: 'Start P1000' }).click();
    await lastOutcome(/startCycle: started/);
    assert.equal(plant.model.readings().machineState, 'running');
    await page.waitForFunction(() => /Program\s+P1000/.test(document.body.innerText), undefined, { timeout: 20_000 });

    await page.getByRole('button', { name: 'Emergency stop' }).click();
    await lastOutcome(/emergencyStop: stop confirmed/);
    assert.equal(plant.model.readings().machineState, 'emergencyStop');
    await page.waitForFunction(() => /Machine state\s+emergencyStop/.test(document.body.innerText), undefined, { timeout: 20_000 });
  });

  it('shows the machine refusing a setpoint during an emergency stop as a notification, then recovers after a reset', async () => {
    await setSetpoint(5000);
    await page.getByText(/the server refused spindle\/speedSetpoint: BadInvalidState/).waitFor({ timeout: 20_000 });
    assert.notEqual(plant.model.readings().spindle.speedSetpoint, 5000);

    await page.getByRole('button', { name: 'Reset alarm' }).click();
    await eventually(() => plant.model.readings().machineState === 'idle', 'the machine is idle again');
    await page.waitForFunction(() => /Machine state\s+idle/.test(document.body.innerText), undefined, { timeout: 20_000 });
  });
});
