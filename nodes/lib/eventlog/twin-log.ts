// The event log of a twin graph: every accepted change of every twin appended to an EventStore
// (one stream per twin), snapshots of the graph's documents every N events, and the state of a
// twin at any time T rebuilt from the nearest snapshot and the events after it. When the log and
// the graph disagree (the log was off, a write to it failed, the graph was restored from an older
// file), the log records the twin's whole document as a `baseline` event, so replay never applies a
// patch to a state it does not know.
import { createHash } from 'node:crypto';
import type { PatchOperation, RelationshipDocument, TwinChangeEvent, TwinDocument } from '../twin';
import { parsePointer, setMember } from '../twin/patch';
import { EventLogError, EventStore, type NewEvent, type StoredEvent, type StoreOpenReport } from './event-store';

/** What the log needs of a twin graph (TwinGraph has all of it). */
export interface TwinGraphView {
  has(twinId: string): boolean;
  twinIds(): string[];
  getTwin(twinId: string): TwinDocument | undefined;
  getVersion(twinId: string): number;
  listOutgoing(twinId: string): RelationshipDocument[];
}

/** A twin as the log rebuilds it: its document and its outgoing relationships. */
export interface TwinState {
  document: TwinDocument | null;
  relationships: RelationshipDocument[];
}

/** The `data` of a stored twin event. */
export interface TwinEventData {
  /** The twin's own version (TwinGraph) after the change. */
  twinVersion: number;
  etag: string;
  path?: string;
  sourceTime?: number;
  patch?: PatchOperation[];
  command?: TwinChangeEvent['command'];
  relationship?: TwinChangeEvent['relationship'];
  lifecycle?: TwinChangeEvent['lifecycle'];
  /** `baseline` events: the whole twin. */
  document?: TwinDocument;
  relationships?: RelationshipDocument[];
  reason?: string;
  /** Fingerprint of the message that caused the change, for idempotent redelivery. */
  digest?: string;
}

/** Where a change came from, recorded with its events. */
export interface LogContext {
  /** An idempotency key: the first event gets this id, further ones `<id>#2`, `<id>#3` ... */
  eventId?: string;
  causationId?: string;
  correlationId?: string;
  digest?: string;
}

export interface TwinStateAt extends TwinState {
  twinId: string;
  /** The time asked for. */
  at: number;
  /** The twin's version in the log (its stream) at that time. */
  version: number;
  /** Time of the last change at or before `at`. */
  changedAt: number;
  fromSnapshot: number;
}

export interface TwinLogOptions {
  snapshotEvery?: number;
  segmentBytes?: number;
  clock?: () => number;
}

/** Applies add/replace/remove (and test) in place; returns the document (a new one for root operations). */
export function applyInPlace(document: unknown, patch: readonly PatchOperation[]): unknown {
  let doc = document;
  for (const op of patch) {
    if (op.path === '') {
      if (op.op === 'add' || op.op === 'replace') doc = op.value;
      continue;
    }
    const tokens = parsePointer(op.path);
    let parent = doc as Record<string, unknown> | unknown[];
    for (let i = 0; i < tokens.length - 1; i++) {
      const next = Array.isArray(parent) ? parent[Number(tokens[i])] : parent[tokens[i] as string];
      if (next === null || typeof next !== 'object') throw new Error(`${op.path}: no container at ${tokens[i]}`);
      parent = next as Record<string, unknown>;
    }
    const last = tokens[tokens.length - 1] as string;
    if (op.op === 'remove') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else if (op.op === 'add' || op.op === 'replace') {
      if (Array.isArray(parent)) {
        if (op.op === 'add') parent.splice(last === '-' ? parent.length : Number(last), 0, op.value);
        else parent[Number(last)] = op.value;
      } else setMember(parent, last, op.value);
    }
  }
  return doc;
}

