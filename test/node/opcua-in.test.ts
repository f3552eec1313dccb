// opcua-in and opcua-endpoint inside a real Node-RED runtime, against the simulated CNC machine.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import helper from 'node-red-node-test-helper';
import { startCncServer, type CncServer, type CncServerOptions } from '../../plant/cnc-server';
import { listRejectedCertificates, trustRejectedCertificate } from '../../nodes/opcua-endpoint/pki';
import { certificateManagerFor, openConnectionCount } from '../../nodes/opcua-endpoint/opcua-connection';
import { TcpProxy } from '../support/tcp-proxy';
import { freePort } from '../support/ports';
import { collector, eventually, loadFlow, onCall, serverMonitoredItems, statusOf } from '../support/node-helpers';
import endpointNode = require('../../nodes/opcua-endpoint/opcua-endpoint');
import inNode = require('../../nodes/opcua-in/opcua-in');

helper.init(require.resolve('node-red'));

const nodes = [endpointNode, inNode];
const userDir = mkdtempSync(path.join(os.tmpdir(), 'twinflow-opcua-in-'));
const pkiDir = path.join(userDir, 'twinflow-pki');

function item(nodeId: string, name: string, extra: Record<string, unknown> = {}) {
  return { nodeId, name, samplingInterval: -1, deadbandType: 'none', deadbandValue: 0, queueSize: 1, ...extra };
}

const SPEED = item('ns=1;s=CNC.spindle.speed', 'spindle/speed');
const CURRENT = item('ns=1;s=CNC.spindle.motorCurrent', 'spindle/motorCurrent');
const STATE = item('ns=1;s=CNC.machineState', 'machineState');
const MAX_SPEED = item('ns=1;s=CNC.spindle.maxSpeed', 'spindle/maxSpeed');

function flow(endpointUrl: string, items: unknown[], options: Record<string, unknown> = {}, endpoint: Record<string, unknown> = {}) {
  return [
    { id: 'ep', type: 'opcua-endpoint', endpointUrl, securityMode: 'None', securityPolicy: 'None', identityType: 'anonymous', acceptUnknownCertificate: false, ...endpoint },
    { id: 'in', type: 'opcua-in', endpoint: 'ep', items, publishingInterval: 100, outputMode: 'change', twinId: 'cnc-1', twinModel: 'dtmi:twinflow:cnc:CNCMachine;1', wires: [['out'], ['health']], ...options },
    { id: 'out', type: 'helper' },
    { id: 'health', type: 'helper' },
  ];
}

