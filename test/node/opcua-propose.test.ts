// Proposing opcua-in items by browsing the simulated CNC machine and mapping its variables to a DTDL
// interface's telemetry and properties by name, through the admin route the edit dialog calls.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import helper from 'node-red-node-test-helper';
import { startCncServer, type CncServer } from '../../plant/cnc-server';
import { loadFlow } from '../support/node-helpers';
import { dtdlNameFilter } from '../../nodes/opcua-endpoint/propose-items';
import endpointNode = require('../../nodes/opcua-endpoint/opcua-endpoint');
import modelNode = require('../../nodes/dtdl-model/dtdl-model');

helper.init(require.resolve('node-red'));
const userDir = mkdtempSync(path.join(os.tmpdir(), 'twinflow-propose-'));
const CNC = 'dtmi:twinflow:cnc:CNCMachine;1';

describe('browsing the server for items mapped to a DTDL interface', () => {
  let plant: CncServer;

  before(async () => {
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
    helper.settings({ userDir });
    plant = await startCncServer({ port: 0, seed: 3 });
    await loadFlow(helper, [endpointNode, modelNode], [
      { id: 'ep', type: 'opcua-endpoint', endpointUrl: plant.endpointUrl, securityMode: 'None', securityPolicy: 'None', identityType: 'anonymous' },
      { id: 'm1', type: 'dtdl-model', source: 'builtin' },
    ]);
  });
  after(async () => {
    await helper.unload();
    await plant.stop();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    rmSync(userDir, { recursive: true, force: true });
  });

  it('maps browse paths by their ending, then by a unique name, and drops the rest', () => {
    const filter = dtdlNameFilter(['machineState', 'spindle/speed', 'spindle/temperature', 'coolant/temperature', 'coolant/flow']);
    assert.equal(filter('CNC/spindle/speed'), 'spindle/speed');
    assert.equal(filter('Spindle/Speed'), 'spindle/speed');
    assert.equal(filter('MachineState'), 'machineState');
    assert.equal(filter('Pump/flow'), 'coolant/flow', 'a unique name');
    assert.equal(filter('Pump/temperature'), undefined, 'temperature is ambiguous');
    assert.equal(filter('Simulation/timeScale'), undefined);
  });

  it('proposes the machine variables under their twin names for the CNC interface', async () => {
    const res = await helper.request().get('/twinflow/opcua/endpoint/ep/propose').query({ nodeId: 'ns=1;s=CNC', depth: 3, model: CNC }).expect(200);
    const items = res.body.items as { nodeId: string; name: string }[];
    const byName = new Map(items.map((i) => [i.name, i.nodeId]));
    assert.equal(byName.get('spindle/speed'), 'ns=1;s=CNC.spindle.speed');
    assert.equal(byName.get('machineState'), 'ns=1;s=CNC.machineState');
    assert.ok(items.length >= 8, `several variables map (${items.map((i) => i.name).join(', ')})`);
    assert.equal(new Set(items.map((i) => i.name)).size, items.length, 'each twin name once');
    const unmapped = await helper.request().get('/twinflow/opcua/endpoint/ep/propose').query({ nodeId: 'ns=1;s=CNC', depth: 3 }).expect(200);
    assert.ok((unmapped.body.items as unknown[]).length >= items.length, 'without a model every variable is proposed');
  });

  it('says which model is missing when no deployed dtdl-model holds it', async () => {
    const res = await helper.request().get('/twinflow/opcua/endpoint/ep/propose').query({ nodeId: 'ns=1;s=CNC', model: 'dtmi:acme:Nope;1' }).expect(404);
    assert.match(res.body.error, /model: dtmi:acme:Nope;1 is not loaded by any deployed dtdl-model node/);
  });
});
