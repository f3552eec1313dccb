// A durable, append-only event store on local disk: one stream per twin (or any key), a gap-free
// version per stream, event ids that make appends idempotent, optimistic concurrency on an expected
// version, causation and correlation ids and the actor on every event; checksummed records in
// segment files (see ../durable/segmented-log.ts), fsync'd, a torn tail after a crash cut on open;
// snapshots every N events per stream; the state of a stream at any time by replay from the
// nearest snapshot. Pure Node.js, no Node-RED.
import { randomUUID } from 'node:crypto';
import { jsonEqual } from '../twin/patch';
import { SegmentedLog, type OpenReport, type Position } from '../durable/segmented-log';

export interface NewEvent {
  /**
   * Event id. Given ids make the append idempotent: the same id with the same content is not stored
   * again; the same id with other content is refused. Without one, a random id is made.
   */
  id?: string;
  kind: string;
  data?: unknown;
  /** ms since the epoch; default now. */
  time?: number;
  actor?: string;
  /** The id of the message or event that caused this one. */
  causationId?: string;
  /** The id shared by everything one request set off. */
  correlationId?: string;
}

export interface StoredEvent {
  id: string;
  stream: string;
  /** 1, 2, 3 ... per stream, without gaps. */
  version: number;
  time: number;
  kind: string;
  data?: unknown;
  actor?: string;
  causationId?: string;
  correlationId?: string;
}

export interface AppendOptions {
  /** Refuse unless the stream is at this version now (0: the stream must not exist yet). */
  expectedVersion?: number;
}

export interface AppendResult {
  stream: string;
  /** The stream's version after the append. */
  version: number;
  /** Events stored by this call. */
  appended: StoredEvent[];
  /** Events that were stored before under the same id and content, so not again. */
  duplicates: StoredEvent[];
}

export type EventLogErrorCode = 'id-conflict' | 'version-conflict' | 'input-invalid';

export class EventLogError extends Error {
  constructor(readonly code: EventLogErrorCode, message: string, readonly details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'EventLogError';
  }
}

export interface EventStoreOptions {
  /** Segment size in bytes; default 64 MiB. */
  segmentBytes?: number;
  /** A snapshot of a stream after every this many of its events; 0 for none. Default 1000. */
  snapshotEvery?: number;
  /** The state of `stream` at `version` (its latest), for snapshots; undefined to skip one. */
  snapshot?: (stream: string, version: number) => unknown;
  clock?: () => number;
}

export interface StoreOpenReport extends OpenReport {
  streams: number;
  events: number;
  snapshots: number;
  /** Snapshots past the end of their stream (written just before a crash cut the events) that were ignored. */
  ignoredSnapshots: number;
}

export interface StateAt<S> {
  state: S;
  /** Version of the last event applied (0 when the stream had none by then). */
  version: number;
  /** Time of that event. */
  time?: number;
  /** Version of the snapshot the replay started from (0 for none). */
  fromSnapshot: number;
}

const EVENT_RECORD = 1;
const SNAPSHOT_RECORD = 2;
const MAX_STREAM_BYTES = 1024;
const MAX_ID_BYTES = 512;

interface StreamIndex {
  /** Global event numbers (into the store's arrays), by version - 1. */
  events: number[];
  /** Effective time per version: never decreasing (a clock set back does not reorder history). */
  times: number[];
  snapshotVersions: number[];
  snapshotPositions: Position[];
}

interface Header {
  type: number;
  time: number;
  version: number;
  stream: string;
  id: string;
  supplied: boolean;
  bodyOffset: number;
}

function readHeader(payload: Buffer): Header {
  const type = payload.readUInt8(0);
  const time = payload.readDoubleLE(1);
  const version = payload.readUInt32LE(9);
  const streamLength = payload.readUInt16LE(13);
  const stream = payload.toString('utf8', 15, 15 + streamLength);
  let at = 15 + streamLength;
  if (type !== EVENT_RECORD) return { type, time, version, stream, id: '', supplied: false, bodyOffset: at };
  const idLength = payload.readUInt16LE(at);
  const id = payload.toString('utf8', at + 2, at + 2 + idLength);
  at += 2 + idLength;
  const supplied = payload.readUInt8(at) === 1;
  return { type, time, version, stream, id, supplied, bodyOffset: at + 1 };
}

