// OPC UA into the twin: Twinflow's opcua-in (inside Node-RED) against a bare node-opcua client
// (the practical limit) and against node-red-contrib-opcua (what a Node-RED user would pick),
// all against the simulated CNC machine's bench tags, in one run.
//
// Every row gets a fresh simulator in its own process and runs its client in another, so each
// process's CPU is its own: the server's is read from /proc over the same window as the client's.
// Rows run one after another. Two configurations: the issue's (10,000 items sampled every 100 ms,
// which saturates node-opcua's server) and one the server sustains (10,000 items reported on
// change, values changing every 500 ms), so the clients can be compared.
//
// Environment (seconds): TWINFLOW_BENCH_OPCUA_WINDOW (measurement window, default 20),
// TWINFLOW_BENCH_OPCUA_WARMUP (after set-up, default 5), TWINFLOW_BENCH_OPCUA_SETUP_TIMEOUT
// (default 120); TWINFLOW_BENCH_OPCUA_SETUP_RUNS (set-up runs per row whose median set-up is
// reported, default 5); TWINFLOW_BENCH_OPCUA_ROUNDS (measured runs per row, taken in turn across
// the rows; the row shows the run with the median p99, default 3); TWINFLOW_BENCH_OPCUA_QUICK=1
// makes those 3, 1, 30, 1 and 1 (a run of about two minutes);
// TWINFLOW_BENCH_OPCUA_CONFIGS and TWINFLOW_BENCH_OPCUA_ROWS (comma-separated ids; default the
// first two configurations and every row); TWINFLOW_BENCH_OPCUA_OUT (default
// bench/results/opcua.json); TWINFLOW_BENCH_OPCUA_CPU_PROF=<dir> writes V8 CPU profiles of
// every client process there, one of its set-up and one of its measurement window.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../test/support/ports';
import type { ClientConfig, ClientResult, RowId } from './client';
import type { WindowStats } from './recorder';
import type { ServerWindowStats } from './gc-pauses';
import type { ServerConfig } from './server';
import { cpuPercentBetween, cpuSnapshot, rssMb, type CpuSnapshot } from './proc';

interface BenchConfig {
  id: string;
  description: string;
  items: number;
  tickMs: number;
  publishingInterval: number;
  samplingInterval: number;
}

const CONFIGS: BenchConfig[] = [
  {
    id: 'sampled-100ms',
    description: '10,000 items sampled every 100 ms, values changing every 100 ms (the issue)',
    items: 10_000,
    tickMs: 100,
    publishingInterval: 100,
    samplingInterval: 100,
  },
  {
    // 510 ms, not 500: each change then falls at another point of the 100 ms publishing cycle
    // (10 ms later each time), so the latency percentiles cover every phase instead of the one
    // phase a run happens to start with.
    id: 'on-change-510ms',
    description: '10,000 items reported on change (samplingInterval 0), values changing every 510 ms',
    items: 10_000,
    tickMs: 510,
    publishingInterval: 100,
    samplingInterval: 0,
  },
  {
    id: 'sampled-100ms-2k',
    description: '2,000 items sampled every 100 ms, values changing every 100 ms',
    items: 2_000,
    tickMs: 100,
    publishingInterval: 100,
    samplingInterval: 100,
  },
];

/** The issue's configuration and one the server sustains; the 2,000-item one on request. */
const DEFAULT_CONFIGS = ['sampled-100ms', 'on-change-510ms'];

const ROWS: { id: RowId; label: string }[] = [
  { id: 'bare', label: 'bare node-opcua client (1 session, 1 subscription, 1 ClientMonitoredItemGroup)' },
  { id: 'twinflow-cycle', label: 'Twinflow opcua-in, one message per publish cycle, into the twin' },
  { id: 'twinflow-change', label: 'Twinflow opcua-in, one message per change, into the twin' },
  { id: 'contrib', label: 'node-red-contrib-opcua OpcUa-Client subscribe "multiple", into the twin' },
];

