// The history reference flow on its Dashboard 2.0 page in Chromium: the trend charts draw from
// InfluxDB, and "1 minute ago" fills the state-at-T table from the event log.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startCncServer, type CncServer } from '../../plant/cnc-server';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/browser';
import { startInfluxDb, type InfluxDbServer } from '../support/influxdb';
import { referenceFlow, startNodeRed, type NodeRedProcess } from '../support/node-red-process';

describe('reference flow cnc-history on its dashboard', () => {
  let plant: CncServer;
  let influx: InfluxDbServer;
  let nodeRed: NodeRedProcess;
  let browser: Browser;
  let page: Page;
  /** What the dashboard's websocket delivered to the page. */
  const frames: string[] = [];

  before(async () => {
    plant = await startCncServer({ port: 0, seed: 9, autoCycle: true, timeScale: 5 });
    influx = await startInfluxDb();
    const flows = referenceFlow('cnc-history.json', { opcuaUrl: plant.endpointUrl }).map((n) => (n.type === 'influx-server' ? { ...n, port: influx.httpPort } : n));
    nodeRed = await startNodeRed({ flows });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('websocket', (ws) => ws.on('framereceived', (frame) => { if (typeof frame.payload === 'string') frames.push(frame.payload); }));
    await page.goto(`${nodeRed.url}/dashboard/history`);
    await page.getByText('Time range').first().waitFor({ timeout: 30_000 });
  });

  after(async () => {
    await browser?.close();
    await nodeRed?.stop();
    await influx?.stop();
    await plant?.stop();
  });

  it('draws the history charts with one series per twin name', async () => {
    // The charts draw on canvas; what they were given travels over the dashboard's websocket.
    const delivered = (chart: string, series: string) => frames.some((f) => f.includes(`msg-input:${chart}`) && f.includes(`"topic":"${series}"`) && /"x":\d{13}/.test(f));
    // Each series goes to its chart in a message of its own: wait for every one asserted below.
    const all = () => delivered('tf-hist-chart-speed', 'spindle/speed') && delivered('tf-hist-chart-speed', 'spindle/motorCurrent') && delivered('tf-hist-chart-temp', 'coolant/temperature');
    const deadline = Date.now() + 40_000;
    while (!all() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
    assert.ok(delivered('tf-hist-chart-speed', 'spindle/speed'), 'the speed chart got the spindle/speed series with x in ms');
    assert.ok(delivered('tf-hist-chart-speed', 'spindle/motorCurrent'));
    assert.ok(delivered('tf-hist-chart-temp', 'coolant/temperature'));
    assert.equal(await page.locator('canvas').count(), 2, 'two charts drawn');
  });

  it('shows cnc-1 as it was a minute ago', async () => {
    // Let the machine run a minute and more of event log first.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await page.getByRole('button', { name: '1 minute ago' }).click();
    await page.waitForFunction(() => /machine state\s+(idle|running|alarm|emergencyStop)/.test(document.body.innerText) || /nothing recorded of cnc-1/.test(document.body.innerText), undefined, { timeout: 20_000 });
    const text = await page.evaluate(() => document.body.innerText);
    // The machine has run for less than a minute here, so a minute ago it did not exist yet.
    assert.match(text, /nothing recorded of cnc-1 by \d{4}-\d\d-\d\dT/);
    // A time just now: the whole state table.
    const field = page.locator('input[type="datetime-local"]').first();
    const now = new Date(Date.now() - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
    await field.fill(now);
    await field.press('Enter');
    await page.waitForFunction(() => /machine state\s+(idle|running|alarm|emergencyStop)/.test(document.body.innerText), undefined, { timeout: 20_000 });
    const table = await page.evaluate(() => document.body.innerText);
    assert.match(table, /lifecycle stage\s+operation/);
    assert.match(table, /spindle speed \(rpm\)\s+[\d.]+/);
    assert.match(table, /version in the event log\s+[1-9]\d*/);
  });
});