function encode(type: number, time: number, version: number, stream: Buffer, id: Buffer | undefined, supplied: boolean, body: string): Buffer {
  const bodyBytes = Buffer.byteLength(body);
  const size = 15 + stream.length + (id ? 3 + id.length : 0) + bodyBytes;
  const out = Buffer.allocUnsafe(size);
  out.writeUInt8(type, 0);
  out.writeDoubleLE(time, 1);
  out.writeUInt32LE(version, 9);
  out.writeUInt16LE(stream.length, 13);
  stream.copy(out, 15);
  let at = 15 + stream.length;
  if (id) {
    out.writeUInt16LE(id.length, at);
    id.copy(out, at + 2);
    at += 2 + id.length;
    out.writeUInt8(supplied ? 1 : 0, at);
    at += 1;
  }
  out.write(body, at, 'utf8');
  return out;
}

function checkText(value: unknown, field: string, maxBytes: number): string {
  if (typeof value !== 'string' || value === '') throw new EventLogError('input-invalid', `${field}: must be a non-empty text`);
  if (Buffer.byteLength(value) > maxBytes) throw new EventLogError('input-invalid', `${field}: longer than ${maxBytes} bytes`);
  return value;
}

function optionalText(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new EventLogError('input-invalid', `${field}: must be a text`);
  return value;
}

/** Binary search: the last index whose value is <= target, or -1. */
function lastAtOrBefore(values: readonly number[], target: number): number {
  let lo = 0;
  let hi = values.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[mid] as number) <= target) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Binary search: the first index whose value is >= target (values.length when none). */
