// Node-RED adapter for the anomaly node: samples in; the engine's alerts (ISA-18.2) on the first
// output, SPC chart series on the second, condition-normalised indicators (for a rul node) on the
// third; the learned baseline and the alarm states are kept on disk under the user directory, so a
// restart or redeploy needs no new training.
import path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { AnomalyEngine, type AnomalySnapshot, type EngineOutput } from '../lib/analytics';
import type { TwinRef } from '../lib/messages';
import { SnapshotStore } from '../lib/snapshot-store';
import { alarmListMessage, alertMessages, chartMessages, indicatorMessages, readInput } from './anomaly-messages';
import { anomalySettings, type AnomalyNodeConfig } from './anomaly-settings';

type AnomalyDef = NodeDef & AnomalyNodeConfig & { persist?: boolean };

const TICK_MS = 1000;

export = function register(RED: NodeAPI): void {
  function AnomalyNode(this: Node, config: AnomalyDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    let engine: AnomalyEngine | undefined;
    let configError: string | undefined;
    let store: SnapshotStore | undefined;
    let timer: NodeJS.Timeout | undefined;
    /** wall clock when the engine's clock last moved with a sample: the clock runs on from there in silence */
    let wallAtSample = Date.now();
    let ignored = 0;
    let statusShownAt = 0;

    try {
      engine = new AnomalyEngine(anomalySettings(config, config.name || node.id));
    } catch (err) {
      configError = (err as Error).message;
    }

    if (engine) {
      const file = path.join(RED.settings.userDir ?? process.cwd(), 'twinflow', `anomaly-${node.id}.json`);
      store = config.persist === false ? undefined : new SnapshotStore(file, () => engine!.snapshot(), (err) => node.error(`anomaly: cannot save ${file}: ${err.message}`));
      let saved: AnomalySnapshot | undefined;
      try {
        saved = store?.load() as AnomalySnapshot | undefined;
      } catch (err) {
        const aside = store?.setAside((err as Error).message);
        node.error(`anomaly: the saved baseline could not be read (${(err as Error).message}); it was kept in ${aside} and the baseline is learned again`);
      }
      if (saved !== undefined) {
        try {
          engine = new AnomalyEngine(engine.config, saved);
          if (engine.restoredBaseline) node.log(`restored the baseline learned from ${new Date(engine.baseline!.from).toISOString()} to ${new Date(engine.baseline!.to).toISOString()}`);
          else node.warn('anomaly: the saved baseline was learned for another configuration; learning a new one');
        } catch (err) {
          const aside = store?.setAside((err as Error).message);
          node.error(`anomaly: the saved baseline could not be restored (${(err as Error).message}); it was kept in ${aside} and the baseline is learned again`);
          engine = new AnomalyEngine(engine.config);
        }
      }
    }

    const clockNow = (): number => (engine && Number.isFinite(engine.now) ? engine.now + (Date.now() - wallAtSample) : Date.now());

    const showStatus = () => {
      if (configError || !engine) return node.status({ fill: 'red', shape: 'ring', text: configError ?? 'not usable' });
      const s = engine.status();
      if (s.phase === 'training') {
        return node.status({ fill: 'blue', shape: 'ring', text: `learning the baseline ${Math.floor(s.progress * 100)}% · ${s.samples} samples${ignored ? ` · ${ignored} ignored` : ''}` });
      }
      const alarms = engine.alarms();
      const toAck = alarms.filter((a) => a.state === 'active-unacked' || a.state === 'rtn-unacked').length;
      const parts = ['monitoring'];
      if (s.activeAlarms > 0) parts.push(`${s.activeAlarms} alarm${s.activeAlarms === 1 ? '' : 's'} active`);
      if (toAck > 0) parts.push(`${toAck} to acknowledge`);
      if (s.unlearned.length > 0) parts.push(`no baseline for ${s.unlearned.join(', ')}`);
      if (parts.length === 1) parts.push(`${s.scored} scored`);
      node.status({ fill: s.activeAlarms > 0 ? 'red' : s.unlearned.length > 0 || toAck > 0 ? 'yellow' : 'green', shape: 'dot', text: parts.join(' · ') });
    };

    /** Sends what the engine produced and saves at once when an alarm or the baseline changed. */
    const emit = (out: EngineOutput, send: (msgs: unknown) => void, phaseBefore: string, twin?: TwinRef) => {
      if (!engine) return;
      const changed = out.alerts.length > 0 || engine.phase !== phaseBefore;
      if (changed) store?.changed(true);
      const alerts = alertMessages(out.alerts, engine.alarms());
      const chart = chartMessages(out.chart);
      const indicators = indicatorMessages(out.indicators, twin);
      if (alerts.length + chart.length + indicators.length > 0) send([alerts, chart, indicators]);
      if (changed) showStatus();
    };

    if (engine) {
      timer = setInterval(() => {
        try {
          const phase = engine!.phase;
          emit(engine!.tick(clockNow()), (msgs) => node.send(msgs as NodeMessageInFlow[]), phase);
          showStatus();
        } catch (err) {
          node.error(`anomaly: ${(err as Error).message}`);
        }
      }, TICK_MS);
    }
    showStatus();

    node.on('input', (msg: NodeMessageInFlow & Record<string, unknown>, send, done) => {
      try {
        if (configError || !engine) throw new Error(configError ?? 'not usable');
        const input = readInput(msg, engine.relevantTopics(), Date.now());
        const phase = engine.phase;
        const sendAll = (msgs: unknown) => send(msgs as NodeMessageInFlow[]);
        switch (input.kind) {
          case 'samples': {
            ignored += input.ignored;
            if (input.samples.length === 0) break;
            const before = engine.now;
            const out = engine.ingest(input.samples);
            if (engine.now > before) wallAtSample = Date.now();
            emit(out, sendAll, phase, input.samples.find((x) => x.twin)?.twin);
            // At thousands of samples a second the status follows at most four times a second.
            if (Date.now() - statusShownAt > 250) {
              statusShownAt = Date.now();
              showStatus();
            }
            break;
          }
          case 'alarm':
            emit({ alerts: engine.alarmAction(input.action, clockNow()), chart: [], indicators: [] }, sendAll, phase);
            store?.changed(true);
            break;
          case 'relearn':
            emit(engine.relearn(), sendAll, phase);
            store?.changed(true);
            node.log('learning the baseline again');
            showStatus();
            break;
          case 'alarms':
            send([{ ...msg, ...alarmListMessage(engine.alarms()) }, null, null]);
            break;
        }
        done();
      } catch (err) {
        const message = (err as Error).message;
        done(new Error(message.startsWith('anomaly') ? message : `anomaly: ${message}`));
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      if (timer) clearInterval(timer);
      timer = undefined;
      void (store?.close() ?? Promise.resolve()).then(() => done());
    });
  }

  RED.nodes.registerType('anomaly', AnomalyNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
