// Twin messages and change events to InfluxDB line protocol. Samples become typed fields of one
// point per twin, component and time (so a batch measured at one instant is one line), other twin
// changes (desired values, acknowledgements, commands, relationships, lifecycle, creation) become
// points of an events measurement. Every value is checked against its DTDL type before anything
// of the message is written: a message is encoded whole or refused whole.
import type { TwinChangeEvent } from '../twin';
import { encodeFieldValue, encodeTimestamp, escapeKey, escapeMeasurement, escapeTagValue, HistoryError, quoteString, type Precision } from './line-protocol';
import type { HistorySchema } from './schema';

export interface EncoderOptions {
  precision: Precision;
  /** Measurement of non-sample twin changes. */
  eventsMeasurement: string;
  /** Time for samples without sourceTime (ms); default Date.now. */
  now?: () => number;
}

export interface Encoded {
  /** Line protocol, one point per line, joined by newlines. */
  text: string;
  /** Points (lines). */
  points: number;
  /** Field values of samples. */
  values: number;
  /** Non-sample twin changes. */
  events: number;
}

interface SampleInput {
  path: string;
  value: unknown;
  sourceTime?: unknown;
  quality?: unknown;
}

type Msg = Record<string, unknown>;

const SAMPLE_KINDS = new Set(['telemetry', 'property']);
const QUALITIES = new Set(['good', 'uncertain', 'bad']);
/** Answers to reads carry no change to record. */
const READ_ACTIONS = new Set(['get', 'list', 'relationships', 'staleness']);

/** Points of one encode call, keyed by series and time so samples of one instant share a line. */
class PointSet {
  readonly #points = new Map<string, Map<string, string>>();
  values = 0;
  events = 0;

  add(series: string, time: string, field: string, value: string): void {
    const key = `${series} ${time}`;
    let fields = this.#points.get(key);
    if (!fields) {
      fields = new Map();
      this.#points.set(key, fields);
    }
    fields.set(field, value);
  }

  get size(): number {
    return this.#points.size;
  }

  text(): string {
    let out = '';
    for (const [key, fields] of this.#points) {
      const space = key.lastIndexOf(' ');
      let fieldText = '';
      for (const [name, value] of fields) fieldText += `${fieldText === '' ? '' : ','}${name}=${value}`;
      out += `${out === '' ? '' : '\n'}${key.slice(0, space)} ${fieldText} ${key.slice(space + 1)}`;
    }
    return out;
  }
}

export class LineEncoder {
  readonly #series = new Map<string, string>();
  readonly #fieldKeys = new Map<string, string>();
  readonly #now: () => number;
  readonly #eventsMeasurement: string;

  constructor(private readonly schema: HistorySchema, private readonly options: EncoderOptions) {
    this.#now = options.now ?? Date.now;
    this.#eventsMeasurement = escapeMeasurement(options.eventsMeasurement);
  }

  get precision(): Precision {
    return this.options.precision;
  }

