// Node-RED adapter for the reconciler: routes inputs to the domain, runs the level-triggered loop,
// sends the effects on four outputs, keeps desired state and queues on disk, and its status honest.
import path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { SnapshotStore } from '../lib/snapshot-store';
import { Reconciler, type Effects } from './reconciler-core';
import { applyInput, effectMessages } from './reconciler-messages';
import { parseSettings, type ReconcilerConfig } from './reconciler-settings';

type ReconcilerDef = NodeDef & ReconcilerConfig & { persist?: boolean };

export = function register(RED: NodeAPI): void {
  function ReconcilerNode(this: Node, config: ReconcilerDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    let reconciler: Reconciler | undefined;
    let settings: ReturnType<typeof parseSettings> | undefined;
    let configError: string | undefined;
    let store: SnapshotStore | undefined;
    let loop: NodeJS.Timeout | undefined;
    let resume: NodeJS.Timeout | undefined;

    try {
      settings = parseSettings(config, node.id);
      reconciler = new Reconciler(settings);
    } catch (err) {
      configError = (err as Error).message;
    }

    const showStatus = () => {
      if (configError || !reconciler) return node.status({ fill: 'red', shape: 'ring', text: configError ?? 'not usable' });
      const queued = reconciler.queueLength();
      const alerts = reconciler.alerts();
      const active = alerts.filter((a) => a.state === 'active-unacked' || a.state === 'active-acked').length;
      const twins = reconciler.twinCount;
      const unacked = alerts.filter((a) => a.state === 'rtn-unacked').length;
      const alarms = active > 0 ? ` · ${active} active alarm${active === 1 ? '' : 's'}` : unacked > 0 ? ` · ${unacked} alarm${unacked === 1 ? '' : 's'} to acknowledge` : '';
      const text = `${twins} twin${twins === 1 ? '' : 's'} · ${queued} queued${alarms}`;
      node.status({ fill: active > 0 ? 'red' : queued > 0 ? 'yellow' : 'green', shape: 'dot', text });
    };

    const emit = (effects: Effects) => {
      if (!reconciler) return;
      if (effects.persist) store?.changed(true);
      const [release, acks, alerts, progress] = effectMessages(effects, (t) => reconciler!.modelOf(t));
      if (release.length + acks.length + alerts.length + progress.length > 0) {
        node.send([release, acks, alerts, progress] as unknown as NodeMessageInFlow[]);
        showStatus();
      }
    };

    if (reconciler && settings) {
      const file = path.join(RED.settings.userDir ?? process.cwd(), 'twinflow', `reconciler-${node.id}.json`);
      store = config.persist === false ? undefined : new SnapshotStore(file, () => reconciler!.snapshot(), (err) => node.error(`reconciler: cannot save ${file}: ${err.message}`));
      let saved: unknown;
      try {
        saved = store?.load();
      } catch (err) {
        const aside = store?.setAside((err as Error).message);
        node.error(`reconciler: the saved queue could not be read (${(err as Error).message}); it was kept in ${aside}`);
      }
      if (saved !== undefined) {
        try {
          const effects = reconciler.restore(saved, Date.now());
          node.log(`resumed ${reconciler.queueLength()} queued entr${reconciler.queueLength() === 1 ? 'y' : 'ies'} for ${reconciler.twinCount} twin(s)`);
          // Send what resuming releases once every node of the flow has started, so it reaches opcua-out.
          resume = setTimeout(() => {
            resume = undefined;
            emit(effects);
          }, 200);
        } catch (err) {
          const aside = store?.setAside((err as Error).message);
          node.error(`reconciler: the saved queue could not be restored (${(err as Error).message}); it was kept in ${aside}`);
        }
      }
      loop = setInterval(() => {
        try {
          emit(reconciler!.tick(Date.now()));
        } catch (err) {
          node.error(`reconciler: ${(err as Error).message}`);
        }
      }, settings.loopMs);
    }
    showStatus();

    node.on('input', (msg: NodeMessageInFlow & Record<string, unknown>, send, done) => {
      try {
        if (configError || !reconciler || !settings) throw new Error(configError ?? 'not usable');
        const result = applyInput(reconciler, msg, settings.twinId, Date.now());
        if (result && 'view' in result) {
          send([null, null, null, { ...msg, payload: result.view }]);
        } else if (result) {
          emit(result);
        }
        done();
      } catch (err) {
        const message = (err as Error).message;
        done(new Error(message.startsWith('reconciler') ? message : `reconciler: ${message}`));
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      if (loop) clearInterval(loop);
      if (resume) clearTimeout(resume);
      loop = resume = undefined;
      void (store?.close() ?? Promise.resolve()).then(() => done());
    });
  }

  RED.nodes.registerType('reconciler', ReconcilerNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
