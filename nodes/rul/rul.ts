// Node-RED adapter for the rul node: indicator and gate samples in; on every closed bucket an
// estimate of the remaining useful life (output 1) and the trend chart's points (output 2). The
// failure threshold comes from the dialog, a twin property in a twin graph, or a message; the
// buckets are kept on disk so a restart continues the trend.
import path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { RulEstimator, type RulEstimate, type RulSnapshot } from '../lib/analytics';
import type { TwinRef } from '../lib/messages';
import { SnapshotStore } from '../lib/snapshot-store';
import type { TwinGraphNode } from '../twin-graph/twin-graph-node';
import { duration, estimateMessage, readRulInput, rulSettings, trendMessages, type RulNodeConfig, type RulSettings } from './rul-messages';

type RulDef = NodeDef & RulNodeConfig & { persist?: boolean };

export = function register(RED: NodeAPI): void {
  function RulNode(this: Node, config: RulDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    let settings: RulSettings | undefined;
    let estimator: RulEstimator | undefined;
    let configError: string | undefined;
    let store: SnapshotStore | undefined;
    let graphNode: TwinGraphNode | null = null;
    let last: RulEstimate | undefined;
    let thresholdProblem: string | undefined;

    try {
      settings = rulSettings(config);
      if (settings.thresholdSource === 'twin') {
        graphNode = RED.nodes.getNode(String(config.graph ?? '')) as TwinGraphNode | null;
        if (!graphNode) throw new Error('graph: choose the twin graph that holds the threshold');
      }
      estimator = new RulEstimator(settings.config);
    } catch (err) {
      configError = (err as Error).message;
    }

    if (estimator && settings) {
      const file = path.join(RED.settings.userDir ?? process.cwd(), 'twinflow', `rul-${node.id}.json`);
      store = config.persist === false ? undefined : new SnapshotStore(file, () => estimator!.snapshot(), (err) => node.error(`rul: cannot save ${file}: ${err.message}`));
      try {
        const saved = store?.load() as RulSnapshot | undefined;
        if (saved) {
          estimator = new RulEstimator(settings.config, saved);
          node.log(`restored ${estimator.bucketCount} bucket(s) of ${settings.config.indicator}`);
        }
      } catch (err) {
        const aside = store?.setAside((err as Error).message);
        node.error(`rul: the saved trend could not be restored (${(err as Error).message}); it was kept in ${aside}`);
        estimator = new RulEstimator(settings.config);
      }
    }

    /** The failure threshold now: a message's, else the dialog's or the twin property's. */
    const threshold = (): number | undefined => {
      thresholdProblem = undefined;
      if (!settings) return undefined;
      if (settings.thresholdSource === 'number') {
        if (settings.threshold === undefined && estimator?.thresholdOverride === undefined) thresholdProblem = 'no threshold: set one in the dialog or send msg.threshold';
        return settings.threshold;
      }
      const graph = graphNode?.graph;
      if (!graph) {
        thresholdProblem = `threshold: ${graphNode?.problem ?? 'no twin graph'}`;
        return undefined;
      }
      try {
        const value = graph.has(settings.twinId) ? graph.read(settings.twinId, settings.thresholdPath).value : undefined;
        if (typeof value === 'number' && Number.isFinite(value)) return value;
        thresholdProblem = `threshold: twin ${settings.twinId} has no value for ${settings.thresholdPath} yet`;
      } catch (err) {
        thresholdProblem = `threshold: ${(err as Error).message}`;
      }
      return undefined;
    };

    const showStatus = () => {
      if (configError || !estimator || !settings) return node.status({ fill: 'red', shape: 'ring', text: configError ?? 'not usable' });
      if (!last) return node.status({ fill: 'grey', shape: 'ring', text: `waiting for ${settings.config.indicator}${thresholdProblem ? ` · ${thresholdProblem}` : ''}` });
      switch (last.status) {
        case 'learning':
          return node.status({ fill: 'blue', shape: 'ring', text: `${last.buckets}/${settings.config.minBuckets} buckets before a trend` });
        case 'no-threshold':
          return node.status({ fill: 'yellow', shape: 'ring', text: thresholdProblem ?? 'no threshold' });
        case 'no-fit':
          return node.status({ fill: 'yellow', shape: 'ring', text: 'no trend fits the indicator' });
        case 'failed':
          return node.status({ fill: 'red', shape: 'dot', text: `at the threshold ${last.threshold}: remaining life 0` });
        case 'beyond-horizon':
          return node.status({ fill: 'green', shape: 'dot', text: `no crossing within ${duration(settings.config.horizonSeconds)} (${last.model})` });
        default: {
          const upper = last.upperSeconds === null ? '∞' : duration(last.upperSeconds);
          return node.status({ fill: last.rulSeconds! < 3600 ? 'red' : 'yellow', shape: 'dot', text: `RUL ${duration(last.rulSeconds!)} [${duration(last.lowerSeconds ?? 0)}, ${upper}] · ${last.model}` });
        }
      }
    };
    showStatus();

    node.on('input', (msg: NodeMessageInFlow & Record<string, unknown>, send, done) => {
      try {
        if (configError || !estimator || !settings) throw new Error(configError ?? 'not usable');
        const input = readRulInput(msg, estimator.topics(), Date.now());
        if (input.kind === 'threshold') {
          estimator.setThreshold(input.value);
          store?.changed(true);
        } else if (input.kind === 'reset') {
          estimator.reset();
          last = undefined;
          store?.changed(true);
        } else {
          const estimates: Record<string, unknown>[] = [];
          const chart: Record<string, unknown>[] = [];
          for (const sample of input.samples) {
            const closed = estimator.add(sample.topic, sample.value, sample.time);
            if (!closed) continue;
            last = estimator.estimate(threshold());
            estimates.push(estimateMessage(settings.config.indicator, last, input.twin as TwinRef | undefined));
            chart.push(...trendMessages(closed.time, closed.value, last));
          }
          if (estimates.length > 0) {
            store?.changed(false);
            send([estimates, chart] as unknown as NodeMessageInFlow[]);
          }
        }
        showStatus();
        done();
      } catch (err) {
        const message = (err as Error).message;
        done(new Error(message.startsWith('rul') ? message : `rul: ${message}`));
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      void (store?.close() ?? Promise.resolve()).then(() => done());
    });
  }

  RED.nodes.registerType('rul', RulNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