const TARGETS = {
  /** Twinflow's sustained throughput at least this share of the bare client's */
  ofBare: 0.9,
  /** and at least this many times node-red-contrib-opcua's */
  overContrib: 20,
  /** p99 source-to-twin latency minus the publishing interval, below this */
  addedLatencyMs: 50,
  /** set-up time no slower than the bare client's */
  setupOfBare: 1,
};

interface RowResult extends Omit<ClientResult, 'window'> {
  label: string;
  window: WindowStats;
  serverCpuPercent: number;
  serverRssMb: number;
  /** set-up of each run, in the order run; setupMs and setupFromDeployMs are their medians */
  setupRunsMs: (number | null)[];
  setupFromDeployRunsMs: (number | null)[];
  /** every measured round, in p99 order; the row's window is the median one's */
  rounds: RoundFigures[];
  /** the simulator's view of the row's median round */
  server: ServerWindowStats | null;
}

interface RoundFigures {
  valuesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  cpuPercent: number;
  /** median publish response to acknowledgement, timed by the simulator */
  acknowledgementMedianMs: number;
  /** the simulator's median young-generation pause (NaN: none in the window) */
  serverYoungGcMedianMs: number;
  /** share of the window the simulator, and the client, spent in collection pauses of any kind */
  serverGcPausedPercent: number;
  clientGcPausedPercent: number;
}

interface ClientRun {
  result: ClientResult;
  serverCpuPercent: number;
  serverRssMb: number;
  /** the simulator's view of the window: acknowledgement delays, its collection pauses */
  server: ServerWindowStats | null;
}

/** The median of the values present; null when a run never had every item reporting. */
function median(values: (number | null)[]): number | null {
  if (values.some((v) => v === null) || values.length === 0) return null;
  const sorted = (values as number[]).slice().sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function envNumber(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}: "${text}" must be a positive number of seconds`);
  return value;
}

function envList<T extends string>(name: string, known: readonly T[], fallback: readonly T[] = known): T[] {
  const text = process.env[name];
  if (!text) return [...fallback];
  const wanted = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of wanted) {
    if (!known.includes(id as T)) throw new Error(`${name}: "${id}" is not one of ${known.join(', ')}`);
  }
  return wanted as T[];
}

function repositoryRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'node-red-contrib-twinflow') return dir;
    if (path.dirname(dir) === dir) throw new Error(`no node-red-contrib-twinflow checkout above ${__dirname}`);
  }
}

// ---- child processes --------------------------------------------------------------------------

const children = new Set<ChildProcess>();

function killChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
process.on('exit', killChildren);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killChildren();
    process.exit(130);
  });
}

function forkChild(script: string, arg: unknown, env: NodeJS.ProcessEnv, v8Flags: string[] = []): ChildProcess {
  const child = fork(path.join(__dirname, script), [JSON.stringify(arg)], {
    env,
    execArgv: ['--expose-gc', ...v8Flags],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  if (child.connected) child.send({ type: 'stop' });
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited(child);
  clearTimeout(timer);
}

function startServer(config: ServerConfig, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; endpointUrl: string }> {
  // The simulator only: node-opcua's server queues every notification until its publish (an
  // object literal per value), so a young collection that catches a cycle's notifications waiting
  // has V8 tenure that literal's allocation site. From then on the queue's entries are made old and
  // keep the young notifications they point to alive through every young collection: the
  // simulator's young pauses went from about 5 to 10-20 ms, and whether that happened depended on
  // how long the client took to acknowledge, so the server's state, not the client's work, set the
  // client's latency tail. The clients run with V8's defaults, as a user's process does.
  const child = forkChild('server.js', config, env, ['--no-allocation-site-pretenuring']);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the simulator did not start within 120 s')), 120_000);
    child.on('message', (message: { type?: string; endpointUrl?: string }) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve({ child, endpointUrl: message.endpointUrl! });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the simulator exited with code ${code} before it was ready`));
    });
  });
}

