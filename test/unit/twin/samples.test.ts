// Telemetry samples and reported properties: state, metadata, events, and every refusal.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyPatch } from '../../../nodes/lib/twin';
import { addMachine, assertRefused, CNC, newGraph, PUMP } from './helpers';

describe('recordTelemetry', () => {
  test('keeps the last value, sourceTime and quality per telemetry under $telemetry, by path', () => {
    const { graph, clock } = newGraph();
    addMachine(graph);
    const before = graph.getTwin('cnc-1');
    clock.advance(1000);
    const sourceTime = clock.now - 40;
    const event = graph.recordTelemetry('cnc-1', 'spindle/speed', 8000.5, { sourceTime, quality: 'uncertain', actor: 'opcua-in' });
    const iso = new Date(clock.now).toISOString();
    const sample = { value: 8000.5, lastUpdateTime: iso, sourceTime: new Date(sourceTime).toISOString(), quality: 'uncertain' };
    assert.deepEqual(graph.getTwin('cnc-1')?.$telemetry, { 'spindle/speed': sample });
    assert.deepEqual(event, {
      twinId: 'cnc-1',
      kind: 'telemetry',
      path: 'spindle/speed',
      etag: graph.getEtag('cnc-1'),
      version: 2,
      time: clock.now,
      sourceTime,
      actor: 'opcua-in',
      patch: [
        { op: 'add', path: '/$telemetry/spindle~1speed', value: sample },
        { op: 'replace', path: '/$etag', value: graph.getEtag('cnc-1') },
        { op: 'replace', path: '/$metadata/$lastUpdateTime', value: iso },
      ],
    });
    assert.notEqual(event.etag, before?.$etag);
    assert.deepEqual(applyPatch(before, event.patch), graph.getTwin('cnc-1'));
    assert.deepEqual(JSON.parse(JSON.stringify(event)), event, 'events are plain JSON');
  });

  test('a second sample replaces the first; quality defaults to good; no sourceTime means none is kept', () => {
    const { graph } = newGraph();
    addMachine(graph);
    graph.recordTelemetry('cnc-1', 'positionX', 1, { sourceTime: 5 });
    const event = graph.recordTelemetry('cnc-1', 'positionX', 2);
    assert.equal(event.patch[0]?.op, 'replace');
    const reading = graph.read('cnc-1', 'positionX');
    assert.equal(reading.value, 2);
    assert.equal(reading.quality, 'good');
    assert.equal(reading.sourceTime, undefined);
    assert.equal(event.sourceTime, undefined);
  });

  test('what a sample hands out (events, reads, copies) is not changed by later samples, nor changes the twin', () => {
    const { graph } = newGraph();
    addMachine(graph);
    const first = graph.recordTelemetry('cnc-1', 'positionX', 1, { sourceTime: 5, quality: 'uncertain' });
    const copy = graph.getTwin('cnc-1');
    const second = graph.recordTelemetry('cnc-1', 'positionX', 2, { sourceTime: 6 });
    const valueOf = (op: unknown) => (op as { value: { value: number; sourceTime?: string; quality: string } }).value;
    assert.equal(valueOf(first.patch[0]).value, 1);
    assert.equal(valueOf(first.patch[0]).sourceTime, new Date(5).toISOString());
    assert.equal(valueOf(first.patch[0]).quality, 'uncertain');
    assert.equal(copy?.$telemetry.positionX?.value, 1);
    // A flow that edits an event it was sent must not reach into the twin.
    valueOf(second.patch[0]).value = 99;
    assert.equal(graph.read('cnc-1', 'positionX').value, 2);
    assert.equal(graph.getTwin('cnc-1')?.$telemetry.positionX?.sourceTime, new Date(6).toISOString());
    // Without a sourceTime the stored sample loses it; with one again it has it again.
    graph.recordTelemetry('cnc-1', 'positionX', 3);
    assert.deepEqual(Object.keys(graph.getTwin('cnc-1')?.$telemetry.positionX ?? {}).sort(), ['lastUpdateTime', 'quality', 'value']);
    graph.recordTelemetry('cnc-1', 'positionX', 4, { sourceTime: 7 });
    assert.equal(graph.read('cnc-1', 'positionX').sourceTime, new Date(7).toISOString());
  });

  test('versions are gap-free and every event has a new etag', () => {
    const { graph } = newGraph();
    addMachine(graph);
    const etags = new Set([graph.getEtag('cnc-1')]);
    for (let i = 0; i < 20; i++) {
      const event = graph.recordTelemetry('cnc-1', 'coolant/temperature', 20 + i);
      assert.equal(event.version, i + 2);
      etags.add(event.etag);
    }
    assert.equal(etags.size, 21);
  });

  describe('refusals change nothing', () => {
    test('a value of the wrong type', () => {
      const { graph } = newGraph();
      addMachine(graph);
      const err = assertRefused(graph, () => graph.recordTelemetry('cnc-1', 'spindle/speed', 'fast'), 'value-type', ['spindle/speed: "fast" is not a double']);
      assert.equal(err.twinId, 'cnc-1');
      assert.equal(err.path, 'spindle/speed');
    });

    test('an unknown name lists the contents', () => {
      const { graph } = newGraph();
      addMachine(graph);
      assertRefused(graph, () => graph.recordTelemetry('cnc-1', 'rpm', 1), 'path-unknown', ['rpm', 'no content named rpm', 'positionX']);
    });

    test('bad component paths', () => {
      const { graph } = newGraph();
      addMachine(graph);
      assertRefused(graph, () => graph.recordTelemetry('cnc-1', 'spindle/rpm', 1), 'path-unknown', ['spindle/rpm', 'Component spindle (dtmi:twinflow:cnc:Spindle;1) has no content named rpm', 'speed']);
      assertRefused(graph, () => graph.recordTelemetry('cnc-1', 'gearbox/speed', 1), 'path-unknown', ['gearbox/speed', 'no content named gearbox']);
      assertRefused(graph, () => graph.recordTelemetry('cnc-1', 'positionX/value', 1), 'path-unknown', ['positionX is a Telemetry, not a Component']);
      assertRefused(graph, () => graph.recordTelemetry('cnc-1', 'spindle/speed/x', 1), 'path-unknown', ['at most one Component deep']);
      assertRefused(graph, () => graph.recordTelemetry('cnc-1', 'spindle', 1), 'path-kind', ['spindle is a Component', 'spindle/<name>']);
      assertRefused(graph, () => graph.recordTelemetry('cnc-1', '', 1), 'input-invalid', ['non-empty']);
    });

    test('a property, a command or a relationship recorded as telemetry', () => {
      const { graph } = newGraph();
      addMachine(graph);
      assertRefused(graph, () => graph.recordTelemetry('cnc-1', 'doorOpen', true), 'path-kind', ['doorOpen: is a Property, not a Telemetry', 'report it as a property']);
      assertRefused(graph, () => graph.recordTelemetry('cnc-1', 'startCycle', 'P1'), 'path-kind', ['startCycle: is a Command', 'request it as a command']);
    });

    test('a bad sourceTime or quality', () => {
      const { graph } = newGraph();
      addMachine(graph);
      assertRefused(graph, () => graph.recordTelemetry('cnc-1', 'positionX', 1, { sourceTime: -1 }), 'input-invalid', ['positionX: sourceTime -1']);
      assertRefused(graph, () => graph.recordTelemetry('cnc-1', 'positionX', 1, { sourceTime: '2024' as never }), 'input-invalid', ['sourceTime "2024"']);
      assertRefused(graph, () => graph.recordTelemetry('cnc-1', 'positionX', 1, { quality: 'ok' as never }), 'input-invalid', ['quality "ok" is not good, uncertain or bad']);
    });

    test('an unknown twin', () => {
      const { graph } = newGraph();
      assertRefused(graph, () => graph.recordTelemetry('ghost', 'positionX', 1), 'twin-unknown', ['there is no twin "ghost"']);
    });

    test('a stale etag', () => {
      const { graph } = newGraph();
      addMachine(graph);
      const etag = graph.getEtag('cnc-1');
      graph.recordTelemetry('cnc-1', 'positionX', 1, { ifMatch: etag });
      assertRefused(graph, () => graph.recordTelemetry('cnc-1', 'positionX', 2, { ifMatch: etag }), 'etag-mismatch', ['cnc-1', `ifMatch ${JSON.stringify(etag)} is stale`, graph.getEtag('cnc-1')]);
      graph.recordTelemetry('cnc-1', 'positionX', 3, { ifMatch: '*' });
    });
  });
});

