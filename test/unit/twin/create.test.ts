// Creating twins: the ADT document shape, initial properties, and every refusal.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TwinError } from '../../../nodes/lib/twin';
import { assertRefused, CNC, CNC2, newGraph, PUMP } from './helpers';

describe('createTwin', () => {
  test('builds the Azure Digital Twins document with components, lifecycle and an empty telemetry section', () => {
    const { graph, clock } = newGraph();
    const event = graph.createTwin({ id: 'cnc-1', model: CNC, properties: { doorOpen: false, machineState: 'idle', 'spindle/maxSpeed': 24000 } });
    const iso = new Date(clock.now).toISOString();
    const doc = graph.getTwin('cnc-1');
    assert.deepEqual(doc, {
      $dtId: 'cnc-1',
      $etag: event.etag,
      $metadata: { $model: CNC, $lastUpdateTime: iso, doorOpen: { lastUpdateTime: iso }, machineState: { lastUpdateTime: iso } },
      $lifecycle: { stage: 'operation', since: iso },
      $telemetry: {},
      doorOpen: false,
      machineState: 'idle',
      spindle: { $metadata: { maxSpeed: { lastUpdateTime: iso } }, maxSpeed: 24000 },
      coolant: { $metadata: {} },
    });
    assert.equal(event.kind, 'create');
    assert.equal(event.version, 1);
    assert.equal(event.time, clock.now);
    assert.deepEqual(event.patch, [{ op: 'add', path: '', value: doc }]);
    assert.match(event.etag, /^W\/".+"$/);
    assert.equal(graph.getVersion('cnc-1'), 1);
  });

  test('takes initial properties nested the way the document holds them, and an initial stage', () => {
    const { graph } = newGraph();
    graph.createTwin({ id: 'cnc-2', model: CNC, properties: { spindle: { maxSpeed: 18000, speedSetpoint: 6000 } }, stage: 'design' });
    const doc = graph.getTwin('cnc-2');
    assert.equal((doc?.spindle as Record<string, unknown>).maxSpeed, 18000);
    assert.equal((doc?.spindle as Record<string, unknown>).speedSetpoint, 6000);
    assert.equal(graph.getStage('cnc-2'), 'design');
    assert.equal(doc?.$lifecycle.stage, 'design');
  });

  test('an object-valued property is copied: changing the caller\'s object later changes nothing', () => {
    const { graph } = newGraph();
    const config = { mode: 'auto', gain: 1.5 };
    const event = graph.createTwin({ id: 'p1', model: PUMP, properties: { config } });
    config.gain = 99;
    assert.deepEqual(graph.getTwin('p1')?.config, { mode: 'auto', gain: 1.5 });
    ((event.patch[0] as { value: Record<string, Record<string, unknown>> }).value.config as Record<string, unknown>).gain = 7;
    assert.deepEqual(graph.getTwin('p1')?.config, { mode: 'auto', gain: 1.5 }, 'events share nothing with the state');
  });

  test('a Map key named __proto__ stays a member, through events, copies and snapshots', () => {
    const { graph } = newGraph();
    const tags = JSON.parse('{"__proto__": "odd", "area": "north"}') as Record<string, string>;
    const event = graph.createTwin({ id: 'p1', model: PUMP, properties: { tags } });
    const stored = graph.getTwin('p1')?.tags as Record<string, unknown>;
    assert.deepEqual(Object.keys(stored), ['__proto__', 'area']);
    assert.equal(Object.getPrototypeOf(stored), Object.prototype);
    assert.equal(JSON.stringify(stored), '{"__proto__":"odd","area":"north"}');
    assert.match(JSON.stringify(event), /"__proto__":"odd"/);
    assert.match(JSON.stringify(graph.snapshot()), /"__proto__":"odd"/);
  });

  test('getTwin returns a copy', () => {
    const { graph } = newGraph();
    graph.createTwin({ id: 'cnc-1', model: CNC });
    const doc = graph.getTwin('cnc-1') as Record<string, unknown>;
    doc.doorOpen = true;
    assert.equal(graph.getTwin('cnc-1')?.doorOpen, undefined);
  });

  test('twins of two versions of a model live side by side, each validated against its own', () => {
    const { graph } = newGraph();
    graph.createTwin({ id: 'old', model: CNC });
    graph.createTwin({ id: 'new', model: CNC2 });
    graph.recordTelemetry('new', 'feedRate', 1200);
    assertRefused(graph, () => graph.recordTelemetry('old', 'feedRate', 1200), 'path-unknown', ['feedRate', CNC]);
    assert.deepEqual(graph.listTwins({ model: CNC2 }).map((t) => t.$dtId), ['new']);
  });

  describe('refusals change nothing', () => {
    test('an id that exists already', () => {
      const { graph } = newGraph();
      graph.createTwin({ id: 'cnc-1', model: CNC });
      assertRefused(graph, () => graph.createTwin({ id: 'cnc-1', model: CNC }), 'twin-exists', ['cnc-1', 'exists already']);
    });

    test('a model that is not in the model set', () => {
      const { graph } = newGraph();
      assertRefused(graph, () => graph.createTwin({ id: 'x', model: 'dtmi:twinflow:cnc:CNCMachine;9' }), 'model-unknown', ['dtmi:twinflow:cnc:CNCMachine;9', 'not in the model set']);
      assert.equal(graph.size, 0);
    });

    for (const id of ['', 'a\nb', 'x'.repeat(257), 42]) {
      test(`an invalid id ${JSON.stringify(id).slice(0, 12)}`, () => {
        const { graph } = newGraph();
        assertRefused(graph, () => graph.createTwin({ id: id as string, model: CNC }), 'id-invalid', ['twin id']);
      });
    }

    test('a property of the wrong type, naming the field and the rule', () => {
      const { graph } = newGraph();
      const err = assertRefused(graph, () => graph.createTwin({ id: 'cnc-1', model: CNC, properties: { doorOpen: 'yes' } }), 'value-type', ['doorOpen: "yes" is not a boolean']);
      assert.equal(err.path, 'doorOpen');
      assert.equal(err.field, 'doorOpen');
      assert.equal(graph.has('cnc-1'), false);
    });

    test('every bad property is listed at once', () => {
      const { graph } = newGraph();
      const err = assertRefused(
        graph,
        () => graph.createTwin({ id: 'cnc-1', model: CNC, properties: { doorOpen: 1, machineState: 'flying', nope: 1 } }),
        'value-type',
        ['cnc-1 was not created', 'doorOpen: 1 is not a boolean', 'machineState: "flying" is not one of the Enum values', 'nope: '],
      );
      assert.equal((err.details as unknown[]).length, 3);
    });

    test('a telemetry given as an initial property', () => {
      const { graph } = newGraph();
      assertRefused(graph, () => graph.createTwin({ id: 'cnc-1', model: CNC, properties: { positionX: 1 } }), 'path-kind', ['positionX', 'Telemetry', 'Property values only']);
    });

    test('a bad component path', () => {
      const { graph } = newGraph();
      assertRefused(graph, () => graph.createTwin({ id: 'cnc-1', model: CNC, properties: { 'spindle/rpm': 1 } }), 'path-unknown', ['spindle/rpm', 'Component spindle', 'no content named rpm']);
    });

    test('an object field of the wrong type inside an Object schema', () => {
      const { graph } = newGraph();
      const err = assertRefused(graph, () => graph.createTwin({ id: 'p', model: PUMP, properties: { config: { mode: 'auto', gain: 'high' } } }), 'value-type', ['config/gain', 'not a double']);
      assert.equal(err.pointer, '/gain');
    });

    test('an unknown lifecycle stage, or decommissioned from the start', () => {
      const { graph } = newGraph();
      assertRefused(graph, () => graph.createTwin({ id: 'x', model: CNC, stage: 'retired' as never }), 'lifecycle-stage', ['"retired"', 'design, deployment, operation, adaptation, decommissioned']);
      assertRefused(graph, () => graph.createTwin({ id: 'x', model: CNC, stage: 'decommissioned' }), 'lifecycle-stage', ['cannot be created decommissioned']);
    });

    test('not an object at all', () => {
      const { graph } = newGraph();
      assertRefused(graph, () => graph.createTwin(null as never), 'input-invalid');
      assertRefused(graph, () => graph.createTwin({ id: 'x', model: CNC, properties: [1] as never }), 'input-invalid', ['properties must be an object']);
    });
  });

  test('TwinError is plain JSON for an error output', () => {
    const { graph } = newGraph();
    try {
      graph.createTwin({ id: 'cnc-1', model: CNC, properties: { doorOpen: 'yes' } });
      assert.fail('expected a refusal');
    } catch (err) {
      assert.ok(err instanceof TwinError);
      const json = JSON.parse(JSON.stringify(err)) as Record<string, unknown>;
      assert.equal(json.code, 'value-type');
      assert.equal(json.twinId, 'cnc-1');
      assert.equal(json.path, 'doorOpen');
      assert.match(json.message as string, /doorOpen: "yes" is not a boolean/);
    }
  });
});
