// Child process of the OPC UA benchmark: runs ONE row (one client) against the simulator and
// measures it from the inside: set-up time, values per second and latency at the twin, its own
// CPU and memory. Talks to the parent over IPC: `window-start` and `window-end` (so the parent
// can measure the server's CPU over the same window), then `result`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import {
  AttributeIds,
  ClientMonitoredItemGroup,
  OPCUACertificateManager,
  OPCUAClient,
  TimestampsToReturn,
  type DataValue,
} from 'node-opcua';
import { certificateManagerFor } from '../../nodes/opcua-endpoint/opcua-connection';
import { GcPauses, type GcWindowStats } from './gc-pauses';
import { NodeRedHost, type LogEntry } from './node-red-host';
import { benchNodeId, contribFlow, contribNodeFiles, contribSubscribeMessage, twinflowFlow, twinflowNodeFiles, type BenchItems } from './flows';
import { Recorder, setActiveRecorder, type WindowStats } from './recorder';

export type RowId = 'bare' | 'twinflow-cycle' | 'twinflow-change' | 'contrib';

export interface ClientConfig {
  row: RowId;
  endpointUrl: string;
  items: BenchItems;
  warmupSeconds: number;
  windowSeconds: number;
  setupTimeoutSeconds: number;
  /** stop after the set-up: one of the extra runs whose set-up times give the median */
  setupOnly: boolean;
  /** an empty folder of this row's own: Node-RED user directory, PKI */
  workDir: string;
  root: string;
  contribDir: string;
}

export interface ClientResult {
  row: RowId;
  /** first request (TCP connection) to every item reported */
  setupMs: number | null;
  /** from the deploy (Node-RED rows) or the connect call (bare) to every item reported */
  setupFromDeployMs: number | null;
  itemsReported: number;
  window: WindowStats | null;
  cpuPercent: number;
  rssMb: number;
  rssPeakMb: number;
  heapUsedMb: number;
  /** the process before the row's client started (Node-RED rows: Node-RED running, nothing deployed) */
  rssBaselineMb: number;
  eventLoopDelayP99Ms: number;
  /** this process's collection pauses over the window */
  gc: GcWindowStats | null;
  nodeOpcuaVersion: string;
  warnings: LogEntry[];
  error?: string;
}

/** One running row: what to stop afterwards, and what it logged. */
interface RunningRow {
  nodeOpcuaVersion: string;
  rssBaseline: number;
  warnings(): LogEntry[];
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function send(message: Record<string, unknown>): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) resolve();
    else process.send(message, () => resolve());
  });
}

/**
 * A throwaway session with the row's own certificate manager (and node-opcua copy) before the
 * clock starts: creating the client certificate once is a first-run cost, not set-up time.
 */
async function prime(create: () => { connect(url: string): Promise<void>; createSession(): Promise<{ close(): Promise<void> }>; disconnect(): Promise<void> }, endpointUrl: string): Promise<void> {
  const client = create();
  await client.connect(endpointUrl);
  const session = await client.createSession();
  await session.close();
  await client.disconnect();
}