describe('reportProperty', () => {
  test('sets the value and $metadata lastUpdateTime and sourceTime, with a patch that reproduces the document', () => {
    const { graph, clock } = newGraph();
    addMachine(graph);
    const before = graph.getTwin('cnc-1');
    clock.advance(50);
    const event = graph.reportProperty('cnc-1', 'spindle/speedSetpoint', 9000, { sourceTime: clock.now - 5 });
    const after = graph.getTwin('cnc-1') as Record<string, Record<string, unknown>>;
    assert.equal(after.spindle?.speedSetpoint, 9000);
    assert.deepEqual((after.spindle?.$metadata as Record<string, unknown>).speedSetpoint, {
      lastUpdateTime: new Date(clock.now).toISOString(),
      sourceTime: new Date(clock.now - 5).toISOString(),
    });
    assert.equal(event.kind, 'property');
    assert.equal(event.path, 'spindle/speedSetpoint');
    assert.deepEqual(applyPatch(before, event.patch), after);
  });

  test('a later report without sourceTime removes the old sourceTime', () => {
    const { graph, clock } = newGraph();
    addMachine(graph);
    graph.reportProperty('cnc-1', 'machineState', 'running', { sourceTime: 10 });
    const before = graph.getTwin('cnc-1');
    clock.advance(1);
    const event = graph.reportProperty('cnc-1', 'machineState', 'idle');
    assert.ok(event.patch.some((op) => op.op === 'remove' && op.path === '/$metadata/machineState/sourceTime'));
    assert.deepEqual(applyPatch(before, event.patch), graph.getTwin('cnc-1'));
    assert.deepEqual(graph.read('cnc-1', 'machineState').metadata, { lastUpdateTime: new Date(clock.now).toISOString() });
  });

  test('non-writable properties can be reported', () => {
    const { graph } = newGraph();
    addMachine(graph);
    graph.reportProperty('cnc-1', 'spindle/maxSpeed', 20000);
    assert.equal(graph.read('cnc-1', 'spindle/maxSpeed').value, 20000);
  });

  test('refusals: wrong type, enum value, telemetry, unknown field of an object, stale etag', () => {
    const { graph } = newGraph();
    addMachine(graph);
    graph.createTwin({ id: 'p1', model: PUMP });
    assertRefused(graph, () => graph.reportProperty('cnc-1', 'doorOpen', 'yes'), 'value-type', ['doorOpen: "yes" is not a boolean']);
    assertRefused(graph, () => graph.reportProperty('cnc-1', 'machineState', 'flying'), 'value-enum', ['machineState: "flying" is not one of the Enum values']);
    assertRefused(graph, () => graph.reportProperty('cnc-1', 'positionX', 1), 'path-kind', ['positionX: is a Telemetry, not a Property']);
    assertRefused(graph, () => graph.reportProperty('p1', 'config', { mode: 'a', speed: 1 }), 'value-unknown-field', ['config: unknown field "speed"']);
    assertRefused(graph, () => graph.reportProperty('cnc-1', 'doorOpen', true, { ifMatch: 'W/"nope"' }), 'etag-mismatch', ['is stale']);
  });
});

