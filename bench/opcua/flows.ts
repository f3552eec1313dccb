// The Node-RED flows of the benchmark rows: Twinflow's opcua-in and node-red-contrib-opcua's
// OpcUa-Client, each wired into the twin stand-in (sink-node.ts), with the node files each row
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
  return `ns=1;s=Bench.Tag${String(index).padStart(5, '0')}`;
}

const TAB = 'bench-tab';
const SINK = 'twin-sink';

/**
 * What sits between the OPC UA node and the measuring sink. Today nothing: the sink stands in for
 * the twin. Once the `twin` node exists, return it here (its node file and its flow nodes, wired
 * on to `next`) and every Node-RED row measures values delivered into the real twin, with no
 * other change to the harness.
 */
export const TWIN_STAGE: { nodeFiles(root: string): NodeFile[]; nodes(next: string): { entry: string; nodes: Record<string, unknown>[] } } = {
  nodeFiles: () => [],
  nodes: (next) => ({ entry: next, nodes: [] }),
};

/** The stand-in for the twin, and whatever TWIN_STAGE puts in front of it; returns the entry node's id. */
function downstream(): { entry: string; nodes: Record<string, unknown>[] } {
  const stage = TWIN_STAGE.nodes(SINK);
  return { entry: stage.entry, nodes: [...stage.nodes.map((n) => ({ z: TAB, ...n })), { id: SINK, type: SINK_TYPE, z: TAB, wires: [] }] };
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
  const node = (name: string): NodeFile => ({
    name,
    module: path.join(root, 'dist', 'nodes', name, `${name}.js`),
    htmlFile: path.join(root, 'nodes', name, `${name}.html`),
  });
  return [node('opcua-endpoint'), node('opcua-in'), ...TWIN_STAGE.nodeFiles(root), sinkNodeFile(root)];
}

/** One opcua-in node with every item in its item list, as the dialog's CSV import would make it. */
export function twinflowFlow(endpointUrl: string, items: BenchItems, outputMode: 'cycle' | 'change'): Record<string, unknown>[] {
  const next = downstream();
  const itemList = Array.from({ length: items.count }, (_, i) => ({
    nodeId: benchNodeId(i),
    name: `Tag${String(i).padStart(5, '0')}`,
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
  return [node('105-opcuaendpoint'), node('102-opcuaclient'), ...TWIN_STAGE.nodeFiles(root), sinkNodeFile(root)];
}

/**
 * An OpcUa-Client with action `subscribe`, its interval (the subscription's publishing interval,
 * and the items' sampling interval) set in the node, as its help and its OPCUA-MULTI-SUB example
 * flow show. Its first output goes to the twin; the status and raw outputs are not wired.
 */
export function contribFlow(endpointUrl: string, items: BenchItems): Record<string, unknown>[] {
  const next = downstream();
  return [
    { id: TAB, type: 'tab', label: 'bench' },
    { id: 'endpoint', type: 'OpcUa-Endpoint', endpoint: endpointUrl, secpol: 'None', secmode: 'None', none: true, login: false, usercert: false },
    {
      id: 'source',
      type: 'OpcUa-Client',
      z: TAB,
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