describe('opcua-in against the simulated CNC machine', () => {
  let plant: CncServer;

  before(async () => {
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
    helper.settings({ userDir });
    plant = await startCncServer({ port: 0, seed: 7, tickMs: 50 });
    plant.model.setSpeedSetpoint(3000);
  });

  afterEach(async () => {
    await helper.unload();
  });

  after(async () => {
    await plant.stop();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
  });

  it('sends each change as a twin sample in the message contract', async () => {
    await loadFlow(helper, nodes, flow(plant.endpointUrl, [SPEED, CURRENT, STATE]));
    const out = collector(helper.getNode('out'));
    const speed = await out.waitFor((m) => m.topic === 'spindle/speed');
    assert.equal(typeof speed.payload, 'number');
    assert.equal(speed.quality, 'good');
    assert.deepEqual(speed.opcua, { statusCode: 0, nodeId: 'ns=1;s=CNC.spindle.speed' });
    assert.equal(speed.nodeId, undefined, 'no top-level nodeId that an opcua-out downstream would take as a target');
    assert.deepEqual(speed.twin, { id: 'cnc-1', model: 'dtmi:twinflow:cnc:CNCMachine;1' });
    assert.equal(typeof speed.sourceTime, 'number');
    assert.equal(typeof speed.serverTime, 'number');
    assert.ok(Math.abs((speed.sourceTime as number) - Date.now()) < 60_000, 'sourceTime is a current epoch time in ms');
    const state = await out.waitFor((m) => m.topic === 'machineState');
    assert.ok(['idle', 'running', 'alarm', 'emergencyStop'].includes(state.payload as string));
    await out.waitFor((m) => m.topic === 'spindle/motorCurrent');
    await eventually(() => statusOf(helper.getNode('in'))?.text?.startsWith('connected · 3 items'), 'status shows 3 connected items');
  });

  it('sends one message per publish cycle holding all changes in cycle mode', async () => {
    await loadFlow(helper, nodes, flow(plant.endpointUrl, [SPEED, CURRENT], { outputMode: 'cycle' }));
    const out = collector(helper.getNode('out'));
    const batch = await out.waitFor((m) => m.topic === 'samples' && Array.isArray(m.payload) && (m.payload as unknown[]).length === 2);
    const topics = (batch.payload as { topic: string }[]).map((s) => s.topic).sort();
    assert.deepEqual(topics, ['spindle/motorCurrent', 'spindle/speed']);
    for (const sample of batch.payload as Record<string, unknown>[]) {
      assert.equal(typeof sample.payload, 'number');
      assert.equal(sample.quality, 'good');
    }
  });

  it('resolves browse paths from the Objects folder', async () => {
    await loadFlow(helper, nodes, flow(plant.endpointUrl, [{ browsePath: '/1:CNC/1:spindle/1:speed', name: 'spindle/speed' }]));
    const out = collector(helper.getNode('out'));
    const speed = await out.waitFor((m) => m.topic === 'spindle/speed');
    assert.equal(typeof speed.payload, 'number');
    assert.deepEqual(speed.opcua, { statusCode: 0, browsePath: '/1:CNC/1:spindle/1:speed' });
  });

  it('reports an item the server refuses to Catch nodes and keeps the other items', async () => {
    await loadFlow(helper, nodes, flow(plant.endpointUrl, [item('ns=1;s=CNC.noSuchThing', 'ghost'), SPEED]));
    const input = helper.getNode('in');
    const errors: string[] = [];
    onCall(input, 'error', (args) => errors.push(String(args[0])));
    const out = collector(helper.getNode('out'));
    await out.waitFor((m) => m.topic === 'spindle/speed');
    await eventually(() => errors.some((e) => e.includes('"ghost"') && /BadNodeIdUnknown/.test(e)), 'an error naming the item and the status');
    await eventually(() => statusOf(input)?.text?.includes('1/2 items'), 'status shows 1 of 2 items');
  });

  it('reads items on demand and browses on demand', async () => {
    await loadFlow(helper, nodes, flow(plant.endpointUrl, [SPEED, MAX_SPEED]));
    const input = helper.getNode('in');
    const out = collector(helper.getNode('out'));
    await out.waitFor((m) => m.topic === 'spindle/maxSpeed');
    out.clear();
    input.receive({ action: 'read', payload: 'spindle/maxSpeed', _msgid: 'r1' });
    const read = await out.waitFor((m) => m._msgid === 'r1');
    assert.equal(read.topic, 'spindle/maxSpeed');
    assert.equal(read.payload, 12000);
    input.receive({ action: 'browse', payload: 'ns=1;s=CNC', _msgid: 'b1' });
    const browsed = await out.waitFor((m) => m._msgid === 'b1');
    const names = (browsed.payload as { browseName: string }[]).map((b) => b.browseName);
    for (const expected of ['1:spindle', '1:coolant', '1:machineState', '1:startCycle']) assert.ok(names.includes(expected), `browse lists ${expected}`);
  });

  it('refuses an unknown action and an unknown item name with errors naming the field', async () => {
    await loadFlow(helper, nodes, flow(plant.endpointUrl, [SPEED]));
    const input = helper.getNode('in');
    const errors: string[] = [];
    onCall(input, 'error', (args) => errors.push(String(args[0])));
    await collector(helper.getNode('out')).waitFor((m) => m.topic === 'spindle/speed');
    input.receive({ action: 'explode' });
    input.receive({ action: 'read', payload: ['spindle/speed', 'nope'] });
    await eventually(() => errors.some((e) => e.includes('action: "explode"')), 'error for the action');
    await eventually(() => errors.some((e) => e.includes('payload[1]: "nope"')), 'error for the unknown name');
  });

  it('shows what is wrong with a bad item list or a bad endpoint instead of failing silently', async () => {
    await loadFlow(helper, nodes, flow(plant.endpointUrl, [{ nodeId: 'ns=1;s=CNC.spindle.speed', name: '' }]));
    assert.match(statusOf(helper.getNode('in'))?.text ?? '', /name: the twin name/);
    await helper.unload();
    await loadFlow(helper, nodes, flow('http://not-opcua', [SPEED]));
    assert.match(statusOf(helper.getNode('in'))?.text ?? '', /endpointUrl: "http:\/\/not-opcua" is not an OPC UA endpoint URL/);
  });

  it('shares one session among every node using the same server', async () => {
    const items = [SPEED];
    await loadFlow(helper, nodes, [
      ...flow(plant.endpointUrl, items),
      { id: 'ep2', type: 'opcua-endpoint', endpointUrl: plant.endpointUrl, securityMode: 'None', securityPolicy: 'None', identityType: 'anonymous' },
      { id: 'in2', type: 'opcua-in', endpoint: 'ep2', items: [CURRENT], publishingInterval: 100, wires: [['out2']] },
      { id: 'in3', type: 'opcua-in', endpoint: 'ep', items: [STATE], publishingInterval: 500, wires: [['out2']] },
      { id: 'out2', type: 'helper' },
    ]);
    const out2 = collector(helper.getNode('out2'));
    await out2.waitFor((m) => m.topic === 'spindle/motorCurrent');
    await out2.waitFor((m) => m.topic === 'machineState');
    assert.equal(plant.sessionCount(), 1);
    assert.equal(openConnectionCount(), 1);
  });

  it('releases the session on close: ten redeploys leave exactly one session', async () => {
    for (let deploy = 0; deploy < 10; deploy++) {
      await loadFlow(helper, nodes, flow(plant.endpointUrl, [SPEED]));
      await collector(helper.getNode('out')).waitFor((m) => m.topic === 'spindle/speed');
      assert.equal(plant.sessionCount(), 1, `one session after deploy ${deploy + 1}`);
      await helper.unload();
    }
    await eventually(() => plant.sessionCount() === 0, 'no session after the last close');
    assert.equal(openConnectionCount(), 0);
  });
});

