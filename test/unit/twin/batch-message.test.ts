// The twin node's batch message (topic "samples") in its pure part, handleMessage: what goes on,
// what is refused and why, and which events are made, with and without telemetry events.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { handleMessage, type TwinNodeSettings } from '../../../nodes/twin/twin-node-core';
import { addMachine, CNC, newGraph } from './helpers';

const ONE: TwinNodeSettings = { scope: 'one', twinId: 'cnc-1', model: CNC, autoCreate: true };

describe('a batch message', () => {
  for (const withoutTelemetryEvents of [false, true]) {
    const mode = withoutTelemetryEvents ? 'without telemetry events' : 'with events';

    test(`${mode}: a twin made on first use keeps its creation event when no onCreated is given`, () => {
      const { graph } = newGraph();
      const outcome = handleMessage(graph, { topic: 'samples', payload: [{ topic: 'positionX', payload: 1, quality: 'good' }] }, ONE, { withoutTelemetryEvents });
      assert.equal(outcome.events[0]?.kind, 'create');
      assert.equal(outcome.events.length, withoutTelemetryEvents ? 1 : 2);
      assert.equal(graph.read('cnc-1', 'positionX').value, 1);
    });

    test(`${mode}: a batch accepted whole goes on as it came; one without quality is copied to say good`, () => {
      const { graph } = newGraph();
      addMachine(graph);
      const given = [{ topic: 'positionX', payload: 1, quality: 'good' as const, opcua: { statusCode: 0 } }, { topic: 'positionX', payload: 2, sourceTime: Date.UTC(2024, 0, 1), quality: 'bad' as const }];
      const whole = handleMessage(graph, { topic: 'samples', payload: given }, ONE, { withoutTelemetryEvents });
      assert.equal(whole.accepted?.payload, given, 'the same array, no copy');
      const mixed = handleMessage(graph, { topic: 'samples', payload: [given[0], { topic: 'positionX', payload: 3 }] }, ONE, { withoutTelemetryEvents });
      const accepted = mixed.accepted?.payload as unknown[];
      assert.equal(accepted[0], given[0], 'a sample with its quality goes on as it came');
      assert.deepEqual(accepted[1], { topic: 'positionX', payload: 3, quality: 'good' });
      assert.equal(graph.read('cnc-1', 'positionX').value, 3);
    });

    test(`${mode}: refused samples go to the second output with their reasons and change nothing; the rest are applied`, () => {
      const { graph } = newGraph();
      addMachine(graph);
      const outcome = handleMessage(graph, { topic: 'samples', payload: [
        { topic: 'positionX', payload: 'far', quality: 'good' },
        { topic: 'positionX', payload: 4, quality: 'good' },
        { topic: 'startCycle', payload: 1, quality: 'good' },
      ] }, ONE, { withoutTelemetryEvents });
      assert.deepEqual((outcome.accepted?.payload as { payload: unknown }[]).map((s) => s.payload), [4]);
      const refused = outcome.rejected?.payload as { topic: string; error: { code: string } }[];
      assert.deepEqual(refused.map((r) => [r.topic, r.error.code]), [['positionX', 'value-type'], ['startCycle', 'path-kind']]);
      assert.match((outcome.rejected?.error as { message: string }).message, /^2 of 3 samples refused: positionX/);
      assert.equal(graph.read('cnc-1', 'positionX').value, 4);
    });

    test(`${mode}: a decommissioned twin refuses every sample of the batch, for that reason`, () => {
      const { graph } = newGraph();
      addMachine(graph);
      graph.setLifecycleStage('cnc-1', 'decommissioned');
      const before = graph.getTwin('cnc-1');
      const outcome = handleMessage(graph, { topic: 'samples', payload: [{ topic: 'positionX', payload: 1, quality: 'good' }, { topic: 'positionX', payload: 2 }] }, ONE, { withoutTelemetryEvents });
      assert.equal(outcome.accepted, undefined);
      assert.deepEqual((outcome.rejected?.payload as { error: { code: string } }[]).map((r) => r.error.code), ['decommissioned', 'decommissioned']);
      assert.deepEqual(outcome.events, []);
      assert.deepEqual(graph.getTwin('cnc-1'), before);
    });
  }
});
