// Snapshots: plain JSON, an exact round trip, identical behaviour afterwards, and refusals that list twins.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseModels } from '../../../nodes/lib/dtdl';
import { TwinError, TwinGraph, type TwinChangeEvent, type TwinGraphSnapshot } from '../../../nodes/lib/twin';
import { addMachine, CNC, HALL, LINE, ManualClock, modelDocuments, models, PUMP, TANK } from './helpers';

/** A graph that has been through every kind of change. */
function busyGraph(clock: ManualClock): TwinGraph {
  const graph = new TwinGraph(models(), { clock: clock.read, staleness: [{ path: 'spindle/speed', maxAge: 1000 }] });
  graph.createTwin({ id: 'hall-1', model: HALL });
  graph.createTwin({ id: 'line-1', model: LINE });
  addMachine(graph, 'cnc-1');
  addMachine(graph, 'cnc-2');
  graph.createTwin({ id: 'pump', model: PUMP, properties: { config: { mode: 'auto', gain: 1 }, tags: { area: 'north' } }, stage: 'design' });
  graph.createTwin({ id: 'tank', model: TANK });
  graph.createRelationship({ sourceId: 'hall-1', relationshipId: 'h', name: 'contains', targetId: 'line-1' });
  graph.createRelationship({ sourceId: 'line-1', relationshipId: 'a', name: 'contains', targetId: 'cnc-1', properties: { position: 1 } });
  graph.createRelationship({ sourceId: 'line-1', relationshipId: 'b', name: 'contains', targetId: 'cnc-2', properties: { position: 2 } });
  graph.createRelationship({ sourceId: 'pump', relationshipId: 'f', name: 'feeds', targetId: 'tank', properties: { weight: 2.5 } });
  clock.advance(10);
  graph.recordTelemetry('cnc-1', 'spindle/speed', 8000, { sourceTime: clock.now - 3, quality: 'uncertain' });
  graph.reportProperty('cnc-1', 'machineState', 'running', { sourceTime: clock.now - 1 });
  graph.setDesired('cnc-1', 'spindle/speedSetpoint', 9000);
  graph.acknowledgeDesired('cnc-1', 'spindle/speedSetpoint', { version: 1, code: 202, description: 'ramping' });
  graph.setDesired('pump', 'config', { mode: 'manual', gain: 3 }, { version: 7 });
  graph.requestCommand('cnc-2', 'startCycle', 'O1');
  graph.setLifecycleStage('pump', 'deployment');
  graph.decommission('cnc-2');
  return graph;
}

/** Further changes that must behave the same on the original and the restored graph. */
function moreChanges(graph: TwinGraph, clock: ManualClock): unknown[] {
  const out: unknown[] = [];
  const attempt = (f: () => TwinChangeEvent): void => {
    try {
      out.push(f());
    } catch (err) {
      out.push(err instanceof TwinError ? err.toJSON() : String(err));
    }
  };
  clock.advance(5);
  attempt(() => graph.recordTelemetry('cnc-1', 'spindle/speed', 9000));
  attempt(() => graph.setDesired('cnc-1', 'spindle/speedSetpoint', 9500));
  attempt(() => graph.setDesired('pump', 'config', { mode: 'auto', gain: 1 }));
  attempt(() => graph.reportProperty('cnc-2', 'doorOpen', true));
  attempt(() => graph.createRelationship({ sourceId: 'line-1', relationshipId: 'b', name: 'contains', targetId: 'cnc-1' }));
  attempt(() => graph.deleteRelationship('line-1', 'a'));
  attempt(() => graph.setLifecycleStage('pump', 'operation'));
  out.push(graph.query("SELECT m.$dtId, r.position FROM DIGITALTWINS MATCH (h)-[:contains]->(l)-[r:contains]->(m) WHERE h.$dtId = 'hall-1'"));
  out.push(graph.checkStaleness(clock.advance(2000)));
  out.push(graph.snapshot());
  return out;
}

