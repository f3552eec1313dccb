// Relationships: create, delete, lookups, and the model's rules (target, multiplicity, properties).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyPatch } from '../../../nodes/lib/twin';
import { addMachine, assertRefused, BASE, CNC, CNC2, HALL, LINE, newGraph, PUMP, TANK, VALVE } from './helpers';

function plant() {
  const made = newGraph();
  const { graph } = made;
  graph.createTwin({ id: 'hall-1', model: HALL });
  graph.createTwin({ id: 'line-1', model: LINE });
  addMachine(graph, 'cnc-1');
  addMachine(graph, 'cnc-2');
  return made;
}

describe('createRelationship', () => {
  test('creates the ADT relationship, validated properties included, and an event on the source twin', () => {
    const { graph } = plant();
    const before = graph.getTwin('line-1');
    const event = graph.createRelationship({ sourceId: 'line-1', relationshipId: 'line-1-cnc-1', name: 'contains', targetId: 'cnc-1', properties: { position: 1 } }, { actor: 'engineer' });
    const rel = { $relationshipId: 'line-1-cnc-1', $sourceId: 'line-1', $targetId: 'cnc-1', $relationshipName: 'contains', position: 1 };
    assert.deepEqual(graph.getRelationship('line-1', 'line-1-cnc-1'), rel);
    assert.equal(event.kind, 'relationship');
    assert.equal(event.twinId, 'line-1');
    assert.equal(event.path, 'contains');
    assert.equal(event.version, 2);
    assert.deepEqual(event.relationship, { op: 'create', value: rel });
    assert.deepEqual(applyPatch(before, event.patch), graph.getTwin('line-1'));
    assert.equal(graph.getVersion('cnc-1'), 1, 'the target twin does not change');
  });

  test('outgoing, incoming and related twins, with a name filter', () => {
    const { graph } = plant();
    graph.createRelationship({ sourceId: 'hall-1', relationshipId: 'h1', name: 'contains', targetId: 'line-1' });
    graph.createRelationship({ sourceId: 'line-1', relationshipId: 'a', name: 'contains', targetId: 'cnc-1', properties: { position: 1 } });
    graph.createRelationship({ sourceId: 'line-1', relationshipId: 'b', name: 'contains', targetId: 'cnc-2', properties: { position: 2 } });
    assert.deepEqual(graph.listOutgoing('line-1').map((r) => r.$targetId), ['cnc-1', 'cnc-2']);
    assert.deepEqual(graph.listOutgoing('line-1', 'other'), []);
    assert.deepEqual(graph.listIncoming('cnc-2').map((r) => r.$sourceId), ['line-1']);
    assert.deepEqual(graph.listIncoming('line-1', 'contains').map((r) => r.$relationshipId), ['h1']);
    assert.deepEqual(graph.related('line-1').map((t) => t.$dtId), ['cnc-1', 'cnc-2']);
    assert.deepEqual(graph.related('cnc-1', { direction: 'in', name: 'contains' }).map((t) => t.$dtId), ['line-1']);
    assert.deepEqual(graph.related('cnc-1', { direction: 'in', name: 'feeds' }), []);
    assertRefused(graph, () => graph.listOutgoing('ghost'), 'twin-unknown');
  });

  test('a target of a model extending the required one is accepted; a relationship without target takes any twin', () => {
    const { graph } = newGraph();
    graph.createTwin({ id: 'pump', model: PUMP });
    graph.createTwin({ id: 'tank', model: TANK });
    graph.createTwin({ id: 'valve', model: VALVE });
    graph.createRelationship({ sourceId: 'pump', relationshipId: 'f1', name: 'feeds', targetId: 'tank', properties: { weight: 0.5 } });
    graph.createRelationship({ sourceId: 'pump', relationshipId: 'n1', name: 'near', targetId: 'valve' });
    graph.createRelationship({ sourceId: 'tank', relationshipId: 'self', name: 'near', targetId: 'tank' });
    assert.deepEqual(graph.related('tank', { direction: 'in' }).map((t) => t.$dtId), ['pump', 'tank']);
  });

  describe('refusals change nothing', () => {
    test('a target whose model does not satisfy the relationship target', () => {
      const { graph } = plant();
      graph.createTwin({ id: 'cnc-v2', model: CNC2 });
      assertRefused(graph, () => graph.createRelationship({ sourceId: 'hall-1', relationshipId: 'x', name: 'contains', targetId: 'cnc-1' }), 'relationship-target-model', [
        'contains: target cnc-1 is a dtmi:twinflow:cnc:CNCMachine;1',
        'needs a dtmi:twinflow:plant:ProductionLine;1',
      ]);
      assertRefused(graph, () => graph.createRelationship({ sourceId: 'line-1', relationshipId: 'x', name: 'contains', targetId: 'cnc-v2' }), 'relationship-target-model', [CNC2, CNC]);
    });

    test('maxMultiplicity exceeded', () => {
      const { graph } = newGraph();
      graph.createTwin({ id: 'pump', model: PUMP });
      for (const id of ['t1', 't2', 't3']) graph.createTwin({ id, model: TANK });
      graph.createRelationship({ sourceId: 'pump', relationshipId: 'f1', name: 'feeds', targetId: 't1' });
      graph.createRelationship({ sourceId: 'pump', relationshipId: 'f2', name: 'feeds', targetId: 't2' });
      assertRefused(graph, () => graph.createRelationship({ sourceId: 'pump', relationshipId: 'f3', name: 'feeds', targetId: 't3' }), 'relationship-multiplicity', ['feeds: pump has 2 already', 'maxMultiplicity 2']);
      graph.deleteRelationship('pump', 'f1');
      graph.createRelationship({ sourceId: 'pump', relationshipId: 'f3', name: 'feeds', targetId: 't3' });
    });

    test('an unknown relationship name, or a name that is not a Relationship', () => {
      const { graph } = plant();
      assertRefused(graph, () => graph.createRelationship({ sourceId: 'line-1', relationshipId: 'x', name: 'holds', targetId: 'cnc-1' }), 'relationship-name', ['"holds"', 'its relationships are contains']);
      assertRefused(graph, () => graph.createRelationship({ sourceId: 'cnc-1', relationshipId: 'x', name: 'doorOpen', targetId: 'cnc-2' }), 'relationship-name', ['its relationships are none']);
    });

    test('properties: unknown name, wrong type', () => {
      const { graph } = plant();
      assertRefused(graph, () => graph.createRelationship({ sourceId: 'line-1', relationshipId: 'x', name: 'contains', targetId: 'cnc-1', properties: { slot: 1 } }), 'path-unknown', ['contains/slot', 'its properties are position']);
      assertRefused(graph, () => graph.createRelationship({ sourceId: 'line-1', relationshipId: 'x', name: 'contains', targetId: 'cnc-1', properties: { position: 1.5 } }), 'value-type', ['contains/position: 1.5 is not an integer']);
    });

    test('a missing target, a duplicate id, a bad id, a stale etag', () => {
      const { graph } = plant();
      assertRefused(graph, () => graph.createRelationship({ sourceId: 'line-1', relationshipId: 'x', name: 'contains', targetId: 'cnc-9' }), 'relationship-target', ['target twin "cnc-9" does not exist']);
      assertRefused(graph, () => graph.createRelationship({ sourceId: 'line-9', relationshipId: 'x', name: 'contains', targetId: 'cnc-1' }), 'twin-unknown');
      graph.createRelationship({ sourceId: 'line-1', relationshipId: 'x', name: 'contains', targetId: 'cnc-1' });
      assertRefused(graph, () => graph.createRelationship({ sourceId: 'line-1', relationshipId: 'x', name: 'contains', targetId: 'cnc-2' }), 'relationship-exists', ['relationship x exists already']);
      assertRefused(graph, () => graph.createRelationship({ sourceId: 'line-1', relationshipId: '', name: 'contains', targetId: 'cnc-2' }), 'id-invalid', ['relationship id']);
      assertRefused(graph, () => graph.createRelationship({ sourceId: 'line-1', relationshipId: 'y', name: 'contains', targetId: 'cnc-2' }, { ifMatch: 'W/"old"' }), 'etag-mismatch');
    });

    test('a decommissioned target takes no new relationships', () => {
      const { graph } = plant();
      graph.decommission('cnc-2');
      assertRefused(graph, () => graph.createRelationship({ sourceId: 'line-1', relationshipId: 'x', name: 'contains', targetId: 'cnc-2' }), 'relationship-target', ['cnc-2 is decommissioned']);
    });
  });
});

