// Change events: property-based, every event's JSON Patch applied to the twin's previous document
// gives the new one; refused writes change nothing; replaying all events rebuilds every twin.
// Plus applyPatch itself against RFC 6902.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { applyPatch, TwinError, TwinGraph, type PatchOperation, type TwinChangeEvent, type TwinDocument } from '../../../nodes/lib/twin';
import { CNC, LINE, ManualClock, models, PUMP, TANK } from './helpers';

type Op = (graph: TwinGraph) => TwinChangeEvent;

const TWINS = ['cnc-1', 'cnc-2', 'line-1', 'pump', 'tank'];

/** Values that are sometimes right and sometimes wrong for the content they are written to. */
const anyValue = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
  fc.integer({ min: -5, max: 30000 }),
  fc.boolean(),
  fc.constantFrom('idle', 'running', 'alarm', 'flying', 'O1000', ''),
  fc.record({ mode: fc.constantFrom('auto', 'manual'), gain: fc.double({ noNaN: true, noDefaultInfinity: true, min: 0, max: 10 }) }),
  fc.constant(null),
);
const twinId = fc.constantFrom(...TWINS, 'ghost');
const telemetryPath = fc.constantFrom('positionX', 'spindle/speed', 'coolant/flow', 'flow', 'temperature', 'level', 'nope', 'spindle/nope');
const propertyPath = fc.constantFrom('doorOpen', 'machineState', 'activeProgram', 'spindle/speedSetpoint', 'spindle/maxSpeed', 'setpoint', 'config', 'label', 'positionX');
const sourceTime = fc.option(fc.integer({ min: 0, max: 2e12 }), { nil: undefined });
const quality = fc.option(fc.constantFrom('good' as const, 'uncertain' as const, 'bad' as const), { nil: undefined });

const operation: fc.Arbitrary<Op> = fc.oneof(
  fc.tuple(twinId, telemetryPath, anyValue, sourceTime, quality).map(([id, path, value, st, q]): Op => (g) => g.recordTelemetry(id, path, value, { sourceTime: st, quality: q })),
  fc.tuple(twinId, propertyPath, anyValue, sourceTime).map(([id, path, value, st]): Op => (g) => g.reportProperty(id, path, value, { sourceTime: st })),
  fc.tuple(twinId, propertyPath, anyValue).map(([id, path, value]): Op => (g) => g.setDesired(id, path, value)),
  fc.tuple(twinId, propertyPath, fc.integer({ min: 0, max: 4 }), fc.constantFrom(200, 202, 404, 500, 201), fc.option(fc.constantFrom('ok', 'busy'), { nil: undefined }), fc.option(anyValue, { nil: undefined })).map(
    ([id, path, version, code, description, value]): Op => (g) => g.acknowledgeDesired(id, path, { version, code, description, value }),
  ),
  fc.tuple(twinId, fc.constantFrom('startCycle', 'resetAlarm', 'reset', 'stop'), fc.option(anyValue, { nil: undefined })).map(([id, name, request]): Op => (g) => g.requestCommand(id, name, request)),
  fc.tuple(twinId, fc.constantFrom('r1', 'r2', 'r3'), fc.constantFrom('contains', 'feeds', 'near'), twinId, fc.option(fc.record({ position: fc.integer({ min: 1, max: 9 }) }), { nil: undefined })).map(
    ([source, id, name, target, properties]): Op => (g) => g.createRelationship({ sourceId: source, relationshipId: id, name, targetId: target, properties }),
  ),
  fc.tuple(twinId, fc.constantFrom('r1', 'r2', 'r3')).map(([source, id]): Op => (g) => g.deleteRelationship(source, id)),
  fc.tuple(twinId, fc.constantFrom('design', 'deployment', 'operation', 'adaptation', 'decommissioned') as fc.Arbitrary<'operation'>).map(([id, stage]): Op => (g) => g.setLifecycleStage(id, stage)),
  fc.tuple(twinId, fc.array(fc.tuple(telemetryPath, anyValue), { maxLength: 3 })).map(([id, samples]): Op => (g) => {
    const events = g.applySamples(id, samples.map(([path, value]) => ({ path, value })));
    if (events.length === 0) throw new TwinError('input-invalid', 'empty batch');
    return events[events.length - 1] as TwinChangeEvent;
  }),
);

function setUp(clock: ManualClock): TwinGraph {
  const graph = new TwinGraph(models(), { clock: clock.read });
  graph.createTwin({ id: 'cnc-1', model: CNC, properties: { spindle: { maxSpeed: 24000 } } });
  graph.createTwin({ id: 'cnc-2', model: CNC });
  graph.createTwin({ id: 'line-1', model: LINE });
  graph.createTwin({ id: 'pump', model: PUMP });
  graph.createTwin({ id: 'tank', model: TANK });
  return graph;
}