describe('opcua-in when the server goes away', () => {
  before(async () => {
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
  });

  it('resumes after a server restart with every item existing once and no duplicate messages', async () => {
    let plant = await startCncServer({ port: 0, seed: 3, tickMs: 50 });
    const port = plant.port;
    try {
      const items = [SPEED, CURRENT, STATE, MAX_SPEED];
      await loadFlow(helper, nodes, flow(plant.endpointUrl, items));
      const out = collector(helper.getNode('out'));
      await out.waitFor((m) => m.topic === 'spindle/speed');
      await plant.stop();
      const restartedAt = Date.now();
      plant = await startCncServer({ port, seed: 3, tickMs: 50 });
      await out.waitFor((m) => m.topic === 'spindle/speed' && (m.sourceTime as number) > restartedAt, 30_000);
      await out.waitFor((m) => m.topic === 'spindle/maxSpeed' && (m.sourceTime as number) > restartedAt, 30_000);
      await eventually(() => serverMonitoredItems(plant) === items.length, `the server holds exactly ${items.length} monitored items`, 20_000);
      assert.equal(plant.sessionCount(), 1);
      const seen = new Set<string>();
      for (const m of out.messages) {
        const key = `${m.topic}@${m.sourceTime}`;
        assert.ok(!seen.has(key), `no duplicate message for ${key}`);
        seen.add(key);
      }
      await eventually(() => statusOf(helper.getNode('in'))?.text?.startsWith('connected · 4 items'), 'status back to connected');
    } finally {
      await plant.stop();
    }
  });

  it('keeps Node-RED alive and says why while the server is unreachable, then connects when it appears', async () => {
    const port = await freePort();
    await loadFlow(helper, nodes, flow(`opc.tcp://127.0.0.1:${port}`, [SPEED]));
    await eventually(() => /reconnecting|connecting/.test(statusOf(helper.getNode('in'))?.text ?? ''), 'status says it is trying');
    const plant = await startCncServer({ port, seed: 5, tickMs: 50 });
    try {
      await collector(helper.getNode('out')).waitFor((m) => m.topic === 'spindle/speed', 30_000);
    } finally {
      await plant.stop();
    }
  });

  it('notices a silent subscription, reports it on the health output and recovers', async () => {
    const plant = await startCncServer({ port: 0, seed: 9, tickMs: 50 });
    const proxy = new TcpProxy(plant.port);
    await proxy.listen();
    try {
      await loadFlow(helper, nodes, flow(`opc.tcp://127.0.0.1:${proxy.port}`, [SPEED], { healthOutput: true, outputs: 2 }));
      const out = collector(helper.getNode('out'));
      const health = collector(helper.getNode('health'));
      await out.waitFor((m) => m.topic === 'spindle/speed');
      proxy.freeze();
      const frozenAt = Date.now();
      await health.waitFor((m) => ['stale', 'reconnecting'].includes((m.payload as { state: string }).state), 30_000);
      proxy.thaw();
      proxy.cut();
      await out.waitFor((m) => m.topic === 'spindle/speed' && (m.sourceTime as number) > frozenAt, 40_000);
      await health.waitFor((m) => (m.payload as { state: string }).state === 'connected' && health.messages.indexOf(m) > 0, 20_000);
      await eventually(() => serverMonitoredItems(plant) === 1, 'exactly one monitored item after the repair', 20_000);
    } finally {
      await helper.unload();
      await proxy.close();
      await plant.stop();
    }
  });
});

