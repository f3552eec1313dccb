// Node-RED adapter for the twin-graph config node: one TwinGraph over a dtdl-model's models, shared
// by every twin node that uses it, persisted to the user directory and checked for staleness.
import path from 'node:path';
import type { NodeAPI, NodeDef } from 'node-red';
import { TwinGraph, type LimitRule, type StalenessRule, type TwinChangeEvent, type TwinGraphSnapshot } from '../lib/twin';
import { TwinEventLog, type LogContext } from '../lib/eventlog';
import type { DtdlModelNode } from '../dtdl-model/dtdl-model-node';
import { SnapshotStore } from '../lib/snapshot-store';
import type { TwinGraphNode } from './twin-graph-node';
import { limitRules, stalenessRules } from './rules';

interface TwinGraphDef extends NodeDef {
  models: string;
  staleness: unknown;
  limits: unknown;
  persist: boolean;
  eventLog: boolean;
  snapshotEvery: string | number;
}

/** Changes whose loss on a crash would lose intent, not just a reading the sensors send again. */
const URGENT = new Set(['create', 'property', 'desired', 'ack', 'command', 'relationship', 'lifecycle']);

export = function register(RED: NodeAPI): void {
  function TwinGraphConfig(this: TwinGraphNode, config: TwinGraphDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const models = RED.nodes.getNode(config.models) as DtdlModelNode | null;
    let rules: { staleness: StalenessRule[]; limits: LimitRule[] } = { staleness: [], limits: [] };
    let store: SnapshotStore | undefined;
    let staleTimer: NodeJS.Timeout | undefined;

    const setProblem = (problem: string) => {
      node.problem = problem;
      node.graph = undefined;
      node.error(`twin-graph: ${problem}`);
    };

    try {
      rules = { staleness: stalenessRules(config.staleness), limits: limitRules(config.limits) };
    } catch (err) {
      setProblem((err as Error).message);
    }
    if (!models) setProblem(node.problem ?? 'models: choose a dtdl-model');
    else if (models.loadError || !models.registry.model) setProblem(node.problem ?? `models: ${models.loadError ?? 'no models loaded'}`);

    if (!node.problem && models?.registry.model) {
      const options = { staleness: rules.staleness, limits: rules.limits };
      const file = path.join(RED.settings.userDir ?? process.cwd(), 'twinflow', `twin-graph-${node.id}.json`);
      store = config.persist === false ? undefined : new SnapshotStore(file, () => node.graph?.liveSnapshot(), (err) => node.error(`twin-graph: cannot save ${file}: ${err.message}`));
      try {
        const saved = store?.load() as TwinGraphSnapshot | undefined;
        node.graph = saved ? TwinGraph.restore(models.registry.model, saved, options) : new TwinGraph(models.registry.model, options);
        if (saved) node.log(`restored ${node.graph.size} twin(s) from ${file}`);
      } catch (err) {
        // Never overwrite state we could not read: keep it aside and say where.
        const aside = store?.setAside((err as Error).message);
        node.graph = new TwinGraph(models.registry.model, options);
        node.error(`twin-graph: the saved twins could not be restored (${(err as Error).message}); they were kept in ${aside} and the graph starts empty`);
      }
      // At deploy, not when the first values arrive (config nodes start before the nodes that feed them).
      node.graph.prepare();
      node.models = models;
      // New model versions: rebuild over the larger model set, keeping every twin.
      const onModels = (model: NonNullable<DtdlModelNode['registry']['model']>) => {
        if (!node.graph) return;
        node.graph = TwinGraph.restore(model, node.graph.snapshot(), options);
        node.graph.prepare();
        node.emit('graph');
      };
      models.registry.on('change', onModels);
      if (config.eventLog === true) openEventLog();
      staleTimer = setInterval(() => {
        const transitions = node.graph?.checkStaleness() ?? [];
        if (transitions.length > 0) node.emit('staleness', transitions);
      }, 1000);
      node.on('close', (done: () => void) => {
        models.registry.removeListener('change', onModels);
        done();
      });
    }

    function openEventLog(): void {
      const snapshotEvery = Number(config.snapshotEvery ?? 1000);
      if (!Number.isInteger(snapshotEvery) || snapshotEvery < 0) {
        node.eventLogProblem = `snapshot every: "${config.snapshotEvery}" must be a whole number of events (0 for none)`;
        node.error(`twin-graph: event log: ${node.eventLogProblem}`);
        return;
      }
      const dir = path.join(RED.settings.userDir ?? process.cwd(), 'twinflow', `eventlog-${node.id}`);
      try {
        const { log, report } = TwinEventLog.open(dir, () => node.graph, { snapshotEvery });
        if (report.cutBytes > 0) node.warn(`twin-graph: event log: cut a torn tail of ${report.cutBytes} bytes (${report.cutReason}) from ${dir}: the last write before a crash was incomplete and had not been confirmed`);
        const baselines = log.resync();
        log.store.sync();
        node.eventLog = log;
        node.log(`event log ${dir}: ${report.events} event(s) of ${report.streams} twin(s), ${report.snapshots} snapshot(s)${baselines > 0 ? `; ${baselines} twin(s) recorded as they are now (the log had not seen their latest state)` : ''}`);
      } catch (err) {
        node.eventLogProblem = (err as Error).message;
        node.error(`twin-graph: the event log cannot be used, so no changes are logged: ${node.eventLogProblem}`);
      }
    }

    let flushing = false;
    const flushLog = () => {
      // Group commit: appends made while one fsync runs share the next.
      if (flushing || !node.eventLog) return;
      flushing = true;
      node.eventLog.flush().then(
        () => { flushing = false; },
        (err: Error) => {
          flushing = false;
          node.error(`twin-graph: event log: the disk did not confirm the latest changes: ${err.message}`);
        },
      );
    };

    node.recordChanges = (events: readonly TwinChangeEvent[], context?: LogContext, options?: { urgent?: boolean }) => {
      if (events.length === 0) return;
      if (node.eventLog) {
        try {
          node.eventLog.record(events, context);
          flushLog();
        } catch (err) {
          // The graph has changed already; the next change of these twins records them whole.
          node.error(`twin-graph: event log: ${events.length} change(s) could not be appended: ${(err as Error).message}`);
        }
      }
      store?.changed(options?.urgent ?? events.some((e) => URGENT.has(e.kind)));
      node.emit('changes', events);
    };

    node.telemetryChanged = () => store?.changed(false);

    node.on('close', (done: () => void) => {
      if (staleTimer) clearInterval(staleTimer);
      const saved = store?.close() ?? Promise.resolve();
      try {
        node.eventLog?.close();
      } catch (err) {
        node.error(`twin-graph: event log: ${(err as Error).message}`);
      }
      node.eventLog = undefined;
      void saved.then(() => done());
    });
  }

  RED.nodes.registerType('twin-graph', TwinGraphConfig as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
