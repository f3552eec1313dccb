// Messages in and out of the anomaly node: samples (one, or a batch), operator actions on alarms,
// a request to learn the baseline again; alerts in the message contract and SPC chart series
// shaped for a Dashboard 2.0 line chart.
import { alarmActionFrom, alertMessage, type AlarmAction } from '../lib/alarms';
import type { ChartPoint, EngineSample, IndicatorPoint } from '../lib/analytics';
import type { Alert, Quality, TwinRef } from '../lib/messages';

type Msg = Record<string, unknown>;

export class AnomalyInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AnomalyInputError';
  }
}

export type AnomalyInput =
  | { kind: 'samples'; samples: EngineSample[]; ignored: number }
  | { kind: 'alarm'; action: AlarmAction }
  | { kind: 'relearn' }
  | { kind: 'alarms' };

const QUALITIES: readonly Quality[] = ['good', 'uncertain', 'bad'];

function timeOf(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Date.parse(value))) return Date.parse(value);
  if (value instanceof Date && Number.isFinite(value.getTime())) return value.getTime();
  throw new AnomalyInputError(`${field}: ${JSON.stringify(value)} must be a time in ms since the epoch (or ISO text)`);
}

function twinOf(value: unknown): TwinRef | undefined {
  const t = value as { id?: unknown; model?: unknown } | undefined;
  return t && typeof t === 'object' && typeof t.id === 'string' ? { id: t.id, model: typeof t.model === 'string' ? t.model : '' } : undefined;
}

/**
 * One sample; `where` is the path of the sample in the message ('' for the message itself, or
 * 'payload[3].'), so an error names the exact field. Returns undefined for a topic the node does not read.
 */
function sampleOf(s: Msg, where: string, relevant: ReadonlySet<string>, fallbackTime: number, fallbackTwin: TwinRef | undefined): EngineSample | undefined {
  if (typeof s.topic !== 'string' || s.topic === '') throw new AnomalyInputError(`${where}topic: the DTDL path of the sample (e.g. spindle/vibrationRms) is required`);
  if (!relevant.has(s.topic)) return undefined;
  const quality = s.quality === undefined ? 'good' : s.quality;
  if (!QUALITIES.includes(quality as Quality)) throw new AnomalyInputError(`${where}quality: ${JSON.stringify(s.quality)} must be good, uncertain or bad`);
  let value: number | null;
  if (quality === 'bad') {
    value = typeof s.payload === 'number' && Number.isFinite(s.payload) ? s.payload : null;
  } else {
    if (typeof s.payload !== 'number' || !Number.isFinite(s.payload)) {
      throw new AnomalyInputError(`${where}payload: ${JSON.stringify(s.payload) ?? 'undefined'} is not a number (${s.topic} is a watched signal; send quality "bad" for a missing value)`);
    }
    value = s.payload;
  }
  const time = timeOf(s.sourceTime, `${where}sourceTime`) ?? fallbackTime;
  const twin = twinOf(s.twin) ?? fallbackTwin;
  return { topic: s.topic, value, time, quality: quality as Quality, ...(twin ? { twin } : {}) };
}

/** What a message asks; throws AnomalyInputError naming the field for a malformed one (nothing is applied then). */
export function readInput(msg: Msg, relevant: ReadonlySet<string>, now: number): AnomalyInput {
  if (msg.alarm !== undefined) {
    try {
      return { kind: 'alarm', action: alarmActionFrom(msg, now)! };
    } catch (err) {
      throw new AnomalyInputError((err as Error).message);
    }
  }
  if (msg.baseline !== undefined) {
    if (msg.baseline !== 'relearn') throw new AnomalyInputError(`baseline: ${JSON.stringify(msg.baseline)} must be "relearn" (learn the baseline again from the next samples)`);
    return { kind: 'relearn' };
  }
  if (msg.action !== undefined) {
    if (msg.action !== 'alarms') throw new AnomalyInputError(`action: ${JSON.stringify(msg.action)} must be "alarms" (send the alarm list)`);
    return { kind: 'alarms' };
  }
  const batchTime = timeOf(msg.sourceTime, 'sourceTime') ?? now;
  const twin = twinOf(msg.twin);
  if (msg.topic === 'samples') {
    if (!Array.isArray(msg.payload)) throw new AnomalyInputError('payload: a batch (topic "samples") holds an array of samples { topic, payload, sourceTime, quality }');
    const samples: EngineSample[] = [];
    let ignored = 0;
    msg.payload.forEach((s: unknown, i) => {
      if (!s || typeof s !== 'object') throw new AnomalyInputError(`payload[${i}]: must be a sample { topic, payload, sourceTime, quality }`);
      const sample = sampleOf(s as Msg, `payload[${i}].`, relevant, batchTime, twin);
      if (sample) samples.push(sample);
      else ignored++;
    });
    return { kind: 'samples', samples, ignored };
  }
  const sample = sampleOf(msg, '', relevant, batchTime, twin);
  return sample ? { kind: 'samples', samples: [sample], ignored: 0 } : { kind: 'samples', samples: [], ignored: 1 };
}

/** Alerts in the message contract, each with the current alarm list (for a dashboard table). */
export function alertMessages(alerts: readonly Alert[], list: readonly Alert[]): Msg[] {
  return alerts.map((alert) => ({ ...alertMessage(alert), alarms: list }));
}

/** The alarm list as one message: payload = the alerts that are not normal, most recent first. */
export function alarmListMessage(list: readonly Alert[]): Msg {
  return { topic: 'alarms', payload: list, alarms: list };
}

/**
 * A chart point as one message per series, for a Dashboard 2.0 line chart with series by msg.topic
 * and x from msg.timestamp: the value under the channel's name, the limits as UCL, CL and LCL.
 */
export function chartMessages(points: readonly ChartPoint[]): Msg[] {
  const out: Msg[] = [];
  for (const p of points) {
    const spc = { channel: p.channel, score: p.score, violations: p.violations, value: p.value, centre: p.centre, upper: p.upper, lower: p.lower };
    const base = { timestamp: p.time, sourceTime: p.time, channel: p.channel, spc };
    out.push(
      { ...base, topic: p.channel, payload: p.value },
      { ...base, topic: 'UCL', payload: p.upper },
      { ...base, topic: 'CL', payload: p.centre },
      { ...base, topic: 'LCL', payload: p.lower },
    );
  }
  return out;
}

/** The topic of a channel's condition-normalised indicator (kept apart from the raw samples' topic). */
export function indicatorTopic(channel: string): string {
  return `${channel}:normalised`;
}

/**
 * Condition-normalised indicators as samples (for a rul node): one message, or one batch
 * (topic "samples") when a message scored several channels.
 */
export function indicatorMessages(points: readonly IndicatorPoint[], twin: TwinRef | undefined): Msg[] {
  const samples = points.map((p) => ({
    topic: indicatorTopic(p.channel),
    payload: p.normalised,
    sourceTime: p.time,
    quality: 'good',
    anomaly: { channel: p.channel, value: p.value, expected: p.expected, z: p.z },
  }));
  if (samples.length === 0) return [];
  const extra = twin ? { twin } : {};
  if (samples.length === 1) return [{ ...samples[0], ...extra }];
  return [{ topic: 'samples', payload: samples, ...extra }];
}
