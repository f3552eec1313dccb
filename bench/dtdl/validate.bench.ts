// Numeric telemetry validations per second through validateInstance, against the practical limit:
// a hand-written ajv validator for the same schema, called directly. Target: >= 1,000,000/s.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { parseModels, validateInstance, type ModelSet } from '../../nodes/lib/dtdl';
import { machineLine, median, now, table } from './common';

const MODELS = path.join(__dirname, '..', '..', '..', 'models');
const CNC = 'dtmi:twinflow:cnc:CNCMachine;1';
const ROUNDS = 7;
const CALLS = 2_000_000;

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? jsonFiles(path.join(dir, e.name)) : e.name.endsWith('.json') ? [path.join(dir, e.name)] : []));
}

/** Calls per second of `body` (which makes CALLS calls and returns how many passed), median of rounds. */
function rate(body: () => number): { perSecond: number; passed: number } {
  const rates: number[] = [];
  let passed = 0;
  for (let round = 0; round < ROUNDS + 1; round++) {
    const started = now();
    passed = body();
    const seconds = (now() - started) / 1000;
    if (round > 0) rates.push(CALLS / seconds); // round 0 warms up the JIT
  }
  return { perSecond: median(rates), passed };
}

function main(): void {
  const result = parseModels(jsonFiles(MODELS).map((f) => JSON.parse(readFileSync(f, 'utf8')) as unknown));
  if (!result.valid || !result.model) throw new Error('models/ is invalid');
  const model: ModelSet = result.model;
  // Spindle speeds as a twin would see them: a buffer of realistic numbers, reused.
  const values = Float64Array.from({ length: 4096 }, (_, i) => 8000 + Math.sin(i / 10) * 4000);
  const mask = values.length - 1;

  const ajvDirect = new Ajv({ strictNumbers: true }).compile({ type: 'number' });
  const direct = rate(() => {
    let ok = 0;
    for (let i = 0; i < CALLS; i++) if (ajvDirect(values[i & mask])) ok++;
    return ok;
  });

  const target = { interface: CNC, name: 'spindle/speed' };
  const reused = rate(() => {
    let ok = 0;
    for (let i = 0; i < CALLS; i++) if (validateInstance(model, target, values[i & mask]).ok) ok++;
    return ok;
  });

  const literal = rate(() => {
    let ok = 0;
    for (let i = 0; i < CALLS; i++) if (validateInstance(model, { interface: CNC, name: 'spindle/speed' }, values[i & mask]).ok) ok++;
    return ok;
  });

  const axes = [
    { interface: CNC, name: 'positionX' },
    { interface: CNC, name: 'positionY' },
    { interface: CNC, name: 'positionZ' },
    { interface: CNC, name: 'coolant/temperature' },
  ];
  const mixed = rate(() => {
    let ok = 0;
    for (let i = 0; i < CALLS; i++) if (validateInstance(model, axes[i & 3] as (typeof axes)[number], values[i & mask]).ok) ok++;
    return ok;
  });

  for (const r of [direct, reused, literal, mixed]) if (r.passed !== CALLS) throw new Error('a valid value was refused');

  console.log(`DTDL validation: numeric telemetry (double), ${CALLS.toLocaleString('en')} calls per round, median of ${ROUNDS} rounds`);
  console.log(machineLine());
  const row = (label: string, r: { perSecond: number }): string[] => [
    label,
    `${(r.perSecond / 1e6).toFixed(2)} M/s`,
    `${(1e9 / r.perSecond).toFixed(1)} ns`,
    `${(r.perSecond / direct.perSecond).toFixed(2)}×`,
  ];
  console.log(
    table(
      ['path', 'validations', 'per call', 'vs ajv direct'],
      [
        row('ajv validator for {type: number}, called directly (limit)', direct),
        row('validateInstance, spindle/speed, target object reused', reused),
        row('validateInstance, spindle/speed, new target object per call', literal),
        row('validateInstance, 4 telemetries in turn', mixed),
      ],
    ),
  );
  const verdict = reused.perSecond >= 1e6 ? 'meets' : 'misses';
  console.log(`Target: >= 1,000,000 numeric validations/s through validateInstance — ${verdict} (${(reused.perSecond / 1e6).toFixed(1)} M/s).`);
}

main();
