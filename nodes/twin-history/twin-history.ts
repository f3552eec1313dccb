// Node-RED adapter for the twin-history node: twin samples and changes from the message contract
// (and, optionally, every change of a twin graph) written to InfluxDB as typed points, through a
// bounded disk queue that keeps every point while InfluxDB is down and sends them in order later.
import path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { BacklogFullError, HistorySchema, HistoryWriter, LineEncoder, PRECISIONS, Spool, type Precision, type WriterOptions } from '../lib/history';
import type { TwinChangeEvent } from '../lib/twin';
import type { DtdlModelNode } from '../dtdl-model/dtdl-model-node';
import type { InfluxServerNode } from '../influx-server/influx-server-node';
import type { TwinGraphNode } from '../twin-graph/twin-graph-node';

interface TwinHistoryDef extends NodeDef {
  server: string;
  models: string;
  measurement: string;
  eventsMeasurement: string;
  precision: string;
  batchSize: string | number;
  flushInterval: string | number;
  maxBacklog: string | number;
  overflow: string;
  mirror: string;
}

interface TwinHistoryNode extends Node {
  /** For tests and benchmarks: the writer and its queue. */
  history?: { writer: HistoryWriter; spool: Spool };
}

const COUNT = new Intl.NumberFormat('en-US');

/** 12,345 (one formatter for every status update: toLocaleString builds one per call). */
function count(n: number): string {
  return COUNT.format(n);
}

