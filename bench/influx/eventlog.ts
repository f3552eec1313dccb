// The event log half of the benchmark: durable appends per second (EventStore, fsync'd per batch,
// beside JSON lines appended to a file with fdatasync, what a user would write instead), and the
// state of one twin at time T once it has 1,000,000 events (snapshots every N as twin-graph does,
// and none for contrast).
import { closeSync, fdatasyncSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parseModels, type ModelSet } from '../../nodes/lib/dtdl';
import { EventStore, TwinEventLog, type NewEvent, type TwinEventData } from '../../nodes/lib/eventlog';
import { TwinGraph, type Sample, type TwinChangeEvent } from '../../nodes/lib/twin';
import { CNC_MODEL } from './stream';

const MODELS = path.join(__dirname, '..', '..', '..', 'models');
const TWIN = 'cnc-1';
/** Event times of the 1M-event history: one change every 100 ms (about 28 hours). */
const HISTORY_T0 = 1_750_000_000_000;
const HISTORY_STEP_MS = 100;

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? jsonFiles(path.join(dir, e.name)) : e.name.endsWith('.json') ? [path.join(dir, e.name)] : []));
}

export function loadModels(): ModelSet {
  const result = parseModels(jsonFiles(MODELS).map((f) => JSON.parse(readFileSync(f, 'utf8')) as unknown));
  if (!result.valid || !result.model) throw new Error('models/ is invalid');
  return result.model;
}

/** A deterministic PRNG (mulberry32), so every run asks for the same times. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TELEMETRY = ['positionX', 'positionY', 'positionZ', 'spindle/speed', 'spindle/motorCurrent', 'spindle/vibrationRms', 'spindle/bearingTemperature', 'coolant/temperature', 'coolant/flow'];
const STATES = ['idle', 'running', 'alarm', 'emergencyStop'];

/** Sample i of a machine's stream: 3 of 4 telemetry, 1 of 4 a reported property (as the twin bench). */
function sampleAt(i: number, sourceTime: number): Sample {
  if (i % 4 !== 3) return { path: TELEMETRY[i % TELEMETRY.length] as string, value: Math.round((100 + Math.sin(i / 7) * 50) * 1000) / 1000, sourceTime, quality: 'good' };
  if (i % 8 === 3) return { path: 'machineState', value: STATES[(i >> 3) % 4], sourceTime };
  if (i % 16 === 7) return { path: 'doorOpen', value: (i & 32) === 0, sourceTime };
  return { path: 'activeProgram', value: `O${1000 + (i % 50)}`, sourceTime };
}

function createInput(id: string) {
  return { id, model: CNC_MODEL, properties: { doorOpen: false, machineState: 'idle', activeProgram: '', spindle: { maxSpeed: 24000, speedSetpoint: 8000 } } };
}

/** The stored form of a twin change, as TwinEventLog.record makes it. */
function newEventOf(event: TwinChangeEvent): NewEvent {
  const data: TwinEventData = { twinVersion: event.version, etag: event.etag, patch: event.patch };
  if (event.path !== undefined) data.path = event.path;
  if (event.sourceTime !== undefined) data.sourceTime = event.sourceTime;
  return { kind: event.kind, time: event.time, data };
}

/** Real change events of 10 CNC twins (stream, event), cycled through by the append rows. */
export function eventPool(models: ModelSet, size = 4096): { stream: string; event: NewEvent }[] {
  const graph = new TwinGraph(models);
  const ids = Array.from({ length: 10 }, (_, i) => `cnc-${i + 1}`);
  for (const id of ids) graph.createTwin(createInput(id));
  const pool: { stream: string; event: NewEvent }[] = [];
  for (let i = 0; i < size; i++) {
    const stream = ids[i % ids.length] as string;
    pool.push({ stream, event: newEventOf(graph.applySample(stream, sampleAt(i, 1_700_000_000_000 + i))) });
  }
  return pool;
}

export interface RateResult {
  events: number;
  ms: number;
  perSecond: number;
}

export type AppendPath = 'eventstore' | 'jsonl';

/**
 * `total` events in batches of `batch`, each batch on disk before the next: EventStore.appendBatch
 * (one request per twin in the batch) then flush() (fdatasync), or JSON lines written to one file
 * then fdatasyncSync. A fresh directory each time.
 */