function nodeOpcuaVersion(fromDir: string): string {
  try {
    const manifest = require.resolve('node-opcua/package.json', { paths: [fromDir] });
    return (require(manifest) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

// ---- rows -------------------------------------------------------------------------------------

/** The practical limit: one session, one subscription, one ClientMonitoredItemGroup, a counter. */
async function startBare(config: ClientConfig, recorderFor: () => Recorder): Promise<RunningRow> {
  const { items } = config;
  const pki = new OPCUACertificateManager({ rootFolder: path.join(config.workDir, 'pki'), automaticallyAcceptUnknownCertificate: true });
  await pki.initialize();
  const options = { endpointMustExist: false, clientCertificateManager: pki, keepSessionAlive: true, connectionStrategy: { maxRetry: 3, initialDelay: 250 } };
  await prime(() => OPCUAClient.create(options), config.endpointUrl);
  const rssBaseline = process.memoryUsage.rss();

  const recorder = recorderFor();
  const client = OPCUAClient.create(options);
  await client.connect(config.endpointUrl);
  const session = await client.createSession();
  const subscription = await session.createSubscription2({
    requestedPublishingInterval: items.publishingInterval,
    requestedLifetimeCount: 60,
    requestedMaxKeepAliveCount: 10,
    maxNotificationsPerPublish: 0,
    publishingEnabled: true,
    priority: 10,
  });
  const toMonitor = Array.from({ length: items.count }, (_, i) => ({ nodeId: benchNodeId(i), attributeId: AttributeIds.Value }));
  const group = ClientMonitoredItemGroup.create(
    subscription,
    toMonitor,
    { samplingInterval: items.samplingInterval, queueSize: 1, discardOldest: true },
    TimestampsToReturn.Both,
  );
  group.on('changed', (_item: unknown, dataValue: DataValue, index: number) => {
    recorder.value(index, dataValue.sourceTimestamp?.getTime(), Date.now());
  });
  return {
    nodeOpcuaVersion: nodeOpcuaVersion(config.root),
    rssBaseline,
    warnings: () => [],
    stop: async () => {
      await subscription.terminate().catch(() => undefined);
      await session.close().catch(() => undefined);
      await client.disconnect().catch(() => undefined);
    },
  };
}

/** Twinflow: opcua-endpoint + opcua-in in Node-RED, wired into the twin. */
async function startTwinflow(config: ClientConfig, recorderFor: () => Recorder, outputMode: 'cycle' | 'change'): Promise<RunningRow> {
  const userDir = path.join(config.workDir, 'node-red');
  mkdirSync(userDir, { recursive: true });
  const host = await NodeRedHost.start(userDir, twinflowNodeFiles(config.root));
  let rssBaseline = 0;
  try {
    // The endpoint node keeps its PKI in <userDir>/twinflow-pki and shares one manager per folder.
    const pki = await certificateManagerFor(path.join(userDir, 'twinflow-pki'));
    pki.automaticallyAcceptUnknownCertificate = true;
    await prime(() => OPCUAClient.create({ applicationName: 'Twinflow', clientName: 'Twinflow', endpointMustExist: false, clientCertificateManager: pki, connectionStrategy: { maxRetry: 3, initialDelay: 250 } }), config.endpointUrl);
    const flow = twinflowFlow(config.endpointUrl, config.items, outputMode);
    rssBaseline = process.memoryUsage.rss();
    recorderFor();
    await host.deploy(flow);
  } catch (err) {
    await host.stop().catch(() => undefined);
    throw err;
  }
  return { nodeOpcuaVersion: nodeOpcuaVersion(config.root), rssBaseline, warnings: () => host.warnings, stop: () => host.stop() };
}

/** node-red-contrib-opcua: OpcUa-Endpoint + OpcUa-Client (subscribe, topic `multiple`) in Node-RED. */
async function startContrib(config: ClientConfig, recorderFor: () => Recorder): Promise<RunningRow> {
  const userDir = path.join(config.workDir, 'node-red');
  mkdirSync(userDir, { recursive: true });
  const host = await NodeRedHost.start(userDir, contribNodeFiles(config.root, config.contribDir));
  let rssBaseline = 0;
  try {
    // Its own node-opcua and its own (process-wide) certificate manager, under XDG_CONFIG_HOME,
    // which the parent points at this run's temporary folder.
    const contribOpcua = require(require.resolve('node-opcua', { paths: [config.contribDir] })) as typeof import('node-opcua');
    const utils = require(path.join(config.contribDir, 'opcua', 'utils.js')) as { createClientCertificateManager(): OPCUACertificateManager };
    const pki = utils.createClientCertificateManager();
    await pki.initialize();
    await prime(() => contribOpcua.OPCUAClient.create({ endpointMustExist: false, clientCertificateManager: pki as never, connectionStrategy: { maxRetry: 3, initialDelay: 250 } }), config.endpointUrl);
    const flow = contribFlow(config.endpointUrl, config.items);
    rssBaseline = process.memoryUsage.rss();
    recorderFor();
    await host.deploy(flow);
    // What the example's inject ("once") and function node do: one message with every NodeId.
    const source = host.getNode<{ receive(msg: unknown): void }>('source');
    if (!source) throw new Error(`the OpcUa-Client node did not start; Node-RED logged: ${host.warnings.map((w) => w.text).join(' | ')}`);
    source.receive(contribSubscribeMessage(config.items));
  } catch (err) {
    await host.stop().catch(() => undefined);
    throw err;
  }
  return { nodeOpcuaVersion: nodeOpcuaVersion(config.contribDir), rssBaseline, warnings: () => host.warnings, stop: () => host.stop() };
}

// ---- measuring --------------------------------------------------------------------------------

/** A V8 CPU profile of one phase, when TWINFLOW_BENCH_OPCUA_CPU_PROF names a folder; stop() writes it there. */
function profilePhase(row: RowId, phase: 'setup' | 'window'): { stop(): Promise<void> } {
  const dir = process.env.TWINFLOW_BENCH_OPCUA_CPU_PROF;
  if (!dir) return { stop: async () => undefined };
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))));
  const started = post('Profiler.enable').then(() => post('Profiler.setSamplingInterval', { interval: 200 })).then(() => post('Profiler.start'));
  return {
    stop: async () => {
      await started;
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(path.resolve(dir), `${row}-${phase}-${Date.now()}.cpuprofile`), JSON.stringify(profile));
      session.disconnect();
    },
  };
}

