// `npm start`'s entry point for real: Node-RED with our settings plus the simulator, the first
// reference flow deployed on first start, live values flowing, and a clean stop on Ctrl-C.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../support/ports';
import { packageRoot } from '../support/node-red-process';

describe('npm start', () => {
  const userDir = mkdtempSync(path.join(os.tmpdir(), 'twinflow-start-'));
  let port = 0;
  let plantPort = 0;
  let log = '';
  let child: ReturnType<typeof spawn>;
  let exited: Promise<number | null>;

  before(async () => {
    port = await freePort();
    plantPort = await freePort();
    child = spawn(process.execPath, [path.join(packageRoot, 'dist', 'scripts', 'start.js')], {
      env: { ...process.env, TWINFLOW_USER_DIR: userDir, TWINFLOW_PORT: String(port), TWINFLOW_PLANT_PORT: String(plantPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => { log += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
    exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  });

  after(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
    rmSync(userDir, { recursive: true, force: true });
  });

  async function waitForLog(pattern: RegExp, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(log)) {
      if (child.exitCode !== null) throw new Error(`start exited early:\n${log}`);
      if (Date.now() > deadline) throw new Error(`${pattern} not seen in ${timeoutMs} ms:\n${log.slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it('serves the editor, deploys the CNC dashboard flow on first start and receives live values', async () => {
    await waitForLog(/Started flows/);
    assert.match(log, new RegExp(`simulated CNC machine at opc\\.tcp://127\\.0\\.0\\.1:${plantPort}`));
    assert.match(log, /first start: deployed flows\/cnc-live-dashboard\.json/);
    const editor = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(editor.status, 200);
    const flows = (await (await fetch(`http://127.0.0.1:${port}/flows`)).json()) as { type: string; endpointUrl?: string }[];
    const endpoint = flows.find((n) => n.type === 'opcua-endpoint');
    assert.equal(endpoint?.endpointUrl, `opc.tcp://127.0.0.1:${plantPort}`);
    assert.ok(flows.some((n) => n.type === 'opcua-in'));
    assert.ok(flows.some((n) => n.type === 'ui-chart'));

    const socket = new WebSocket(`ws://127.0.0.1:${port}/comms`);
    const statuses: string[] = [];
    socket.addEventListener('message', (event) => {
      for (const m of JSON.parse(String(event.data)) as { topic: string; data: { text?: string } }[]) {
        if (m.topic === 'status/tf-cnc-in' && m.data.text) statuses.push(m.data.text);
      }
    });
    await new Promise((resolve) => socket.addEventListener('open', resolve, { once: true }));
    socket.send(JSON.stringify({ subscribe: 'status/#' }));
    const deadline = Date.now() + 30_000;
    const flowing = () => statuses.some((s) => /^connected · 13 items · [1-9]/.test(s));
    while (!flowing() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    socket.close();
    assert.ok(flowing(), `opcua-in reports values from the simulator; statuses: ${statuses.slice(-3).join(' | ')}`);

    const dashboard = await fetch(`http://127.0.0.1:${port}/dashboard/cnc`);
    assert.equal(dashboard.status, 200);
    assert.match(await dashboard.text(), /<div id="app">|<html/i);
  });

  it('stops cleanly on Ctrl-C, leaving the deployed flows and the package link in place', async () => {
    const flowsFile = path.join(userDir, 'flows.json');
    assert.ok(existsSync(flowsFile));
    child.kill('SIGINT');
    assert.equal(await exited, 0);
    assert.ok(JSON.parse(readFileSync(flowsFile, 'utf8')).some((n: { type: string }) => n.type === 'opcua-in'));
    // The user directory links this package rather than copying it.
    assert.ok(existsSync(path.join(userDir, 'node_modules', 'node-red-contrib-twinflow', 'package.json')));
  });
});
