// The real editor in Debian's headless Chromium: every Twinflow node in the palette with its icon
// and help, an edit dialog, and a reference flow imported from Import > Examples, edited through the
// dialogs, deployed, and showing live simulator values on its Dashboard 2.0 page.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startCncServer, type CncServer } from '../../plant/cnc-server';
import { packageRoot, startNodeRed, type NodeRedProcess } from '../support/node-red-process';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/browser';


const pkg = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };

/** Node types of ours and whether each is a config node (those live in the config sidebar, not the palette). */
function ourNodeTypes(): { type: string; config: boolean }[] {
  return Object.keys(pkg['node-red'].nodes).map((type) => {
    const html = readFileSync(path.join(packageRoot, 'nodes', type, `${type}.html`), 'utf8');
    return { type, config: /category\s*:\s*['"]config['"]/.test(html) };
  });
}

describe('the Twinflow editor in Chromium', () => {
  let plant: CncServer;
  let nodeRed: NodeRedProcess;
  let browser: Browser;
  let page: Page;

  before(async () => {
    plant = await startCncServer({ port: 0, seed: 11, autoCycle: true, timeScale: 4 });
    nodeRed = await startNodeRed({});
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(nodeRed.url);
    await page.waitForSelector('.red-ui-palette-node[data-palette-type="opcua-in"]', { timeout: 60_000 });
  });

  after(async () => {
    await browser?.close();
    await nodeRed?.stop();
    await plant?.stop();
  });

  it('shows every Twinflow node in the palette with its icon and its help', async () => {
    for (const { type, config } of ourNodeTypes()) {
      if (config) {
        assert.ok(await page.evaluate((t) => Boolean((window as any).RED.nodes.getType(t)), type), `${type} is registered`);
        const help = await page.locator(`script[data-help-name="${type}"]`).textContent();
        assert.ok(help && help.length > 200, `${type} has help text`);
        continue;
      }
      const entry = page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
      await entry.scrollIntoViewIfNeeded();
      assert.equal(await entry.count(), 1, `${type} is in the palette`);
      const icon = await entry.locator('.red-ui-palette-icon-container').getAttribute('data-palette-icon');
      assert.match(icon ?? '', /^icons\/node-red-contrib-twinflow\/twinflow-[\w-]+\.svg$/, `${type} uses a Twinflow icon`);
      const iconResponse = await page.evaluate(async (url) => {
        const res = await fetch(url);
        return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
      }, icon!);
      assert.equal(iconResponse.status, 200, `icon of ${type} is served`);
      assert.match(iconResponse.body, /<svg/, `icon of ${type} is an SVG`);
      await entry.click();
      const popover = page.locator('.red-ui-popover').filter({ hasText: `node-red-contrib-twinflow : ${type}` });
      await popover.waitFor({ timeout: 5000 });
      const summary = (await popover.innerText()).trim();
      const firstParagraph = await page.evaluate((t) => {
        const holder = document.createElement('div');
        holder.innerHTML = document.querySelector(`script[data-help-name="${t}"]`)!.innerHTML;
        return holder.querySelector('p')!.textContent!.replace(/\s+/g, ' ').trim();
      }, type);
      assert.ok(summary.replace(/\s+/g, ' ').includes(firstParagraph.slice(0, 40)), `${type}'s help summary shows on click`);
      await page.mouse.click(700, 300);
    }
  });

  it('imports a reference flow from Import > Examples, edits it in its dialogs, deploys it and shows live values', async () => {
    await page.click('#red-ui-header-button-sidemenu');
    await page.click('#menu-item-import');
    await page.click('#red-ui-tab-red-ui-clipboard-dialog-import-tab-examples');
    const tree = '#red-ui-clipboard-dialog-import-tab-examples .red-ui-treeList-label';
    await page.locator(tree, { hasText: 'node-red-contrib-twinflow' }).click();
    await page.locator(tree, { hasText: 'cnc-live-dashboard' }).click();
    await page.click('#red-ui-clipboard-dialog-ok');
    await page.locator('.red-ui-tab-label', { hasText: 'CNC live dashboard' }).click();

    // The opcua-in edit dialog shows the item table; the endpoint's dialog takes the simulator's URL.
    await page.dblclick('#tf-cnc-in');
    await page.waitForSelector('#node-input-items-container');
    assert.equal(await page.locator('#node-input-items-container > li').count(), 13);
    assert.equal(await page.locator('#node-input-items-container > li').first().locator('.tf-address').inputValue(), 'ns=1;s=CNC.spindle.speed');
    await page.click('#node-input-btn-endpoint-edit');
    await page.waitForSelector('#node-config-input-endpointUrl');
    await page.fill('#node-config-input-endpointUrl', 'not a url');
    await page.locator('#node-config-input-endpointUrl').dispatchEvent('change');
    await page.locator('#node-config-input-endpointUrl.input-error').waitFor({ timeout: 5000 });
    await page.fill('#node-config-input-endpointUrl', plant.endpointUrl);
    await page.click('#node-config-dialog-ok');
    await page.click('#node-dialog-ok');

    const mark = nodeRed.log.length;
    await page.click('#red-ui-header-button-deploy');
    await nodeRed.waitForLog(/Started flows/, 30_000, mark);
    const { flows } = await nodeRed.getFlows();
    assert.equal(flows.find((n) => n.type === 'opcua-endpoint')?.endpointUrl, plant.endpointUrl);

    // The editor shows the node's honest status ...
    await page.locator('#tf-cnc-in .red-ui-flow-node-status-label', { hasText: /connected · 13 items/ }).waitFor({ timeout: 30_000 });
    // ... and the dashboard page shows machine values arriving.
    const dashboard = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      await dashboard.goto(`${nodeRed.url}/dashboard/cnc`);
      await dashboard.getByText('Bearing temperature').first().waitFor({ timeout: 30_000 });
      await dashboard.waitForFunction(() => /Machine state\s+(idle|running|alarm|emergencyStop)/.test(document.body.innerText), undefined, { timeout: 30_000 });
      await dashboard.waitForFunction(() => /Coolant flow \(L\/min\)\s+\d+(\.\d+)?/.test(document.body.innerText), undefined, { timeout: 30_000 });
      const text = await dashboard.evaluate(() => document.body.innerText);
      // A gauge shows its value right above its unit; a value may be whole (the flow rounds them).
      const gaugeValues = [...text.matchAll(/(\d+(?:\.\d+)?)\s*\n\s*(°C|cm\/s)/g)].map((m) => Number(m[1]));
      assert.ok(gaugeValues.length >= 3, `all three gauges show values: ${text.slice(0, 400)}`);
      assert.ok(await dashboard.locator('canvas').count() >= 2, 'both charts are drawn');
    } finally {
      await dashboard.close();
    }
  });
});