async function run(config: ClientConfig): Promise<ClientResult> {
  let recorder: Recorder | undefined;
  // The clock starts when the row is about to make its first request for the items.
  const recorderFor = () => {
    recorder = new Recorder(config.items.count);
    setActiveRecorder(recorder);
    return recorder;
  };
  const setupProfile = profilePhase(config.row, 'setup');
  let row: RunningRow;
  switch (config.row) {
    case 'bare':
      row = await startBare(config, recorderFor);
      break;
    case 'twinflow-cycle':
      row = await startTwinflow(config, recorderFor, 'cycle');
      break;
    case 'twinflow-change':
      row = await startTwinflow(config, recorderFor, 'change');
      break;
    case 'contrib':
      row = await startContrib(config, recorderFor);
      break;
  }
  const rec = recorder!;
  let error: string | undefined;
  try {
    await rec.allSeen(config.setupTimeoutSeconds * 1000);
  } catch (err) {
    // Measured anyway: a row that never reports every item still has a throughput.
    error = (err as Error).message;
  }
  await setupProfile.stop();
  await send({ type: 'setup', setupMs: rec.setupMs ?? null, itemsReported: rec.itemsSeen });
  const common = {
    row: config.row,
    setupMs: rec.setupMs ?? null,
    setupFromDeployMs: rec.setupFromStartMs ?? null,
    itemsReported: rec.itemsSeen,
    rssBaselineMb: row.rssBaseline / 2 ** 20,
    nodeOpcuaVersion: row.nodeOpcuaVersion,
    ...(error ? { error } : {}),
  };
  if (config.setupOnly) {
    const memory = process.memoryUsage();
    const result: ClientResult = {
      ...common,
      window: null,
      cpuPercent: Number.NaN,
      rssMb: memory.rss / 2 ** 20,
      rssPeakMb: memory.rss / 2 ** 20,
      heapUsedMb: memory.heapUsed / 2 ** 20,
      eventLoopDelayP99Ms: Number.NaN,
      gc: null,
      warnings: row.warnings().slice(0, 10),
    };
    await withTimeout(row.stop(), 10_000).catch(() => undefined);
    return result;
  }
  await sleep(config.warmupSeconds * 1000);

  // Every row starts its window on a clean heap. The collection holds the loop (longer for a larger
  // heap), so the values it delayed drain before the window opens rather than inside it.
  (globalThis as { gc?: () => void }).gc?.();
  await sleep(1000);
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  await send({ type: 'window-start' });
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  let rssPeak = process.memoryUsage.rss();
  const rssTimer = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  }, 500);
  loopDelay.enable();
  const pauses = new GcPauses();
  const windowProfile = profilePhase(config.row, 'window');
  rec.startWindow();
  await sleep(config.windowSeconds * 1000);
  const window = rec.stopWindow();
  const gc = pauses.stop();
  await windowProfile.stop();
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - wall0;
  loopDelay.disable();
  clearInterval(rssTimer);
  const memory = process.memoryUsage();
  await send({ type: 'window-end' });

  const result: ClientResult = {
    ...common,
    window,
    cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
    rssMb: memory.rss / 2 ** 20,
    rssPeakMb: Math.max(rssPeak, memory.rss) / 2 ** 20,
    heapUsedMb: memory.heapUsed / 2 ** 20,
    eventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    gc,
    warnings: row.warnings().slice(0, 10),
  };
  await withTimeout(row.stop(), 10_000).catch(() => undefined);
  return result;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then((v) => { clearTimeout(timer); resolve(v); }, (e: unknown) => { clearTimeout(timer); reject(e); });
  });
}

if (require.main === module) {
  // A parent that died must not leave a client behind.
  process.on('disconnect', () => process.exit(1));
  const config = JSON.parse(process.argv[2] ?? '{}') as ClientConfig;
  run(config).then(
    async (result) => {
      await send({ type: 'result', result });
      // Some clients keep sockets or timers after close (contrib's disconnect); the result is out.
      process.exit(0);
    },
    async (err: unknown) => {
      await send({ type: 'error', message: err instanceof Error ? err.stack ?? err.message : String(err) });
      process.exit(1);
    },
  );
}