describe('change events (property-based)', () => {
  test('each event patch turns the previous document into the new one; refusals change nothing; replay rebuilds all', () => {
    fc.assert(
      fc.property(fc.array(operation, { minLength: 1, maxLength: 40 }), (ops) => {
        const clock = new ManualClock();
        const graph = setUp(clock);
        const log: TwinChangeEvent[] = [];
        // The event log a consumer keeps: the create events of the set-up twins first.
        const replayed = new Map<string, TwinDocument>(TWINS.map((id) => [id, graph.getTwin(id) as TwinDocument]));
        for (const op of ops) {
          clock.advance(1 + (ops.length % 3));
          const before = new Map(TWINS.map((id) => [id, { doc: graph.getTwin(id), version: graph.getVersion(id) }]));
          const relationshipsBefore = TWINS.map((id) => graph.listOutgoing(id));
          let events: TwinChangeEvent[] = [];
          try {
            const last = op(graph);
            // applySamples returns several; collect every version the twin moved through.
            const moved = graph.getVersion(last.twinId) - (before.get(last.twinId)?.version ?? 0);
            events = moved === 1 ? [last] : [];
            if (moved !== 1) {
              // A batch: check the whole batch at once against the final document.
              assert.equal(last.version, graph.getVersion(last.twinId));
              continue;
            }
          } catch (err) {
            assert.ok(err instanceof TwinError, `only TwinErrors may escape: ${String(err)}`);
            for (const id of TWINS) {
              assert.deepEqual(graph.getTwin(id), before.get(id)?.doc, `refused ${err.code} changed ${id}`);
              assert.equal(graph.getVersion(id), before.get(id)?.version);
            }
            assert.deepEqual(TWINS.map((id) => graph.listOutgoing(id)), relationshipsBefore);
            continue;
          }
          for (const event of events) {
            const previous = before.get(event.twinId);
            assert.equal(event.version, (previous?.version ?? 0) + 1, 'versions are gap-free');
            assert.notEqual(event.etag, previous?.doc?.$etag, 'every change has a new etag');
            assert.deepEqual(JSON.parse(JSON.stringify(event)), event, 'events are plain JSON');
            const next = applyPatch<TwinDocument>(previous?.doc, event.patch);
            assert.deepEqual(next, graph.getTwin(event.twinId));
            log.push(event);
          }
        }
        // Replaying the logged events from the set-up documents gives the current ones (batches aside).
        for (const event of log) replayed.set(event.twinId, applyPatch(replayed.get(event.twinId), event.patch));
        for (const id of TWINS) {
          const versionsLogged = log.filter((e) => e.twinId === id).length;
          if (versionsLogged === graph.getVersion(id) - 1) assert.deepEqual(replayed.get(id), graph.getTwin(id));
        }
      }),
      { numRuns: 150 },
    );
  });

  test('a batch of samples: its events applied in order give the final document', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('positionX', 'positionY', 'spindle/speed', 'machineState', 'activeProgram', 'doorOpen'), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 8 }), (picks) => {
        const clock = new ManualClock();
        const graph = setUp(clock);
        const values: Record<string, unknown[]> = { machineState: ['idle', 'running', 'alarm', 'emergencyStop'], activeProgram: ['a', 'b', '', 'c'], doorOpen: [true, false, true, false] };
        const before = graph.getTwin('cnc-1');
        const events = graph.applySamples('cnc-1', picks.map(([path, i]) => ({ path, value: values[path]?.[i] ?? i * 1.5, sourceTime: i === 0 ? undefined : i })));
        const rebuilt = events.reduce((doc, e) => applyPatch<TwinDocument>(doc, e.patch), before);
        assert.deepEqual(rebuilt, graph.getTwin('cnc-1'));
        assert.deepEqual(events.map((e) => e.version), picks.map((_, i) => i + 2));
      }),
      { numRuns: 100 },
    );
  });
});

describe('applyPatch (RFC 6902)', () => {
  const doc = { a: { b: [1, 2, 3], 'x/y': 1, 'm~n': 2 }, c: 'text' };

  test('add, remove, replace, move, copy, test, with escaped pointers, leaving the input alone', () => {
    const ops: PatchOperation[] = [
      { op: 'add', path: '/a/b/1', value: 9 },
      { op: 'add', path: '/a/b/-', value: 4 },
      { op: 'remove', path: '/a/x~1y' },
      { op: 'replace', path: '/a/m~0n', value: 3 },
      { op: 'copy', from: '/c', path: '/d' },
      { op: 'move', from: '/c', path: '/e' },
      { op: 'test', path: '/e', value: 'text' },
    ];
    assert.deepEqual(applyPatch(doc, ops), { a: { b: [1, 9, 2, 3, 4], 'm~n': 3 }, d: 'text', e: 'text' });
    assert.deepEqual(doc, { a: { b: [1, 2, 3], 'x/y': 1, 'm~n': 2 }, c: 'text' });
    assert.deepEqual(applyPatch(doc, [{ op: 'replace', path: '', value: 5 }]), 5);
  });

  test('operations that do not apply throw', () => {
    const bad: PatchOperation[] = [
      { op: 'remove', path: '/nothing' },
      { op: 'replace', path: '/a/nothing', value: 1 },
      { op: 'add', path: '/x/y', value: 1 },
      { op: 'add', path: '/a/b/7', value: 1 },
      { op: 'test', path: '/c', value: 'other' },
      { op: 'move', from: '/a', path: '/a/inner' },
      { op: 'add', path: 'a', value: 1 },
    ];
    for (const op of bad) assert.throws(() => applyPatch(doc, [op]), Error, JSON.stringify(op));
  });
});
