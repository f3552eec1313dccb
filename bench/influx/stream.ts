// The stream of twin samples every row of the points benchmark writes: 10 CNC twins (models/),
// each reporting its 9 numeric telemetry values at every tick. Twinflow stores one point per twin,
// Interface and instant (CNCMachine: positionX/Y/Z; Spindle: 4 fields; CoolantSystem: 2 fields),
// so a tick of a twin is 3 points. The other rows get exactly those points (same measurement,
// tags, fields and time), so every database ends up with the same data and can be compared.
import type { IPoint } from 'influx';

export const CNC_MODEL = 'dtmi:twinflow:cnc:CNCMachine;1';
export const TWINS = 10;
export const POINTS_PER_INSTANT = 3;
/** First measured tick; warm-up points are written before it, and counted out by time. */
export const T0 = 1_750_000_000_000;
export const TICK_MS = 10;

interface Part {
  measurement: string;
  component?: string;
  /** DTDL paths of the twin (component/name) and the InfluxDB field each becomes. */
  fields: { path: string; field: string; base: number; amplitude: number }[];
}

const PARTS: Part[] = [
  {
    measurement: 'CNCMachine',
    fields: [
      { path: 'positionX', field: 'positionX', base: 250, amplitude: 200 },
      { path: 'positionY', field: 'positionY', base: 150, amplitude: 120 },
      { path: 'positionZ', field: 'positionZ', base: -40, amplitude: 35 },
    ],
  },
  {
    measurement: 'Spindle',
    component: 'spindle',
    fields: [
      { path: 'spindle/speed', field: 'speed', base: 12000, amplitude: 6000 },
      { path: 'spindle/motorCurrent', field: 'motorCurrent', base: 18, amplitude: 9 },
      { path: 'spindle/vibrationRms', field: 'vibrationRms', base: 0.3, amplitude: 0.15 },
      { path: 'spindle/bearingTemperature', field: 'bearingTemperature', base: 45, amplitude: 8 },
    ],
  },
  {
    measurement: 'CoolantSystem',
    component: 'coolant',
    fields: [
      { path: 'coolant/temperature', field: 'temperature', base: 22, amplitude: 3 },
      { path: 'coolant/flow', field: 'flow', base: 12, amplitude: 2 },
    ],
  },
];

/** One field per measurement that every point has: its count is the number of points landed. */
export const COUNTED: { measurement: string; field: string }[] = PARTS.map((p) => ({ measurement: p.measurement, field: (p.fields[0] as { field: string }).field }));

export function twinId(twin: number): string {
  return `cnc-${String(twin + 1).padStart(2, '0')}`;
}

/** A value that moves like a signal and has 3 decimals, so every row writes the same text. */
function value(twin: number, tick: number, f: { base: number; amplitude: number }, k: number): number {
  return Math.round((f.base + f.amplitude * Math.sin(tick / (40 + k * 7) + twin * 0.7)) * 1000) / 1000;
}

/** Instant `k` (counted from the first tick, negative for warm-up ticks): which twin, which time. */
function instant(k: number): { twin: number; tick: number; time: number } {
  const twin = ((k % TWINS) + TWINS) % TWINS;
  const tick = Math.floor(k / TWINS);
  return { twin, tick, time: T0 + tick * TICK_MS };
}

/** Point `p` of the stream as the `influx` package's IPoint (the raw and contrib rows). */
export function pointAt(p: number): IPoint {
  const k = Math.floor(p / POINTS_PER_INSTANT);
  const part = PARTS[((p % POINTS_PER_INSTANT) + POINTS_PER_INSTANT) % POINTS_PER_INSTANT] as Part;
  const { twin, tick, time } = instant(k);
  const fields: Record<string, number> = {};
  part.fields.forEach((f, i) => { fields[f.field] = value(twin, tick, f, i); });
  return {
    measurement: part.measurement,
    tags: { ...(part.component ? { component: part.component } : {}), model: CNC_MODEL, twin: twinId(twin) },
    fields,
    timestamp: time,
  };
}

/** Points `from` to `from + count - 1` (the batch a contrib message or a writePoints call carries). */
export function pointsBatch(from: number, count: number): IPoint[] {
  const out: IPoint[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = pointAt(from + i);
  return out;
}

/**
 * Instant `k` as the `twin` node sends it after accepting a `samples` message: topic `samples`,
 * twin = { id, model }, payload = the accepted samples. Its 3 points are points 3k .. 3k+2.
 */
export function twinMessageAt(k: number): Record<string, unknown> {
  const { twin, tick, time } = instant(k);
  const payload: Record<string, unknown>[] = [];
  for (const part of PARTS) {
    part.fields.forEach((f, i) => payload.push({ topic: f.path, payload: value(twin, tick, f, i), sourceTime: time, quality: 'good' }));
  }
  return { topic: 'samples', twin: { id: twinId(twin), model: CNC_MODEL }, payload };
}
