// The Node-RED flows of the benchmark rows: Twinflow's opcua-in and node-red-contrib-opcua's
// OpcUa-Client, each wired into a real twin node (contrib through the function node a user would add)
// and on to the measuring sink (sink-node.ts), with the node files each row
// loads. Both alternatives are configured the way their own documentation tells a user to
// monitor thousands of tags.
import path from 'node:path';
import type { NodeFile } from './node-red-host';
import { SINK_TYPE } from './recorder';

export interface BenchItems {
  count: number;
  publishingInterval: number;
  /** the sampling interval every item asks for (0: on change) */
  samplingInterval: number;
}

export function benchNodeId(index: number): string {
  return `ns=1;s=Bench.${benchTagName(index)}`;
}

// Nodes on a tab carry x and y: without them Node-RED takes a node for a config node.
const TAB = 'bench-tab';
const SINK = 'twin-sink';

/** The DTDL interface of the simulator's bench tags: one Double telemetry per tag, named as in the item list. */
export const BENCH_MODEL = 'dtmi:twinflow:bench:BenchTags;1';

export function benchTagName(index: number): string {
  return `Tag${String(index).padStart(5, '0')}`;
}

export function benchModel(count: number): Record<string, unknown> {
  return {
    // DTDL v3: an Interface may hold more than v2's 300 contents (up to 100,000 in its hierarchy).
    '@context': 'dtmi:dtdl:context;3',
    '@id': BENCH_MODEL,
    '@type': 'Interface',
    displayName: 'Bench tags',
    contents: Array.from({ length: count }, (_, i) => ({ '@type': 'Telemetry', name: benchTagName(i), schema: 'double' })),
  };
}

/**
 * The real twin between the OPC UA node and the measuring sink: a dtdl-model holding the bench
 * model, a twin-graph with the dialog's defaults (persisted), and a twin node for one twin that
 * validates every value against the model. The sink records what the twin accepted (its first
 * output), so each value is counted once the twin holds it.
 */
function twinStage(count: number, next: string): { entry: string; nodes: Record<string, unknown>[] } {
  return {
    entry: 'twin',
    nodes: [
      { id: 'bench-models', type: 'dtdl-model', name: 'bench tags', source: 'inline', folder: '', documents: JSON.stringify([benchModel(count)]), allowUndefinedExtensions: false },
      { id: 'bench-graph', type: 'twin-graph', name: 'bench', models: 'bench-models', staleness: [], limits: [], persist: true, eventLog: false, snapshotEvery: 1000 },
      { id: 'twin', type: 'twin', z: TAB, x: 500, y: 100, name: 'bench twin', graph: 'bench-graph', scope: 'one', twinId: 'bench-1', model: BENCH_MODEL, autoCreate: true, wires: [[next], [], []] },
    ],
  };
}

/** One of Twinflow's nodes, built into dist/, with its editor HTML. */
function twinflowNodeFile(root: string, name: string): NodeFile {
  return { name, module: path.join(root, 'dist', 'nodes', name, `${name}.js`), htmlFile: path.join(root, 'nodes', name, `${name}.html`) };
}

function twinNodeFiles(root: string): NodeFile[] {
  return ['dtdl-model', 'twin-graph', 'twin'].map((name) => twinflowNodeFile(root, name));
}

/** The twin, then the sink that measures what reached it; returns the entry node's id. */
function downstream(count: number, adapter?: Record<string, unknown>): { entry: string; nodes: Record<string, unknown>[] } {
  const stage = twinStage(count, SINK);
  const nodes = [...stage.nodes, { id: SINK, type: SINK_TYPE, z: TAB, x: 700, y: 100, wires: [] }];
  if (!adapter) return { entry: stage.entry, nodes };
  return { entry: adapter.id as string, nodes: [{ z: TAB, x: 300, y: 100, ...adapter, wires: [[stage.entry]] }, ...nodes] };
}

function sinkNodeFile(root: string): NodeFile {
  return {
    name: SINK_TYPE,
    module: path.join(root, 'dist', 'bench', 'opcua', 'sink-node.js'),
    htmlText: `<script type="text/html" data-template-name="${SINK_TYPE}"></script>\n`,
  };
}

// ---- Twinflow ---------------------------------------------------------------------------------

export function twinflowNodeFiles(root: string): NodeFile[] {
  return [twinflowNodeFile(root, 'opcua-endpoint'), twinflowNodeFile(root, 'opcua-in'), ...twinNodeFiles(root), sinkNodeFile(root)];
}

