// Child process of the points benchmark: writes the twin sample stream (stream.ts) into one fresh
// InfluxDB database through ONE path, in a process of its own (so its CPU and peak memory are its
// own), and reports over IPC: `window-start` / `window-end` around the measured stream (the parent
// reads influxd's CPU over the same window), then `result`.
//   raw      the `influx` package's writePoints, called directly (no Node-RED)
//   contrib       node-red-contrib-influxdb's `influxdb batch` node in Node-RED, fed ready-made
//                 batches, one per message (its own input format, built outside Node-RED)
//   contrib-flow  the same node behind what a user builds to feed it twin messages: Node-RED's core
//                 `function` node (one message per point, in the batch node's point format) and
//                 core `join` node (batches of `batch` points), fed what the `twin` node sends
//   twinflow      Twinflow's `twin-history` node in Node-RED, fed what the `twin` node sends
// Every path gets the same batch size and at most `windowBatches` batches of points in flight.
// A warm-up (points before T0, which the parent's count leaves out) runs first, untimed.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { InfluxDB } from 'influx';
import type { HistoryWriter } from '../../nodes/lib/history';
import { NodeRedHost, type LogEntry, type NodeFile } from '../opcua/node-red-host';
import { feed, FEED_TYPE, type FeedResult } from './feed';
import { pointsBatch, POINTS_PER_INSTANT, twinMessageAt } from './stream';

export type PointsRow = 'raw' | 'contrib' | 'contrib-flow' | 'twinflow';

export interface PointsConfig {
  row: PointsRow;
  host: string;
  port: number;
  database: string;
  /** measured points: points 0 .. points-1 of the stream (a multiple of batch) */
  points: number;
  /** warm-up points: points -warmupPoints .. -1 (a multiple of batch) */
  warmupPoints: number;
  /** points per write request (raw), per message (contrib), the node's batch size (twinflow); a multiple of 3 */
  batch: number;
  windowBatches: number;
  /** an empty folder of this run's own (Node-RED user directory, twin-history's queue) */
  workDir: string;
  root: string;
  contribDir: string;
}

export interface PointsResult {
  row: PointsRow;
  /** first point sent to the last one confirmed written by InfluxDB */
  ms: number;
  /** twinflow: first point sent to the last one durably queued (done() called) */
  acceptedMs?: number;
  errors: number;
  firstError?: string;
  /** CPU of this process over the measured stream, % of one core */
  cpuPercent: number;
  /** before the measured stream (Node-RED running, flow deployed, warm-up done) */
  rssBeforeMb: number;
  /** the process's peak resident set (VmHWM) */
  rssPeakMb: number;
  influxPackage: string;
  warnings: LogEntry[];
}

function send(message: Record<string, unknown>): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) resolve();
    else process.send(message, () => resolve());
  });
}

