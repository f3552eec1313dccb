// Shared by the twin core tests: the real CNC models from models/, small inline models for edge
// cases, a controllable clock, and an assertion that a refused write changed nothing.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseModels, type ModelSet } from '../../../nodes/lib/dtdl';
import { TwinError, TwinGraph, type TwinErrorCode, type TwinGraphOptions } from '../../../nodes/lib/twin';

/** Repository root, from dist/test/unit/twin. */
export const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

export const CNC = 'dtmi:twinflow:cnc:CNCMachine;1';
export const CNC2 = 'dtmi:twinflow:cnc:CNCMachine;2';
export const LINE = 'dtmi:twinflow:plant:ProductionLine;1';
export const HALL = 'dtmi:twinflow:plant:ProductionHall;1';
export const BASE = 'dtmi:test:Base;1';
export const PUMP = 'dtmi:test:Pump;1';
export const TANK = 'dtmi:test:Tank;1';
export const VALVE = 'dtmi:test:Valve;1';

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? jsonFiles(path.join(dir, e.name)) : e.name.endsWith('.json') ? [path.join(dir, e.name)] : []));
}

export function modelDocuments(): unknown[] {
  return jsonFiles(path.join(ROOT, 'models')).map((f) => JSON.parse(readFileSync(f, 'utf8')) as unknown);
}

/** Version 2 of the CNC machine beside version 1: one more telemetry, the same components. */
export const CNC2_DOCUMENT = {
  '@context': 'dtmi:dtdl:context;3',
  '@id': CNC2,
  '@type': 'Interface',
  contents: [
    { '@type': 'Component', name: 'spindle', schema: 'dtmi:twinflow:cnc:Spindle;1' },
    { '@type': 'Component', name: 'coolant', schema: 'dtmi:twinflow:cnc:CoolantSystem;1' },
    { '@type': 'Telemetry', name: 'positionX', schema: 'double' },
    { '@type': 'Telemetry', name: 'feedRate', schema: 'double' },
    { '@type': 'Property', name: 'doorOpen', schema: 'boolean', writable: true },
  ],
};

/** Small models for edge cases: inheritance, object schemas, relationship limits, commands. */
export const TEST_DOCUMENTS = [
  {
    '@context': 'dtmi:dtdl:context;3',
    '@id': BASE,
    '@type': 'Interface',
    contents: [
      { '@type': 'Property', name: 'label', schema: 'string', writable: true },
      { '@type': 'Telemetry', name: 'temperature', schema: 'double' },
      { '@type': 'Relationship', name: 'near' },
    ],
  },
  {
    '@context': 'dtmi:dtdl:context;3',
    '@id': PUMP,
    '@type': 'Interface',
    extends: BASE,
    contents: [
      { '@type': 'Property', name: 'setpoint', schema: 'double', writable: true },
      { '@type': 'Property', name: 'ratedFlow', schema: 'double' },
      {
        '@type': 'Property',
        name: 'config',
        writable: true,
        schema: { '@type': 'Object', fields: [{ name: 'mode', schema: 'string' }, { name: 'gain', schema: 'double' }] },
      },
      { '@type': 'Property', name: 'tags', schema: { '@type': 'Map', mapKey: { name: 'key', schema: 'string' }, mapValue: { name: 'value', schema: 'string' } } },
      { '@type': 'Telemetry', name: 'flow', schema: 'double' },
      {
        '@type': 'Relationship',
        name: 'feeds',
        target: TANK,
        maxMultiplicity: 2,
        properties: [{ '@type': 'Property', name: 'weight', schema: 'double' }],
      },
      { '@type': 'Command', name: 'reset', request: { name: 'level', schema: 'integer' } },
      { '@type': 'Command', name: 'stop' },
    ],
  },
  { '@context': 'dtmi:dtdl:context;3', '@id': TANK, '@type': 'Interface', extends: BASE, contents: [{ '@type': 'Telemetry', name: 'level', schema: 'double' }] },
  { '@context': 'dtmi:dtdl:context;3', '@id': VALVE, '@type': 'Interface', contents: [{ '@type': 'Property', name: 'open', schema: 'boolean', writable: true }] },
];

let cached: ModelSet | undefined;

/** models/ (CNC machine, hall, line), CNCMachine;2 and the test models, as one ModelSet. */
export function models(): ModelSet {
  if (cached) return cached;
  const result = parseModels([...modelDocuments(), CNC2_DOCUMENT, ...TEST_DOCUMENTS]);
  assert.ok(result.valid && result.model, `models do not parse: ${JSON.stringify(result.errors.slice(0, 3))}`);
  cached = result.model;
  return cached;
}

/** A clock the test moves by hand; starts at 2024-01-01T00:00:00Z. */
export class ManualClock {
  now = Date.UTC(2024, 0, 1);
  readonly read = (): number => this.now;
  advance(ms: number): number {
    this.now += ms;
    return this.now;
  }
}

export function newGraph(options: TwinGraphOptions = {}): { graph: TwinGraph; clock: ManualClock } {
  const clock = new ManualClock();
  return { graph: new TwinGraph(models(), { clock: clock.read, ...options }), clock };
}

/** A CNC twin with its rated maximum speed and the door closed. */
export function addMachine(graph: TwinGraph, id = 'cnc-1', model = CNC): void {
  graph.createTwin({ id, model, properties: model === CNC ? { doorOpen: false, spindle: { maxSpeed: 24000 } } : { doorOpen: false } });
}

/** Everything observable about the graph, to compare before and after a refused write. */
export function observe(graph: TwinGraph): unknown {
  return {
    snapshot: graph.snapshot(),
    twins: graph.twinIds().map((id) => ({ id, etag: graph.getEtag(id), version: graph.getVersion(id), stage: graph.getStage(id) })),
  };
}

/**
 * Runs a write that must be refused: a TwinError with `code`, whose message contains every
 * `mentions` text; the graph (documents, etags, versions, relationships) must be unchanged.
 */
export function assertRefused(graph: TwinGraph, write: () => unknown, code: TwinErrorCode, mentions: string[] = []): TwinError {
  const before = observe(graph);
  let caught: unknown;
  try {
    write();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof TwinError, `expected a TwinError ${code}, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`);
  assert.equal(caught.code, code, `code of "${caught.message}"`);
  for (const text of mentions) assert.ok(caught.message.includes(text), `message "${caught.message}" should mention "${text}"`);
  assert.deepEqual(observe(graph), before, 'a refused write must change nothing');
  return caught;
}