describe('snapshot and restore', () => {
  test('the snapshot is plain JSON with twins, versions, lifecycle, desired state and relationships', () => {
    const graph = busyGraph(new ManualClock());
    const snapshot = graph.snapshot();
    assert.deepEqual(JSON.parse(JSON.stringify(snapshot)), snapshot);
    assert.equal(snapshot.format, 'twinflow/twin-graph');
    assert.equal(snapshot.formatVersion, 1);
    assert.deepEqual(snapshot.twins.map((t) => [t.document.$dtId, t.version, t.document.$lifecycle.stage]), [
      ['hall-1', 2, 'operation'],
      ['line-1', 3, 'operation'],
      ['cnc-1', 5, 'operation'],
      ['cnc-2', 3, 'decommissioned'],
      ['pump', 4, 'deployment'],
      ['tank', 1, 'operation'],
    ]);
    assert.equal(snapshot.relationships.length, 4);
    const cnc1 = snapshot.twins[2]?.document as unknown as Record<string, Record<string, Record<string, Record<string, unknown>>>>;
    assert.deepEqual(cnc1.spindle?.$metadata?.speedSetpoint, { desiredValue: 9000, desiredVersion: 1, ackVersion: 1, ackCode: 202, ackDescription: 'ramping' });
  });

  test('the live snapshot a save turns into JSON writes the same JSON as the snapshot, without copying', () => {
    const graph = busyGraph(new ManualClock());
    const live = graph.liveSnapshot();
    assert.equal(JSON.stringify(live), JSON.stringify(graph.snapshot()));
    // It holds the graph's own documents (the same objects each time); snapshot() copies.
    assert.equal(graph.liveSnapshot().twins[2]?.document, live.twins[2]?.document);
    assert.notEqual(graph.snapshot().twins[2]?.document, live.twins[2]?.document);
  });

  test('restore rebuilds it exactly, and further changes behave identically', () => {
    const clockA = new ManualClock();
    const original = busyGraph(clockA);
    const stored = JSON.parse(JSON.stringify(original.snapshot())) as TwinGraphSnapshot;
    const clockB = new ManualClock();
    clockB.now = clockA.now;
    const restored = TwinGraph.restore(models(), stored, { clock: clockB.read, staleness: [{ path: 'spindle/speed', maxAge: 1000 }] });
    assert.deepEqual(restored.snapshot(), original.snapshot());
    for (const id of original.twinIds()) {
      assert.deepEqual(restored.getTwin(id), original.getTwin(id));
      assert.equal(restored.getVersion(id), original.getVersion(id));
      assert.deepEqual(restored.listIncoming(id), original.listIncoming(id));
    }
    // Etags of new changes differ by the graph's random part only (see TwinGraph.etagEpoch).
    const normalise = (out: unknown[]): unknown => JSON.parse(JSON.stringify(out).replace(/W\/\\"[0-9a-f]{8}-(\d+)\\"/g, 'W/\\"*-$1\\"'));
    const fromRestored = moreChanges(restored, clockB);
    const fromOriginal = moreChanges(original, clockA);
    assert.notDeepEqual(fromRestored, fromOriginal);
    assert.deepEqual(normalise(fromRestored), normalise(fromOriginal));
  });

  test('after restoring an older snapshot, an etag of a change the snapshot lacks never matches', () => {
    const graph = new TwinGraph(models());
    addMachine(graph);
    const older = graph.snapshot();
    const etagBefore = graph.getEtag('cnc-1');
    const lost = graph.reportProperty('cnc-1', 'doorOpen', true).etag;
    const restored = TwinGraph.restore(models(), older);
    assert.equal(restored.getEtag('cnc-1'), etagBefore, 'stored etags stay');
    const redone = restored.reportProperty('cnc-1', 'doorOpen', false).etag;
    assert.notEqual(redone, lost);
    assert.throws(() => restored.reportProperty('cnc-1', 'doorOpen', true, { ifMatch: lost }), (err: unknown) => err instanceof TwinError && err.code === 'etag-mismatch');
  });

  test('staleness continues from the restored last-update times', () => {
    const clock = new ManualClock();
    const graph = new TwinGraph(models(), { clock: clock.read, staleness: [{ path: 'spindle/speed', maxAge: 1000 }] });
    addMachine(graph);
    graph.recordTelemetry('cnc-1', 'spindle/speed', 1);
    clock.advance(100);
    const restored = TwinGraph.restore(models(), graph.snapshot(), { clock: clock.read, staleness: [{ path: 'spindle/speed', maxAge: 1000 }] });
    // Monitoring restarts at the restore, so the first alert comes one maxAge after it.
    assert.deepEqual(restored.checkStaleness(clock.advance(1000)), []);
    const [t] = restored.checkStaleness(clock.advance(1));
    assert.equal(t?.lastUpdate, clock.now - 1101);
  });

  test('a snapshot whose twins no longer validate is refused, listing which and why', () => {
    const graph = busyGraph(new ManualClock());
    const snapshot = JSON.parse(JSON.stringify(graph.snapshot())) as TwinGraphSnapshot;
    // The same models, except that the CNC machine's doorOpen became an integer and the line model is gone.
    const documents = modelDocuments().filter((d) => (d as { '@id': string })['@id'] !== LINE) as Record<string, unknown>[];
    const cnc = documents.find((d) => d['@id'] === CNC) as { contents: Record<string, unknown>[] };
    const changed = documents.map((d) => (d === (cnc as unknown) ? { ...d, contents: cnc.contents.map((c) => (c.name === 'doorOpen' ? { ...c, schema: 'integer' } : c)) } : d));
    const result = parseModels(changed);
    assert.ok(result.valid && result.model);
    assert.throws(
      () => TwinGraph.restore(result.model as never, snapshot),
      (err: unknown) => {
        assert.ok(err instanceof TwinError);
        assert.equal(err.code, 'snapshot-invalid');
        assert.match(err.message, /^snapshot refused: \d+ twins no longer validate against the models: /);
        assert.match(err.message, /cnc-1 \(doorOpen: false is not an integer\)/);
        assert.match(err.message, /cnc-2 \(doorOpen: false is not an integer\)/);
        assert.match(err.message, /line-1 \(model dtmi:twinflow:plant:ProductionLine;1 is not in the model set\)/);
        assert.match(err.message, /pump \(model dtmi:test:Pump;1 is not in the model set\)/);
        const problems = err.details as { twinId?: string }[];
        assert.match(err.message, /hall-1 \(relationship h: the model dtmi:twinflow:plant:ProductionLine;1 of its target line-1 is not in the model set\)/);
        assert.ok(problems.every((p) => p.twinId !== undefined));
        return true;
      },
    );
  });

  test('tampered snapshots are refused too', () => {
    const graph = busyGraph(new ManualClock());
    const base = graph.snapshot();
    const tamper = (change: (s: TwinGraphSnapshot) => void): TwinGraphSnapshot => {
      const copy = JSON.parse(JSON.stringify(base)) as TwinGraphSnapshot;
      change(copy);
      return copy;
    };
    const expect = (snapshot: unknown, text: RegExp): void => {
      assert.throws(() => TwinGraph.restore(models(), snapshot as TwinGraphSnapshot), (err: unknown) => err instanceof TwinError && err.code === 'snapshot-invalid' && text.test(err.message));
    };
    expect({ format: 'other' }, /not a twinflow\/twin-graph snapshot/);
    expect(tamper((s) => ((s.twins[2]?.document.$telemetry['spindle/speed'] as { value: unknown }).value = 'fast')), /cnc-1 \(spindle\/speed: "fast" is not a double\)/);
    expect(tamper((s) => ((s.twins[2]?.document as Record<string, unknown>).rpm = 5)), /cnc-1 \(rpm: .* has no such Property\)/);
    expect(tamper((s) => delete (s.twins[2]?.document as Record<string, unknown>).coolant), /cnc-1 \(coolant: the Component is missing\)/);
    expect(tamper((s) => ((s.twins[2] as { version: number }).version = 0)), /cnc-1 \(version 0 is not a positive integer\)/);
    expect(tamper((s) => ((s.twins[5]?.document.$lifecycle as { stage: string }).stage = 'retired')), /tank \(\$lifecycle/);
    expect(tamper((s) => s.twins.push(s.twins[0] as never)), /hall-1 \(appears twice\)/);
    expect(tamper((s) => ((s.relationships[1] as Record<string, unknown>).position = 'first')), /line-1 \(relationship a: contains\/position: "first" is not an integer\)/);
    expect(tamper((s) => ((s.relationships[3] as Record<string, unknown>).$targetId = 'cnc-1')), /pump \(relationship f: target cnc-1 is a dtmi:twinflow:cnc:CNCMachine;1, not a dtmi:test:Tank;1\)/);
    expect(tamper((s) => (((s.twins[2]?.document.$metadata as Record<string, unknown>).machineState as Record<string, unknown>).desiredValue = 'idle')), /desired value, but the Property is not writable/);
  });

  test('an empty graph round-trips', () => {
    const graph = new TwinGraph(models());
    const restored = TwinGraph.restore(models(), JSON.parse(JSON.stringify(graph.snapshot())) as TwinGraphSnapshot);
    assert.equal(restored.size, 0);
    assert.deepEqual(restored.snapshot(), graph.snapshot());
  });
});
