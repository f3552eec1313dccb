// Twin core throughput and memory, against what a Node-RED user writes today: a function node that
// keeps the machine's state as a plain object in flow context, updated in place, with no
// validation, no metadata and no change events.
// (a) updates per second, mixed telemetry and reported properties on the CNC model (target >= 100,000/s);
// (b) memory per twin for 10,000 CNC twins with every telemetry and property filled in.
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseModels, type ModelSet } from '../../nodes/lib/dtdl';
import { TwinGraph, type Sample, type TwinChangeEvent } from '../../nodes/lib/twin';

const MODELS = path.join(__dirname, '..', '..', '..', 'models');
const CNC = 'dtmi:twinflow:cnc:CNCMachine;1';
const ROUNDS = 7;
const UPDATES = 200_000;
const FLEET = 100;
const MEMORY_TWINS = 10_000;
const TARGET = 100_000;

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? jsonFiles(path.join(dir, e.name)) : e.name.endsWith('.json') ? [path.join(dir, e.name)] : []));
}

function loadModels(): ModelSet {
  const result = parseModels(jsonFiles(MODELS).map((f) => JSON.parse(readFileSync(f, 'utf8')) as unknown));
  if (!result.valid || !result.model) throw new Error('models/ is invalid');
  return result.model;
}

