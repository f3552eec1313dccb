// Desired properties, acknowledgements, limits and command requests.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyPatch, TwinError, TwinGraph } from '../../../nodes/lib/twin';
import { addMachine, assertRefused, CNC, models, newGraph, PUMP } from './helpers';

const LIMITS = { limits: [{ path: 'spindle/speedSetpoint', min: 0, max: { path: 'spindle/maxSpeed' } }] };

describe('setDesired', () => {
  test('records desiredValue and an incrementing desiredVersion per property, leaving the reported value alone', () => {
    const { graph } = newGraph();
    addMachine(graph);
    graph.reportProperty('cnc-1', 'spindle/speedSetpoint', 5000);
    const before = graph.getTwin('cnc-1');
    const first = graph.setDesired('cnc-1', 'spindle/speedSetpoint', 8000, { actor: 'operator' });
    assert.equal(first.kind, 'desired');
    assert.equal(first.actor, 'operator');
    assert.deepEqual(applyPatch(before, first.patch), graph.getTwin('cnc-1'));
    const second = graph.setDesired('cnc-1', 'spindle/speedSetpoint', 9000);
    graph.setDesired('cnc-1', 'doorOpen', true);
    const meta = graph.read('cnc-1', 'spindle/speedSetpoint');
    assert.equal(meta.value, 5000, 'the reported value stays until the asset reports');
    assert.equal(meta.metadata?.desiredValue, 9000);
    assert.equal(meta.metadata?.desiredVersion, 2);
    assert.equal(graph.read('cnc-1', 'doorOpen').metadata?.desiredVersion, 1, 'versions count per property');
    assert.equal(second.version, first.version + 1);
  });

  test('a given version must be greater than the current one', () => {
    const { graph } = newGraph();
    addMachine(graph);
    graph.setDesired('cnc-1', 'doorOpen', true, { version: 10 });
    assert.equal(graph.read('cnc-1', 'doorOpen').metadata?.desiredVersion, 10);
    assertRefused(graph, () => graph.setDesired('cnc-1', 'doorOpen', false, { version: 10 }), 'desired-version', ['doorOpen: desired version 10 must be an integer greater than the current 10']);
    assertRefused(graph, () => graph.setDesired('cnc-1', 'doorOpen', false, { version: 11.5 }), 'desired-version');
    graph.setDesired('cnc-1', 'doorOpen', false);
    assert.equal(graph.read('cnc-1', 'doorOpen').metadata?.desiredVersion, 11);
  });

  test('an object desired value is copied in', () => {
    const { graph } = newGraph();
    graph.createTwin({ id: 'p1', model: PUMP });
    const config = { mode: 'auto', gain: 2 };
    graph.setDesired('p1', 'config', config);
    config.gain = 5;
    assert.deepEqual(graph.read('p1', 'config').metadata?.desiredValue, { mode: 'auto', gain: 2 });
  });

  describe('refusals change nothing', () => {
    test('a non-writable property names the writable ones', () => {
      const { graph } = newGraph();
      addMachine(graph);
      assertRefused(graph, () => graph.setDesired('cnc-1', 'spindle/maxSpeed', 30000), 'not-writable', ['spindle/maxSpeed: the Property is not writable', 'doorOpen, spindle/speedSetpoint']);
      assertRefused(graph, () => graph.setDesired('cnc-1', 'machineState', 'idle'), 'not-writable', ['machineState']);
    });

    test('a wrong type, a telemetry, an unknown path', () => {
      const { graph } = newGraph();
      addMachine(graph);
      assertRefused(graph, () => graph.setDesired('cnc-1', 'doorOpen', 'yes'), 'value-type', ['doorOpen: "yes" is not a boolean']);
      assertRefused(graph, () => graph.setDesired('cnc-1', 'spindle/speed', 100), 'path-kind', ['spindle/speed: is a Telemetry, not a Property']);
      assertRefused(graph, () => graph.setDesired('cnc-1', 'spindle/setpoint', 100), 'path-unknown', ['spindle/setpoint']);
    });

    test('a limit: the setpoint above the rated maximum speed of the same twin', () => {
      const graph = new TwinGraph(models(), LIMITS);
      addMachine(graph);
      const err = assertRefused(graph, () => graph.setDesired('cnc-1', 'spindle/speedSetpoint', 30000), 'value-limit', ['spindle/speedSetpoint: 30000 is above the maximum 24000 (spindle/maxSpeed)']);
      assert.equal(err.path, 'spindle/speedSetpoint');
      assertRefused(graph, () => graph.setDesired('cnc-1', 'spindle/speedSetpoint', -1), 'value-limit', ['spindle/speedSetpoint: -1 is below the minimum 0']);
      graph.setDesired('cnc-1', 'spindle/speedSetpoint', 24000);
      // A twin that does not know its maximum yet is checked against the fixed bound only.
      graph.createTwin({ id: 'cnc-2', model: CNC });
      graph.setDesired('cnc-2', 'spindle/speedSetpoint', 50000);
    });

    test('limit rules that cannot apply are refused when the graph is made', () => {
      assert.throws(() => new TwinGraph(models(), { limits: [{ path: 'spindle/maxSpeed', max: 1 }] }), (err: unknown) => err instanceof TwinError && err.code === 'limit-config' && err.message.includes('spindle/maxSpeed is not a writable Property'));
      assert.throws(() => new TwinGraph(models(), { limits: [{ path: 'doorOpen' }] }), /needs a min, a max, or both/);
      assert.throws(() => new TwinGraph(models(), { limits: [{ model: 'dtmi:x:Y;1', path: 'doorOpen', max: 1 }] }), /model dtmi:x:Y;1 is not in the model set/);
      assert.throws(() => new TwinGraph(models(), { limits: [{ path: 'spindle/speedSetpoint', max: { path: 'spindle/nothing' } }] }), /bound spindle\/nothing/);
    });
  });
});

