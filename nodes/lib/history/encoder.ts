// Twin messages and change events to InfluxDB line protocol. Samples become typed fields of one
// point per twin, component and time (so a batch measured at one instant is one line), other twin
// changes (desired values, acknowledgements, commands, relationships, lifecycle, creation) become
// points of an events measurement. Every value is checked against its DTDL type before anything
// of the message is written: a message is encoded whole or refused whole.
// This is the write path of every point, so what can be worked out once is: per model and DTDL
// path the field's type, escaped key and series head (measurement, component and model tags), per
// twin under a head its series key, and the text of the last timestamp; points are gathered in
// arrays reused from call to call. Only models of the encoder's schema are cached, and a schema's
// model set never changes (twin-history makes a new encoder when its models change).
import type { TwinChangeEvent } from '../twin';
import { encodeFieldValue, encodeTimestamp, escapeKey, escapeMeasurement, escapeTagValue, formatFloat, HistoryError, quoteString, type FieldType, type Precision } from './line-protocol';
import type { FieldTarget, HistorySchema } from './schema';

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

/** Above this many points, a PointSet finds a point by index instead of scanning. */
const SCAN_POINTS = 12;
/** Above this many fields, a point finds a field by index instead of scanning. */
const SCAN_FIELDS = 24;

/**
 * Points of one encode call, keyed by series and time so samples of one instant share a line. A
 * field set twice on one point keeps its first place and takes the last value. Kept in parallel
 * arrays that one encoder reuses from call to call (`reset`), so gathering allocates nothing.
 */
class PointSet {
  // Per point: series, time, first and last field, number of fields.
  readonly #series: string[] = [];
  readonly #times: string[] = [];
  readonly #first: number[] = [];
  readonly #last: number[] = [];
  readonly #counts: number[] = [];
  #size = 0;
  // Per field: key, value, next field of the same point (-1 for none).
  readonly #keys: string[] = [];
  readonly #values: string[] = [];
  readonly #next: number[] = [];
  #fields = 0;
  /** `time\nseries` → point, once there are too many points to scan (no line holds a newline). */
  #index: Map<string, number> | undefined;
  /** Field positions of points with too many fields to scan. */
  #fieldIndex: Map<number, Map<string, number>> | undefined;
  values = 0;
  events = 0;
  inUse = false;

  reset(): this {
    this.#size = 0;
    this.#fields = 0;
    this.#index = undefined;
    this.#fieldIndex = undefined;
    this.values = 0;
    this.events = 0;
    return this;
  }

