// Messages in and out of the rul node: the dialog's settings, samples (one or a batch) of the
// indicator and the gate, a threshold or a reset by message; the estimate and the trend chart out.
import { estimateAt, rulConfig, type RulConfig, type RulEstimate } from '../lib/analytics';
import type { TwinRef } from '../lib/messages';

type Msg = Record<string, unknown>;

export class RulInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RulInputError';
  }
}

export interface RulNodeConfig {
  indicator?: unknown;
  direction?: unknown;
  gateTopic?: unknown;
  gateMin?: unknown;
  gateMax?: unknown;
  bucketSeconds?: unknown;
  windowSeconds?: unknown;
  minBuckets?: unknown;
  model?: unknown;
  confidence?: unknown;
  horizonHours?: unknown;
  thresholdSource?: unknown;
  threshold?: unknown;
  graph?: unknown;
  twinId?: unknown;
  thresholdPath?: unknown;
}

export interface RulSettings {
  config: RulConfig;
  /** where the failure threshold comes from */
  thresholdSource: 'number' | 'twin';
  threshold?: number;
  twinId: string;
  thresholdPath: string;
}

export function rulSettings(def: RulNodeConfig): RulSettings {
  const gateTopic = typeof def.gateTopic === 'string' ? def.gateTopic.trim() : '';
  const horizon = def.horizonHours === undefined || def.horizonHours === '' ? undefined : Number(def.horizonHours);
  if (horizon !== undefined && !(horizon > 0)) throw new Error(`horizonHours: ${JSON.stringify(def.horizonHours)} must be a number of hours above 0`);
  const config = rulConfig({
    indicator: def.indicator,
    direction: def.direction,
    ...(gateTopic ? { gate: { topic: gateTopic, min: def.gateMin, max: def.gateMax } } : {}),
    bucketSeconds: def.bucketSeconds,
    windowSeconds: def.windowSeconds,
    minBuckets: def.minBuckets,
    model: def.model,
    confidence: def.confidence,
    ...(horizon !== undefined ? { horizonSeconds: horizon * 3600 } : {}),
  });
  const source = def.thresholdSource === 'twin' ? 'twin' : 'number';
  if (source === 'twin') {
    const twinId = typeof def.twinId === 'string' ? def.twinId.trim() : '';
    const thresholdPath = typeof def.thresholdPath === 'string' ? def.thresholdPath.trim() : '';
    if (!twinId) throw new Error('twinId: the twin whose property holds the failure threshold is required');
    if (!thresholdPath) throw new Error('thresholdPath: the property that holds the failure threshold (e.g. spindle/vibrationLimit) is required');
    return { config, thresholdSource: 'twin', twinId, thresholdPath };
  }
  let threshold: number | undefined;
  if (def.threshold !== undefined && def.threshold !== '' && def.threshold !== null) {
    threshold = typeof def.threshold === 'number' ? def.threshold : Number(String(def.threshold).trim());
    if (!Number.isFinite(threshold)) throw new Error(`threshold: ${JSON.stringify(def.threshold)} is not a number`);
  }
  return { config, thresholdSource: 'number', ...(threshold !== undefined ? { threshold } : {}), twinId: '', thresholdPath: '' };
}

export interface RulSample {
  topic: string;
  value: number;
  time: number;
}

export type RulInput =
  | { kind: 'samples'; samples: RulSample[]; twin?: TwinRef }
  | { kind: 'threshold'; value: number | undefined }
  | { kind: 'reset' };

function timeOf(value: unknown, field: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && Number.isFinite(Date.parse(value))) return Date.parse(value);
  throw new RulInputError(`${field}: ${JSON.stringify(value)} must be a time in ms since the epoch (or ISO text)`);
}

/** What a message asks; throws RulInputError naming the field (nothing is applied then). */
export function readRulInput(msg: Msg, topics: readonly string[], now: number): RulInput {
  if (msg.threshold !== undefined) {
    if (msg.threshold === null) return { kind: 'threshold', value: undefined };
    const value = typeof msg.threshold === 'string' && msg.threshold.trim() !== '' ? Number(msg.threshold) : msg.threshold;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new RulInputError(`threshold: ${JSON.stringify(msg.threshold)} is not a number (null goes back to the configured threshold)`);
    return { kind: 'threshold', value };
  }
  if (msg.rul !== undefined) {
    if (msg.rul !== 'reset') throw new RulInputError(`rul: ${JSON.stringify(msg.rul)} must be "reset" (forget the indicator's history, e.g. after a new bearing)`);
    return { kind: 'reset' };
  }
  const batchTime = timeOf(msg.sourceTime, 'sourceTime', now);
  const twinRaw = msg.twin as { id?: unknown; model?: unknown } | undefined;
  const twin = twinRaw && typeof twinRaw.id === 'string' ? { id: twinRaw.id, model: typeof twinRaw.model === 'string' ? twinRaw.model : '' } : undefined;
  const list: [Msg, string][] = msg.topic === 'samples'
    ? Array.isArray(msg.payload)
      ? msg.payload.map((s, i) => {
        if (!s || typeof s !== 'object') throw new RulInputError(`payload[${i}]: must be a sample { topic, payload, sourceTime }`);
        return [s as Msg, `payload[${i}].`];
      })
      : (() => { throw new RulInputError('payload: a batch (topic "samples") holds an array of samples { topic, payload, sourceTime }'); })()
    : [[msg, '']];
  const samples: RulSample[] = [];
  for (const [s, where] of list) {
    if (typeof s.topic !== 'string' || s.topic === '') throw new RulInputError(`${where}topic: the DTDL path of the sample is required`);
    if (!topics.includes(s.topic)) continue;
    if (s.quality === 'bad') continue;
    if (typeof s.payload !== 'number' || !Number.isFinite(s.payload)) throw new RulInputError(`${where}payload: ${JSON.stringify(s.payload) ?? 'undefined'} is not a number (${s.topic})`);
    samples.push({ topic: s.topic, value: s.payload, time: timeOf(s.sourceTime, `${where}sourceTime`, batchTime) });
  }
  return { kind: 'samples', samples, ...(twin ? { twin } : {}) };
}

/** The estimate as a message: payload the RUL in seconds (null while unknown), rul the details. */
export function estimateMessage(indicator: string, estimate: RulEstimate, twin: TwinRef | undefined): Msg {
  return {
    topic: `${indicator}:rul`,
    payload: estimate.rulSeconds,
    sourceTime: estimate.time,
    rul: estimate,
    ...(twin ? { twin } : {}),
  };
}

/**
 * The trend chart's series at a bucket, for a Dashboard 2.0 line chart (series by msg.topic, x from
 * msg.timestamp): the indicator's bucket mean, the fitted trend, and the threshold.
 */
export function trendMessages(time: number, value: number, estimate: RulEstimate): Msg[] {
  const out: Msg[] = [{ topic: 'indicator', payload: value, timestamp: time }];
  const fitted = estimateAt(estimate, time);
  if (fitted !== null) out.push({ topic: 'trend', payload: fitted, timestamp: time });
  if (estimate.threshold !== null) out.push({ topic: 'threshold', payload: estimate.threshold, timestamp: time });
  return out;
}

/** 5400 -> "1.5 h". */
export function duration(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(seconds < 600 ? 1 : 0)} min`;
  if (seconds < 2 * 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}