  /**
   * Line protocol for a message in the message contract, or undefined when it records nothing (an
   * answer to a read). Throws HistoryError, naming the field, when anything in it cannot be stored.
   */
  encodeMessage(msg: Msg): Encoded | undefined {
    if (msg.query !== undefined || (typeof msg.action === 'string' && READ_ACTIONS.has(msg.action))) return undefined;
    const event = isEvent(msg.event) ? msg.event : undefined;
    const twin = msg.twin as { id?: unknown; model?: unknown } | undefined;
    const twinId = typeof twin?.id === 'string' && twin.id !== '' ? twin.id : event?.twinId;
    const model = typeof twin?.model === 'string' && twin.model !== '' ? twin.model : undefined;
    if (twinId === undefined) throw new HistoryError('twin.id', 'twin.id: required (wire twin-history after a twin node, whose messages carry twin = { id, model })');
    if (model === undefined) throw new HistoryError('twin.model', 'twin.model: required, the DTMI that types the fields (twin node messages carry it)');
    const points = new PointSet();
    const fallbackTime = typeof event?.time === 'number' ? event.time : this.#now();

    if (msg.topic === 'samples' && Array.isArray(msg.payload)) {
      msg.payload.forEach((s: unknown, i) => {
        const sample = s as Msg;
        if (typeof sample !== 'object' || sample === null || typeof sample.topic !== 'string') throw new HistoryError(`payload[${i}].topic`, `payload[${i}].topic: each sample needs the DTDL name it is for`);
        this.#addSample(points, twinId, model, { path: sample.topic, value: sample.payload, sourceTime: sample.sourceTime, quality: sample.quality }, fallbackTime, `payload[${i}]`);
      });
    } else if (event && !SAMPLE_KINDS.has(event.kind)) {
      this.#addEvent(points, event, model);
      // An acknowledgement may carry the value the asset now reports.
      if (event.kind === 'ack' && msg.payload !== undefined && typeof msg.topic === 'string') {
        this.#addSample(points, twinId, model, { path: msg.topic, value: msg.payload, sourceTime: event.sourceTime }, event.time, '');
      }
    } else {
      if (typeof msg.topic !== 'string' || msg.topic === '') throw new HistoryError('topic', 'topic: the DTDL name or path of the value (e.g. spindle/speed) is required');
      if (msg.payload === undefined) throw new HistoryError('payload', `payload: the value of ${msg.topic} is missing`);
      this.#addSample(points, twinId, model, { path: msg.topic, value: msg.payload, sourceTime: msg.sourceTime ?? event?.sourceTime, quality: msg.quality }, fallbackTime, '');
    }
    return { text: points.text(), points: points.size, values: points.values, events: points.events };
  }

  /**
   * Line protocol for change events straight from a twin graph (the mirror): samples as fields,
   * everything else as event points. `modelOf` names each twin's model.
   */
  encodeEvents(events: readonly TwinChangeEvent[], modelOf: (twinId: string) => string | undefined): Encoded {
    const points = new PointSet();
    for (const event of events) {
      const model = modelOf(event.twinId);
      if (model === undefined) continue;
      if (SAMPLE_KINDS.has(event.kind)) {
        const sample = sampleOfEvent(event);
        if (sample) this.#addSample(points, event.twinId, model, sample, event.time, '');
      } else {
        this.#addEvent(points, event, model);
      }
    }
    return { text: points.text(), points: points.size, values: points.values, events: points.events };
  }

  #seriesKey(measurement: string, tags: [string, string | undefined][]): string {
    let key = measurement;
    for (const [name, value] of tags) if (value !== undefined) key += `\u0000${name}=${value}`;
    let series = this.#series.get(key);
    if (series === undefined) {
      series = measurement === this.options.eventsMeasurement ? this.#eventsMeasurement : escapeMeasurement(measurement);
      // Tags sorted by key, as InfluxDB prefers them.
      for (const [name, value] of tags) if (value !== undefined) series += `,${name}=${escapeTagValue(value, name === 'twin' ? 'twin.id' : name)}`;
      if (this.#series.size > 100_000) this.#series.clear();
      this.#series.set(key, series);
    }
    return series;
  }

