// Staleness: maximum ages per model and path, transitions once per change, and why a twin is stale.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TwinError, TwinGraph } from '../../../nodes/lib/twin';
import { addMachine, CNC, CNC2, models, newGraph, PUMP, TANK } from './helpers';

describe('staleness', () => {
  test('a path becomes stale once and fresh again once', () => {
    const { graph, clock } = newGraph({ staleness: [{ model: CNC, path: 'spindle/speed', maxAge: 5000 }] });
    addMachine(graph);
    const start = clock.now;
    graph.recordTelemetry('cnc-1', 'spindle/speed', 100);
    assert.deepEqual(graph.checkStaleness(clock.advance(5000)), [], 'exactly maxAge old is still fresh');
    const stale = graph.checkStaleness(clock.advance(1));
    assert.deepEqual(stale, [
      { twinId: 'cnc-1', model: CNC, path: 'spindle/speed', stale: true, maxAge: 5000, age: 5001, time: start + 5001, lastUpdate: start, message: 'spindle/speed: no value for 5.0 s (maximum age 5.0 s)' },
    ]);
    assert.deepEqual(graph.checkStaleness(clock.advance(1000)), [], 'no repeat while it stays stale');
    const status = graph.getStaleness('cnc-1');
    assert.equal(status.stale, true);
    assert.equal(status.monitored, true);
    assert.deepEqual(status.paths.map((p) => p.path), ['spindle/speed']);
    assert.match(status.paths[0]?.message ?? '', /no value for 6\.0 s/);

    graph.recordTelemetry('cnc-1', 'spindle/speed', 200);
    const fresh = graph.checkStaleness(clock.advance(10));
    assert.equal(fresh.length, 1);
    assert.equal(fresh[0]?.stale, false);
    assert.equal(fresh[0]?.age, 10);
    assert.equal(fresh[0]?.message, 'spindle/speed: fresh again (last value 10 ms old)');
    assert.equal(graph.getStaleness('cnc-1').stale, false);
  });

  test('a path that never got a value is stale one maxAge after monitoring started', () => {
    const { graph, clock } = newGraph({ staleness: [{ path: 'positionX', maxAge: 1000 }] });
    addMachine(graph);
    assert.deepEqual(graph.checkStaleness(clock.advance(1000)), []);
    const [t] = graph.checkStaleness(clock.advance(500));
    assert.equal(t?.stale, true);
    assert.equal(t?.lastUpdate, undefined);
    assert.match(t?.message ?? '', /positionX: no value since monitoring started 1\.5 s ago/);
  });

  test('a model-only rule watches every telemetry of that model, components included; the most specific rule wins', () => {
    const { graph, clock } = newGraph({
      staleness: [
        { model: 'dtmi:twinflow:cnc:CNCMachine', maxAge: 10_000 },
        { path: 'positionX', maxAge: 1000 },
        { model: CNC, path: 'positionX', maxAge: 3000 },
      ],
    });
    addMachine(graph, 'v1', CNC);
    addMachine(graph, 'v2', CNC2);
    const first = graph.checkStaleness(clock.advance(2000));
    assert.deepEqual(first.map((t) => `${t.twinId} ${t.path} ${t.maxAge}`), ['v2 positionX 1000'], 'v2 takes the path rule, v1 the model+path one');
    const later = graph.checkStaleness(clock.advance(9000)).map((t) => `${t.twinId} ${t.path}`);
    assert.deepEqual(later.sort(), [
      'v1 coolant/flow', 'v1 coolant/temperature', 'v1 positionX', 'v1 positionY', 'v1 positionZ',
      'v1 spindle/bearingTemperature', 'v1 spindle/motorCurrent', 'v1 spindle/speed', 'v1 spindle/vibrationRms',
      'v2 coolant/flow', 'v2 coolant/temperature', 'v2 feedRate', 'v2 spindle/bearingTemperature', 'v2 spindle/motorCurrent', 'v2 spindle/speed', 'v2 spindle/vibrationRms',
    ].sort(), 'a rule without version matches every version');
  });

  test('rules match derived models; properties are watched only when named', () => {
    const { graph, clock } = newGraph({ staleness: [{ model: 'dtmi:test:Base;1', maxAge: 100 }, { model: PUMP, path: 'ratedFlow', maxAge: 100 }] });
    graph.createTwin({ id: 'pump', model: PUMP });
    graph.createTwin({ id: 'tank', model: TANK });
    const paths = graph.checkStaleness(clock.advance(101)).map((t) => `${t.twinId} ${t.path}`);
    assert.deepEqual(paths, ['pump flow', 'pump temperature', 'pump ratedFlow', 'tank level', 'tank temperature']);
  });

  test('only operation and adaptation are watched; leaving them clears stale paths', () => {
    const { graph, clock } = newGraph({ staleness: [{ path: 'positionX', maxAge: 100 }] });
    graph.createTwin({ id: 'new', model: CNC, stage: 'design' });
    addMachine(graph, 'old');
    const stale = graph.checkStaleness(clock.advance(200));
    assert.deepEqual(stale.map((t) => t.twinId), ['old']);
    assert.equal(graph.getStaleness('new').monitored, false);
    graph.decommission('old');
    const cleared = graph.checkStaleness(clock.advance(1));
    assert.deepEqual(cleared.map((t) => [t.twinId, t.stale]), [['old', false]]);
    assert.match(cleared[0]?.message ?? '', /no longer watched \(the twin is decommissioned, which is not monitored\)/);
    assert.deepEqual(graph.checkStaleness(clock.advance(1000)), []);

    // Entering a watched stage starts a fresh maxAge.
    graph.setLifecycleStage('new', 'deployment');
    graph.setLifecycleStage('new', 'operation');
    assert.deepEqual(graph.checkStaleness(clock.advance(100)), []);
    assert.equal(graph.checkStaleness(clock.advance(1)).length, 1);
  });

  test('changing the rules clears paths no rule watches any more', () => {
    const { graph, clock } = newGraph({ staleness: [{ path: 'positionX', maxAge: 100 }] });
    addMachine(graph);
    assert.equal(graph.checkStaleness(clock.advance(200)).length, 1);
    graph.setStalenessRules([{ path: 'positionY', maxAge: 10_000 }]);
    const cleared = graph.checkStaleness(clock.advance(1));
    assert.deepEqual(cleared.map((t) => [t.path, t.stale]), [['positionX', false]]);
    assert.match(cleared[0]?.message ?? '', /no staleness rule applies any more/);
    assert.deepEqual(graph.getStalenessRules(), [{ path: 'positionY', maxAge: 10_000 }]);
  });

  test('rules that cannot apply are refused', () => {
    const bad: [unknown, RegExp][] = [
      [{ path: 'positionX', maxAge: 0 }, /maxAge 0 is not a positive number/],
      [{ maxAge: 10 }, /needs a model, a path, or both/],
      [{ model: 'dtmi:nothing:Here;1', maxAge: 10 }, /model dtmi:nothing:Here;1 is not in the model set/],
      [{ model: CNC, path: 'spindle/rpm', maxAge: 10 }, /spindle\/rpm is not a Telemetry or Property of dtmi:twinflow:cnc:CNCMachine;1/],
      [{ path: 'startCycle', maxAge: 10 }, /startCycle is not a Telemetry or Property/],
    ];
    for (const [rule, message] of bad) {
      assert.throws(
        () => new TwinGraph(models(), { staleness: [rule as never] }),
        (err: unknown) => err instanceof TwinError && err.code === 'staleness-config' && message.test(err.message) && err.message.startsWith('staleness rule 1'),
      );
    }
  });
});