/** One opcua-in node with every item in its item list, as the dialog's CSV import would make it. */
export function twinflowFlow(endpointUrl: string, items: BenchItems, outputMode: 'cycle' | 'change'): Record<string, unknown>[] {
  const next = downstream(items.count);
  const itemList = Array.from({ length: items.count }, (_, i) => ({
    nodeId: benchNodeId(i),
    name: benchTagName(i),
    samplingInterval: items.samplingInterval,
    deadbandType: 'none',
    deadbandValue: 0,
    queueSize: 1,
  }));
  return [
    { id: TAB, type: 'tab', label: 'bench' },
    { id: 'endpoint', type: 'opcua-endpoint', endpointUrl, securityMode: 'None', securityPolicy: 'None', identityType: 'anonymous', acceptUnknownCertificate: false },
    {
      id: 'source',
      type: 'opcua-in',
      z: TAB,
      x: 120,
      y: 100,
      endpoint: 'endpoint',
      items: itemList,
      publishingInterval: items.publishingInterval,
      outputMode,
      healthOutput: false,
      wires: [[next.entry]],
    },
    ...next.nodes,
  ];
}

// ---- node-red-contrib-opcua -------------------------------------------------------------------

export function contribNodeFiles(root: string, contribDir: string): NodeFile[] {
  const node = (file: string): NodeFile => ({
    name: `contrib-${file}`,
    module: path.join(contribDir, 'opcua', `${file}.js`),
    htmlFile: path.join(contribDir, 'opcua', `${file}.html`),
  });
  return [node('105-opcuaendpoint'), node('102-opcuaclient'), functionNodeFile(), ...twinNodeFiles(root), sinkNodeFile(root)];
}

/** Node-RED's own function node, which a user wires between OpcUa-Client and the twin. */
function functionNodeFile(): NodeFile {
  const dir = path.dirname(require.resolve('@node-red/nodes/core/function/10-function.js'));
  return { name: 'function', module: path.join(dir, '10-function.js'), htmlFile: path.join(dir, '10-function.html') };
}

/**
 * What a user puts between OpcUa-Client and the twin: its messages carry topic = the NodeId and
 * payload = the DataValue; the twin takes topic = the DTDL name, payload = the value, sourceTime.
 */
const CONTRIB_TO_TWIN: Record<string, unknown> = {
  id: 'contrib-to-twin',
  type: 'function',
  name: 'to the twin',
  func: [
    "const dataValue = msg.payload || {};",
    "// OpcUa-Client also sends messages that hold no value (the subscription's own): not for the twin.",
    "if (!dataValue.value) return null;",
    "const stamp = dataValue.sourceTimestamp;",
    "return {",
    "  topic: String(msg.topic).slice(String(msg.topic).lastIndexOf('.') + 1),",
    "  payload: dataValue.value.value,",
    "  sourceTime: stamp ? new Date(stamp).getTime() : undefined,",
    "};",
  ].join('\n'),
  outputs: 1,
  timeout: 0,
  noerr: 0,
  initialize: '',
  finalize: '',
  libs: [],
};

/**
 * An OpcUa-Client with action `subscribe`, its interval (the subscription's publishing interval,
 * and the items' sampling interval) set in the node, as its help and its OPCUA-MULTI-SUB example
 * flow show. Its first output goes to the twin; the status and raw outputs are not wired.
 */
export function contribFlow(endpointUrl: string, items: BenchItems): Record<string, unknown>[] {
  const next = downstream(items.count, CONTRIB_TO_TWIN);
  return [
    { id: TAB, type: 'tab', label: 'bench' },
    { id: 'endpoint', type: 'OpcUa-Endpoint', endpoint: endpointUrl, secpol: 'None', secmode: 'None', none: true, login: false, usercert: false },
    {
      id: 'source',
      type: 'OpcUa-Client',
      z: TAB,
      x: 120,
      y: 100,
      endpoint: 'endpoint',
      action: 'subscribe',
      deadbandtype: 'a',
      deadbandvalue: 1,
      time: items.publishingInterval,
      timeUnit: 'ms',
      certificate: 'n',
      localfile: '',
      localkeyfile: '',
      securitymode: 'None',
      securitypolicy: 'None',
      useTransport: false,
      maxChunkCount: 1,
      maxMessageSize: 8192,
      receiveBufferSize: 8192,
      sendBufferSize: 8192,
      setstatusandtime: false,
      keepsessionalive: false,
      name: '',
      applicationName: '',
      applicationUri: '',
      wires: [[next.entry], [], []],
    },
    ...next.nodes,
  ];
}

/**
 * The message that subscribes every item with OpcUa-Client: topic `multiple` and an array of
 * `{ nodeId, datatype }` (its help text; the example builds it in a function node after an inject).
 */
export function contribSubscribeMessage(items: BenchItems): { topic: string; payload: { nodeId: string; datatype: string }[] } {
  return { topic: 'multiple', payload: Array.from({ length: items.count }, (_, i) => ({ nodeId: benchNodeId(i), datatype: 'Double' })) };
}
