// The safe writeback reference flow operated as a supervisor would: on its Dashboard 2.0 page in
// Chromium, an overspeed proposed by the optimizer waits in the approvals table, a named supervisor
// selects it and approves it (it lands on the machine) or rejects it (it never does), every decision
// shows up in the audit table, and a spindle drive fault shows up in the alert list.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { startCncServer, type CncServer } from '../../plant/cnc-server';
import { startMosquitto, type Mosquitto } from '../support/mosquitto';
import { referenceFlow, startNodeRed, type Comms, type NodeRedProcess } from '../support/node-red-process';
import { eventually } from '../support/node-helpers';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/browser';

const OVERSPEED = 'spindle/speedSetpoint = 11000';
const SUPERVISOR = 'Supervisor Dana';

describe('reference flow cnc-safe-writeback on its dashboard', () => {
  let broker: Mosquitto;
  let plant: CncServer;
  let nodeRed: NodeRedProcess;
  let comms: Comms;
  let browser: Browser;
  let page: Page;
  let approvedId = '';

  const auditFile = () => path.join(nodeRed.userDir, 'twinflow', 'audit', 'commands.jsonl');
  const audit = (): Record<string, unknown>[] =>
    existsSync(auditFile()) ? readFileSync(auditFile(), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : [];

  /** What the chain and the page looked like, for a failure message. */
  async function diagnostics(): Promise<string> {
    const chain = ['tf-sw-sign', 'tf-sw-verify', 'tf-sw-guard', 'tf-sw-twin', 'tf-sw-reconciler', 'tf-sw-out'].map((id) => `${id}: ${comms.statuses(id).at(-1)?.text}`);
    const text = await page.evaluate(() => document.body.innerText).catch((err: Error) => `(page unreadable: ${err.message})`);
    return `${chain.join('\n')}\ndebug: ${comms.debug().slice(-8).map((d) => d.msg).join(' | ')}\npage:\n${text}\nNode-RED:\n${nodeRed.log.slice(-2000)}`;
  }

  async function explained<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await diagnostics()}`);
    }
  }

  async function inject(id: string): Promise<void> {
    const res = await nodeRed.request('POST', `/inject/${id}`);
    assert.equal(res.status, 200, `inject ${id}`);
  }

  /** Waits until the text of the whole page matches. */
  const waitForText = (pattern: RegExp, what: string, timeout = 20_000) =>
    explained(
      page.waitForFunction((source) => new RegExp(source).test(document.body.innerText), pattern.source, { timeout }).catch((err: Error) => {
        throw new Error(`${what}: ${err.message}`);
      }),
    );

  // Each table is looked up by its widget (Dashboard 2.0 renders it as #nrdb-ui-widget-<node id>),
  // since the audit table's reasons repeat the pending request's text.
  const table = (nodeId: string): Locator => page.locator(`#nrdb-ui-widget-${nodeId} tbody`);
  const pendingRow = (id?: string): Locator => {
    const rows = table('tf-sw-pending-table').locator('tr', { hasText: OVERSPEED });
    return id ? rows.filter({ hasText: id }) : rows;
  };
  const auditRows = (decision: string): Locator =>
    table('tf-sw-audit-table').locator('tr', { hasText: 'desired spindle/speedSetpoint' }).filter({ has: page.locator('td', { hasText: new RegExp(`^\\s*${decision}\\s*$`) }) });
  const alertRows = (state: string): Locator => table('tf-sw-alert-table').locator('tr', { hasText: state });

  async function flowContext(key: string): Promise<unknown> {
    const res = await nodeRed.request('GET', `/context/flow/tf-safe/${key}`);
    if (!res.ok) return undefined;
    // The admin API sends a text as it is and anything else JSON-encoded.
    const body = (await res.json()) as { msg?: string; format?: string };
    if (body.msg === undefined) return undefined;
    return body.format?.startsWith('string') ? body.msg : JSON.parse(body.msg);
  }

  /** Selects a waiting request in the table as a supervisor does and returns its id. */
  async function selectNewRequest(notId?: string): Promise<string> {
    const row = (notId ? pendingRow().filter({ hasNotText: notId }) : pendingRow()).first();
    await explained(row.waitFor({ timeout: 20_000 }));
    const id = (await row.locator('td').first().innerText()).trim();
    assert.match(id, /^[\w-]{8,}$/, `the Id column holds the request id: ${JSON.stringify(id)}`);
    await row.click();
    await waitForText(new RegExp(`Selected request\\s+${id}`), 'the selected request is shown');
    await eventually(async () => (await flowContext('selectedApproval')) === id, 'the selection is stored in flow.selectedApproval');
    return id;
  }

  before(async () => {
    broker = await startMosquitto();
    plant = await startCncServer({ port: 0, seed: 31, tickMs: 50 });
    const flows = referenceFlow('cnc-safe-writeback.json', { opcuaUrl: plant.endpointUrl }).map((n) => (n.type === 'mqtt-broker' ? { ...n, port: String(broker.port) } : n));
    nodeRed = await startNodeRed({ flows: [] });
    comms = await nodeRed.comms();
    // Deployed over the admin API, as the editor does, so the signing key reaches the credentials.
    await nodeRed.deploy(flows);
    await eventually(() => /connected/.test(comms.statuses('tf-sw-in').at(-1)?.text ?? ''), 'opcua-in connected', 30_000);
    // The guard refuses (fails safe) while the twin does not know its rated maximum yet.
    await eventually(() => Number(/(\d+) ok/.exec(comms.statuses('tf-sw-twin').at(-1)?.text ?? '')?.[1] ?? 0) >= 6, 'the twin has the machine values', 30_000);
    // Subscribed before the first command, or it would cross the broker unheard.
    for (const id of ['tf-sw-mqtt-in', 'tf-sw-mqtt-out']) {
      await eventually(() => comms.statuses(id).at(-1)?.text === 'node-red:common.status.connected', `${id} connected`, 30_000);
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(`${nodeRed.url}/dashboard/cnc-safe`);
  });

  after(async () => {
    await browser?.close();
    comms?.close();
    await nodeRed?.stop();
    await plant?.stop();
    await broker?.stop();
  });

  it('shows the optimizer, desired vs actual, pending approvals, alerts and the audit log', async () => {
    for (const group of ['Optimizer', 'Desired vs actual', 'Pending approvals', 'Alerts', 'Audit log']) {
      await page.getByText(group, { exact: true }).first().waitFor({ timeout: 30_000 });
    }
    await waitForText(/Waiting for approval/, 'the approvals table');
    await waitForText(/Decisions \(guard\)/, 'the audit table');
    await page.getByLabel('Your name (approver)').waitFor({ timeout: 20_000 });
    await page.getByRole('button', { name: 'Approve' }).waitFor({ timeout: 20_000 });
    await page.getByRole('button', { name: 'Reject' }).waitFor({ timeout: 20_000 });
  });

  it('holds an overspeed from the optimizer in the approvals table, away from the machine', async () => {
    const before = plant.model.readings().spindle.speedSetpoint;
    assert.notEqual(before, 11000);
    await inject('tf-sw-opt-11000');
    const row = pendingRow().first();
    await explained(row.waitFor({ timeout: 20_000 }));
    const cells = (await row.locator('td').allInnerTexts()).map((c) => c.trim());
    assert.equal(cells[1], OVERSPEED, `request: ${cells.join(' | ')}`);
    assert.equal(cells[2], 'optimizer', `issuer: ${cells.join(' | ')}`);
    assert.match(cells[3]!, /overspeed: above 10000 rpm needs a supervisor/);
    assert.equal(cells[4], '0 of 1', `approvals: ${cells.join(' | ')}`);
    await explained(auditRows('held').first().waitFor({ timeout: 20_000 }));
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(plant.model.readings().spindle.speedSetpoint, before, 'nothing reaches the machine while it is held');
  });

  it('lands the overspeed on the machine once a named supervisor selects and approves it', async () => {
    await page.getByLabel('Your name (approver)').fill(SUPERVISOR);
    await page.getByLabel('Your name (approver)').press('Enter');
    await eventually(async () => (await flowContext('approver')) === SUPERVISOR, 'the approver is stored in flow.approver', 20_000);
    approvedId = await selectNewRequest();
    assert.notEqual(plant.model.readings().spindle.speedSetpoint, 11000, 'still held after the selection');

    await page.getByRole('button', { name: 'Approve' }).click();
    await explained(eventually(() => plant.model.readings().spindle.speedSetpoint === 11000, 'the approved overspeed reached the machine', 30_000));
    await explained(pendingRow().first().waitFor({ state: 'detached', timeout: 20_000 }));
    await explained(table('tf-sw-pending-table').getByText('No data available').waitFor({ timeout: 20_000 }));
    const passed = auditRows('passed').filter({ hasText: `approved by ${SUPERVISOR}` });
    await explained(passed.first().waitFor({ timeout: 20_000 }));
    assert.ok(audit().some((r) => r.cmdId === approvedId && r.decision === 'passed' && new RegExp(`approved by ${SUPERVISOR}`).test(String(r.reason))), 'the audit log has the approval');
  });

  it('keeps a rejected overspeed away from the machine and audits the rejection', async () => {
    // A setpoint the rejected overspeed would visibly change, so the check below can fail.
    await inject('tf-sw-opt-3000');
    await explained(eventually(() => plant.model.readings().spindle.speedSetpoint === 3000, 'the optimizer setpoint reached the machine', 30_000));
    const rejectedBefore = await auditRows('rejected').count();

    await inject('tf-sw-opt-11000');
    const id = await selectNewRequest(approvedId);
    assert.notEqual(id, approvedId, 'a new request waits');
    await page.getByRole('button', { name: 'Reject' }).click();
    await explained(pendingRow(id).waitFor({ state: 'detached', timeout: 20_000 }));
    const rejected = auditRows('rejected').filter({ hasText: `rejected by ${SUPERVISOR}` });
    await explained(rejected.first().waitFor({ timeout: 20_000 }));
    assert.equal(await auditRows('rejected').count(), rejectedBefore + 1, 'one more rejected row');
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(plant.model.readings().spindle.speedSetpoint, 3000, 'the machine kept its setpoint');
    const decisions = audit().filter((r) => r.cmdId === id).map((r) => r.decision);
    assert.deepEqual(decisions, ['accepted', 'held', 'rejected'], `decisions on ${id}`);
  });

  it('lists the out-of-sync alert when a spindle drive fault stops the spindle following its setpoint', async () => {
    // A big setpoint step raises the alert for a while too (the spindle ramps for longer than the
    // grace): start once the reconciler has confirmed 3000 rpm and sees no divergence.
    await explained(eventually(() => Math.abs(plant.model.truth().spindleSpeed - 3000) < 60, 'the spindle runs at 3000 rpm', 30_000));
    await explained(eventually(() => /0 queued/.test(comms.statuses('tf-sw-reconciler').at(-1)?.text ?? ''), 'the reconciler confirmed 3000 rpm', 30_000));
    await explained(eventually(() => !/active alarm/.test(comms.statuses('tf-sw-reconciler').at(-1)?.text ?? ''), 'no active alarm in the reconciler', 30_000));
    await explained(eventually(async () => (await alertRows('active-unacked').count()) === 0, 'no active alert on the page before the fault', 30_000));
    plant.injectFault('spindleDriveFault');
    const alert = alertRows('active-unacked').filter({ hasText: /out of sync.*check motor driver/ });
    await explained(alert.first().waitFor({ timeout: 40_000 }));
    const message = await alert.first().innerText();
    const [, desired, actual] = /desired (\d+), actual ([\d.]+)/.exec(message) ?? [];
    assert.equal(desired, '3000', message);
    // Below the setpoint by more than the tolerance: the faulted spindle coasts down (a ramp would overshoot from above).
    assert.ok(Number(actual) < 3000 - 60, `the spindle coasts below its setpoint: ${message}`);
  });
});