/** Runs one client row to its result, measuring the server's CPU over the client's window. */
function runClient(config: ClientConfig, server: ChildProcess, env: NodeJS.ProcessEnv, deadlineMs: number): Promise<ClientRun> {
  const serverPid = server.pid!;
  const child = forkChild('client.js', config, env);
  return new Promise((resolve, reject) => {
    let start: CpuSnapshot | undefined;
    let serverCpuPercent = Number.NaN;
    let serverRss = Number.NaN;
    let settled = false;
    let serverStats: ServerWindowStats | null = null;
    let windowEnded = false;
    let clientResult: ClientResult | undefined;
    let statsTimer: NodeJS.Timeout | undefined;
    const finishWithServer = (server: ServerWindowStats | null) =>
      finish(undefined, { result: clientResult!, serverCpuPercent, serverRssMb: serverRss, server });
    const onServerMessage = (message: { type?: string; stats?: ServerWindowStats }) => {
      if (message.type !== 'window-stats') return;
      serverStats = message.stats ?? null;
      if (clientResult) finishWithServer(serverStats);
    };
    server.on('message', onServerMessage);
    const finish = (err: Error | undefined, result?: ClientRun) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(statsTimer);
      server.off('message', onServerMessage);
      if (err) {
        child.kill('SIGKILL');
        reject(err);
      } else {
        resolve(result!);
      }
    };
    const timer = setTimeout(() => finish(new Error(`the ${config.row} client did not finish within ${deadlineMs / 1000} s`)), deadlineMs);
    child.on('message', (message: { type?: string; result?: ClientResult; message?: string; setupMs?: number | null; itemsReported?: number }) => {
      switch (message.type) {
        case 'setup':
          process.stdout.write(`  ${config.row}${config.setupOnly ? ' (set-up run)' : ''}: ${message.itemsReported} items reporting ${message.setupMs === null ? '(not all)' : `${((message.setupMs ?? 0) / 1000).toFixed(2)} s after the first request`}\n`);
          break;
        case 'window-start':
          start = cpuSnapshot(serverPid);
          if (server.connected) server.send({ type: 'window-start' });
          break;
        case 'window-end':
          if (start) serverCpuPercent = cpuPercentBetween(start, cpuSnapshot(serverPid));
          serverRss = rssMb(serverPid);
          windowEnded = true;
          if (server.connected) server.send({ type: 'window-end' });
          break;
        case 'result':
          clientResult = message.result!;
          // A measured run waits (briefly) for the simulator's view of the same window.
          if (!windowEnded || serverStats) finishWithServer(serverStats);
          else statsTimer = setTimeout(() => finishWithServer(null), 5000);
          break;
        case 'error':
          finish(new Error(`the ${config.row} client failed: ${message.message}`));
          break;
      }
    });
    child.on('exit', (code) => finish(new Error(`the ${config.row} client exited with code ${code} without a result`)));
  });
}

interface RunSettings {
  tmp: string;
  env: NodeJS.ProcessEnv;
  root: string;
  contribDir: string;
  warmupSeconds: number;
  windowSeconds: number;
  setupTimeoutSeconds: number;
}

/**
 * One run of a row against a fresh simulator, so every set-up and every window starts from the
 * same server state: a set-up run stops once every item has reported, a measured run goes on
 * through the warm-up and the window. `label` names its working folder.
 */
