// Node-RED adapter for the twin-history query node: a time range, a twin and DTDL names in; rows,
// Dashboard 2.0 ui-chart series or ui-table rows out, raw or aggregated per window. Every value is
// a bind parameter; names come from the DTDL model.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { buildStatements, chartMessages, HistorySchema, rowsOf, tableRows, type Aggregate, type OutputShape } from '../lib/history';
import type { DtdlModelNode } from '../dtdl-model/dtdl-model-node';
import type { InfluxServerNode } from '../influx-server/influx-server-node';
import { parseNames, readQuery, type QuerySettings } from './query-request';

interface QueryDef extends NodeDef {
  server: string;
  models: string;
  measurement: string;
  twinId: string;
  model: string;
  names: string;
  from: string;
  aggregate: string;
  window: string;
  output: string;
  limit: string | number;
  retentionPolicy: string;
  downsampled: boolean;
}

export = function register(RED: NodeAPI): void {
  function TwinHistoryQuery(this: Node, config: QueryDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const server = RED.nodes.getNode(config.server) as InfluxServerNode | null;
    const modelsNode = RED.nodes.getNode(config.models) as DtdlModelNode | null;
    let configError: string | undefined;
    let settings: QuerySettings | undefined;
    try {
      settings = {
        twinId: (config.twinId ?? '').trim(),
        model: (config.model ?? '').trim(),
        names: parseNames(config.names ?? '', 'names'),
        from: (config.from ?? '').trim() || '-1h',
        aggregate: (config.aggregate || '') as '' | Aggregate,
        window: (config.window ?? '').trim() || '1m',
        output: (['rows', 'chart', 'table'].includes(config.output) ? config.output : 'rows') as OutputShape,
        limit: Number(config.limit || 10_000),
        retentionPolicy: (config.retentionPolicy ?? '').trim(),
        downsampled: config.downsampled === true,
      };
    } catch (err) {
      configError = (err as Error).message;
    }
    if (!server) configError = 'server: choose an influx-server';
    else if (server.problem) configError = `server: ${server.problem}`;
    else if (!modelsNode) configError = 'models: choose the dtdl-model the history was written with';
    else if (!modelsNode.registry.model) configError = `models: ${modelsNode.loadError ?? 'no models loaded'}`;
    let queries = 0;

    const showStatus = (extra?: { fill: 'green' | 'red' | 'yellow'; text: string }) => {
      if (configError) return node.status({ fill: 'red', shape: 'ring', text: configError });
      node.status(extra ? { fill: extra.fill, shape: 'dot', text: extra.text } : {});
    };
    showStatus();

    node.on('input', (msg: NodeMessageInFlow & Record<string, unknown>, send, done) => {
      if (configError || !settings || !server?.client || !modelsNode?.registry.model) {
        done(new Error(`twin-history query: ${configError ?? 'not ready'}`));
        return;
      }
      const client = server.client;
      let job;
      let statements;
      try {
        job = readQuery(msg, settings, Date.now());
        const schema = new HistorySchema(modelsNode.registry.model, { ...(config.measurement ? { measurement: config.measurement } : {}) });
        statements = buildStatements(schema, job.request);
      } catch (err) {
        done(new Error(`twin-history query: ${(err as Error).message}`));
        return;
      }
      const started = Date.now();
      client.query(statements.map((s) => s.text).join('; '), Object.assign({}, ...statements.map((s) => s.params)), job.retentionPolicy).then(
        (results) => {
          queries++;
          const rows = rowsOf(statements, results);
          const names = job.request.names;
          const base = { ...msg, twin: { id: job.request.twinId, model: job.request.model }, history: { from: job.request.from, to: job.request.to, names, ...(job.request.aggregate ? { aggregate: job.request.aggregate, window: job.request.window } : {}), points: rows.length } };
          if (job.output === 'chart') {
            send([chartMessages(names, rows).map((m) => ({ ...base, ...m }))]);
          } else {
            send({ ...base, payload: job.output === 'table' ? tableRows(names, rows) : rows });
          }
          showStatus({ fill: 'green', text: `${rows.length.toLocaleString('en-US')} values in ${Date.now() - started} ms · ${queries} queries` });
          done();
        },
        (err: Error) => {
          showStatus({ fill: 'red', text: err.message.slice(0, 80) });
          done(new Error(`twin-history query: ${client.label}: ${err.message}`));
        },
      );
    });
  }

  RED.nodes.registerType('twin-history-query', TwinHistoryQuery as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
