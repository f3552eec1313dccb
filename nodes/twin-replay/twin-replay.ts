// Node-RED adapter for the twin-replay node: time travel over a twin graph's event log. The state of
// a twin at any time, the changes of a time window, or those changes replayed into the flow (as
// fast as possible or paced as they happened) for debugging.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { TwinGraphNode } from '../twin-graph/twin-graph-node';
import { toChangeEvent } from '../lib/eventlog';
import { ACTIONS, readRequest, replayDelays, replayMessage, stateAnswer, type ReplayAction, type ReplaySettings } from './replay-core';

interface TwinReplayDef extends NodeDef {
  graph: string;
  action: string;
  twinId: string;
  speed: string | number;
  limit: string | number;
}

export = function register(RED: NodeAPI): void {
  function TwinReplay(this: Node, config: TwinReplayDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const graphNode = RED.nodes.getNode(config.graph) as TwinGraphNode | null;
    const settings: ReplaySettings = {
      action: (ACTIONS as readonly string[]).includes(config.action) ? (config.action as ReplayAction) : 'state',
      twinId: (config.twinId ?? '').trim(),
      speed: Number(config.speed ?? 0),
      limit: Number(config.limit || 10_000),
    };
    let configError: string | undefined;
    if (!graphNode) configError = 'graph: choose a twin graph with its event log on';
    else if (!(settings.speed >= 0)) configError = `speed: "${config.speed}" must be 0 or more`;
    else if (!Number.isInteger(settings.limit) || settings.limit < 1) configError = `limit: "${config.limit}" must be a whole number above 0`;

    /** Replays in progress, so a stop or a redeploy ends them. */
    const running = new Set<{ cancel(): void }>();
    const problem = () => configError ?? (!graphNode?.eventLog ? (graphNode?.eventLogProblem ? `event log: ${graphNode.eventLogProblem}` : 'the twin graph\'s event log is off (turn it on in the twin-graph node)') : undefined);

    const showStatus = (text?: string) => {
      const p = problem();
      if (p) return node.status({ fill: 'red', shape: 'ring', text: p });
      if (text) return node.status({ fill: 'blue', shape: 'dot', text });
      const store = graphNode!.eventLog!.store;
      node.status({ fill: 'green', shape: 'dot', text: `${store.size.toLocaleString('en-US')} changes of ${store.streams().length} twins` });
    };
    // The graph node opens its log on deploy; show the state once it has.
    const statusTimer = setTimeout(() => showStatus(), 200);

    node.on('input', (msg: NodeMessageInFlow & Record<string, unknown>, send, done) => {
      try {
        const p = problem();
        if (p) throw new Error(p);
        const log = graphNode!.eventLog!;
        const request = readRequest(msg, settings, Date.now());
        if (request.action === 'stop') {
          const count = running.size;
          for (const r of running) r.cancel();
          send({ ...msg, payload: { stopped: count } });
          showStatus();
          done();
          return;
        }
        if (request.action === 'state') {
          send({ ...msg, topic: request.twinId, payload: stateAnswer(log, request.twinId as string, request.at as number) });
          done();
          return;
        }
        const events = log.between(request.from as number, request.to as number, { ...(request.twinId !== undefined ? { twinId: request.twinId } : {}), limit: request.limit });
        if (request.action === 'events') {
          send({ ...msg, payload: events.map(toChangeEvent) });
          done();
          return;
        }
        const graph = graphNode!.graph;
        const modelOf = (id: string) => (graph?.has(id) ? graph.getModel(id) : undefined);
        const delays = replayDelays(events, request.speed);
        let index = 0;
        let timer: NodeJS.Timeout | undefined;
        const handle = {
          cancel: () => {
            if (timer) clearTimeout(timer);
            running.delete(handle);
            done();
          },
        };
        running.add(handle);
        const next = () => {
          timer = undefined;
          // As fast as possible still yields to the event loop every 200 changes.
          const until = Math.min(events.length, index + (request.speed === 0 ? 200 : 1));
          for (; index < until; index++) {
            const out = replayMessage(events[index]!, modelOf(events[index]!.stream));
            send({ ...out, _msgid: RED.util.generateId(), replay: { ...(out.replay as object), index, count: events.length }, ...(msg.correlationId !== undefined ? { correlationId: msg.correlationId } : {}) });
          }
          if (index >= events.length) {
            running.delete(handle);
            showStatus();
            done();
            return;
          }
          showStatus(`replaying ${index} of ${events.length}`);
          const wait = delays[index] ?? 0;
          timer = wait > 0 ? setTimeout(next, wait) : (setTimeout(next, 0) as NodeJS.Timeout);
        };
        next();
      } catch (err) {
        done(new Error(`twin-replay: ${(err as Error).message}`));
      }
    });

    node.on('close', (done: () => void) => {
      clearTimeout(statusTimer);
      for (const r of [...running]) r.cancel();
      done();
    });
  }

  RED.nodes.registerType('twin-replay', TwinReplay as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
