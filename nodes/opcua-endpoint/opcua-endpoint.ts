// Node-RED adapter for the opcua-endpoint config node: settings and credentials in, one shared
// connection out, plus the admin routes the edit dialogs use (certificates, browsing, CSV import).
import os from 'node:os';
import path from 'node:path';
import type { NodeAPI, NodeDef } from 'node-red';
import { setDebugLogger, setWarningLogger } from 'node-opcua';
import type { Request, Response } from 'express';
import { acquireConnection, certificateManagerFor, type OpcuaConnection } from './opcua-connection';
import { endpointSettingsFrom, type EndpointFields } from './endpoint-settings';
import type { OpcuaEndpointNode } from './endpoint-node';
import { itemsFromCsv } from './opcua-items';
import { clientCertificatePem, listRejectedCertificates, listTrustedCertificates, trustRejectedCertificate } from './pki';
import { dtdlNameFilter, proposeItems, type NameFilter } from './propose-items';
import { ModelIndex } from '../lib/twin/model-index';
import type { DtdlModelNode } from '../dtdl-model/dtdl-model-node';

type EndpointDef = NodeDef & EndpointFields;

export = function register(RED: NodeAPI): void {
  // node-opcua writes its own diagnostics to the console; keep them in Node-RED's log at debug level.
  // Problems that matter reach the user through node status and errors instead.
  const forward = (...args: unknown[]) => RED.log.debug(`[node-opcua] ${args.map(String).join(' ')}`);
  setWarningLogger(forward);
  setDebugLogger(forward);
  const pkiDir = path.join(RED.settings.userDir ?? path.join(os.tmpdir(), 'twinflow'), 'twinflow-pki');

  function OpcuaEndpoint(this: OpcuaEndpointNode, config: EndpointDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    let settings: ReturnType<typeof endpointSettingsFrom> | undefined;
    try {
      settings = endpointSettingsFrom(config, node.credentials ?? {}, pkiDir);
    } catch (err) {
      node.settingsError = (err as Error).message;
      node.error(`opcua-endpoint: ${node.settingsError}`);
    }
    node.acquire = () => {
      if (!settings) throw new Error(node.settingsError ?? 'the endpoint is not configured');
      return acquireConnection(settings, { warn: (message) => node.warn(message) });
    };
  }

  RED.nodes.registerType('opcua-endpoint', OpcuaEndpoint as unknown as Parameters<NodeAPI['nodes']['registerType']>[1], {
    credentials: {
      userName: { type: 'text' },
      password: { type: 'password' },
      userCertificate: { type: 'password' },
      userPrivateKey: { type: 'password' },
    },
  });

  const read = RED.auth.needsPermission('opcua-endpoint.read');
  const write = RED.auth.needsPermission('opcua-endpoint.write');
  const fail = (res: Response, status: number, err: unknown) => res.status(status).json({ error: err instanceof Error ? err.message : String(err) });

  RED.httpAdmin.get('/twinflow/opcua/pki', read, (_req: Request, res: Response) => {
    try {
      res.json({ pkiDir, rejected: listRejectedCertificates(pkiDir), trusted: listTrustedCertificates(pkiDir) });
    } catch (err) {
      fail(res, 500, err);
    }
  });

  RED.httpAdmin.post('/twinflow/opcua/pki/trust', write, async (req: Request, res: Response) => {
    try {
      const file = (req.body as { file?: unknown })?.file;
      if (typeof file !== 'string') return fail(res, 400, new Error('file: the rejected certificate file name is required'));
      const trusted = await trustRejectedCertificate(pkiDir, file, await certificateManagerFor(pkiDir));
      res.json({ trusted });
    } catch (err) {
      fail(res, 400, err);
    }
  });

  RED.httpAdmin.get('/twinflow/opcua/pki/client-certificate', read, async (_req: Request, res: Response) => {
    try {
      const pem = await clientCertificatePem(pkiDir, await certificateManagerFor(pkiDir));
      res.set('Content-Type', 'application/x-pem-file');
      res.set('Content-Disposition', 'attachment; filename="twinflow-client-certificate.pem"');
      res.send(pem);
    } catch (err) {
      fail(res, 500, err);
    }
  });

  RED.httpAdmin.post('/twinflow/opcua/items/csv', write, (req: Request, res: Response) => {
    try {
      const csv = (req.body as { csv?: unknown })?.csv;
      if (typeof csv !== 'string') return fail(res, 400, new Error('csv: the CSV text is required'));
      res.json({ items: itemsFromCsv(csv) });
    } catch (err) {
      fail(res, 400, err);
    }
  });

  function twinPathsOf(dtmi: string): string[] | undefined {
    let paths: string[] | undefined;
    RED.nodes.eachNode((n: { id: string; type: string }) => {
      if (paths || n.type !== 'dtdl-model') return;
      const models = (RED.nodes.getNode(n.id) as DtdlModelNode | null)?.registry.model;
      if (models?.interfaces.has(dtmi)) {
        const index = new ModelIndex(models, dtmi, []);
        paths = [...index.telemetryPaths, ...index.propertyPaths];
      }
    });
    return paths;
  }

  /** Browsing needs a deployed endpoint: the dialog says so when it is not. */
  async function withDeployedEndpoint(req: Request, res: Response, job: (connection: OpcuaConnection) => Promise<unknown>): Promise<void> {
    const endpoint = RED.nodes.getNode(String(req.params.id)) as OpcuaEndpointNode | null;
    if (!endpoint || typeof endpoint.acquire !== 'function') {
      fail(res, 404, new Error('deploy the endpoint first: browsing uses the deployed connection'));
      return;
    }
    let lease: ReturnType<OpcuaEndpointNode['acquire']> | undefined;
    try {
      lease = endpoint.acquire();
      lease.connection.start();
      await lease.connection.whenConnected(10_000);
      res.json(await job(lease.connection));
    } catch (err) {
      fail(res, 502, err);
    } finally {
      await lease?.release();
    }
  }

  RED.httpAdmin.get('/twinflow/opcua/endpoint/:id/browse', read, (req: Request, res: Response) => {
    const nodeId = typeof req.query.nodeId === 'string' && req.query.nodeId ? req.query.nodeId : 'i=85';
    void withDeployedEndpoint(req, res, (connection) => connection.browse(nodeId));
  });

  RED.httpAdmin.get('/twinflow/opcua/endpoint/:id/propose', read, (req: Request, res: Response) => {
    const nodeId = typeof req.query.nodeId === 'string' && req.query.nodeId ? req.query.nodeId : 'i=85';
    const depth = Math.min(6, Math.max(1, Number(req.query.depth ?? 3) || 3));
    let filter: NameFilter | undefined;
    const model = typeof req.query.model === 'string' ? req.query.model.trim() : '';
    if (model) {
      // Map to the interface's telemetry and properties, from whichever deployed dtdl-model holds it.
      const paths = twinPathsOf(model);
      if (!paths) {
        fail(res, 404, new Error(`model: ${model} is not loaded by any deployed dtdl-model node`));
        return;
      }
      filter = dtdlNameFilter(paths);
    }
    void withDeployedEndpoint(req, res, async (connection) => ({ items: await proposeItems(connection, nodeId, depth, filter) }));
  });
};