function firstAtOrAfter(values: readonly number[], target: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[mid] as number) < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class EventStore {
  readonly #events: SegmentedLog;
  readonly #snapshots: SegmentedLog;
  readonly #streams = new Map<string, StreamIndex>();
  /** Per global event number: its position and time, in append order. */
  readonly #positions: Position[] = [];
  readonly #times: number[] = [];
  /** Given event ids → global event number. */
  readonly #ids = new Map<string, number>();
  readonly #snapshotEvery: number;
  readonly #clock: () => number;
  #opened = false;

  constructor(readonly dir: string, private readonly options: EventStoreOptions = {}) {
    this.#events = new SegmentedLog(dir, { prefix: 'events', segmentBytes: options.segmentBytes ?? 64 * 1024 * 1024 });
    this.#snapshots = new SegmentedLog(dir, { prefix: 'snapshots', segmentBytes: options.segmentBytes ?? 64 * 1024 * 1024 });
    this.#snapshotEvery = options.snapshotEvery ?? 1000;
    this.#clock = options.clock ?? Date.now;
  }

  /**
   * Loads the index from disk. A torn tail (a crash mid-write) is cut and reported; damage anywhere
   * else throws CorruptLogError and loads nothing.
   */
  open(): StoreOpenReport {
    let events = 0;
    const report = this.#events.open((payload, position) => {
      const header = readHeader(payload);
      if (header.type !== EVENT_RECORD) return;
      let stream = this.#streams.get(header.stream);
      if (!stream) {
        stream = { events: [], times: [], snapshotVersions: [], snapshotPositions: [] };
        this.#streams.set(header.stream, stream);
      }
      if (header.version !== stream.events.length + 1) {
        throw new EventLogError('input-invalid', `${this.dir}: stream ${header.stream} jumps from version ${stream.events.length} to ${header.version}; the log is not consistent`);
      }
      this.#index(stream, header, position);
      events++;
    });
    let snapshots = 0;
    let ignoredSnapshots = 0;
    const snapReport = this.#snapshots.open((payload, position) => {
      const header = readHeader(payload);
      const stream = this.#streams.get(header.stream);
      // A snapshot of events a crash cut off describes a state that never became durable.
      if (header.type !== SNAPSHOT_RECORD || !stream || header.version > stream.events.length) {
        ignoredSnapshots++;
        return;
      }
      stream.snapshotVersions.push(header.version);
      stream.snapshotPositions.push(position);
      snapshots++;
    });
    this.#opened = true;
    return {
      ...report,
      cutBytes: report.cutBytes + snapReport.cutBytes,
      ...(report.cutReason ?? snapReport.cutReason ? { cutReason: report.cutReason ?? snapReport.cutReason } : {}),
      streams: this.#streams.size,
      events,
      snapshots,
      ignoredSnapshots,
    };
  }

  #index(stream: StreamIndex, header: Header, position: Position): void {
    const global = this.#positions.length;
    this.#positions.push(position);
    this.#times.push(header.time);
    const previous = stream.times.length > 0 ? (stream.times[stream.times.length - 1] as number) : -Infinity;
    stream.events.push(global);
    stream.times.push(header.time > previous ? header.time : previous);
    if (header.supplied) this.#ids.set(header.id, global);
  }

  #checkOpen(): void {
    if (!this.#opened) throw new Error(`${this.dir}: open() the event store first`);
    if (this.#events.closed) throw new Error(`${this.dir}: the event store is closed`);
  }

  /** The stream's version: how many events it has (0 when none). */
  version(stream: string): number {
    return this.#streams.get(stream)?.events.length ?? 0;
  }

  streams(): string[] {
    return [...this.#streams.keys()];
  }

  get size(): number {
    return this.#positions.length;
  }

  /** Appends events to one stream (see appendBatch). */
  append(stream: string, events: readonly NewEvent[], options: AppendOptions = {}): AppendResult {
    return this.appendBatch([{ stream, events, ...options }])[0] as AppendResult;
  }

  /**
   * Appends to several streams with one write: every request is checked first (ids, expected
   * versions, content), then all are written, or none is when any is refused. The events are in the
   * operating system when this returns (a process crash keeps them) and on disk once `flush()`
   * resolves (or after `sync()`).
   */
  appendBatch(requests: readonly ({ stream: string; events: readonly NewEvent[] } & AppendOptions)[]): AppendResult[] {
    this.#checkOpen();
    const now = this.#clock();
    const planned: { stream: string; encoded: Buffer[]; stored: StoredEvent[]; supplied: boolean[]; result: AppendResult }[] = [];
    const batchIds = new Set<string>();
    const pendingVersion = new Map<string, number>();
    for (const request of requests) {
      const stream = checkText(request.stream, 'stream', MAX_STREAM_BYTES);
      if (!Array.isArray(request.events)) throw new EventLogError('input-invalid', 'events: must be an array');
      const duplicates: StoredEvent[] = [];
      const fresh: NewEvent[] = [];
      for (const [i, event] of request.events.entries()) {
        if (typeof event !== 'object' || event === null) throw new EventLogError('input-invalid', `events[${i}]: must be an object { kind, data, id?, ... }`);
        checkText(event.kind, `events[${i}].kind`, 256);
        if (event.id !== undefined) {
          const id = checkText(event.id, `events[${i}].id`, MAX_ID_BYTES);
          if (batchIds.has(id)) throw new EventLogError('input-invalid', `events[${i}].id: ${id} appears twice in one append`);
          batchIds.add(id);
          const existing = this.#ids.get(id);
          if (existing !== undefined) {
            const stored = this.#readGlobal(existing);
            if (!sameContent(stored, stream, event)) {
              throw new EventLogError('id-conflict', `event id ${id} was appended before with other content (stream ${stored.stream}, version ${stored.version}); an id names one event only`, { id, stream: stored.stream, version: stored.version });
            }
            duplicates.push(stored);
            continue;
          }
        }
        if (event.time !== undefined && (typeof event.time !== 'number' || !Number.isFinite(event.time))) throw new EventLogError('input-invalid', `events[${i}].time: must be ms since the epoch`);
        optionalText(event.actor, `events[${i}].actor`);
        optionalText(event.causationId, `events[${i}].causationId`);
        optionalText(event.correlationId, `events[${i}].correlationId`);
        fresh.push(event);
      }
      const current = pendingVersion.get(stream) ?? this.version(stream);
      // A retry of events that are all stored already succeeds whatever the stream did since.
      if (fresh.length > 0 && request.expectedVersion !== undefined && request.expectedVersion !== current) {
        throw new EventLogError('version-conflict', `stream ${stream} is at version ${current}, not the expected ${request.expectedVersion}`, { stream, version: current, expected: request.expectedVersion });
      }
      const streamBytes = Buffer.from(stream, 'utf8');
      const encoded: Buffer[] = [];
      const stored: StoredEvent[] = [];
      const supplied: boolean[] = [];
      let version = current;
      for (const event of fresh) {
        version++;
        const id = event.id ?? randomUUID();
        const time = event.time ?? now;
        const body: Record<string, unknown> = { kind: event.kind };
        if (event.data !== undefined) body.data = event.data;
        if (event.actor !== undefined) body.actor = event.actor;
        if (event.causationId !== undefined) body.causationId = event.causationId;
        if (event.correlationId !== undefined) body.correlationId = event.correlationId;
        let text: string;
        try {
          text = JSON.stringify(body);
        } catch (err) {
          throw new EventLogError('input-invalid', `event ${id}: data is not JSON (${(err as Error).message})`);
        }
        encoded.push(encode(EVENT_RECORD, time, version, streamBytes, Buffer.from(id, 'utf8'), event.id !== undefined, text));
        stored.push({ id, stream, version, time, ...(body as { kind: string }) });
        supplied.push(event.id !== undefined);
      }
      pendingVersion.set(stream, version);
      planned.push({ stream, encoded, stored, supplied, result: { stream, version, appended: stored, duplicates } });
    }
    const all = planned.flatMap((p) => p.encoded);
    if (all.length > 0) {
      const positions = this.#events.append(all);
      let k = 0;
      for (const plan of planned) {
        let stream = this.#streams.get(plan.stream);
        if (!stream) {
          stream = { events: [], times: [], snapshotVersions: [], snapshotPositions: [] };
          this.#streams.set(plan.stream, stream);
        }
        for (const [i, event] of plan.stored.entries()) {
          this.#index(stream, { type: EVENT_RECORD, time: event.time, version: event.version, stream: plan.stream, id: event.id, supplied: plan.supplied[i] as boolean, bodyOffset: 0 }, positions[k++] as Position);
        }
      }
      this.#maybeSnapshot(planned.map((p) => p.stream));
    }
    return planned.map((p) => p.result);
  }

  #maybeSnapshot(streams: readonly string[]): void {
    const every = this.#snapshotEvery;
    const provider = this.options.snapshot;
    if (every <= 0 || !provider) return;
    const payloads: Buffer[] = [];
    const targets: { index: StreamIndex; version: number }[] = [];
    for (const name of new Set(streams)) {
      const index = this.#streams.get(name) as StreamIndex;
      const version = index.events.length;
      const last = index.snapshotVersions.at(-1) ?? 0;
      if (version - last < every) continue;
      const state = provider(name, version);
      if (state === undefined) continue;
      payloads.push(encode(SNAPSHOT_RECORD, index.times[version - 1] as number, version, Buffer.from(name, 'utf8'), undefined, false, JSON.stringify(state)));
      targets.push({ index, version });
    }
    if (payloads.length === 0) return;
    const positions = this.#snapshots.append(payloads);
    targets.forEach((t, i) => {
      t.index.snapshotVersions.push(t.version);
      t.index.snapshotPositions.push(positions[i] as Position);
    });
  }

  /** Writes a snapshot of `stream` at its current version now (e.g. before a long replay). */
  snapshotNow(stream: string, state: unknown): void {
    const index = this.#streams.get(stream);
    if (!index || index.events.length === 0) return;
    const version = index.events.length;
    const [position] = this.#snapshots.append([encode(SNAPSHOT_RECORD, index.times[version - 1] as number, version, Buffer.from(stream, 'utf8'), undefined, false, JSON.stringify(state))]);
    index.snapshotVersions.push(version);
    index.snapshotPositions.push(position as Position);
  }

  /** Everything appended so far on disk (fsync off the main thread; concurrent calls share one). */
  async flush(): Promise<void> {
    await this.#events.flush();
    await this.#snapshots.flush();
  }

  /** Everything appended so far on disk, now. */
  sync(): void {
    this.#events.sync();
    this.#snapshots.sync();
  }

  #readGlobal(global: number): StoredEvent {
    const payload = this.#events.read(this.#positions[global] as Position);
    const header = readHeader(payload);
    const body = JSON.parse(payload.toString('utf8', header.bodyOffset)) as Omit<StoredEvent, 'id' | 'stream' | 'version' | 'time'>;
    return { id: header.id, stream: header.stream, version: header.version, time: header.time, ...body };
  }

  /** The event stored under a given id, if any (ids given at append only). */
  find(id: string): StoredEvent | undefined {
    const global = this.#ids.get(id);
    return global === undefined ? undefined : this.#readGlobal(global);
  }

  /** Events of a stream from `fromVersion` to `toVersion` (inclusive, default all). */
  read(stream: string, fromVersion = 1, toVersion = Number.POSITIVE_INFINITY): StoredEvent[] {
    const index = this.#streams.get(stream);
    if (!index) return [];
    const out: StoredEvent[] = [];
    const last = Math.min(toVersion, index.events.length);
    for (let v = Math.max(1, fromVersion); v <= last; v++) out.push(this.#readGlobal(index.events[v - 1] as number));
    return out;
  }

  /** The last event of a stream, if any. */
  last(stream: string): StoredEvent | undefined {
    const index = this.#streams.get(stream);
    return index && index.events.length > 0 ? this.#readGlobal(index.events[index.events.length - 1] as number) : undefined;
  }

  /** The version a stream had at `time` (0 when it had no events yet). */
  versionAt(stream: string, time: number): number {
    const index = this.#streams.get(stream);
    return index ? lastAtOrBefore(index.times, time) + 1 : 0;
  }

  /**
   * Events with from <= time <= to, in append order, optionally of one stream; at most `limit`.
   */
  between(from: number, to: number, options: { stream?: string; limit?: number } = {}): StoredEvent[] {
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const out: StoredEvent[] = [];
    if (options.stream !== undefined) {
      const index = this.#streams.get(options.stream);
      if (!index) return out;
      for (let v = firstAtOrAfter(index.times, from); v < index.events.length && out.length < limit; v++) {
        if ((index.times[v] as number) > to) break;
        out.push(this.#readGlobal(index.events[v] as number));
      }
      return out;
    }
    for (let g = 0; g < this.#times.length && out.length < limit; g++) {
      const t = this.#times[g] as number;
      if (t >= from && t <= to) out.push(this.#readGlobal(g));
    }
    return out;
  }

  /**
   * The state of `stream` at `time`: the nearest snapshot at or before it, then every later event up
   * to `time` folded in with `reduce` (which may change the state in place and return it). `initial`
   * makes the state a stream starts from. Undefined when the stream had no events by `time`.
   */
  stateAt<S>(stream: string, time: number, reduce: (state: S, event: StoredEvent) => S, initial: () => S): StateAt<S> | undefined {
    const index = this.#streams.get(stream);
    if (!index) return undefined;
    const version = lastAtOrBefore(index.times, time) + 1;
    if (version === 0) return undefined;
    return this.#fold(index, version, reduce, initial);
  }

  /** The state of `stream` right after event `version`. */
  stateAtVersion<S>(stream: string, version: number, reduce: (state: S, event: StoredEvent) => S, initial: () => S): StateAt<S> | undefined {
    const index = this.#streams.get(stream);
    if (!index || version < 1 || version > index.events.length) return undefined;
    return this.#fold(index, version, reduce, initial);
  }

  #fold<S>(index: StreamIndex, version: number, reduce: (state: S, event: StoredEvent) => S, initial: () => S): StateAt<S> {
    const snap = lastAtOrBefore(index.snapshotVersions, version);
    let state: S;
    let from = 0;
    if (snap >= 0) {
      const payload = this.#snapshots.read(index.snapshotPositions[snap] as Position);
      const header = readHeader(payload);
      state = JSON.parse(payload.toString('utf8', header.bodyOffset)) as S;
      from = header.version;
    } else state = initial();
    for (let v = from + 1; v <= version; v++) state = reduce(state, this.#readGlobal(index.events[v - 1] as number));
    return { state, version, time: index.times[version - 1] as number, fromSnapshot: from };
  }

  close(): void {
    this.#events.close();
    this.#snapshots.close();
  }
}

function sameContent(stored: StoredEvent, stream: string, event: NewEvent): boolean {
  return stored.stream === stream
    && stored.kind === event.kind
    && jsonEqual(stored.data, event.data === undefined ? undefined : JSON.parse(JSON.stringify(event.data)))
    && stored.actor === event.actor
    && stored.causationId === event.causationId
    && stored.correlationId === event.correlationId;
}
