// Node-RED adapter for the influx-server config node: one InfluxDB 1.x HTTP API connection (host,
// port, database, retention policy, credentials, TLS) shared by twin-history nodes, and the
// optional set-up of the database, retention policies and downsampling continuous queries.
import type { NodeAPI, NodeDef } from 'node-red';
import type { RequestOptions } from 'node:https';
import { checkSetup, ensureSetup, InfluxClient, type SetupOptions } from '../lib/history';
import type { InfluxServerNode } from './influx-server-node';

interface InfluxServerDef extends NodeDef {
  host: string;
  port: string | number;
  path: string;
  database: string;
  retentionPolicy: string;
  usetls: boolean;
  tls: string;
  timeout: string | number;
  createDatabase: boolean;
  rawRetention: string;
  downsampleInterval: string;
  downsamplePolicy: string;
  downsampleRetention: string;
}

interface Credentials {
  username?: string;
  password?: string;
}

export = function register(RED: NodeAPI): void {
  function InfluxServer(this: InfluxServerNode, config: InfluxServerDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const credentials = ((node as unknown as { credentials?: Credentials }).credentials ?? {}) as Credentials;
    node.setup = {
      createDatabase: config.createDatabase !== false,
      rawRetention: (config.rawRetention ?? '').trim(),
      downsampleInterval: (config.downsampleInterval ?? '').trim(),
      downsamplePolicy: (config.downsamplePolicy ?? '').trim(),
      downsampleRetention: (config.downsampleRetention ?? '').trim(),
    } satisfies SetupOptions;
    const host = (config.host ?? '').trim() || '127.0.0.1';
    const port = Number(config.port || 8086);
    const database = (config.database ?? '').trim();
    const retentionPolicy = (config.retentionPolicy ?? '').trim();
    const timeoutSeconds = Number(config.timeout || 10);
    if (!Number.isInteger(port) || port < 1 || port > 65535) node.problem = `port: "${config.port}" must be a number from 1 to 65535`;
    else if (!database) node.problem = 'database: the InfluxDB database to use is required';
    else if (/["\n]/.test(database)) node.problem = `database: "${database}" must not contain double quotes or line breaks`;
    else if (!(timeoutSeconds > 0)) node.problem = `timeout: "${config.timeout}" must be a number of seconds above 0`;
    else node.problem = checkSetup(node.setup, retentionPolicy);

    let tls: RequestOptions | undefined;
    if (!node.problem && config.usetls) {
      tls = {};
      const tlsNode = config.tls ? (RED.nodes.getNode(config.tls) as unknown as { addTLSOptions?(o: RequestOptions): void } | null) : null;
      tlsNode?.addTLSOptions?.(tls);
    }
    if (node.problem) node.error(`influx-server: ${node.problem}`);
    else {
      node.client = new InfluxClient({
        host,
        port,
        protocol: config.usetls ? 'https' : 'http',
        ...(config.path ? { path: config.path.replace(/\/$/, '') } : {}),
        database,
        ...(retentionPolicy ? { retentionPolicy } : {}),
        ...(credentials.username ? { username: credentials.username, password: credentials.password ?? '' } : {}),
        ...(tls ? { tls } : {}),
        timeoutMs: timeoutSeconds * 1000,
      });
    }

    let setupDone: Promise<void> | undefined;
    node.ready = () => {
      if (!node.client) return Promise.reject(new Error(`influx-server: ${node.problem ?? 'not configured'}`));
      const wanted = node.setup.createDatabase || node.setup.rawRetention || node.setup.downsampleInterval;
      if (!wanted) return Promise.resolve();
      if (!setupDone) {
        setupDone = ensureSetup(node.client, node.setup).then(
          (done) => { node.log(`${node.client?.label}: ${done.join(', ')}`); },
          (err: Error) => {
            setupDone = undefined;
            throw err;
          },
        );
      }
      return setupDone;
    };
  }

  RED.nodes.registerType('influx-server', InfluxServer as unknown as Parameters<NodeAPI['nodes']['registerType']>[1], {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
  } as Parameters<NodeAPI['nodes']['registerType']>[2]);
};