describe('applySample and applySamples', () => {
  test('a sample message goes to telemetry or property by what the model says the path is', () => {
    const { graph } = newGraph();
    addMachine(graph);
    assert.equal(graph.applySample('cnc-1', { path: 'spindle/speed', value: 100, quality: 'bad' }).kind, 'telemetry');
    assert.equal(graph.applySample('cnc-1', { path: 'activeProgram', value: 'O1000', sourceTime: 1 }).kind, 'property');
    assert.equal(graph.read('cnc-1', 'spindle/speed').quality, 'bad');
    assertRefused(graph, () => graph.applySample('cnc-1', { path: 'startCycle', value: 'x' }), 'path-kind', ['startCycle: is a Command, not a Telemetry or Property']);
  });

  test('a batch is all or nothing: one bad sample and none is applied', () => {
    const { graph } = newGraph();
    addMachine(graph);
    assertRefused(
      graph,
      () =>
        graph.applySamples('cnc-1', [
          { path: 'positionX', value: 1 },
          { path: 'positionY', value: 2 },
          { path: 'positionZ', value: 'three' },
        ]),
      'value-type',
      ['positionZ: "three" is not a double'],
    );
    const events = graph.applySamples('cnc-1', [
      { path: 'positionX', value: 1 },
      { path: 'doorOpen', value: true },
    ]);
    assert.deepEqual(
      events.map((e) => [e.kind, e.version]),
      [
        ['telemetry', 2],
        ['property', 3],
      ],
    );
  });

  test('read gives one value without copying the twin, and refuses commands', () => {
    const { graph } = newGraph();
    addMachine(graph);
    assert.deepEqual(graph.read('cnc-1', 'positionX'), { path: 'positionX', kind: 'Telemetry', value: undefined });
    assertRefused(graph, () => graph.read('cnc-1', 'startCycle'), 'path-kind');
    assert.equal(graph.getModel('cnc-1'), CNC);
  });
});

