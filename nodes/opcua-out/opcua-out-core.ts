// Pure parts of opcua-out: what a message asks for (writes or a method call), from the message
// contract (desired changes, commands) or from explicit NodeIds.
import type { OperationResult } from '../opcua-endpoint/opcua-connection';

/** A twin name written to a variable, e.g. `spindle/speedSetpoint` -> `ns=1;s=CNC.spindle.speedSetpoint`. */
export interface WriteMapping {
  name: string;
  nodeId: string;
}

/** A twin command carried out by a method, e.g. `startCycle` -> object `ns=1;s=CNC`, method `ns=1;s=CNC.startCycle`. */
export interface MethodMapping {
  name: string;
  objectId: string;
  methodId: string;
}

export interface WriteRequest {
  target: string;
  nodeId: string;
  value: unknown;
  field: string;
}

export interface CallRequest {
  target: string;
  objectId: string;
  methodId: string;
  input: unknown;
  field: string;
}

export type Operation = { kind: 'write'; writes: WriteRequest[] } | { kind: 'call'; call: CallRequest };

const NODE_ID = /^(ns=\d+;|nsu=[^;]+;)?(i=\d+|s=.+|g=[0-9a-fA-F-]{36}|b=[A-Za-z0-9+/=]+)$/;

export function normalizeMappings(writes: unknown, methods: unknown): { writes: WriteMapping[]; methods: MethodMapping[] } {
  const w = Array.isArray(writes) ? writes : [];
  const m = Array.isArray(methods) ? methods : [];
  const names = new Set<string>();
  const checkName = (name: unknown, where: string): string => {
    if (typeof name !== 'string' || name.trim() === '') throw new Error(`${where}.name: a twin name is required`);
    if (names.has(name)) throw new Error(`${where}.name: "${name}" is used twice`);
    names.add(name);
    return name;
  };
  const checkNodeId = (id: unknown, where: string): string => {
    if (typeof id !== 'string' || !NODE_ID.test(id.trim())) throw new Error(`${where}: ${JSON.stringify(id)} is not an OPC UA NodeId`);
    return id.trim();
  };
  return {
    writes: w.map((raw, i) => ({ name: checkName(raw?.name, `writes[${i}]`), nodeId: checkNodeId(raw?.nodeId, `writes[${i}].nodeId`) })),
    methods: m.map((raw, i) => ({
      name: checkName(raw?.name, `methods[${i}]`),
      objectId: checkNodeId(raw?.objectId, `methods[${i}].objectId`),
      methodId: checkNodeId(raw?.methodId, `methods[${i}].methodId`),
    })),
  };
}

interface Incoming {
  topic?: unknown;
  payload?: unknown;
  nodeId?: unknown;
  command?: unknown;
  method?: unknown;
}

/** What a message asks for; throws with the field and the rule when it asks for nothing clear. */
export function operationFor(msg: Incoming, writes: WriteMapping[], methods: MethodMapping[]): Operation {
  if (msg.command !== undefined) {
    const command = msg.command as { name?: unknown; request?: unknown };
    if (typeof command !== 'object' || command === null || typeof command.name !== 'string') {
      throw new Error('command.name: a command needs a name (message contract: command = { name, request, id, issuer, issuedAt })');
    }
    const mapping = methods.find((m) => m.name === command.name);
    if (!mapping) throw new Error(`command.name: "${command.name}" is not a configured method (configured: ${methods.map((m) => m.name).join(', ') || 'none'})`);
    return { kind: 'call', call: { target: mapping.name, objectId: mapping.objectId, methodId: mapping.methodId, input: command.request, field: 'command.request' } };
  }
  if (msg.method !== undefined) {
    const method = msg.method as { objectId?: unknown; methodId?: unknown };
    if (typeof method?.objectId !== 'string' || !NODE_ID.test(method.objectId)) throw new Error('method.objectId: the NodeId of the object that owns the method is required');
    if (typeof method?.methodId !== 'string' || !NODE_ID.test(method.methodId)) throw new Error('method.methodId: the NodeId of the method is required');
    return { kind: 'call', call: { target: method.methodId, objectId: method.objectId, methodId: method.methodId, input: msg.payload, field: 'payload' } };
  }
  if (msg.nodeId !== undefined) {
    if (typeof msg.nodeId !== 'string' || !NODE_ID.test(msg.nodeId)) throw new Error(`nodeId: ${JSON.stringify(msg.nodeId)} is not an OPC UA NodeId`);
    return { kind: 'write', writes: [{ target: msg.nodeId, nodeId: msg.nodeId, value: msg.payload, field: 'payload' }] };
  }
  if (typeof msg.topic === 'string' && msg.topic !== '') {
    const mapping = writes.find((w) => w.name === msg.topic);
    if (!mapping) throw new Error(`topic: "${msg.topic}" is not a configured item (configured: ${writes.map((w) => w.name).join(', ') || 'none'})`);
    if (msg.payload === undefined) throw new Error(`payload: the value to write to "${msg.topic}" is missing`);
    return { kind: 'write', writes: [{ target: mapping.name, nodeId: mapping.nodeId, value: msg.payload, field: 'payload' }] };
  }
  if (typeof msg.payload === 'object' && msg.payload !== null && !Array.isArray(msg.payload) && !Buffer.isBuffer(msg.payload)) {
    const entries = Object.entries(msg.payload as Record<string, unknown>);
    if (entries.length === 0) throw new Error('payload: an empty object writes nothing');
    return {
      kind: 'write',
      writes: entries.map(([name, value]) => {
        const mapping = writes.find((w) => w.name === name);
        if (!mapping) throw new Error(`payload.${name}: "${name}" is not a configured item`);
        return { target: name, nodeId: mapping.nodeId, value, field: `payload.${name}` };
      }),
    };
  }
  throw new Error('nothing to do: send topic + payload (or nodeId + payload) to write, command = { name, request } to call a method');
}

/** One line for the node status and the error text: what failed and why. */
export function describeFailures(targets: string[], results: OperationResult[]): string | undefined {
  const failures = results.flatMap((r, i) => (r.good ? [] : [`${targets[i]}: ${r.status}${r.badArgument ? ` (argument ${r.badArgument})` : ''}${r.description ? ` - ${r.description}` : ''}`]));
  return failures.length > 0 ? failures.join('; ') : undefined;
}

/** Checks one value against the twin model: undefined when valid, else the reason. */
export type ModelCheck = (kind: 'property' | 'command', name: string, value: unknown) => string | undefined;

/**
 * Refuses an operation whose values the twin model rejects, before anything is written: every write
 * to a property of the model, the request of a command of the model. Names the model does not know
 * (items mapped beside the twin) are left to the server's DataType.
 */
export function modelProblem(operation: Operation, check: ModelCheck): string | undefined {
  if (operation.kind === 'write') {
    for (const w of operation.writes) {
      const problem = check('property', w.target, w.value);
      if (problem) return problem;
    }
    return undefined;
  }
  return operation.call.input === undefined ? undefined : check('command', operation.call.target, operation.call.input);
}