function peakRssMb(): number {
  const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

function packageVersion(name: string, fromDir: string): string {
  try {
    return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`, { paths: [fromDir] }), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** A stream segment through a row: resolves with its timing once every point is in InfluxDB. */
type Segment = (from: number, count: number) => Promise<{ ms: number; acceptedMs?: number; errors: number; firstError?: string }>;

interface Row {
  segment: Segment;
  influxPackage: string;
  warnings(): LogEntry[];
  stop(): Promise<void>;
}

function nodeFile(root: string, name: string): NodeFile {
  return { name, module: path.join(root, 'dist', 'nodes', name, `${name}.js`), htmlFile: path.join(root, 'nodes', name, `${name}.html`) };
}

function feedFile(root: string): NodeFile {
  return { name: FEED_TYPE, module: path.join(root, 'dist', 'bench', 'influx', 'feed-node.js'), htmlText: `<script type="text/html" data-template-name="${FEED_TYPE}"></script>\n` };
}

const TAB = 'bench-tab';

/**
 * The deployed node `id`, once the new flows run: right after Node-RED starts, the start-up's own
 * flows:started can end NodeRedHost.deploy's wait before the deployed flows have started.
 */
async function deployedNode<T>(host: NodeRedHost, id: string, what: string): Promise<T> {
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 50))) {
    const node = host.getNode<T>(id);
    if (node) return node;
  }
  throw new Error(`${what} did not start; Node-RED logged: ${host.warnings.map((w) => w.text).join(' | ')}`);
}

function fromFeed(result: FeedResult): { ms: number; errors: number; firstError?: string } {
  return { ms: result.ms, errors: result.errors, ...(result.firstError !== undefined ? { firstError: result.firstError } : {}) };
}

/** The practical limit: writePoints of the `influx` package, `windowBatches` requests at a time. */
function startRaw(config: PointsConfig): Row {
  const influx = new InfluxDB({ host: config.host, port: config.port, database: config.database });
  return {
    influxPackage: packageVersion('influx', config.root),
    warnings: () => [],
    stop: async () => undefined,
    segment: async (from, count) => {
      const batches = count / config.batch;
      let next = 0;
      let errors = 0;
      let firstError: string | undefined;
      const started = performance.now();
      const worker = async () => {
        while (next < batches) {
          const i = next++;
          try {
            await influx.writePoints(pointsBatch(from + i * config.batch, config.batch), { precision: 'ms' });
          } catch (err) {
            errors++;
            firstError ??= (err as Error).message;
          }
        }
      };
      await Promise.all(Array.from({ length: config.windowBatches }, worker));
      return { ms: performance.now() - started, errors, ...(firstError !== undefined ? { firstError } : {}) };
    },
  };
}

/** Node-RED's own core node file `core/<folder>/<file>` (.js and .html) of @node-red/nodes. */
function coreNodeFile(root: string, folder: string, file: string): NodeFile {
  const dir = path.join(path.dirname(require.resolve('@node-red/nodes/package.json', { paths: [root] })), 'core', folder);
  return { name: file, module: path.join(dir, `${file}.js`), htmlFile: path.join(dir, `${file}.html`) };
}

/**
 * The code of the contrib-flow row's `function` node: a twin node's samples message (twin = { id,
 * model }, payload = [{ topic: 'spindle/speed', payload, sourceTime, quality }, ...]) to one message
 * per point in the form `influxdb batch` takes: one point per component (the samples of one twin
 * message share their time), the component's Interface as measurement (a user writes the mapping
 * down; Twinflow reads it from the DTDL model), tags component, model and twin, the sourceTime as
 * timestamp (ms). The simplest code that stores the same points as the other rows.
 */
export const TWIN_TO_POINTS = `const MEASUREMENTS = { '': 'CNCMachine', spindle: 'Spindle', coolant: 'CoolantSystem' };
const twin = msg.twin;
const points = {};
for (const sample of msg.payload) {
  const slash = sample.topic.indexOf('/');
  const component = slash < 0 ? '' : sample.topic.slice(0, slash);
  let point = points[component];
  if (!point) {
    const tags = component ? { component, model: twin.model, twin: twin.id } : { model: twin.model, twin: twin.id };
    point = points[component] = { measurement: MEASUREMENTS[component], tags, fields: {}, timestamp: sample.sourceTime };
  }
  point.fields[slash < 0 ? sample.topic : sample.topic.slice(slash + 1)] = sample.payload;
}
return [Object.values(points).map((point) => ({ payload: point }))];`;

/** The `influxdb` config node (1.x) of the contrib rows. */
function contribServer(config: PointsConfig): Record<string, unknown> {
  return {
    id: 'influx',
    type: 'influxdb',
    hostname: config.host,
    port: String(config.port),
    protocol: 'http',
    database: config.database,
    name: '',
    usetls: false,
    tls: '',
    influxdbVersion: '1.x',
    url: '',
    rejectUnauthorized: true,
    credentials: { username: '', password: '' },
  };
}

const CONTRIB_WRITER = { id: 'writer', type: 'influxdb batch', z: TAB, influxdb: 'influx', precision: 'ms', retentionPolicy: '', name: '', database: '', precisionV18FluxV20: 'ms', retentionPolicyV18Flux: '', org: '', bucket: '', wires: [] };

/**
 * The contrib-flow row: feed → core `function` (TWIN_TO_POINTS) → core `join` (manual mode, an
 * array of `batch` payloads) → `influxdb batch`, precision ms; fed twin messages as twin-history is.
 */
async function startContribFlow(config: PointsConfig): Promise<Row> {
  const userDir = path.join(config.workDir, 'node-red');
  mkdirSync(userDir, { recursive: true });
  const files: NodeFile[] = [
    { name: 'contrib-influxdb', module: path.join(config.contribDir, 'influxdb.js'), htmlFile: path.join(config.contribDir, 'influxdb.html') },
    coreNodeFile(config.root, 'function', '10-function'),
    coreNodeFile(config.root, 'sequence', '17-split'),
    feedFile(config.root),
  ];
  const host = await NodeRedHost.start(userDir, files);
  try {
    await host.deploy([
      { id: TAB, type: 'tab', label: 'bench' },
      contribServer(config),
      { id: 'feed', type: FEED_TYPE, z: TAB, wires: [['to-points']] },
      { id: 'to-points', type: 'function', z: TAB, name: 'twin samples to points', func: TWIN_TO_POINTS, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], wires: [['batch']] },
      {
        id: 'batch',
        type: 'join',
        z: TAB,
        name: `${config.batch} points`,
        mode: 'custom',
        build: 'array',
        property: 'payload',
        propertyType: 'msg',
        key: 'topic',
        joiner: '\\n',
        joinerType: 'str',
        useparts: false,
        accumulate: false,
        timeout: '',
        count: String(config.batch),
        reduceRight: false,
        reduceExp: '',
        reduceInit: '',
        reduceInitType: '',
        reduceFixup: '',
        wires: [['writer']],
      },
      CONTRIB_WRITER,
    ]);
    await deployedNode(host, 'writer', 'the influxdb batch node');
    await deployedNode(host, 'to-points', 'the function node');
    await deployedNode(host, 'batch', 'the join node');
    await deployedNode(host, 'feed', 'the feed node');
  } catch (err) {
    await host.stop().catch(() => undefined);
    throw err;
  }
  return {
    influxPackage: packageVersion('influx', config.contribDir),
    warnings: () => host.warnings,
    stop: () => host.stop(),
    segment: async (from, count) => fromFeed(await feed('feed', {
      target: 'writer',
      messages: count / POINTS_PER_INSTANT,
      message: (i) => twinMessageAt(from / POINTS_PER_INSTANT + i),
      pointsPerMessage: POINTS_PER_INSTANT,
      // The writer completes one message per batch the join node made.
      pointsPerCompletion: config.batch,
      windowPoints: config.windowBatches * config.batch,
    })),
  };
}

/** node-red-contrib-influxdb: an `influxdb` config node (1.x) and an `influxdb batch` node, precision ms. */
async function startContrib(config: PointsConfig): Promise<Row> {
  const userDir = path.join(config.workDir, 'node-red');
  mkdirSync(userDir, { recursive: true });
  const files: NodeFile[] = [
    { name: 'contrib-influxdb', module: path.join(config.contribDir, 'influxdb.js'), htmlFile: path.join(config.contribDir, 'influxdb.html') },
    feedFile(config.root),
  ];
  const host = await NodeRedHost.start(userDir, files);
  try {
    await host.deploy([
      { id: TAB, type: 'tab', label: 'bench' },
      contribServer(config),
      { id: 'feed', type: FEED_TYPE, z: TAB, wires: [['writer']] },
      CONTRIB_WRITER,
    ]);
    await deployedNode(host, 'writer', 'the influxdb batch node');
    await deployedNode(host, 'feed', 'the feed node');
  } catch (err) {
    await host.stop().catch(() => undefined);
    throw err;
  }
  return {
    influxPackage: packageVersion('influx', config.contribDir),
    warnings: () => host.warnings,
    stop: () => host.stop(),
    segment: async (from, count) => fromFeed(await feed('feed', {
      target: 'writer',
      messages: count / config.batch,
      // The batch node's input: msg.payload = [{ measurement, tags, fields, timestamp }, ...].
      message: (i) => ({ payload: pointsBatch(from + i * config.batch, config.batch) }),
      pointsPerMessage: config.batch,
      windowPoints: config.windowBatches * config.batch,
    })),
  };
}

/**
 * Twinflow: dtdl-model (the built-in CNC models), influx-server (create database on) and
 * twin-history with its disk queue, batch size `batch`, flush interval 1 s, backlog 100 MiB.
 */
async function startTwinflow(config: PointsConfig): Promise<Row> {
  const userDir = path.join(config.workDir, 'node-red');
  mkdirSync(userDir, { recursive: true });
  const host = await NodeRedHost.start(userDir, [nodeFile(config.root, 'dtdl-model'), nodeFile(config.root, 'influx-server'), nodeFile(config.root, 'twin-history'), feedFile(config.root)]);
  let writer: HistoryWriter | undefined;
  try {
    await host.deploy([
      { id: TAB, type: 'tab', label: 'bench' },
      { id: 'models', type: 'dtdl-model', name: 'CNC models', source: 'builtin', folder: '', documents: '', allowUndefinedExtensions: false },
      {
        id: 'influx',
        type: 'influx-server',
        host: config.host,
        port: config.port,
        path: '',
        database: config.database,
        retentionPolicy: '',
        usetls: false,
        tls: '',
        timeout: 10,
        createDatabase: true,
        rawRetention: '',
        downsampleInterval: '',
        downsamplePolicy: '',
        downsampleRetention: '',
      },
      { id: 'feed', type: FEED_TYPE, z: TAB, wires: [['writer']] },
      {
        id: 'writer',
        type: 'twin-history',
        z: TAB,
        name: '',
        server: 'influx',
        models: 'models',
        measurement: '',
        eventsMeasurement: 'twin_events',
        precision: 'ms',
        batchSize: config.batch,
        flushInterval: 1000,
        maxBacklog: 100,
        overflow: 'drop-oldest',
        mirror: '',
        wires: [],
      },
    ]);
    writer = (await deployedNode<{ history?: { writer: HistoryWriter } }>(host, 'writer', 'twin-history')).history?.writer;
    if (!writer) throw new Error(`twin-history has no writer; Node-RED logged: ${host.warnings.map((w) => w.text).join(' | ')}`);
    await deployedNode(host, 'feed', 'the feed node');
  } catch (err) {
    await host.stop().catch(() => undefined);
    throw err;
  }
  const w = writer;
  return {
    influxPackage: packageVersion('influx', config.root),
    warnings: () => host.warnings,
    stop: () => host.stop(),
    segment: async (from, count) => {
      const started = performance.now();
      const fed = await feed('feed', {
        target: 'writer',
        messages: count / POINTS_PER_INSTANT,
        message: (i) => twinMessageAt(from / POINTS_PER_INSTANT + i),
        pointsPerMessage: POINTS_PER_INSTANT,
        windowPoints: config.windowBatches * config.batch,
      });
      // done() means queued on disk; the points are in InfluxDB once the queue has drained.
      await w.drained();
      return { ...fromFeed(fed), acceptedMs: fed.ms, ms: performance.now() - started };
    },
  };
}

async function run(config: PointsConfig): Promise<PointsResult> {
  const row = config.row === 'raw' ? startRaw(config) : config.row === 'contrib' ? await startContrib(config) : config.row === 'contrib-flow' ? await startContribFlow(config) : await startTwinflow(config);
  try {
    const warm = await row.segment(-config.warmupPoints, config.warmupPoints);
    if (warm.errors > 0) throw new Error(`warm-up: ${warm.errors} failed writes, first: ${warm.firstError}`);
    (globalThis as { gc?: () => void }).gc?.();
    const rssBeforeMb = process.memoryUsage.rss() / 2 ** 20;
    await send({ type: 'window-start' });
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    const measured = await row.segment(0, config.points);
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - wall0;
    await send({ type: 'window-end' });
    return {
      row: config.row,
      ...measured,
      cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
      rssBeforeMb,
      rssPeakMb: peakRssMb(),
      influxPackage: row.influxPackage,
      warnings: row.warnings().slice(0, 10),
    };
  } finally {
    await Promise.race([row.stop(), new Promise((resolve) => setTimeout(resolve, 10_000))]).catch(() => undefined);
  }
}

if (require.main === module) {
  // A parent that died must not leave a writer behind.
  process.on('disconnect', () => process.exit(1));
  const config = JSON.parse(process.argv[2] ?? '{}') as PointsConfig;
  run(config).then(
    async (result) => {
      await send({ type: 'result', result });
      process.exit(0);
    },
    async (err: unknown) => {
      await send({ type: 'error', message: err instanceof Error ? err.stack ?? err.message : String(err) });
      process.exit(1);
    },
  );
}