describe('prepare', () => {
  test('readies every model at deploy without changing the graph, and a prepared graph judges samples exactly as before', () => {
    const { graph } = newGraph();
    const { graph: unprepared } = newGraph();
    const empty = JSON.stringify(graph.snapshot());
    graph.prepare();
    graph.prepare('dtmi:test:NotInTheSet;1');
    assert.equal(JSON.stringify(graph.snapshot()), empty, 'preparing creates no twin and changes no state');
    for (const g of [graph, unprepared]) addMachine(g);
    const samples = [
      { path: 'spindle/speed', value: 9000 },
      { path: 'spindle/speed', value: 'fast' },
      { path: 'coolant/temperature', value: 21.5 },
      { path: 'nowhere', value: 1 },
    ];
    const outcome = (g: typeof graph) => samples.map((s) => {
      try {
        return g.applySample('cnc-1', s).path;
      } catch (err) {
        return (err as Error).message;
      }
    });
    assert.deepEqual(outcome(graph), outcome(unprepared));
    assert.match(outcome(graph)[1]!, /spindle\/speed: "fast" is not a double/);
  });
});

describe('negative zero', () => {
  test('is kept as 0, which JSON can carry, in the twin, its events and their patches', () => {
    const { graph } = newGraph();
    addMachine(graph);
    const telemetry = graph.recordTelemetry('cnc-1', 'spindle/speed', -0);
    const property = graph.applySample('cnc-1', { path: 'spindle/maxSpeed', value: -0 });
    for (const event of [telemetry, property]) assert.deepEqual(JSON.parse(JSON.stringify(event)), event, 'events are plain JSON');
    assert.ok(Object.is(graph.getTwin('cnc-1')?.$telemetry['spindle/speed']?.value, 0));
    assert.ok(Object.is((graph.getTwin('cnc-1')?.spindle as Record<string, unknown>).maxSpeed, 0));
  });
});