describe('opcua-endpoint security', () => {
  before(async () => {
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    rmSync(userDir, { recursive: true, force: true });
  });

  it('rejects an unknown server certificate over SignAndEncrypt, lists it, and connects once it is trusted', async () => {
    const serverPki = mkdtempSync(path.join(os.tmpdir(), 'twinflow-server-pki-'));
    const plant = await startCncServer({
      port: 0,
      pkiDir: serverPki,
      securityModes: ['SignAndEncrypt'],
      securityPolicies: ['Basic256Sha256'],
      allowAnonymous: true,
    });
    try {
      const endpoint = { securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256' };
      await loadFlow(helper, nodes, flow(plant.endpointUrl, [SPEED], {}, endpoint));
      await eventually(() => /not trusted/.test(statusOf(helper.getNode('in'))?.text ?? ''), 'status says the server certificate is not trusted', 30_000);
      const rejected = listRejectedCertificates(pkiDir);
      assert.ok(rejected.length >= 1, 'the server certificate is listed as rejected');
      await helper.unload();
      for (const cert of rejected) await trustRejectedCertificate(pkiDir, cert.file, await certificateManagerFor(pkiDir));
      await loadFlow(helper, nodes, flow(plant.endpointUrl, [SPEED], {}, endpoint));
      const speed = await collector(helper.getNode('out')).waitFor((m) => m.topic === 'spindle/speed', 30_000);
      assert.equal(typeof speed.payload, 'number');
    } finally {
      await plant.stop();
      rmSync(serverPki, { recursive: true, force: true });
    }
  });

  it('authenticates with a user name and password, and says so when the server refuses them', async () => {
    const plant = await startCncServer({ port: 0, allowAnonymous: false, users: [{ username: 'operator', password: 's3cret' }] });
    try {
      const good = { identityType: 'username' };
      await loadFlow(helper, nodes, flow(plant.endpointUrl, [SPEED], {}, good), { ep: { userName: 'operator', password: 's3cret' } });
      await collector(helper.getNode('out')).waitFor((m) => m.topic === 'spindle/speed', 20_000);
      await helper.unload();
      await loadFlow(helper, nodes, flow(plant.endpointUrl, [SPEED], {}, good), { ep: { userName: 'operator', password: 'wrong' } });
      await eventually(() => /refused the user identity/.test(statusOf(helper.getNode('in'))?.text ?? ''), 'status says the identity was refused', 20_000);
      await helper.unload();
      await loadFlow(helper, nodes, flow(plant.endpointUrl, [SPEED]));
      await eventually(() => /refused the user identity|Anonymous/i.test(statusOf(helper.getNode('in'))?.text ?? ''), 'anonymous refused', 20_000);
    } finally {
      await plant.stop();
    }
  });
});

describe('opcua-in with 10,000 items', () => {
  before(async () => {
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
    helper.settings({ userDir: mkdtempSync(path.join(os.tmpdir(), 'twinflow-opcua-10k-')) });
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
  });

  /** Monitors `count` bench tags in one opcua-in (per-cycle output) and waits for a value from each. */
  async function monitorBenchTags(count: number, server: Partial<CncServerOptions> = {}): Promise<CncServer> {
    const plant = await startCncServer({ port: 0, benchTags: count, tickMs: 500, ...server });
    const items = Array.from({ length: count }, (_, i) => {
      const tag = `Tag${String(i).padStart(5, '0')}`;
      return item(`ns=1;s=Bench.${tag}`, `bench/${tag}`, { samplingInterval: 0 });
    });
    await loadFlow(helper, nodes, flow(plant.endpointUrl, items, { outputMode: 'cycle', publishingInterval: 500 }));
    const out = collector(helper.getNode('out'));
    const seen = new Set<string>();
    await eventually(() => {
      for (const m of out.messages.splice(0)) for (const s of m.payload as { topic: string }[]) seen.add(s.topic);
      return seen.size === count;
    }, `a value from every one of the ${count} items`, 60_000).catch(async (err: unknown) => {
      await plant.stop();
      throw err;
    });
    return plant;
  }

  it('creates all items in batches and delivers every one of them per publish cycle', async () => {
    const plant = await monitorBenchTags(10_000);
    try {
      assert.equal(plant.monitoredItemCount(), 10_000, 'each item exists once on the server');
      assert.equal(plant.sessionCount(), 1);
      await eventually(() => statusOf(helper.getNode('in'))?.text?.startsWith('connected · 10000 items'), 'status counts 10,000 items');
      // The server sends at most 1,000 changes per publish response: a cycle of 10,000 needs 10, and
      // node-opcua's usual 5 outstanding requests would make the server wait for the client.
      await eventually(() => (plant.pendingPublishRequests()[0] ?? 0) >= 20, 'the client keeps about one publish request per 500 items at the server');
    } finally {
      await helper.unload();
      await plant.stop();
    }
  });

  it('keeps every create call within the MaxMonitoredItemsPerCall the server states', async () => {
    // A server that refuses more than 250 items per call: one call with all 600 would fail whole.
    const plant = await monitorBenchTags(600, { maxMonitoredItemsPerCall: 250 });
    try {
      assert.equal(plant.monitoredItemCount(), 600, 'each item exists once on the server');
    } finally {
      await helper.unload();
      await plant.stop();
    }
  });
});