async function runRow(config: BenchConfig, row: { id: RowId; label: string }, settings: RunSettings, label: string, setupOnly: boolean): Promise<ClientRun> {
  const workDir = path.join(settings.tmp, `${config.id}-${row.id}-${label}`);
  mkdirSync(workDir, { recursive: true });
  const port = await freePort();
  const server = await startServer({ port, benchTags: config.items, tickMs: config.tickMs, pkiDir: path.join(settings.tmp, 'server-pki') }, settings.env);
  try {
    const clientConfig: ClientConfig = {
      row: row.id,
      endpointUrl: server.endpointUrl,
      items: { count: config.items, publishingInterval: config.publishingInterval, samplingInterval: config.samplingInterval },
      warmupSeconds: settings.warmupSeconds,
      // Whole ticks: values arrive in bursts, one per tick, and a window cutting a burst would
      // count it in or out by chance.
      windowSeconds: (Math.ceil((settings.windowSeconds * 1000) / config.tickMs) * config.tickMs) / 1000,
      setupTimeoutSeconds: settings.setupTimeoutSeconds,
      setupOnly,
      workDir,
      root: settings.root,
      contribDir: settings.contribDir,
    };
    const deadline = (settings.setupTimeoutSeconds + settings.warmupSeconds + settings.windowSeconds + 90) * 1000;
    return await runClient(clientConfig, server.child, settings.env, deadline);
  } finally {
    await stopChild(server.child);
  }
}

/**
 * A row from all its runs: set-up is the median over every run; the rest is the measured run whose
 * p99 is the median of the rounds' (a real run, not a blend), with every round's figures beside it.
 */
function rowResult(row: { id: RowId; label: string }, runs: ClientRun[]): RowResult {
  const measured = runs.filter((r) => r.result.window !== undefined && r.result.window !== null).sort((a, b) => a.result.window!.p99Ms - b.result.window!.p99Ms);
  const chosen = measured[Math.floor((measured.length - 1) / 2)]!;
  const setupRunsMs = runs.map((r) => r.result.setupMs);
  const setupFromDeployRunsMs = runs.map((r) => r.result.setupFromDeployMs);
  return {
    ...chosen.result,
    window: chosen.result.window!,
    label: row.label,
    setupMs: median(setupRunsMs),
    setupFromDeployMs: median(setupFromDeployRunsMs),
    setupRunsMs,
    setupFromDeployRunsMs,
    serverCpuPercent: chosen.serverCpuPercent,
    serverRssMb: chosen.serverRssMb,
    server: chosen.server,
    rounds: measured.map((r) => ({
      valuesPerSecond: r.result.window!.valuesPerSecond,
      p50Ms: r.result.window!.p50Ms,
      p99Ms: r.result.window!.p99Ms,
      cpuPercent: r.result.cpuPercent,
      acknowledgementMedianMs: r.server?.acknowledgementMs.medianMs ?? Number.NaN,
      serverYoungGcMedianMs: r.server?.gc?.young.medianMs ?? Number.NaN,
      serverGcPausedPercent: r.server?.gc?.pausedPercent ?? Number.NaN,
      clientGcPausedPercent: r.result.gc?.pausedPercent ?? Number.NaN,
    })),
  };
}

// ---- report -----------------------------------------------------------------------------------

interface Ratios {
  twinflowCycleOfBare: number;
  twinflowChangeOfBare: number;
  twinflowCycleOverContrib: number;
  twinflowChangeOverContrib: number;
  /** p99 source-to-twin minus the publishing interval, per row */
  addedLatencyMs: Partial<Record<RowId, number>>;
  /** p99 minus the bare client's p99: what the path into the twin adds */
  p99OverBareMs: Partial<Record<RowId, number>>;
  setupOfBare: Partial<Record<RowId, number>>;
}

