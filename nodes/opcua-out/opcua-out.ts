// Node-RED adapter for opcua-out: writes variables and calls methods over the endpoint's shared
// session, and sends every outcome on, so the reconciler can confirm or retry.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { OpcuaEndpointNode } from '../opcua-endpoint/endpoint-node';
import type { OperationResult } from '../opcua-endpoint/opcua-connection';
import { describeFailures, modelProblem, normalizeMappings, operationFor, type MethodMapping, type ModelCheck, type WriteMapping } from './opcua-out-core';
import { validateInstance } from '../lib/dtdl';
import type { DtdlModelNode } from '../dtdl-model/dtdl-model-node';

interface OpcuaOutDef extends NodeDef {
  endpoint: string;
  writes: unknown;
  methods: unknown;
  timeout: string | number;
  /** optional: a dtdl-model node and the twin's interface, to refuse values the model rejects */
  models?: string;
  twinModel?: string;
}

export = function register(RED: NodeAPI): void {
  function OpcuaOut(this: Node, config: OpcuaOutDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const endpoint = RED.nodes.getNode(config.endpoint) as OpcuaEndpointNode | null;
    const timeoutMs = Math.max(0.1, Number(config.timeout) || 10) * 1000;
    let mappings: { writes: WriteMapping[]; methods: MethodMapping[] } = { writes: [], methods: [] };
    let configError: string | undefined;
    try {
      mappings = normalizeMappings(config.writes, config.methods);
    } catch (err) {
      configError = (err as Error).message;
    }
    // The twin model, when configured: a value it rejects is never written.
    let checkModel: ModelCheck | undefined;
    const twinModel = (config.twinModel ?? '').trim();
    if (config.models && twinModel) {
      const modelsNode = RED.nodes.getNode(config.models) as DtdlModelNode | null;
      checkModel = (kind, name, value) => {
        const models = modelsNode?.registry.model;
        const iface = models?.interfaces.get(twinModel);
        if (!models || !iface) return `twinModel: ${twinModel} is not loaded by the chosen dtdl-model node`;
        if (kind === 'command' && !iface.commands.some((c) => c.name === name)) return undefined;
        const result = validateInstance(models, { interface: twinModel, name: kind === 'command' ? `${name}/request` : name }, value);
        if (result.ok) return undefined;
        // A name that is no content of the model is an item mapped beside the twin: the server's DataType decides.
        if (result.errors.every((e) => e.code === 'target-unknown')) return undefined;
        return result.errors.map((e) => e.message).join('; ');
      };
    }
    let lease: ReturnType<OpcuaEndpointNode['acquire']> | undefined;
    if (!endpoint) configError ??= 'no endpoint configured';
    else if (endpoint.settingsError) configError ??= endpoint.settingsError;
    else if (!configError) {
      try {
        lease = endpoint.acquire();
        lease.connection.start();
      } catch (err) {
        configError = (err as Error).message;
      }
    }
    node.status(configError ? { fill: 'red', shape: 'ring', text: configError } : { fill: 'grey', shape: 'ring', text: 'ready' });

    node.on('input', (msg: NodeMessageInFlow & Record<string, unknown>, send, done) => {
      void (async () => {
        try {
          if (configError || !lease) throw new Error(`opcua-out: ${configError ?? 'not usable'}`);
          const operation = operationFor(msg, mappings.writes, mappings.methods);
          const rejected = checkModel && modelProblem(operation, checkModel);
          if (rejected) throw new Error(`opcua-out: ${rejected}; nothing was written`);
          let targets: string[];
          let results: OperationResult[];
          const out: Record<string, unknown> = { ...msg };
          if (operation.kind === 'write') {
            targets = operation.writes.map((w) => w.target);
            results = await lease.connection.write(operation.writes, timeoutMs);
          } else {
            targets = [operation.call.target];
            results = await lease.connection.call([operation.call], timeoutMs);
            out.payload = results[0]!.outputs ?? {};
            if (msg.command && typeof msg.command === 'object') {
              out.command = { ...(msg.command as object), response: results[0]!.outputs ?? {}, status: results[0]!.status };
            }
          }
          out.results = results.map((r, i) => ({ target: targets[i], ...r }));
          out.good = results.every((r) => r.good);
          out.statusCode = results[0]!.statusCode;
          const failures = describeFailures(targets, results);
          const verb = operation.kind === 'write' ? 'wrote' : 'called';
          node.status(failures
            ? { fill: 'red', shape: 'dot', text: failures.slice(0, 120) }
            : { fill: 'green', shape: 'dot', text: `${verb} ${targets.join(', ')}`.slice(0, 120) });
          send(out);
          done(failures ? new Error(`opcua-out: the server refused ${failures}`) : undefined);
        } catch (err) {
          const message = (err as Error).message;
          node.status({ fill: 'red', shape: 'ring', text: message.slice(0, 120) });
          done(new Error(message.startsWith('opcua-out') ? message : `opcua-out: ${message}`));
        }
      })();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      void (lease?.release() ?? Promise.resolve()).catch(() => undefined).then(() => done());
    });
  }

  RED.nodes.registerType('opcua-out', OpcuaOut as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