describe('acknowledgeDesired', () => {
  test('records ackVersion, ackCode and ackDescription, and the reported value when given', () => {
    const { graph, clock } = newGraph();
    addMachine(graph);
    graph.setDesired('cnc-1', 'spindle/speedSetpoint', 8000);
    graph.acknowledgeDesired('cnc-1', 'spindle/speedSetpoint', { version: 1, code: 202, description: 'ramping up' });
    let meta = graph.read('cnc-1', 'spindle/speedSetpoint').metadata;
    assert.deepEqual(meta, { desiredValue: 8000, desiredVersion: 1, ackVersion: 1, ackCode: 202, ackDescription: 'ramping up' });
    const before = graph.getTwin('cnc-1');
    clock.advance(2000);
    const event = graph.acknowledgeDesired('cnc-1', 'spindle/speedSetpoint', { version: 1, code: 200, value: 8000, sourceTime: clock.now - 1 });
    assert.equal(event.kind, 'ack');
    assert.equal(event.sourceTime, clock.now - 1);
    assert.deepEqual(applyPatch(before, event.patch), graph.getTwin('cnc-1'));
    const reading = graph.read('cnc-1', 'spindle/speedSetpoint');
    assert.equal(reading.value, 8000);
    meta = reading.metadata;
    assert.equal(meta?.ackCode, 200);
    assert.equal(meta?.ackDescription, undefined, 'an ack without description clears the old one');
    assert.equal(meta?.lastUpdateTime, new Date(clock.now).toISOString());
  });

  test('failures are recorded with 4xx/5xx codes', () => {
    const { graph } = newGraph();
    addMachine(graph);
    graph.setDesired('cnc-1', 'doorOpen', true);
    graph.acknowledgeDesired('cnc-1', 'doorOpen', { version: 1, code: 409, description: 'interlock: spindle running' });
    assert.equal(graph.read('cnc-1', 'doorOpen').metadata?.ackCode, 409);
  });

  test('refusals: nothing desired, a version not asked for or older than the last ack, a bad code, a bad value', () => {
    const { graph } = newGraph();
    addMachine(graph);
    assertRefused(graph, () => graph.acknowledgeDesired('cnc-1', 'doorOpen', { version: 1, code: 200 }), 'ack-version', ['doorOpen: there is no desired value to acknowledge']);
    graph.setDesired('cnc-1', 'doorOpen', true);
    graph.setDesired('cnc-1', 'doorOpen', false);
    assertRefused(graph, () => graph.acknowledgeDesired('cnc-1', 'doorOpen', { version: 3, code: 200 }), 'ack-version', ['acknowledged version 3', 'the latest desired version is 2']);
    graph.acknowledgeDesired('cnc-1', 'doorOpen', { version: 2, code: 200 });
    assertRefused(graph, () => graph.acknowledgeDesired('cnc-1', 'doorOpen', { version: 1, code: 200 }), 'ack-version', ['version 2 is acknowledged already']);
    for (const code of [201, 302, 600, 200.5]) {
      assertRefused(graph, () => graph.acknowledgeDesired('cnc-1', 'doorOpen', { version: 2, code }), 'ack-code', [`ack code ${code}`, '200 (done), 202 (in progress), or 400-599 (failed)']);
    }
    assertRefused(graph, () => graph.acknowledgeDesired('cnc-1', 'doorOpen', { version: 2, code: 200, value: 'open' }), 'value-type', ['doorOpen: "open" is not a boolean']);
  });
});

