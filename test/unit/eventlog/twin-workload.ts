// A deterministic stream of twin changes (samples, properties, desired values, acknowledgements,
// commands, relationships, lifecycle) over the CNC and plant models, with a deterministic clock:
// the same seed gives the same graph history in any process, so a test can rebuild what a killed
// process logged. Not a test itself.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseModels, type ModelSet } from '../../../nodes/lib/dtdl';
import { Random } from '../../../nodes/lib/random';
import { TwinGraph, type TwinChangeEvent } from '../../../nodes/lib/twin';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
export const CNC = 'dtmi:twinflow:cnc:CNCMachine;1';
export const LINE = 'dtmi:twinflow:plant:ProductionLine;1';
export const T0 = Date.parse('2026-11-25T08:00:00.000Z');

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? jsonFiles(path.join(dir, e.name)) : e.name.endsWith('.json') ? [path.join(dir, e.name)] : []));
}

let cached: ModelSet | undefined;
export function cncModels(): ModelSet {
  if (!cached) {
    const result = parseModels(jsonFiles(path.join(ROOT, 'models')).map((f) => JSON.parse(readFileSync(f, 'utf8')) as unknown));
    if (!result.valid || !result.model) throw new Error('models/ is invalid');
    cached = result.model;
  }
  return cached;
}

/** The graph and the changes that drive it: `step()` applies the next change and returns its events. */
export class TwinWorkload {
  readonly graph: TwinGraph;
  now = T0;
  readonly #random: Random;
  #step = 0;
  #desired = 0;
  #acked = 0;
  #linked = new Set<string>();

  constructor(seed: number) {
    this.#random = new Random(seed);
    // Every change advances the clock by 1 to 20 ms, so times are distinct and increasing.
    this.graph = new TwinGraph(cncModels(), { clock: () => this.now });
  }

  step(): TwinChangeEvent[] {
    this.now += 1 + this.#random.int(20);
    const g = this.graph;
    const k = this.#step++;
    if (k === 0) {
      return [
        g.createTwin({ id: 'cnc-1', model: CNC, properties: { spindle: { maxSpeed: 24000 }, machineState: 'idle', doorOpen: false } }, { actor: 'setup' }),
        g.createTwin({ id: 'cnc-2', model: CNC, properties: { spindle: { maxSpeed: 12000 } } }, { actor: 'setup' }),
        g.createTwin({ id: 'line-1', model: LINE }, { actor: 'setup' }),
      ];
    }
    const twin = this.#random.int(3) === 0 ? 'cnc-2' : 'cnc-1';
    const r = this.#random.int(100);
    if (r < 55) {
      return g.applySamples(twin, [
        { path: 'spindle/speed', value: Math.round(this.#random.uniform(0, 12000) * 100) / 100, sourceTime: this.now - 1, quality: 'good' },
        { path: 'positionX', value: this.#random.uniform(-100, 100), sourceTime: this.now - 1 },
      ]);
    }
    if (r < 65) return [g.reportProperty(twin, 'machineState', ['idle', 'running', 'alarm'][this.#random.int(3)] as string, { sourceTime: this.now })];
    if (r < 73) {
      this.#desired = twin === 'cnc-1' ? this.#desired + 1 : this.#desired;
      return [g.setDesired(twin, 'spindle/speedSetpoint', this.#random.int(10000), { actor: 'optimizer' })];
    }
    if (r < 78) {
      const meta = g.read(twin, 'spindle/speedSetpoint').metadata;
      if (meta?.desiredVersion === undefined || (meta.ackVersion ?? 0) >= meta.desiredVersion) return [g.reportProperty(twin, 'activeProgram', `P${k}`)];
      this.#acked++;
      return [g.acknowledgeDesired(twin, 'spindle/speedSetpoint', { version: meta.desiredVersion, code: 200, description: `ack ${k}`, value: meta.desiredValue })];
    }
    if (r < 84) return [g.requestCommand(twin, 'startCycle', `P${k}`, { requestId: `c${k}`, actor: 'operator' })];
    if (r < 92) {
      const id = `line-1-${twin}`;
      if (this.#linked.has(twin)) {
        this.#linked.delete(twin);
        return [g.deleteRelationship('line-1', id, { actor: 'planner' })];
      }
      this.#linked.add(twin);
      return [g.createRelationship({ sourceId: 'line-1', relationshipId: id, name: 'contains', targetId: twin, properties: { position: twin === 'cnc-1' ? 1 : 2 } }, { actor: 'planner' })];
    }
    const stage = g.getStage(twin);
    return [g.setLifecycleStage(twin, stage === 'operation' ? 'adaptation' : 'operation', { actor: 'engineer' })];
  }
}

/** A twin document without its etag (the etag carries a random per-graph epoch). */
export function withoutEtag(doc: unknown): unknown {
  if (doc === null || doc === undefined) return doc;
  const copy = JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
  delete copy.$etag;
  return copy;
}
