// Node-RED adapter for the twin node: validates every input against the model through the shared
// twin graph, sends what was accepted (with its JSON Patch change event), what was refused (with the
// reason) and stale alerts, and keeps its status honest.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { StalenessTransition } from '../lib/twin';
import { messageDigest, toChangeEvent, type LogContext } from '../lib/eventlog';
import type { TwinGraphNode } from '../twin-graph/twin-graph-node';
import { errorInfo, handleMessage, type TwinNodeSettings } from './twin-node-core';
import { staleAlert } from './stale-alerts';

interface TwinDef extends NodeDef {
  graph: string;
  scope: 'one' | 'model' | 'any';
  twinId: string;
  model: string;
  autoCreate: boolean;
}

export = function register(RED: NodeAPI): void {
  function Twin(this: Node, config: TwinDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const graphNode = RED.nodes.getNode(config.graph) as TwinGraphNode | null;
    const settings: TwinNodeSettings = {
      scope: config.scope === 'model' || config.scope === 'any' ? config.scope : 'one',
      twinId: (config.twinId ?? '').trim(),
      model: (config.model ?? '').trim(),
      autoCreate: config.autoCreate !== false,
    };
    let configError: string | undefined;
    if (!graphNode) configError = 'graph: choose a twin graph';
    else if (settings.scope === 'one' && !settings.twinId) configError = 'twinId: the twin this node addresses is required';
    else if (!settings.model && settings.scope !== 'any') configError = 'model: the DTMI of the twin model is required';
    if (!configError && settings.model && graphNode?.graph && !graphNode.models?.registry.model?.interfaces.has(settings.model)) {
      configError = `model: ${settings.model} is not among the loaded models`;
    }

    let accepted = 0;
    let refused = 0;
    let staleNow = new Map<string, StalenessTransition>();
    const mine = (twinId: string, model: string) =>
      settings.scope === 'one' ? twinId === settings.twinId
        : settings.scope === 'any' ? true
          : graphNode?.models?.registry.model?.isOfModel(model, settings.model) === true;

    const showStatus = () => {
      if (configError) return node.status({ fill: 'red', shape: 'ring', text: configError });
      if (!graphNode?.graph) return node.status({ fill: 'red', shape: 'ring', text: graphNode?.problem ?? 'no twin graph' });
      const who = settings.scope === 'one' ? settings.twinId : settings.scope === 'any' ? `${graphNode.graph.size} twins` : `all ${settings.model.replace(/^dtmi:/, '')}`;
      const stage = settings.scope === 'one' && graphNode.graph.has(settings.twinId) ? ` · ${graphNode.graph.getStage(settings.twinId)}` : '';
      const counts = ` · ${accepted} ok${refused > 0 ? ` · ${refused} refused` : ''}`;
      if (staleNow.size > 0) {
        const first = staleNow.values().next().value as StalenessTransition;
        return node.status({ fill: 'yellow', shape: 'dot', text: `stale: ${first.path} ${Math.round(first.age / 1000)} s old${staleNow.size > 1 ? ` (+${staleNow.size - 1})` : ''}` });
      }
      node.status({ fill: refused > 0 ? 'yellow' : 'green', shape: 'dot', text: `${who}${stage}${counts}` });
    };
    showStatus();
    let statusTimer: NodeJS.Timeout | undefined = setInterval(showStatus, 1000);

    const onStaleness = (transitions: StalenessTransition[]) => {
      for (const t of transitions) {
        if (!mine(t.twinId, t.model)) continue;
        const key = `${t.twinId}/${t.path}`;
        if (t.stale) staleNow.set(key, t);
        else staleNow.delete(key);
        node.send([null, null, staleAlert(t, node.id)]);
      }
      showStatus();
    };
    graphNode?.on('staleness', onStaleness);

    node.on('input', (msg: NodeMessageInFlow & Record<string, unknown>, send, done) => {
      try {
        if (configError) throw new Error(`twin: ${configError}`);
        const graph = graphNode?.graph;
        if (!graph) throw new Error(`twin: ${graphNode?.problem ?? 'no twin graph'}`);
        if (msg.models !== undefined) {
          if (!Array.isArray(msg.models) || !graphNode?.models) throw new Error('models: must be an array of DTDL documents');
          const result = graphNode.models.loadDocuments(msg.models);
          if (!result.ok) throw new Error(`models: ${result.errors[0]?.message ?? `unresolved ${result.unresolved.join(', ')}`}`);
          send([{ ...msg, payload: { added: result.added } }, null, null]);
          done();
          return;
        }
        // With the graph's event log: a redelivered message (same eventId) is answered, not applied
        // again, and expectedVersion is checked against the twin's version in the log.
        let context: LogContext | undefined;
        const log = graphNode?.eventLog;
        if (log) {
          const given = (msg.twin as { id?: unknown } | undefined)?.id;
          const twinId = settings.scope === 'one' ? settings.twinId : typeof given === 'string' ? given : undefined;
          const digest = messageDigest(msg, twinId);
          const { duplicate } = log.precheck(twinId, { eventId: msg.eventId, expectedVersion: msg.expectedVersion, digest });
          if (duplicate) {
            send([{ ...msg, duplicate: true, event: toChangeEvent(duplicate) }, null, null]);
            done();
            return;
          }
          const correlation = typeof msg.correlationId === 'string' ? msg.correlationId : msg._msgid;
          context = { ...(typeof msg.eventId === 'string' ? { eventId: msg.eventId, digest } : {}), causationId: msg._msgid, correlationId: correlation };
        } else if (msg.expectedVersion !== undefined) {
          throw new Error('expectedVersion: needs the event log of the twin graph (turn it on in the twin-graph node)');
        }
        // A twin made on first use is recorded at once, apart from what the message then does, so
        // a refused sample leaves it on record. It is saved with the next delayed save, not before
        // the message goes on: lost in a crash, it is made again, the same, by the next message.
        const creationContext: LogContext | undefined = context && { causationId: context.causationId, correlationId: context.correlationId };
        const outcome = handleMessage(graph, msg, settings, {
          onCreated: (created) => {
            graphNode?.recordChanges([created], creationContext, { urgent: false });
            accepted++;
          },
          // With no event log and no listener (twin-history), a batch's telemetry events would go
          // nowhere: not making them spares most of what each sample costs.
          withoutTelemetryEvents: !log && graphNode?.listenerCount('changes') === 0,
        });
        graphNode?.recordChanges(outcome.events, context);
        if (outcome.withoutEvents) graphNode?.telemetryChanged();
        accepted += outcome.events.length + (outcome.withoutEvents ?? 0);
        if (outcome.rejected) refused += (outcome.rejected.payload as unknown[]).length;
        send([outcome.accepted ?? null, outcome.rejected ?? null, null]);
        done(outcome.rejected ? new Error(`twin: ${(outcome.rejected.error as { message: string }).message}`) : undefined);
      } catch (err) {
        refused++;
        const error = errorInfo(err);
        send([null, { ...msg, error }, null]);
        done(new Error(error.message.startsWith('twin') ? error.message : `twin: ${error.message}`));
      }
    });

    node.on('close', (done: () => void) => {
      if (statusTimer) clearInterval(statusTimer);
      statusTimer = undefined;
      graphNode?.removeListener('staleness', onStaleness);
      staleNow = new Map();
      done();
    });
  }

  RED.nodes.registerType('twin', Twin as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
