// Node-RED adapter for opcua-in: monitors a declarative item list over the endpoint's shared
// connection and sends samples in the message contract; reads and browses on demand.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { OpcuaEndpointNode } from '../opcua-endpoint/endpoint-node';
import type { Health, MonitorHandle, OpcuaConnection } from '../opcua-endpoint/opcua-connection';
import { normalizeItems, type ItemSpec } from '../opcua-endpoint/opcua-items';
import { healthStatus, outputMessages, sampleMaker, type OutputMode } from './opcua-in-core';
import type { SampleMessage } from '../lib/messages';

interface OpcuaInDef extends NodeDef {
  endpoint: string;
  items: unknown;
  publishingInterval: string | number;
  outputMode: OutputMode;
  healthOutput: boolean;
  twinId?: string;
  twinModel?: string;
}

export = function register(RED: NodeAPI): void {
  function OpcuaIn(this: Node, config: OpcuaInDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const endpoint = RED.nodes.getNode(config.endpoint) as OpcuaEndpointNode | null;
    const publishingInterval = Number(config.publishingInterval) || 250;
    const outputMode: OutputMode = config.outputMode === 'cycle' ? 'cycle' : 'change';
    const twin = config.twinId ? { id: config.twinId, model: config.twinModel ?? '' } : undefined;
    const withHealth = config.healthOutput === true;

    let items: ItemSpec[] = [];
    let lease: ReturnType<OpcuaEndpointNode['acquire']> | undefined;
    let handle: MonitorHandle | undefined;
    let valuesSent = 0;
    let statusTimer: NodeJS.Timeout | undefined;

    const fail = (text: string) => node.status({ fill: 'red', shape: 'ring', text });
    let itemsError: string | undefined;
    try {
      items = normalizeItems(config.items ?? []);
    } catch (err) {
      itemsError = (err as Error).message;
      fail(itemsError);
      node.error(`opcua-in: ${itemsError}`);
    }
    if (itemsError) {
      // A node that cannot say what to monitor does not connect: its status keeps the reason.
    } else if (!endpoint) {
      fail('no endpoint configured');
    } else if (endpoint.settingsError) {
      fail(endpoint.settingsError);
    } else {
      try {
        lease = endpoint.acquire();
      } catch (err) {
        fail((err as Error).message);
      }
    }

    const connection: OpcuaConnection | undefined = lease?.connection;
    const showHealth = (health: Health) => {
      node.status(healthStatus(health, handle?.activeItems ?? 0, items.length, valuesSent));
      if (withHealth) node.send([null, { topic: 'health', payload: { ...health, items: items.length, activeItems: handle?.activeItems ?? 0 } }]);
    };
    const onChanges = (samples: SampleMessage[]) => {
      valuesSent += samples.length;
      for (const msg of outputMessages(samples, outputMode, twin)) node.send(withHealth ? [msg, null] : msg);
    };

    if (connection) {
      connection.on('health', showHealth);
      showHealth(connection.health());
      if (items.length > 0) {
        handle = connection.monitor({
          items,
          publishingInterval,
          makeChange: sampleMaker(items, twin),
          onChanges,
          onItemError: (item, index, message) => {
            node.error(`opcua-in: item ${index} "${item.name}" (${item.nodeId ?? item.browsePath}): ${message}`, { topic: item.name, payload: null, item });
          },
        });
      } else {
        connection.start();
      }
      // Counts change with every value; refresh the status once a second rather than per value.
      let shown = -1;
      statusTimer = setInterval(() => {
        if (valuesSent !== shown) {
          shown = valuesSent;
          node.status(healthStatus(connection.health(), handle?.activeItems ?? 0, items.length, valuesSent));
        }
      }, 1000);
    }

    node.on('input', (msg: NodeMessageInFlow & { action?: unknown }, send, done) => {
      void (async () => {
        try {
          if (!connection) throw new Error('opcua-in: the endpoint is not usable; see the node status');
          const action = msg.action ?? 'read';
          if (action === 'read') {
            const wanted = selectItems(items, msg.payload);
            const results = await connection.read(wanted.map((w) => w.nodeId!));
            const makeSample = sampleMaker(wanted, twin);
            const samples = results.map((r, i) => makeSample(i, r.value, r.sourceTime, r.serverTime, r.statusCode, r.quality));
            for (const out of outputMessages(samples, outputMode, twin)) {
              const reply = { ...msg, ...out };
              send(withHealth ? [reply, null] : reply);
            }
          } else if (action === 'browse') {
            const nodeId = typeof msg.payload === 'string' && msg.payload ? msg.payload : 'i=85';
            const reply = { ...msg, topic: nodeId, payload: await connection.browse(nodeId) };
            send(withHealth ? [reply, null] : reply);
          } else {
            throw new Error(`action: "${String(action)}" must be "read" or "browse"`);
          }
          done();
        } catch (err) {
          done(err as Error);
        }
      })();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      if (statusTimer) clearInterval(statusTimer);
      connection?.removeListener('health', showHealth);
      void (async () => {
        await handle?.close().catch(() => undefined);
        await lease?.release().catch(() => undefined);
        done();
      })();
    });
  }

  RED.nodes.registerType('opcua-in', OpcuaIn as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};

/** Items to read on demand: all (payload empty), or those named in payload (a name or an array of names). */
function selectItems(items: ItemSpec[], payload: unknown): (ItemSpec & { nodeId: string })[] {
  const withNodeIds = items.filter((i): i is ItemSpec & { nodeId: string } => typeof i.nodeId === 'string');
  if (payload === undefined || payload === null || payload === '' || (typeof payload === 'object' && !Array.isArray(payload))) return withNodeIds;
  const names = Array.isArray(payload) ? payload : [payload];
  return names.map((name, i) => {
    const item = withNodeIds.find((it) => it.name === name);
    if (!item) throw new Error(`payload[${i}]: "${String(name)}" is not the name of an item with a NodeId`);
    return item;
  });
}