/** Folds one stored twin event into a state (in place). */
export function reduceTwin(state: TwinState, event: StoredEvent): TwinState {
  const data = event.data as TwinEventData | undefined;
  if (!data) return state;
  if (event.kind === 'baseline') return { document: data.document ?? null, relationships: data.relationships ?? [] };
  if (event.kind === 'create') {
    const root = data.patch?.[0];
    return { document: root && 'value' in root ? (root.value as TwinDocument) : null, relationships: [] };
  }
  if (!data.patch || !state.document) return state;
  state.document = applyInPlace(state.document, data.patch) as TwinDocument;
  if (event.kind === 'relationship' && data.relationship) {
    const rel = data.relationship.value;
    state.relationships = state.relationships.filter((r) => r.$relationshipId !== rel.$relationshipId);
    if (data.relationship.op === 'create') state.relationships.push(rel);
  }
  return state;
}

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** Fingerprint of what a message asks of a twin (not of its id, timing or routing). */
export function messageDigest(msg: Record<string, unknown>, twinId: string | undefined): string {
  const relevant = {
    twin: twinId,
    topic: msg.topic,
    payload: msg.payload,
    desired: msg.desired,
    ack: msg.ack,
    command: msg.command,
    relationship: msg.relationship,
    lifecycle: msg.lifecycle,
    action: msg.action,
    sourceTime: msg.sourceTime,
    quality: msg.quality,
  };
  return createHash('sha256').update(canonical(relevant)).digest('base64url').slice(0, 22);
}

export class TwinEventLog {
  readonly store: EventStore;
  readonly #graph: () => TwinGraphView | undefined;
  readonly #lastTwinVersion = new Map<string, number>();
  /** Twin versions of the append in progress, for the snapshot provider. */
  #pending = new Map<string, number>();
  readonly #clock: () => number;

  private constructor(dir: string, graph: () => TwinGraphView | undefined, options: TwinLogOptions) {
    this.#graph = graph;
    this.#clock = options.clock ?? Date.now;
    this.store = new EventStore(dir, {
      snapshotEvery: options.snapshotEvery ?? 1000,
      ...(options.segmentBytes !== undefined ? { segmentBytes: options.segmentBytes } : {}),
      clock: this.#clock,
      snapshot: (twinId) => this.#snapshotOf(twinId),
    });
  }

  /** Opens (or creates) the log in `dir`. Throws CorruptLogError when it is damaged beyond a torn tail. */
  static open(dir: string, graph: () => TwinGraphView | undefined, options: TwinLogOptions = {}): { log: TwinEventLog; report: StoreOpenReport } {
    const log = new TwinEventLog(dir, graph, options);
    const report = log.store.open();
    for (const twinId of log.store.streams()) {
      const last = log.store.last(twinId);
      const version = (last?.data as TwinEventData | undefined)?.twinVersion;
      if (typeof version === 'number') log.#lastTwinVersion.set(twinId, version);
    }
    return { log, report };
  }