describe('deleteRelationship', () => {
  test('removes it from both ends, with an event carrying what was deleted', () => {
    const { graph } = plant();
    graph.createRelationship({ sourceId: 'line-1', relationshipId: 'r', name: 'contains', targetId: 'cnc-1', properties: { position: 3 } });
    const before = graph.getTwin('line-1');
    const event = graph.deleteRelationship('line-1', 'r');
    assert.deepEqual(event.relationship, { op: 'delete', value: { $relationshipId: 'r', $sourceId: 'line-1', $targetId: 'cnc-1', $relationshipName: 'contains', position: 3 } });
    assert.deepEqual(applyPatch(before, event.patch), graph.getTwin('line-1'));
    assert.deepEqual(graph.listOutgoing('line-1'), []);
    assert.deepEqual(graph.listIncoming('cnc-1'), []);
    assert.equal(graph.getRelationship('line-1', 'r'), undefined);
  });

  test('an unknown relationship id is refused, naming the ones there are', () => {
    const { graph } = plant();
    graph.createRelationship({ sourceId: 'line-1', relationshipId: 'r', name: 'contains', targetId: 'cnc-1' });
    assertRefused(graph, () => graph.deleteRelationship('line-1', 'q'), 'relationship-unknown', ['no relationship "q"', 'it has r']);
  });

  test('listing twins by model includes derived models unless exact', () => {
    const { graph } = newGraph();
    graph.createTwin({ id: 'pump', model: PUMP });
    graph.createTwin({ id: 'tank', model: TANK });
    graph.createTwin({ id: 'base', model: BASE, stage: 'design' });
    graph.createTwin({ id: 'valve', model: VALVE });
    assert.deepEqual(graph.listTwins({ model: BASE }).map((t) => t.$dtId), ['pump', 'tank', 'base']);
    assert.deepEqual(graph.listTwins({ model: BASE, exact: true }).map((t) => t.$dtId), ['base']);
    assert.deepEqual(graph.listTwins({ stage: 'design' }).map((t) => t.$dtId), ['base']);
    assert.equal(graph.listTwins().length, 4);
    assert.equal(graph.listTwins({ model: CNC }).length, 0);
  });
});