function ratiosOf(config: BenchConfig, rows: RowResult[]): Ratios {
  const by = (id: RowId) => rows.find((r) => r.row === id);
  const rate = (id: RowId) => by(id)?.window.valuesPerSecond ?? Number.NaN;
  const ratios: Ratios = {
    twinflowCycleOfBare: rate('twinflow-cycle') / rate('bare'),
    twinflowChangeOfBare: rate('twinflow-change') / rate('bare'),
    twinflowCycleOverContrib: rate('twinflow-cycle') / rate('contrib'),
    twinflowChangeOverContrib: rate('twinflow-change') / rate('contrib'),
    addedLatencyMs: {},
    p99OverBareMs: {},
    setupOfBare: {},
  };
  const bare = by('bare');
  for (const row of rows) {
    ratios.addedLatencyMs[row.row] = row.window.p99Ms - config.publishingInterval;
    if (bare) {
      ratios.p99OverBareMs[row.row] = row.window.p99Ms - bare.window.p99Ms;
      ratios.setupOfBare[row.row] = row.setupMs !== null && bare.setupMs !== null ? row.setupMs / bare.setupMs : Number.NaN;
    }
  }
  return ratios;
}

const fmt = (value: number | null | undefined, digits = 0) => (value === null || value === undefined || !Number.isFinite(value) ? '-' : value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');

function printConfig(config: BenchConfig, rows: RowResult[], ratios: Ratios): void {
  const produced = (config.items * 1000) / config.tickMs;
  console.log(`\n${config.id}: ${config.description}; publishing interval ${config.publishingInterval} ms; ${fmt(produced)} value changes/s produced`);
  const header = ['row', 'setup s', 'from deploy s', 'values/s', 'of produced', 'p50 ms', 'p99 ms', 'client CPU %', 'client RSS MB (before)', 'server CPU %'];
  const table = rows.map((r) => [
    r.row,
    r.setupMs === null ? `${fmt(r.itemsReported)} items only` : fmt(r.setupMs / 1000, 2),
    r.setupFromDeployMs === null ? '-' : fmt(r.setupFromDeployMs / 1000, 2),
    fmt(r.window.valuesPerSecond),
    `${fmt((r.window.valuesPerSecond / produced) * 100, 1)} %`,
    fmt(r.window.p50Ms),
    fmt(r.window.p99Ms),
    fmt(r.cpuPercent),
    `${fmt(r.rssMb)} (${fmt(r.rssBaselineMb)})`,
    fmt(r.serverCpuPercent),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  for (const row of table) console.log(line(row));
  if (rows.some((r) => r.rounds.length > 1)) {
    console.log('  every round (values/s, p50/p99 ms), in p99 order; the table shows the median one:');
    for (const r of rows) console.log(`    ${r.row.padEnd(16)} ${r.rounds.map((x) => `${fmt(x.valuesPerSecond)} ${fmt(x.p50Ms)}/${fmt(x.p99Ms)}`).join(' · ')}`);
  }
  // What the tail of the latency is made of: the client's acknowledgements keep notifications in the
  // simulator, whose young-generation pauses (like the client's) hold up every value in flight.
  console.log('  every round, as above: median acknowledgement as the simulator timed it (ms); the simulator\'s median young-generation pause (ms);');
  console.log('  share of the window in collection pauses, simulator / client (%):');
  for (const r of rows) {
    const figures = r.rounds.map((x) => `ack ${fmt(x.acknowledgementMedianMs, 1)} young ${fmt(x.serverYoungGcMedianMs, 1)} gc ${fmt(x.serverGcPausedPercent, 1)}/${fmt(x.clientGcPausedPercent, 1)}`);
    console.log(`    ${r.row.padEnd(16)} ${figures.join(' · ')}`);
  }
  if (rows.some((r) => r.setupRunsMs.length > 1)) {
    console.log('  every set-up (s), in the order run, rows in turn; the table shows the median:');
    for (const r of rows) console.log(`    ${r.row.padEnd(16)} ${r.setupRunsMs.map((ms) => (ms === null ? '-' : fmt(ms / 1000, 2))).join(' ')}`);
  }
  for (const r of rows) {
    if (r.error) console.log(`  ${r.row}: ${r.error}`);
    for (const w of r.warnings.slice(0, 3)) console.log(`  ${r.row} logged (${w.level}): ${w.text.slice(0, 200)}`);
  }
  const has = (id: RowId) => rows.some((r) => r.row === id);
  const out: [string, string][] = [];
  for (const mode of ['cycle', 'change'] as const) {
    const id: RowId = mode === 'cycle' ? 'twinflow-cycle' : 'twinflow-change';
    if (!has(id)) continue;
    const ofBare = mode === 'cycle' ? ratios.twinflowCycleOfBare : ratios.twinflowChangeOfBare;
    const overContrib = mode === 'cycle' ? ratios.twinflowCycleOverContrib : ratios.twinflowChangeOverContrib;
    if (has('bare')) out.push([`Twinflow (${mode}) / bare throughput`, `${fmt(ofBare, 2)} (target >= ${TARGETS.ofBare}: ${mark(ofBare >= TARGETS.ofBare)})`]);
    if (has('contrib')) out.push([`Twinflow (${mode}) / contrib throughput`, `${fmt(overContrib, 1)} x (target >= ${TARGETS.overContrib}: ${mark(overContrib >= TARGETS.overContrib)})`]);
    const added = ratios.addedLatencyMs[id]!;
    out.push([`Twinflow (${mode}) p99 - publishing interval`, `${fmt(added)} ms (target < ${TARGETS.addedLatencyMs}: ${mark(added < TARGETS.addedLatencyMs)})`]);
    if (has('bare')) {
      out.push([`Twinflow (${mode}) p99 - bare p99`, `${fmt(ratios.p99OverBareMs[id])} ms`]);
      const setup = ratios.setupOfBare[id]!;
      out.push([`Twinflow (${mode}) setup / bare setup`, `${fmt(setup, 2)} (target <= ${TARGETS.setupOfBare}: ${mark(setup <= TARGETS.setupOfBare)})`]);
    }
  }
  if (has('bare')) out.push(['bare p99 - publishing interval', `${fmt(ratios.addedLatencyMs.bare)} ms`]);
  if (has('contrib')) out.push(['contrib p99 - publishing interval', `${fmt(ratios.addedLatencyMs.contrib)} ms`]);
  const width = Math.max(...out.map(([k]) => k.length));
  for (const [k, v] of out) console.log(`  ${k.padEnd(width)}  ${v}`);
}

// ---- main -------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const root = repositoryRoot();
  const contribDir = path.join(root, 'bench', 'deps', 'node_modules', 'node-red-contrib-opcua');
  if (!existsSync(path.join(contribDir, 'package.json'))) {
    throw new Error(`node-red-contrib-opcua is not installed in bench/deps: run "npm run bench -- opcua" (it installs it) or "npm ci" in bench/deps`);
  }
  const contribVersion = (JSON.parse(readFileSync(path.join(contribDir, 'package.json'), 'utf8')) as { version: string }).version;
  const quick = process.env.TWINFLOW_BENCH_OPCUA_QUICK === '1';
  const windowSeconds = envNumber('TWINFLOW_BENCH_OPCUA_WINDOW', quick ? 3 : 20);
  const warmupSeconds = envNumber('TWINFLOW_BENCH_OPCUA_WARMUP', quick ? 1 : 5);
  const setupTimeoutSeconds = envNumber('TWINFLOW_BENCH_OPCUA_SETUP_TIMEOUT', quick ? 30 : 120);
  const setupRuns = Math.round(envNumber('TWINFLOW_BENCH_OPCUA_SETUP_RUNS', quick ? 1 : 5));
  const rounds = Math.round(envNumber('TWINFLOW_BENCH_OPCUA_ROUNDS', quick ? 1 : 3));
  const configIds = envList('TWINFLOW_BENCH_OPCUA_CONFIGS', CONFIGS.map((c) => c.id), DEFAULT_CONFIGS);
  const rowIds = envList('TWINFLOW_BENCH_OPCUA_ROWS', ROWS.map((r) => r.id));
  const outFile = process.env.TWINFLOW_BENCH_OPCUA_OUT || path.join(root, 'bench', 'results', 'opcua.json');

  const cpus = os.cpus();
  const machine = { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, node: process.version, platform: `${os.type()} ${os.release()}` };
  const date = new Date().toISOString();
  const loadAtStart = os.loadavg();
  console.log(`OPC UA into the twin: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${date}`);
  console.log(`load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}; warm-up ${warmupSeconds} s, window ${windowSeconds} s; node-red-contrib-opcua ${contribVersion}`);

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'twinflow-bench-opcua-'));
  // Every PKI any client or the server creates (node-opcua's defaults, node-red-contrib-opcua's)
  // lands under this run's temporary folder, never in the user's ~/.config.
  const env = { ...process.env, XDG_CONFIG_HOME: path.join(tmp, 'config') };
  const results: { config: BenchConfig; producedPerSecond: number; rows: RowResult[]; ratios: Ratios }[] = [];
  try {
    for (const config of CONFIGS.filter((c) => configIds.includes(c.id as never))) {
      console.log(`\n${config.id}: ${config.description}`);
      // Set-up runs, then rounds, go through every row in turn, so a slow spell of the machine
      // falls on all rows alike.
      const chosenRows = ROWS.filter((r) => rowIds.includes(r.id));
      const runsOf = new Map<RowId, ClientRun[]>();
      const failedRows = new Set<RowId>();
      const settings: RunSettings = { tmp, env, root, contribDir, warmupSeconds, windowSeconds, setupTimeoutSeconds };
      // The extra set-up runs: with the measured runs' set-ups, their median is the set-up figure.
      const passes = [
        ...Array.from({ length: setupRuns - 1 }, (_, i) => ({ label: `setup-${i + 1}`, setupOnly: true })),
        ...Array.from({ length: rounds }, (_, i) => ({ label: `round-${i + 1}`, setupOnly: false })),
      ];
      for (const pass of passes) {
        for (const row of chosenRows) {
          if (failedRows.has(row.id)) continue;
          try {
            const run = await runRow(config, row, settings, pass.label, pass.setupOnly);
            runsOf.set(row.id, [...(runsOf.get(row.id) ?? []), run]);
          } catch (err) {
            failedRows.add(row.id);
            console.log(`  ${row.id}: FAILED: ${(err as Error).message}`);
          }
        }
      }
      const rows = chosenRows.filter((row) => !failedRows.has(row.id)).map((row) => rowResult(row, runsOf.get(row.id)!));
      const ratios = ratiosOf(config, rows);
      results.push({ config, producedPerSecond: (config.items * 1000) / config.tickMs, rows, ratios });
    }
  } finally {
    killChildren();
    rmSync(tmp, { recursive: true, force: true });
  }

  const loadAtEnd = os.loadavg();
  console.log(`\n=== results (${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${date}) ===`);
  for (const { config, rows, ratios } of results) printConfig(config, rows, ratios);
  console.log(`\nload average at end ${loadAtEnd.map((l) => l.toFixed(2)).join(' ')}`);

  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(
    outFile,
    `${JSON.stringify(
      {
        benchmark: 'bench/opcua/opcua.bench.ts',
        date,
        machine,
        loadAverage: { start: loadAtStart, end: loadAtEnd },
        settings: { warmupSeconds, windowSeconds, setupTimeoutSeconds, setupRuns, rounds, contribVersion },
        targets: TARGETS,
        configs: results,
      },
      (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : typeof value === 'number' ? Math.round(value * 100) / 100 : value),
      2,
    )}\n`,
  );
  console.log(`results written to ${path.relative(process.cwd(), outFile) || outFile}`);
  const failed = results.some((r) => r.rows.length < rowIds.length);
  if (failed) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack ?? err.message : String(err));
  killChildren();
  process.exit(1);
});