export async function measureAppends(kind: AppendPath, pool: { stream: string; event: NewEvent }[], batch: number, total: number, dir: string): Promise<RateResult> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const batches = Math.floor(total / batch);
  let k = 0;
  const nextBatch = () => {
    const out: { stream: string; event: NewEvent }[] = [];
    for (let i = 0; i < batch; i++) out.push(pool[k++ % pool.length] as { stream: string; event: NewEvent });
    return out;
  };
  try {
    if (kind === 'eventstore') {
      const store = new EventStore(dir, { snapshotEvery: 0 });
      store.open();
      const started = performance.now();
      for (let b = 0; b < batches; b++) {
        const requests = new Map<string, NewEvent[]>();
        for (const { stream, event } of nextBatch()) {
          let list = requests.get(stream);
          if (!list) requests.set(stream, (list = []));
          list.push(event);
        }
        store.appendBatch([...requests].map(([stream, events]) => ({ stream, events })));
        await store.flush();
      }
      const ms = performance.now() - started;
      store.close();
      return { events: batches * batch, ms, perSecond: (batches * batch * 1000) / ms };
    }
    const fd = openSync(path.join(dir, 'events.jsonl'), 'a');
    const started = performance.now();
    for (let b = 0; b < batches; b++) {
      let text = '';
      for (const { stream, event } of nextBatch()) text += `${JSON.stringify({ stream, ...event })}\n`;
      writeSync(fd, text);
      fdatasyncSync(fd);
    }
    const ms = performance.now() - started;
    closeSync(fd);
    return { events: batches * batch, ms, perSecond: (batches * batch * 1000) / ms };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface LatencySummary {
  queries: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** events replayed per query on average (after the snapshot it started from) */
  replayedMean: number;
}

function summarize(samples: number[], replayed: number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
  return { queries: samples.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: sorted[sorted.length - 1] as number, replayedMean: replayed.reduce((a, b) => a + b, 0) / replayed.length };
}

export interface HistoryBuild {
  events: number;
  /** graph.applySample for every change (the twin's own work, not the log's) */
  graphMs: number;
  /** record + flush into the log with snapshots, and into the one without */
  snapshotLogMs: number;
  plainLogMs: number;
  snapshotLogBytes: number;
  plainLogBytes: number;
  firstTime: number;
  lastTime: number;
}

function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, f) => sum + statSync(path.join(dir, f)).size, 0);
}

/**
 * One CNC twin with `events` changes (its creation, then samples every 100 ms of event time),
 * recorded by TwinEventLog into two logs in batches of `batch`, each flushed (fdatasync) before the
 * next: one with snapshots every `snapshotEvery` events, one with none.
 */
export async function buildHistory(models: ModelSet, events: number, batch: number, snapshotEvery: number, withSnapshots: string, without: string, progress: (done: number) => void): Promise<HistoryBuild> {
  for (const dir of [withSnapshots, without]) rmSync(dir, { recursive: true, force: true });
  let n = 0;
  const clock = () => HISTORY_T0 + n * HISTORY_STEP_MS;
  const graph = new TwinGraph(models, { clock });
  const a = TwinEventLog.open(withSnapshots, () => graph, { snapshotEvery, clock }).log;
  const b = TwinEventLog.open(without, () => graph, { snapshotEvery: 0, clock }).log;
  let graphMs = 0;
  let snapshotLogMs = 0;
  let plainLogMs = 0;
  let pending: TwinChangeEvent[] = [graph.createTwin(createInput(TWIN))];
  n = 1;
  const firstTime = HISTORY_T0;
  while (n < events || pending.length > 0) {
    const t0 = performance.now();
    while (pending.length < batch && n < events) {
      pending.push(graph.applySample(TWIN, sampleAt(n, clock() - 40)));
      n++;
    }
    const t1 = performance.now();
    a.record(pending);
    await a.flush();
    const t2 = performance.now();
    b.record(pending);
    await b.flush();
    const t3 = performance.now();
    graphMs += t1 - t0;
    snapshotLogMs += t2 - t1;
    plainLogMs += t3 - t2;
    pending = [];
    if (n % (batch * 100) === 0) progress(n);
  }
  const check = a.stateAt(TWIN, Number.MAX_SAFE_INTEGER);
  if (!isDeepStrictEqual(check?.document, graph.getTwin(TWIN))) throw new Error('the log replayed to its end does not equal the twin');
  a.close();
  b.close();
  return { events, graphMs, snapshotLogMs, plainLogMs, snapshotLogBytes: dirBytes(withSnapshots), plainLogBytes: dirBytes(without), firstTime, lastTime: clock() - HISTORY_STEP_MS };
}

export interface StateAtResult {
  openMs: number;
  cold: LatencySummary;
  warm?: LatencySummary;
  /** documents at each time, for comparing the two logs */
  documents: unknown[];
}

/**
 * Reopens a log from disk (its index rebuilt from the files) and asks for the twin at each of
 * `times`: the first pass right after opening (cold), then the same times again (warm).
 */
export function measureStateAt(dir: string, snapshotEvery: number, times: number[], warm: boolean): StateAtResult {
  const opened = performance.now();
  const { log } = TwinEventLog.open(dir, () => undefined, { snapshotEvery });
  const openMs = performance.now() - opened;
  const pass = () => {
    const ms: number[] = [];
    const replayed: number[] = [];
    const documents: unknown[] = [];
    for (const t of times) {
      const t0 = performance.now();
      const state = log.stateAt(TWIN, t);
      ms.push(performance.now() - t0);
      if (!state) throw new Error(`no state of ${TWIN} at ${t}`);
      replayed.push(state.version - state.fromSnapshot);
      documents.push(state.document);
    }
    return { summary: summarize(ms, replayed), documents };
  };
  try {
    const cold = pass();
    const second = warm ? pass() : undefined;
    return { openMs, cold: cold.summary, ...(second ? { warm: second.summary } : {}), documents: cold.documents };
  } finally {
    log.close();
  }
}

/** `count` times spread at random over the history. */
export function randomTimes(build: HistoryBuild, count: number, seed: number): number[] {
  const next = random(seed);
  return Array.from({ length: count }, () => Math.floor(build.firstTime + next() * (build.lastTime - build.firstTime)));
}