  #fieldKey(name: string): string {
    let key = this.#fieldKeys.get(name);
    if (key === undefined) {
      key = escapeKey(name, 'field');
      this.#fieldKeys.set(name, key);
    }
    return key;
  }

  #time(value: unknown, fallback: number, where: string): string {
    if (value === undefined || value === null) return encodeTimestamp(fallback, this.options.precision);
    const ms = typeof value === 'number' ? value : value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : Number.NaN;
    if (!Number.isFinite(ms)) throw new HistoryError(`${where}sourceTime`, `${where ? `${where}.` : ''}sourceTime: ${JSON.stringify(value)} is not a time (ms since the epoch or ISO 8601)`);
    return encodeTimestamp(ms, this.options.precision);
  }

  #addSample(points: PointSet, twinId: string, model: string, sample: SampleInput, fallbackTime: number, where: string): void {
    const at = where ? `${where}.` : '';
    let target;
    try {
      target = this.schema.target(model, sample.path);
    } catch (err) {
      if (err instanceof HistoryError && where) throw new HistoryError(`${at}${err.field}`, `${where}: ${err.message}`);
      throw err;
    }
    if (sample.quality !== undefined && !QUALITIES.has(sample.quality as string)) {
      throw new HistoryError(`${at}quality`, `${at}quality: ${JSON.stringify(sample.quality)} must be good, uncertain or bad`);
    }
    const value = encodeFieldValue(sample.value, target.type, `${at}${sample.path}`);
    // Good samples carry no quality tag; uncertain and bad ones say so.
    const quality = sample.quality === 'good' || sample.quality === undefined ? undefined : (sample.quality as string);
    const series = this.#seriesKey(target.measurement, [['component', target.component], ['model', model], ['quality', quality], ['twin', twinId]]);
    points.add(series, this.#time(sample.sourceTime, fallbackTime, at), this.#fieldKey(target.field), value);
    points.values++;
  }

  #addEvent(points: PointSet, event: TwinChangeEvent, model: string): void {
    const series = this.#seriesKey(this.options.eventsMeasurement, [['kind', event.kind], ['model', model], ['name', event.path], ['twin', event.twinId]]);
    const time = encodeTimestamp(event.time, this.options.precision);
    points.add(series, time, 'version', `${event.version}i`);
    if (event.actor !== undefined) points.add(series, time, 'actor', quoteString(event.actor));
    points.add(series, time, 'detail', quoteString(JSON.stringify(eventDetail(event))));
    points.events++;
  }
}

function isEvent(value: unknown): value is TwinChangeEvent {
  const e = value as TwinChangeEvent | undefined;
  return typeof e === 'object' && e !== null && typeof e.kind === 'string' && typeof e.twinId === 'string' && typeof e.time === 'number' && typeof e.version === 'number';
}

/** Metadata fields a patch set, whether one by one or as a whole new metadata object. */
function metadataSet(patch: TwinChangeEvent['patch'], fields: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const op of patch) {
    if (op.op !== 'add' && op.op !== 'replace') continue;
    const last = op.path.slice(op.path.lastIndexOf('/') + 1);
    if (last in fields) out[fields[last] as string] = op.value;
    else if (op.value !== null && typeof op.value === 'object' && !Array.isArray(op.value)) {
      for (const [key, name] of Object.entries(fields)) if (key in (op.value as object)) out[name] = (op.value as Record<string, unknown>)[key];
    }
  }
  return out;
}

/** What a non-sample change did, compactly, for the events measurement's `detail` field. */
export function eventDetail(event: TwinChangeEvent): unknown {
  switch (event.kind) {
    case 'desired':
      return metadataSet(event.patch, { desiredValue: 'value', desiredVersion: 'version' });
    case 'ack':
      return metadataSet(event.patch, { ackVersion: 'version', ackCode: 'code', ackDescription: 'description' });
    case 'command':
      return event.command ?? {};
    case 'relationship':
      return event.relationship ?? {};
    case 'lifecycle':
      return event.lifecycle ?? {};
    case 'create': {
      const doc = event.patch[0] && 'value' in event.patch[0] ? (event.patch[0].value as { $lifecycle?: { stage?: string } }) : undefined;
      return { stage: doc?.$lifecycle?.stage };
    }
    default:
      return {};
  }
}

/** The sample a telemetry or property change event recorded, read from its patch. */
export function sampleOfEvent(event: TwinChangeEvent): SampleInput | undefined {
  if (event.path === undefined) return undefined;
  if (event.kind === 'telemetry') {
    const op = event.patch.find((o) => o.op !== 'remove' && o.path.startsWith('/$telemetry/'));
    if (!op || !('value' in op)) return undefined;
    const sample = op.value as { value: unknown; quality?: string };
    return { path: event.path, value: sample.value, sourceTime: event.sourceTime, quality: sample.quality };
  }
  const pointer = `/${event.path.split('/').map((t) => t.replace(/~/g, '~0')).join('/')}`;
  const op = event.patch.find((o) => o.op !== 'remove' && o.path === pointer);
  if (!op || !('value' in op)) return undefined;
  return { path: event.path, value: op.value, sourceTime: event.sourceTime };
}