describe('requestCommand', () => {
  test('records the validated request as an event and executes nothing', () => {
    const { graph } = newGraph();
    addMachine(graph);
    const before = graph.getTwin('cnc-1');
    const event = graph.requestCommand('cnc-1', 'startCycle', 'O1234', { requestId: 'cmd-1', actor: 'operator' });
    assert.equal(event.kind, 'command');
    assert.deepEqual(event.command, { name: 'startCycle', request: 'O1234', requestId: 'cmd-1' });
    assert.equal(event.actor, 'operator');
    const after = graph.getTwin('cnc-1');
    assert.deepEqual(applyPatch(before, event.patch), after);
    const { $etag: _a, $metadata: m1, ...restBefore } = before as Record<string, unknown>;
    const { $etag: _b, $metadata: m2, ...restAfter } = after as Record<string, unknown>;
    assert.deepEqual(restAfter, restBefore, 'only the etag and $lastUpdateTime change');
    assert.deepEqual({ ...(m1 as object), $lastUpdateTime: 0 }, { ...(m2 as object), $lastUpdateTime: 0 });
  });

  test('a command without request takes nothing, or null', () => {
    const { graph } = newGraph();
    addMachine(graph);
    assert.deepEqual(graph.requestCommand('cnc-1', 'resetAlarm').command, { name: 'resetAlarm' });
    assert.deepEqual(graph.requestCommand('cnc-1', 'emergencyStop', null).command, { name: 'emergencyStop', request: null });
  });

  test('refusals: a request of the wrong type, a request where none is taken, not a command', () => {
    const { graph } = newGraph();
    addMachine(graph);
    graph.createTwin({ id: 'p1', model: PUMP });
    assertRefused(graph, () => graph.requestCommand('cnc-1', 'startCycle', 42), 'value-type', ['startCycle/request: 42 is not a string']);
    assertRefused(graph, () => graph.requestCommand('cnc-1', 'startCycle'), 'value-required', ['startCycle/request: a value is required']);
    assertRefused(graph, () => graph.requestCommand('cnc-1', 'resetAlarm', 'now'), 'value-invalid', ['resetAlarm/request: Command resetAlarm takes no request']);
    assertRefused(graph, () => graph.requestCommand('p1', 'reset', 1.5), 'value-type', ['reset/request: 1.5 is not an integer']);
    assertRefused(graph, () => graph.requestCommand('cnc-1', 'doorOpen', true), 'path-kind', ['doorOpen: is a Property, not a Command']);
    assertRefused(graph, () => graph.requestCommand('cnc-1', 'launch'), 'path-unknown', ['launch']);
  });
});