  #snapshotOf(twinId: string): TwinState | undefined {
    const graph = this.#graph();
    const expected = this.#pending.get(twinId) ?? this.#lastTwinVersion.get(twinId);
    // Only a graph that is exactly at the logged version describes the log's state.
    if (!graph?.has(twinId) || graph.getVersion(twinId) !== expected) return undefined;
    return { document: graph.getTwin(twinId) as TwinDocument, relationships: graph.listOutgoing(twinId) };
  }

  /** The twin's version in the log (0 when it has no events). */
  version(twinId: string): number {
    return this.store.version(twinId);
  }

  /**
   * Records a baseline for every twin of the graph the log does not know, or knows at another
   * version (the log was off, or the graph was restored from an older file). Returns how many.
   */
  resync(reason = 'the log did not have this state of the twin'): number {
    const graph = this.#graph();
    if (!graph) return 0;
    const requests: { stream: string; events: NewEvent[] }[] = [];
    const versions = new Map<string, number>();
    for (const twinId of graph.twinIds()) {
      const version = graph.getVersion(twinId);
      if (this.#lastTwinVersion.get(twinId) === version) continue;
      requests.push({ stream: twinId, events: [this.#baseline(graph, twinId, reason)] });
      versions.set(twinId, version);
    }
    if (requests.length === 0) return 0;
    this.#pending = versions;
    try {
      this.store.appendBatch(requests);
    } finally {
      this.#pending = new Map();
    }
    for (const [id, v] of versions) this.#lastTwinVersion.set(id, v);
    return requests.length;
  }

  #baseline(graph: TwinGraphView, twinId: string, reason: string): NewEvent {
    const document = graph.getTwin(twinId) as TwinDocument;
    return {
      kind: 'baseline',
      time: this.#clock(),
      data: { twinVersion: graph.getVersion(twinId), etag: document.$etag, document, relationships: graph.listOutgoing(twinId), reason } satisfies TwinEventData,
    };
  }

  /**
   * Appends the graph's change events (in the operating system on return; `flush()` for the disk).
   * A twin whose changes do not follow on from what the log has gets a baseline instead.
   */
  record(events: readonly TwinChangeEvent[], context: LogContext = {}): StoredEvent[] {
    if (events.length === 0) return [];
    const graph = this.#graph();
    // Runs of one twin's events, in the order they happened (the log keeps that order).
    let requests: { stream: string; events: NewEvent[] }[] = [];
    const versions = new Map<string, number>();
    const baselined = new Set<string>();
    events.forEach((event, i) => {
      const twinId = event.twinId;
      if (baselined.has(twinId)) return;
      const last = versions.get(twinId) ?? this.#lastTwinVersion.get(twinId);
      let entry: NewEvent;
      if (event.kind !== 'create' && last !== event.version - 1) {
        // A change the log never saw happened in between: record where the twin is now, instead
        // of this batch's changes of it.
        if (!graph?.has(twinId)) return;
        requests = requests.map((r) => (r.stream === twinId ? { ...r, events: [] } : r));
        entry = this.#baseline(graph, twinId, last === undefined ? 'the log had no state of this twin' : `the log was at version ${last} of the twin, this change is version ${event.version}`);
        versions.set(twinId, graph.getVersion(twinId));
        baselined.add(twinId);
      } else {
        const data: TwinEventData = { twinVersion: event.version, etag: event.etag, patch: event.patch };
        if (event.path !== undefined) data.path = event.path;
        if (event.sourceTime !== undefined) data.sourceTime = event.sourceTime;
        if (event.command) data.command = event.command;
        if (event.relationship) data.relationship = event.relationship;
        if (event.lifecycle) data.lifecycle = event.lifecycle;
        if (i === 0 && context.digest !== undefined) data.digest = context.digest;
        entry = {
          ...(context.eventId !== undefined ? { id: i === 0 ? context.eventId : `${context.eventId}#${i + 1}` } : {}),
          kind: event.kind,
          time: event.time,
          data,
          ...(event.actor !== undefined ? { actor: event.actor } : {}),
          ...(context.causationId !== undefined ? { causationId: context.causationId } : {}),
          ...(context.correlationId !== undefined ? { correlationId: context.correlationId } : {}),
        };
        versions.set(twinId, event.version);
      }
      const tail = requests[requests.length - 1];
      if (tail && tail.stream === twinId) tail.events.push(entry);
      else requests.push({ stream: twinId, events: [entry] });
    });
    requests = requests.filter((r) => r.events.length > 0);
    this.#pending = versions;
    let results;
    try {
      results = this.store.appendBatch(requests);
    } finally {
      this.#pending = new Map();
    }
    for (const [id, v] of versions) this.#lastTwinVersion.set(id, v);
    return results.flatMap((r) => r.appended);
  }

  /**
   * Before a message is applied: a redelivered message (same event id, same content) is answered
   * with what it did the first time; the same id for something else is refused; `expectedVersion`
   * must match the twin's version in the log.
   */
  precheck(twinId: string | undefined, options: { eventId?: unknown; expectedVersion?: unknown; digest: string }): { duplicate?: StoredEvent } {
    if (options.eventId !== undefined) {
      if (typeof options.eventId !== 'string' || options.eventId === '') throw new EventLogError('input-invalid', 'eventId: must be a non-empty text');
      const found = this.store.find(options.eventId);
      if (found) {
        if ((found.data as TwinEventData | undefined)?.digest === options.digest) return { duplicate: found };
        throw new EventLogError('id-conflict', `eventId: "${options.eventId}" was used before for a different change (twin ${found.stream}, log version ${found.version}); an event id names one change only`, { id: options.eventId, stream: found.stream, version: found.version });
      }
    }
    if (options.expectedVersion !== undefined) {
      if (!Number.isSafeInteger(options.expectedVersion) || (options.expectedVersion as number) < 0) throw new EventLogError('input-invalid', `expectedVersion: ${JSON.stringify(options.expectedVersion)} must be a whole number of 0 or more`);
      if (twinId === undefined) throw new EventLogError('input-invalid', 'expectedVersion: needs the twin (twin.id)');
      const version = this.store.version(twinId);
      if (version !== options.expectedVersion) {
        throw new EventLogError('version-conflict', `expectedVersion: twin ${twinId} is at version ${version} in the event log, not ${String(options.expectedVersion)}`, { stream: twinId, version, expected: options.expectedVersion });
      }
    }
    return {};
  }

  /** The twin as it was at `time` (ms), or undefined when the log has nothing of it by then. */
  stateAt(twinId: string, time: number): TwinStateAt | undefined {
    const found = this.store.stateAt<TwinState>(twinId, time, reduceTwin, () => ({ document: null, relationships: [] }));
    if (!found) return undefined;
    return { twinId, at: time, version: found.version, changedAt: found.time as number, fromSnapshot: found.fromSnapshot, document: found.state.document, relationships: found.state.relationships };
  }

  /** Changes with from <= time <= to, in the order they were recorded; of one twin when given. */
  between(from: number, to: number, options: { twinId?: string; limit?: number } = {}): StoredEvent[] {
    return this.store.between(from, to, { ...(options.twinId !== undefined ? { stream: options.twinId } : {}), ...(options.limit !== undefined ? { limit: options.limit } : {}) });
  }

  flush(): Promise<void> {
    return this.store.flush();
  }

  close(): void {
    this.store.close();
  }
}

/** A stored twin event as the graph's change event (for replaying it into a flow). */
export function toChangeEvent(stored: StoredEvent): TwinChangeEvent & { logged: { id: string; version: number; causationId?: string; correlationId?: string } } {
  const data = (stored.data ?? {}) as TwinEventData;
  const event = {
    twinId: stored.stream,
    kind: stored.kind as TwinChangeEvent['kind'],
    etag: data.etag,
    version: data.twinVersion,
    time: stored.time,
    patch: data.patch ?? (data.document ? [{ op: 'add' as const, path: '', value: data.document }] : []),
    logged: {
      id: stored.id,
      version: stored.version,
      ...(stored.causationId !== undefined ? { causationId: stored.causationId } : {}),
      ...(stored.correlationId !== undefined ? { correlationId: stored.correlationId } : {}),
    },
  } as TwinChangeEvent & { logged: { id: string; version: number } };
  if (data.path !== undefined) event.path = data.path;
  if (data.sourceTime !== undefined) event.sourceTime = data.sourceTime;
  if (stored.actor !== undefined) event.actor = stored.actor;
  if (data.command) event.command = data.command;
  if (data.relationship) event.relationship = data.relationship;
  if (data.lifecycle) event.lifecycle = data.lifecycle;
  return event;
}

export { EventLogError } from './event-store';