  add(series: string, time: string, key: string, value: string): void {
    const point = this.#point(series, time);
    const count = this.#counts[point] as number;
    if (count > SCAN_FIELDS) {
      this.#fieldIndex ??= new Map();
      let positions = this.#fieldIndex.get(point);
      if (!positions) {
        positions = new Map();
        for (let f = this.#first[point] as number; f >= 0; f = this.#next[f] as number) positions.set(this.#keys[f] as string, f);
        this.#fieldIndex.set(point, positions);
      }
      const at = positions.get(key);
      if (at !== undefined) this.#values[at] = value;
      else positions.set(key, this.#append(point, count, key, value));
      return;
    }
    for (let f = this.#first[point] as number; f >= 0; f = this.#next[f] as number) {
      if (this.#keys[f] === key) {
        this.#values[f] = value;
        return;
      }
    }
    this.#append(point, count, key, value);
  }

  #append(point: number, count: number, key: string, value: string): number {
    const f = this.#fields++;
    this.#keys[f] = key;
    this.#values[f] = value;
    this.#next[f] = -1;
    if (count === 0) this.#first[point] = f;
    else this.#next[this.#last[point] as number] = f;
    this.#last[point] = f;
    this.#counts[point] = count + 1;
    return f;
  }

  #point(series: string, time: string): number {
    if (this.#index) {
      const key = `${time}\n${series}`;
      let point = this.#index.get(key);
      if (point === undefined) {
        point = this.#newPoint(series, time);
        this.#index.set(key, point);
      }
      return point;
    }
    // Samples of one line usually come one after another: look from the newest back.
    for (let p = this.#size - 1; p >= 0; p--) {
      if (this.#series[p] === series && this.#times[p] === time) return p;
    }
    const point = this.#newPoint(series, time);
    if (this.#size > SCAN_POINTS) {
      this.#index = new Map();
      for (let p = 0; p < this.#size; p++) this.#index.set(`${this.#times[p] as string}\n${this.#series[p] as string}`, p);
    }
    return point;
  }

  #newPoint(series: string, time: string): number {
    const p = this.#size++;
    this.#series[p] = series;
    this.#times[p] = time;
    this.#first[p] = -1;
    this.#last[p] = -1;
    this.#counts[p] = 0;
    return p;
  }

  get size(): number {
    return this.#size;
  }

  /** Fields of all points. */
  get fieldCount(): number {
    return this.#fields;
  }

  text(): string {
    let out = '';
    for (let p = 0; p < this.#size; p++) {
      const first = this.#first[p] as number;
      let line = `${this.#series[p] as string} ${this.#keys[first] as string}=${this.#values[first] as string}`;
      for (let f = this.#next[first] as number; f >= 0; f = this.#next[f] as number) line += `,${this.#keys[f] as string}=${this.#values[f] as string}`;
      line += ` ${this.#times[p] as string}`;
      out = p === 0 ? line : `${out}\n${line}`;
    }
    return out;
  }

  /** Lets go of the strings of the last call (the arrays keep their room). */
  release(): void {
    this.#series.fill('', 0, this.#size);
    this.#times.fill('', 0, this.#size);
    this.#keys.fill('', 0, this.#fields);
    this.#values.fill('', 0, this.#fields);
  }
}

/**
 * The measurement and the tags that sort before `quality` and `twin` (component, model) of one
 * model's Interface, escaped once, and the series keys of the twins written under it so far.
 * Escaping errors are kept and thrown where the series is needed, as without the cache.
 */
interface SeriesHead {
  /** `measurement,component=...,model=...`, or the error escaping them gave. */
  text: string | Error;
  /** twin id → series key, per quality tag (good samples carry none). */
  good: Map<string, string>;
  uncertain: Map<string, string>;
  bad: Map<string, string>;
}

/** One DTDL path of one model: everything about its field but the twin, resolved once. */
interface FieldPlan {
  type: FieldType;
  /** The escaped field key, or the error escaping it gave. */
  key: string | Error;
  head: SeriesHead;
}

/** The field plans of one model (Interface), by DTDL path, and its series heads by measurement and component. */
interface ModelPlan {
  fields: Map<string, FieldPlan>;
  heads: Map<string, SeriesHead>;
}

/** Series keys kept across all heads before the caches start over (twins come and go). */
const MAX_SERIES = 100_000;

export class LineEncoder {
  /** Series keys of event points, by their raw measurement and tags. */
  readonly #eventSeriesKeys = new Map<string, string>();
  readonly #pointSet = new PointSet();
  /** Per model DTMI; only models of the schema's ModelSet get one, and the schema never changes. */
  readonly #plans = new Map<string, ModelPlan>();
  #seriesCount = 0;
  readonly #now: () => number;
  readonly #eventsMeasurement: string;
  /** The last timestamp encoded, as ms and as text: samples of one message mostly share it. */
  #lastMs = Number.NaN;
  #lastTime = '';

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
    const points = this.#points();
    try {
      return this.#encodeMessage(msg, points, twinId, model, event);
    } finally {
      this.#done(points);
    }
  }

  #encodeMessage(msg: Msg, points: PointSet, twinId: string, model: string, event: TwinChangeEvent | undefined): Encoded {
    const fallbackTime = typeof event?.time === 'number' ? event.time : this.#now();

    if (msg.topic === 'samples' && Array.isArray(msg.payload)) {
      const samples = msg.payload as unknown[];
      for (let i = 0; i < samples.length; i++) {
        if (!(i in samples)) continue; // holes are skipped, as forEach does
        const sample = samples[i] as Msg;
        if (typeof sample !== 'object' || sample === null || typeof sample.topic !== 'string') throw new HistoryError(`payload[${i}].topic`, `payload[${i}].topic: each sample needs the DTDL name it is for`);
        this.#addSample(points, twinId, model, sample.topic, sample.payload, sample.sourceTime, sample.quality, fallbackTime, i);
      }
    } else if (event && !SAMPLE_KINDS.has(event.kind)) {
      this.#addEvent(points, event, model);
      // An acknowledgement may carry the value the asset now reports.
      if (event.kind === 'ack' && msg.payload !== undefined && typeof msg.topic === 'string') {
        this.#addSample(points, twinId, model, msg.topic, msg.payload, event.sourceTime, undefined, event.time, -1);
      }
    } else {
      if (typeof msg.topic !== 'string' || msg.topic === '') throw new HistoryError('topic', 'topic: the DTDL name or path of the value (e.g. spindle/speed) is required');
      if (msg.payload === undefined) throw new HistoryError('payload', `payload: the value of ${msg.topic} is missing`);
      this.#addSample(points, twinId, model, msg.topic, msg.payload, msg.sourceTime ?? event?.sourceTime, msg.quality, fallbackTime, -1);
    }
    return { text: points.text(), points: points.size, values: points.values, events: points.events };
  }