export = function register(RED: NodeAPI): void {
  function TwinHistory(this: TwinHistoryNode, config: TwinHistoryDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const server = RED.nodes.getNode(config.server) as InfluxServerNode | null;
    const modelsNode = RED.nodes.getNode(config.models) as DtdlModelNode | null;
    const mirror = config.mirror ? (RED.nodes.getNode(config.mirror) as TwinGraphNode | null) : null;
    const precision = (PRECISIONS as readonly string[]).includes(config.precision) ? (config.precision as Precision) : 'ms';
    const batchSize = Number(config.batchSize || 5000);
    const flushMs = Number(config.flushInterval || 1000);
    const maxBacklogMiB = Number(config.maxBacklog || 100);
    const overflow = config.overflow === 'refuse-new' ? 'refuse-new' : 'drop-oldest';

    let configError: string | undefined;
    if (!server) configError = 'server: choose an influx-server';
    else if (server.problem) configError = `server: ${server.problem}`;
    else if (!modelsNode) configError = 'models: choose the dtdl-model that types the fields';
    else if (!modelsNode.registry.model) configError = `models: ${modelsNode.loadError ?? 'no models loaded'}`;
    else if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) configError = `batch size: "${config.batchSize}" must be a whole number from 1 to 100000`;
    else if (!(flushMs >= 10 && flushMs <= 600_000)) configError = `flush interval: "${config.flushInterval}" ms must be from 10 to 600000`;
    else if (!(maxBacklogMiB >= 1)) configError = `backlog limit: "${config.maxBacklog}" MiB must be at least 1`;
    else if (config.mirror && !mirror) configError = 'mirror: the twin graph to mirror is not deployed';

    let writer: HistoryWriter | undefined;
    let spool: Spool | undefined;
    let encoder: LineEncoder | undefined;
    let refused = 0;
    let fullSince: number | undefined;
    let lastLoud = 0;

    const makeEncoder = () => {
      const schema = new HistorySchema(modelsNode!.registry.model!, { ...(config.measurement ? { measurement: config.measurement } : {}) });
      encoder = new LineEncoder(schema, { precision, eventsMeasurement: config.eventsMeasurement || 'twin_events' });
    };

    if (!configError) {
      try {
        makeEncoder();
        const dir = path.join(RED.settings.userDir ?? process.cwd(), 'twinflow', `history-${node.id}`);
        spool = new Spool(dir, { maxBytes: maxBacklogMiB * 1024 * 1024 });
        const opened = spool.open();
        if (opened.cutBytes > 0) node.warn(`twin-history: cut a torn tail of ${opened.cutBytes} bytes from the queue in ${dir} (a crash in the middle of a write; the points of that write had not been confirmed)`);
        if (opened.pendingPoints > 0) node.log(`${count(opened.pendingPoints)} point(s) queued before the restart are being written to ${server!.client!.label}`);
        const client = server!.client!;
        const options: WriterOptions = {
          batchSize,
          flushMs,
          maxRequestPoints: Math.max(batchSize, 20_000),
          maxRequestBytes: 8 * 1024 * 1024,
          overflow,
          retryMinMs: 500,
          retryMaxMs: 5000,
          rejectedFile: path.join(dir, 'refused-by-influxdb.lp'),
        };
        writer = new HistoryWriter(spool, {
          write: async (text) => {
            await server!.ready();
            await client.write(text, precision);
          },
          writeBody: async (body) => {
            await server!.ready();
            await client.write(body, precision);
          },
          classify: (err) => client.classify(err),
        }, options);
        node.history = { writer, spool };
        writer.on('unreachable', (e: { message: string }) => node.warn(`twin-history: InfluxDB ${client.label} is not taking points (${e.message}); they are queued on disk and will be written in order when it is back`));
        writer.on('written', (e: { recovered: boolean }) => {
          if (e.recovered) node.log(`InfluxDB ${client.label} is back; writing the queued points`);
          if (fullSince !== undefined && !writer!.state.full) fullSince = undefined;
        });
        writer.on('rejected', (e: { points: number; message: string; file: string }) => node.error(`twin-history: InfluxDB refused ${count(e.points)} point(s) for good (${e.message}); they are kept in ${e.file}`));
        writer.on('full', (e: { policy: string; dropped?: number; totalDropped?: number; backlog: number; bytes: number }) => {
          const now = Date.now();
          fullSince ??= now;
          // Loud, but not once per message: at once, then every 30 s while it lasts.
          if (now - lastLoud < 30_000) return;
          lastLoud = now;
          const size = `${count(e.backlog)} points, ${(e.bytes / 1048576).toFixed(1)} of ${maxBacklogMiB} MiB`;
          node.error(e.policy === 'drop-oldest'
            ? `twin-history: the backlog is FULL (${size}) while InfluxDB ${client.label} is not taking points; the OLDEST points are being DROPPED (${count(e.totalDropped ?? 0)} so far). Raise the backlog limit or fix InfluxDB`
            : `twin-history: the backlog is FULL (${size}) while InfluxDB ${client.label} is not taking points; NEW points are REFUSED (to Catch nodes) until there is room`);
        });
        writer.on('error', (err: Error) => node.error(err.message));
      } catch (err) {
        configError = `cannot open the queue: ${(err as Error).message}`;
      }
    }
    if (configError) node.error(`twin-history: ${configError}`);

    const onModels = () => {
      try {
        makeEncoder();
      } catch (err) {
        node.error(`twin-history: ${(err as Error).message}`);
      }
    };
    modelsNode?.registry.on('change', onModels);

    const showStatus = () => {
      if (configError) return node.status({ fill: 'red', shape: 'ring', text: configError });
      const s = writer!.state;
      const queued = `${count(s.backlog)} queued${s.backlogBytes > 1048576 ? ` (${(s.backlogBytes / 1048576).toFixed(1)} MiB)` : ''}`;
      if (s.full) {
        return node.status({ fill: 'red', shape: 'dot', text: overflow === 'drop-oldest' ? `backlog full: ${count(s.dropped)} oldest dropped · ${queued}` : `backlog full: refusing new points · ${queued}` });
      }
      if (s.reachable === false) return node.status({ fill: 'yellow', shape: 'ring', text: `InfluxDB unreachable: ${(s.lastError ?? '').slice(0, 60)} · ${queued}` });
      const extra = `${s.rejected > 0 ? ` · ${count(s.rejected)} refused by InfluxDB` : ''}${refused > 0 ? ` · ${count(refused)} invalid` : ''}${s.dropped > 0 ? ` · ${count(s.dropped)} dropped` : ''}`;
      node.status({ fill: s.rejected > 0 || refused > 0 ? 'yellow' : 'green', shape: 'dot', text: `${count(s.written)} written · ${queued}${extra}` });
    };
    showStatus();
    const statusTimer = setInterval(showStatus, 1000);

    node.on('input', (msg: NodeMessageInFlow & Record<string, unknown>, _send, done) => {
      if (configError || !writer || !encoder) {
        done(new Error(`twin-history: ${configError ?? 'not ready'}`));
        return;
      }
      let encoded;
      try {
        encoded = encoder.encodeMessage(msg);
      } catch (err) {
        refused++;
        done(new Error(`twin-history: ${(err as Error).message}`));
        return;
      }
      if (!encoded || encoded.points === 0) {
        done();
        return;
      }
      // done() once the points are on disk in the queue.
      writer.enqueue(encoded.text, encoded.points, (err) => {
        if (err) done(new Error(err instanceof BacklogFullError ? `twin-history: ${err.message}` : err.message));
        else done();
      });
    });

    const onChanges = (events: readonly TwinChangeEvent[]) => {
      if (!writer || !encoder || !mirror?.graph) return;
      const graph = mirror.graph;
      try {
        const encoded = encoder.encodeEvents(events, (id) => (graph.has(id) ? graph.getModel(id) : undefined));
        if (encoded.points > 0) writer.add(encoded.text, encoded.points).catch((err: Error) => node.error(`twin-history: mirror: ${err.message}`));
      } catch (err) {
        refused++;
        node.error(`twin-history: mirror: ${(err as Error).message}`);
      }
    };
    mirror?.on('changes', onChanges);

    node.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(statusTimer);
      mirror?.removeListener('changes', onChanges);
      modelsNode?.registry.removeListener('change', onModels);
      const closing = writer ? writer.close() : Promise.resolve();
      closing.then(done, (err: Error) => {
        node.error(`twin-history: closing the queue: ${err.message}`);
        done();
      });
    });
  }

  RED.nodes.registerType('twin-history', TwinHistory as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