function machineLine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${new Date().toISOString().slice(0, 10)} · ${cpu} · ${os.cpus().length} cores · Node ${process.version}`;
}

function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** The update stream: 3 of 4 updates telemetry, 1 of 4 a reported property, as an OPC UA subscription delivers them. */
function makeSamples(): Sample[] {
  const telemetry = ['positionX', 'positionY', 'positionZ', 'spindle/speed', 'spindle/motorCurrent', 'spindle/vibrationRms', 'spindle/bearingTemperature', 'coolant/temperature', 'coolant/flow'];
  const states = ['idle', 'running', 'alarm', 'emergencyStop'];
  const samples: Sample[] = [];
  for (let i = 0; i < 4096; i++) {
    const source = 1_700_000_000_000 + i;
    if (i % 4 !== 3) samples.push({ path: telemetry[i % telemetry.length] as string, value: 100 + Math.sin(i / 7) * 50, sourceTime: source, quality: 'good' });
    else if (i % 8 === 3) samples.push({ path: 'machineState', value: states[(i >> 3) % 4], sourceTime: source });
    else if (i % 16 === 7) samples.push({ path: 'doorOpen', value: (i & 32) === 0, sourceTime: source });
    else samples.push({ path: 'activeProgram', value: `O${1000 + (i % 50)}`, sourceTime: source });
  }
  return samples;
}

/** Spindle speeds spread over the fleet, so queries have something to select. */
function spreadSpeed(twin: number): number {
  return (twin % 100) * 240;
}

function filledGraph(models: ModelSet, count: number): TwinGraph {
  const graph = new TwinGraph(models);
  const samples = makeSamples();
  for (let t = 0; t < count; t++) {
    const id = `cnc-${t}`;
    graph.createTwin({ id, model: CNC, properties: { doorOpen: false, machineState: 'idle', activeProgram: '', spindle: { maxSpeed: 24000, speedSetpoint: 8000 } } });
    for (let i = 0; i < 24; i++) graph.applySample(id, samples[i] as Sample);
    graph.recordTelemetry(id, 'spindle/speed', spreadSpeed(t));
  }
  return graph;
}

/** Updates per second of `body` (which applies UPDATES updates), median of rounds after one warm-up. */
function rate(body: () => void): number {
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS + 1; round++) {
    const started = nowMs();
    body();
    const seconds = (nowMs() - started) / 1000;
    if (round > 0) rates.push(UPDATES / seconds);
  }
  return median(rates);
}

function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc (npm run bench does)');
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage().heapUsed;
}

function throughput(models: ModelSet): void {
  const samples = makeSamples();
  const mask = samples.length - 1;
  const ids = Array.from({ length: FLEET }, (_, i) => `cnc-${i}`);

  // Baseline: flow.set/get of one plain object per machine, updated in place.
  const context: Record<string, Record<string, unknown>> = {};
  for (const id of ids) context[id] = { doorOpen: false, machineState: 'idle', activeProgram: '', spindle: { maxSpeed: 24000, speedSetpoint: 8000 } };
  let sink = 0;
  const baseline = rate(() => {
    for (let i = 0; i < UPDATES; i++) {
      const sample = samples[i & mask] as Sample;
      const state = context[ids[i % FLEET] as string] as Record<string, unknown>;
      state[sample.path] = sample.value;
      sink += 1;
    }
  });

  const graph = filledGraph(models, FLEET);
  let last: TwinChangeEvent | undefined;
  const mixed = rate(() => {
    for (let i = 0; i < UPDATES; i++) last = graph.applySample(ids[i % FLEET] as string, samples[i & mask] as Sample);
  });
  const telemetryOnly = samples.filter((s) => !['machineState', 'doorOpen', 'activeProgram'].includes(s.path));
  const tMask = 2047;
  const telemetry = rate(() => {
    for (let i = 0; i < UPDATES; i++) {
      const s = telemetryOnly[i & tMask] as Sample;
      last = graph.recordTelemetry(ids[i % FLEET] as string, s.path, s.value, { sourceTime: s.sourceTime as number, quality: 'good' });
    }
  });
  const properties = rate(() => {
    for (let i = 0; i < UPDATES; i++) last = graph.reportProperty(ids[i % FLEET] as string, 'activeProgram', (i & 1) === 0 ? 'O1000' : 'O1001', { sourceTime: 1_700_000_000_000 + i });
  });
  // The same mixed stream, each event also serialised as the event log would store it.
  let bytes = 0;
  const serialised = rate(() => {
    for (let i = 0; i < UPDATES; i++) bytes += JSON.stringify(graph.applySample(ids[i % FLEET] as string, samples[i & mask] as Sample)).length;
  });
  if (!last || sink === 0 || bytes === 0) throw new Error('nothing was measured');

  console.log(`(a) twin updates: ${FLEET} CNC twins, ${UPDATES.toLocaleString('en')} updates per round (3/4 telemetry, 1/4 reported properties), median of ${ROUNDS} rounds`);
  const row = (label: string, perSecond: number): string[] => [
    label,
    `${Math.round(perSecond).toLocaleString('en')}/s`,
    `${(1e9 / perSecond).toFixed(0)} ns`,
    `${(perSecond / baseline).toFixed(3)}×`,
    perSecond >= TARGET ? 'yes' : 'NO',
  ];
  console.log(
    table(
      ['', 'updates', 'per update', 'vs plain object', `>= ${TARGET.toLocaleString('en')}/s`],
      [
        row('plain object in flow context (no validation, metadata or events)', baseline),
        row('TwinGraph.applySample, mixed (validated, metadata, JSON Patch event)', mixed),
        row('TwinGraph.recordTelemetry', telemetry),
        row('TwinGraph.reportProperty', properties),
        row('TwinGraph.applySample, mixed + JSON.stringify(event)', serialised),
      ],
    ),
  );
}

/** Heap growth per item while `build` makes `count` items, which stay alive until measured. */
function heapPerItem<T>(count: number, build: () => T): { perItem: number; value: T } {
  const before = heapUsed();
  const value = build();
  const after = heapUsed();
  return { perItem: (after - before) / count, value };
}

function memory(models: ModelSet): void {
  const samples = makeSamples();
  // Baseline: the same values as plain objects, as a function node would keep them in flow context.
  const plain = heapPerItem(MEMORY_TWINS, () => {
    const store: Record<string, Record<string, unknown>> = {};
    for (let t = 0; t < MEMORY_TWINS; t++) {
      const state: Record<string, unknown> = { doorOpen: false, machineState: 'idle', activeProgram: '', spindle: { maxSpeed: 24000, speedSetpoint: 8000 } };
      for (let i = 0; i < 24; i++) state[(samples[i] as Sample).path] = (samples[i] as Sample).value;
      state['spindle/speed'] = spreadSpeed(t);
      store[`cnc-${t}`] = state;
    }
    return store;
  });
  const twins = heapPerItem(MEMORY_TWINS, () => filledGraph(models, MEMORY_TWINS));
  if (twins.value.size !== MEMORY_TWINS || Object.keys(plain.value).length !== MEMORY_TWINS) throw new Error('fleet incomplete');
  const snapshotBytes = Buffer.byteLength(JSON.stringify(twins.value.snapshot())) / MEMORY_TWINS;
  const perPlain = plain.perItem;
  const perTwin = twins.perItem;

  console.log(`\n(b) memory: ${MEMORY_TWINS.toLocaleString('en')} CNC twins, every telemetry (9) and property (5) filled in, heap growth after full GC`);
  console.log(
    table(
      ['', 'per twin', 'for 10,000', 'vs plain object'],
      [
        ['plain object in flow context', `${(perPlain / 1024).toFixed(2)} KiB`, `${((perPlain * MEMORY_TWINS) / 1048576).toFixed(1)} MiB`, '1.00×'],
        ['TwinGraph (document, metadata, indexes)', `${(perTwin / 1024).toFixed(2)} KiB`, `${((perTwin * MEMORY_TWINS) / 1048576).toFixed(1)} MiB`, `${(perTwin / perPlain).toFixed(2)}×`],
        ['TwinGraph snapshot (JSON text, UTF-8)', `${(snapshotBytes / 1024).toFixed(2)} KiB`, `${((snapshotBytes * MEMORY_TWINS) / 1048576).toFixed(1)} MiB`, `${(snapshotBytes / perPlain).toFixed(2)}×`],
      ],
    ),
  );
  queries(twins.value, plain.value);
}

/** ms per call of `body`, median of 21 runs after a warm-up. */
function latency(body: () => number): { ms: number; result: number } {
  let result = body();
  const times: number[] = [];
  for (let i = 0; i < 21; i++) {
    const started = nowMs();
    result = body();
    times.push(nowMs() - started);
  }
  return { ms: median(times), result };
}

function queries(graph: TwinGraph, plain: Record<string, Record<string, unknown>>): void {
  // The same question both ways: how many machines run their spindle above 12,000 rpm?
  const text = `SELECT COUNT() FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, '${CNC}') AND T.spindle.speed > 12000`;
  const query = latency(() => graph.query(text)[0]?.COUNT as number);
  const filter = latency(() => Object.values(plain).filter((s) => (s['spindle/speed'] as number) > 12000).length);
  if (query.result !== filter.result) throw new Error(`the query counted ${query.result}, the filter ${filter.result}`);
  const lookup = latency(() => graph.query("SELECT T.spindle.speed FROM DIGITALTWINS T WHERE T.$dtId = 'cnc-5000'").length);
  graph.setStalenessRules([{ model: CNC, maxAge: 60_000 }]);
  const staleness = latency(() => graph.checkStaleness().length);
  console.log(`\n(c) queries and the staleness check over the ${MEMORY_TWINS.toLocaleString('en')} twins (median of 21)`);
  console.log(
    table(
      ['', 'per query', 'vs plain filter'],
      [
        ['Object.values(flow context).filter(...) (the function-node way)', `${filter.ms.toFixed(2)} ms`, '1.00×'],
        [`graph.query: COUNT() … WHERE IS_OF_MODEL AND T.spindle.speed > 12000 (${query.result} rows)`, `${query.ms.toFixed(2)} ms`, `${(query.ms / filter.ms).toFixed(2)}×`],
        ["graph.query: … WHERE T.$dtId = 'cnc-5000' (anchored lookup)", `${lookup.ms.toFixed(3)} ms`, `${(lookup.ms / filter.ms).toFixed(3)}×`],
        ['graph.checkStaleness(): 9 telemetry paths per twin, 90,000 checks', `${staleness.ms.toFixed(2)} ms`, `${(staleness.ms / filter.ms).toFixed(2)}×`],
      ],
    ),
  );
}

function main(): void {
  console.log('Twin core (nodes/lib/twin) against a plain object in flow context');
  console.log(machineLine());
  const models = loadModels();
  throughput(models);
  memory(models);
}

main();
