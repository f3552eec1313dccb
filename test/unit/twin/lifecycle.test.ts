// ISO 23247 lifecycle: the transition table, and a decommissioned twin being read-only but kept.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyPatch, canTransition, LIFECYCLE_STAGES, LIFECYCLE_TRANSITIONS, type LifecycleStage } from '../../../nodes/lib/twin';
import { addMachine, assertRefused, CNC, LINE, newGraph } from './helpers';

const ALLOWED: [LifecycleStage, LifecycleStage][] = [
  ['design', 'deployment'],
  ['design', 'decommissioned'],
  ['deployment', 'operation'],
  ['deployment', 'design'],
  ['deployment', 'decommissioned'],
  ['operation', 'adaptation'],
  ['operation', 'decommissioned'],
  ['adaptation', 'operation'],
  ['adaptation', 'decommissioned'],
];

describe('lifecycle transitions', () => {
  test('the table is exactly the documented one', () => {
    for (const from of LIFECYCLE_STAGES) {
      for (const to of LIFECYCLE_STAGES) {
        const expected = ALLOWED.some(([a, b]) => a === from && b === to);
        assert.equal(canTransition(from, to), expected, `${from} → ${to}`);
      }
    }
    assert.deepEqual(LIFECYCLE_TRANSITIONS.decommissioned, []);
  });

  for (const [from, to] of ALLOWED) {
    test(`${from} → ${to} is applied with an event`, () => {
      const { graph, clock } = newGraph();
      // Reach `from` along allowed transitions.
      const path: Record<LifecycleStage, LifecycleStage[]> = {
        design: [],
        deployment: ['deployment'],
        operation: ['deployment', 'operation'],
        adaptation: ['deployment', 'operation', 'adaptation'],
        decommissioned: [],
      };
      graph.createTwin({ id: 't', model: CNC, stage: 'design' });
      for (const stage of path[from]) graph.setLifecycleStage('t', stage);
      const before = graph.getTwin('t');
      clock.advance(1000);
      const event = graph.setLifecycleStage('t', to, { actor: 'engineer' });
      assert.equal(event.kind, 'lifecycle');
      assert.deepEqual(event.lifecycle, { from, to });
      assert.equal(graph.getStage('t'), to);
      assert.deepEqual(graph.getTwin('t')?.$lifecycle, { stage: to, since: new Date(clock.now).toISOString() });
      assert.deepEqual(applyPatch(before, event.patch), graph.getTwin('t'));
    });
  }

  test('a transition the table does not allow is refused, naming the allowed ones', () => {
    const { graph } = newGraph();
    graph.createTwin({ id: 't', model: CNC, stage: 'design' });
    assertRefused(graph, () => graph.setLifecycleStage('t', 'operation'), 'lifecycle-transition', ['t: lifecycle transition design → operation is not allowed', 'from design a twin may go to deployment or decommissioned']);
    graph.setLifecycleStage('t', 'deployment');
    graph.setLifecycleStage('t', 'operation');
    assertRefused(graph, () => graph.setLifecycleStage('t', 'design'), 'lifecycle-transition', ['operation → design']);
    assertRefused(graph, () => graph.setLifecycleStage('t', 'operation'), 'lifecycle-transition', ['it is already in operation']);
    assertRefused(graph, () => graph.setLifecycleStage('t', 'retired' as never), 'lifecycle-stage', ['"retired"']);
  });
});

describe('a decommissioned twin', () => {
  function decommissioned() {
    const made = newGraph();
    const { graph } = made;
    graph.createTwin({ id: 'line-1', model: LINE });
    addMachine(graph, 'cnc-1');
    addMachine(graph, 'cnc-2');
    graph.setDesired('cnc-1', 'doorOpen', true);
    graph.createRelationship({ sourceId: 'line-1', relationshipId: 'r1', name: 'contains', targetId: 'cnc-1' });
    graph.decommission('cnc-1');
    graph.decommission('line-1');
    return made;
  }

  test('refuses every write with a clear error', () => {
    const { graph } = decommissioned();
    const writes: [string, () => unknown][] = [
      ['telemetry', () => graph.recordTelemetry('cnc-1', 'positionX', 1)],
      ['property', () => graph.reportProperty('cnc-1', 'doorOpen', true)],
      ['sample', () => graph.applySample('cnc-1', { path: 'positionX', value: 1 })],
      ['samples', () => graph.applySamples('cnc-1', [{ path: 'positionX', value: 1 }])],
      ['desired', () => graph.setDesired('cnc-1', 'doorOpen', false)],
      ['ack', () => graph.acknowledgeDesired('cnc-1', 'doorOpen', { version: 1, code: 200 })],
      ['command', () => graph.requestCommand('cnc-1', 'resetAlarm')],
      ['relationship create', () => graph.createRelationship({ sourceId: 'line-1', relationshipId: 'r2', name: 'contains', targetId: 'cnc-2' })],
      ['relationship delete', () => graph.deleteRelationship('line-1', 'r1')],
      ['lifecycle', () => graph.setLifecycleStage('cnc-1', 'operation')],
      ['decommission again', () => graph.decommission('cnc-1')],
    ];
    for (const [, write] of writes) assertRefused(graph, write, 'decommissioned', ['is decommissioned: it is read-only']);
  });

  test('is never deleted: it stays readable, listable and queryable, relationships included', () => {
    const { graph } = decommissioned();
    assert.equal(graph.getTwin('cnc-1')?.$lifecycle.stage, 'decommissioned');
    assert.deepEqual(graph.listTwins({ stage: 'decommissioned' }).map((t) => t.$dtId), ['line-1', 'cnc-1'], 'in creation order');
    assert.deepEqual(graph.query("SELECT T.$dtId FROM DIGITALTWINS T WHERE T.$lifecycle.stage = 'decommissioned'"), [{ $dtId: 'line-1' }, { $dtId: 'cnc-1' }]);
    assert.deepEqual(graph.related('line-1').map((t) => t.$dtId), ['cnc-1']);
    assertRefused(graph, () => graph.createTwin({ id: 'cnc-1', model: CNC }), 'twin-exists', ['decommissioned ones keep their id']);
  });
});