  /**
   * Line protocol for change events straight from a twin graph (the mirror): samples as fields,
   * everything else as event points. `modelOf` names each twin's model.
   */
  encodeEvents(events: readonly TwinChangeEvent[], modelOf: (twinId: string) => string | undefined): Encoded {
    const points = this.#points();
    try {
      return this.#encodeEvents(events, modelOf, points);
    } finally {
      this.#done(points);
    }
  }

  /** The encoder's own PointSet, or a new one while it is in use (a modelOf that encodes). */
  #points(): PointSet {
    const points = this.#pointSet.inUse ? new PointSet() : this.#pointSet.reset();
    points.inUse = true;
    return points;
  }

  #done(points: PointSet): void {
    points.inUse = false;
    // Large calls (the mirror's batches) should not keep their strings alive until the next one.
    if (points.size > SCAN_POINTS || points.fieldCount > 4 * SCAN_FIELDS) points.release();
  }

  #encodeEvents(events: readonly TwinChangeEvent[], modelOf: (twinId: string) => string | undefined, points: PointSet): Encoded {
    for (const event of events) {
      const model = modelOf(event.twinId);
      if (model === undefined) continue;
      if (SAMPLE_KINDS.has(event.kind)) {
        const sample = sampleOfEvent(event);
        if (sample) this.#addSample(points, event.twinId, model, sample.path, sample.value, sample.sourceTime, sample.quality, event.time, -1);
      } else {
        this.#addEvent(points, event, model);
      }
    }
    return { text: points.text(), points: points.size, values: points.values, events: points.events };
  }

  /** Series key of the events measurement (kind, model, name, twin tags). */
  #eventSeries(kind: string, model: string, name: string | undefined, twinId: string): string {
    const measurement = this.options.eventsMeasurement;
    const tags: [string, string | undefined][] = [['kind', kind], ['model', model], ['name', name], ['twin', twinId]];
    let key = measurement;
    for (const [tag, value] of tags) if (value !== undefined) key += `\u0000${tag}=${value}`;
    let series = this.#eventSeriesKeys.get(key);
    if (series === undefined) {
      series = this.#eventsMeasurement;
      // Tags sorted by key, as InfluxDB prefers them.
      for (const [tag, value] of tags) if (value !== undefined) series += `,${tag}=${escapeTagValue(value, tag === 'twin' ? 'twin.id' : tag)}`;
      if (this.#eventSeriesKeys.size > MAX_SERIES) this.#eventSeriesKeys.clear();
      this.#eventSeriesKeys.set(key, series);
    }
    return series;
  }

  /** The plan of `path` in `model`: resolved through the schema once, then from the cache. */
  #plan(model: string, path: string, index: number): FieldPlan {
    let plans = this.#plans.get(model);
    const cached = plans?.fields.get(path);
    if (cached !== undefined) return cached;
    let target: FieldTarget;
    try {
      target = this.schema.target(model, path);
    } catch (err) {
      if (err instanceof HistoryError && index >= 0) throw new HistoryError(`payload[${index}].${err.field}`, `payload[${index}]: ${err.message}`);
      throw err;
    }
    // The schema knew the model, so it is one of its ModelSet's: the cache is bounded by the models.
    if (!plans) {
      plans = { fields: new Map(), heads: new Map() };
      this.#plans.set(model, plans);
    }
    const headKey = target.component === undefined ? target.measurement : `${target.measurement}\u0000${target.component}`;
    let head = plans.heads.get(headKey);
    if (!head) {
      let text: string | Error;
      try {
        text = target.measurement === this.options.eventsMeasurement ? this.#eventsMeasurement : escapeMeasurement(target.measurement);
        // Tags sorted by key, as InfluxDB prefers them: component, model, (quality, twin).
        if (target.component !== undefined) text += `,component=${escapeTagValue(target.component, 'component')}`;
        text += `,model=${escapeTagValue(model, 'model')}`;
      } catch (err) {
        text = err as Error;
      }
      head = { text, good: new Map(), uncertain: new Map(), bad: new Map() };
      plans.heads.set(headKey, head);
    }
    let key: string | Error;
    try {
      key = escapeKey(target.field, 'field');
    } catch (err) {
      key = err as Error;
    }
    const plan: FieldPlan = { type: target.type, key, head };
    plans.fields.set(path, plan);
    return plan;
  }

  /** The series key of a twin's samples under `head`, with the quality tag of uncertain and bad ones. */
  #sampleSeries(head: SeriesHead, twinId: string, quality: string | undefined): string {
    const known = quality === undefined ? head.good : quality === 'uncertain' ? head.uncertain : head.bad;
    let series = known.get(twinId);
    if (series !== undefined) return series;
    if (typeof head.text !== 'string') throw head.text;
    series = `${head.text}${quality === undefined ? '' : `,quality=${escapeTagValue(quality, 'quality')}`},twin=${escapeTagValue(twinId, 'twin.id')}`;
    if (this.#seriesCount >= MAX_SERIES) this.#forgetSeries();
    known.set(twinId, series);
    this.#seriesCount++;
    return series;
  }

  #forgetSeries(): void {
    for (const plans of this.#plans.values()) {
      for (const head of plans.heads.values()) {
        head.good.clear();
        head.uncertain.clear();
        head.bad.clear();
      }
    }
    this.#seriesCount = 0;
  }

  /** `index` is the sample's place in a samples message, -1 for a message or event of its own. */
  #time(value: unknown, fallback: number, index: number): string {
    let ms: number;
    if (value === undefined || value === null) ms = fallback;
    else {
      ms = typeof value === 'number' ? value : value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : Number.NaN;
      if (!Number.isFinite(ms)) {
        // (The message repeats the dot after the sample, as it always has: `payload[0]..sourceTime`.)
        const at = index < 0 ? '' : `payload[${index}].`;
        throw new HistoryError(`${at}sourceTime`, `${at ? `${at}.` : ''}sourceTime: ${JSON.stringify(value)} is not a time (ms since the epoch or ISO 8601)`);
      }
    }
    if (ms === this.#lastMs) return this.#lastTime;
    const text = encodeTimestamp(ms, this.options.precision);
    this.#lastMs = ms;
    this.#lastTime = text;
    return text;
  }

  #addSample(points: PointSet, twinId: string, model: string, path: string, value: unknown, sourceTime: unknown, quality: unknown, fallbackTime: number, index: number): void {
    const plan = this.#plan(model, path, index);
    if (quality !== undefined && quality !== 'good' && !QUALITIES.has(quality as string)) {
      const at = index < 0 ? '' : `payload[${index}].`;
      throw new HistoryError(`${at}quality`, `${at}quality: ${JSON.stringify(quality)} must be good, uncertain or bad`);
    }
    // The common types without building the field's name for an error message nobody reads.
    let text: string;
    const type = plan.type;
    if (type === 'float' && typeof value === 'number' && Number.isFinite(value)) text = formatFloat(value);
    else if (type === 'integer' && Number.isSafeInteger(value)) text = `${value as number}i`;
    else if (type === 'boolean' && typeof value === 'boolean') text = value ? 'true' : 'false';
    else text = encodeFieldValue(value, type, `${index < 0 ? '' : `payload[${index}].`}${path}`);
    // Good samples carry no quality tag; uncertain and bad ones say so.
    const series = this.#sampleSeries(plan.head, twinId, quality === 'good' || quality === undefined ? undefined : (quality as string));
    const time = this.#time(sourceTime, fallbackTime, index);
    if (typeof plan.key !== 'string') throw plan.key;
    points.add(series, time, plan.key, text);
    points.values++;
  }

  #addEvent(points: PointSet, event: TwinChangeEvent, model: string): void {
    const series = this.#eventSeries(event.kind, model, event.path, event.twinId);
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