describe('sampleBatch', () => {
  test('changes the twin exactly as applySampleParts does, without making a telemetry event', () => {
    const withEvents = newGraph();
    const without = newGraph();
    for (const { graph } of [withEvents, without]) addMachine(graph);
    const samples: [string, unknown, number | undefined, 'good' | 'bad' | undefined][] = [
      ['spindle/speed', 8000.5, Date.UTC(2024, 0, 1) - 40, 'uncertain' as 'good'],
      ['positionX', 12.5, undefined, undefined],
      ['spindle/speed', 8100, Date.UTC(2024, 0, 1) + 960, 'good'],
      ['positionX', -3, Date.UTC(2024, 0, 1) + 990, 'bad'],
    ];
    for (const [path, value, sourceTime, quality] of samples) {
      withEvents.clock.advance(1000);
      without.clock.advance(1000);
      assert.equal(withEvents.graph.applySampleParts('cnc-1', path, value, sourceTime, quality).kind, 'telemetry');
      // A batch of one sample each: each takes its own time, as each applySampleParts does.
      const batch = without.graph.sampleBatch('cnc-1');
      assert.equal(batch.apply(path, value, sourceTime, quality), undefined);
      batch.finish();
    }
    // Each graph has its own etag prefix; the rest of the document, the version and the etag's
    // version part must match.
    const { $etag: etagWithout, ...docWithout } = without.graph.getTwin('cnc-1')!;
    const { $etag: etagWith, ...docWith } = withEvents.graph.getTwin('cnc-1')!;
    assert.deepEqual(docWithout, docWith);
    assert.equal(without.graph.getVersion('cnc-1'), withEvents.graph.getVersion('cnc-1'));
    assert.equal(without.graph.getVersion('cnc-1'), 5);
    assert.match(String(etagWithout), /-5"$/);
    assert.match(String(etagWith), /-5"$/);
    assert.equal(without.graph.read('cnc-1', 'spindle/speed').quality, 'good');
  });

  test('one batch: a version per sample, the etag and last update time set once by finish, a property event in between that matches the twin', () => {
    const { graph, clock } = newGraph();
    addMachine(graph);
    clock.advance(1000);
    const etagBefore = graph.getEtag('cnc-1');
    const batch = graph.sampleBatch('cnc-1', { actor: 'opcua-in' });
    batch.apply('spindle/speed', 100, clock.now - 5, 'good');
    const event = batch.apply('activeProgram', 'O1000', undefined, undefined);
    assert.equal(event?.kind, 'property');
    assert.equal(event?.version, 3);
    assert.equal(event?.etag, graph.getEtag('cnc-1'), 'the property event says the etag the twin has after it');
    batch.apply('positionX', 1, undefined, undefined);
    batch.apply('positionX', 2, undefined, undefined);
    batch.finish();
    assert.equal(graph.getVersion('cnc-1'), 5);
    assert.notEqual(graph.getEtag('cnc-1'), etagBefore);
    assert.match(String(graph.getEtag('cnc-1')), /-5"$/);
    const twin = graph.getTwin('cnc-1')!;
    assert.equal(twin.$metadata.$lastUpdateTime, new Date(clock.now).toISOString());
    assert.equal(twin.$telemetry.positionX?.value, 2);
    // Finishing again, or a batch with nothing applied, changes nothing.
    const settled = graph.getTwin('cnc-1');
    batch.finish();
    graph.sampleBatch('cnc-1').finish();
    assert.deepEqual(graph.getTwin('cnc-1'), settled);
  });

  test('a refused sample changes nothing, and a twin that takes no changes refuses the batch', () => {
    const { graph } = newGraph();
    addMachine(graph);
    const batch = graph.sampleBatch('cnc-1');
    assertRefused(graph, () => batch.apply('spindle/speed', 'fast', undefined, undefined), 'value-type', ['spindle/speed']);
    assertRefused(graph, () => batch.apply('startCycle', 1, undefined, undefined), 'path-kind', ['startCycle: is a Command']);
    assertRefused(graph, () => batch.apply('positionX', 1, Number.NaN, undefined), 'input-invalid', ['sourceTime']);
    assertRefused(graph, () => batch.apply('positionX', 1, undefined, 'fine' as 'good'), 'input-invalid', ['quality']);
    batch.finish();
    assertRefused(graph, () => graph.sampleBatch('nobody'), 'twin-unknown', ['nobody']);
    graph.setLifecycleStage('cnc-1', 'decommissioned');
    assertRefused(graph, () => graph.sampleBatch('cnc-1'), 'decommissioned', ['cnc-1']);
  });
});
