// TwinGraph: many twins and their relationships over one ModelSet. Every write is validated against
// the model first and then applied completely, returning the change event; or it throws a TwinError
// and changes nothing. Nothing is ever deleted: a twin is decommissioned and stays queryable.

import { randomUUID } from 'node:crypto';
import { validateInstance, type DtdlError, type ModelSet, type RelationshipInfo } from '../dtdl';
import { TwinError, show, type TwinErrorCode, type TwinErrorInfo } from './errors';
import { assertLifecycleStage, assertTransition, MONITORED_STAGES, type LifecycleStage } from './lifecycle';
import { checkLimitRules, checkLimits } from './limits';
import { ModelIndex, type ContentEntry, type ContentKind, type LimitRule } from './model-index';
import { cloneJson } from './patch';
import { checkSnapshot, SNAPSHOT_FORMAT, type TwinGraphSnapshot } from './persistence';
import { evaluateQuery, parseQuery, type QueryAst, type QueryRow } from './query';
import { StalenessWatch, type StalenessRule, type StalenessStatus, type StalenessTransition } from './staleness';
import { IsoCache, isTimestamp, parseIsoTime } from './time';
import { applyAck, applyDesired, applyReported, applyTelemetry, storeTelemetry, newDocument, readMetadata, readValue, TwinRecord, type Acknowledgement } from './twin-state';
import type { PatchOperation, PropertyMetadata, Quality, RelationshipDocument, Sample, SampleOptions, TelemetrySample, TwinChangeEvent, TwinChangeKind, TwinDocument, WriteOptions } from './types';

export interface TwinGraphOptions {
  /** ms since the epoch; default Date.now. */
  clock?: () => number;
  staleness?: StalenessRule[];
  limits?: LimitRule[];
  /** Upper bound of a MATCH hop range (`*1..n`); default 5, at most 10. */
  maxHops?: number;
}

export interface CreateTwinInput {
  /** The twin's `$dtId`. */
  id: string;
  /** DTMI of its Interface; must be in the ModelSet. */
  model: string;
  /**
   * Initial reported properties, by path (`{ 'spindle/maxSpeed': 24000 }`) or nested the way the
   * document holds them (`{ spindle: { maxSpeed: 24000 } }`).
   */
  properties?: Record<string, unknown>;
  /** Default `operation`: most twins are made for an asset that already runs. */
  stage?: LifecycleStage;
}

export interface RelationshipInput {
  sourceId: string;
  relationshipId: string;
  /** The Relationship's name in the source twin's model. */
  name: string;
  targetId: string;
  properties?: Record<string, unknown>;
}

export interface DesiredOptions extends WriteOptions {
  /** A version greater than the current one; default current + 1. */
  version?: number;
}

export interface AckInput extends Acknowledgement {
  /** The value the asset now reports, recorded as the reported property in the same change. */
  value?: unknown;
  sourceTime?: number;
}

export interface CommandOptions extends WriteOptions {
  /** The command's id (message contract `command.id`). */
  requestId?: string;
}

/** What `read` returns: one content's current value and metadata. */
export interface ContentReading {
  path: string;
  kind: 'Telemetry' | 'Property';
  value: unknown;
  lastUpdateTime?: string;
  sourceTime?: string;
  quality?: Quality;
  metadata?: PropertyMetadata;
}

/** Samples of one batch for one twin (TwinGraph.sampleBatch). */
export interface SampleBatch {
  /**
   * Applies one sample as applySampleParts does, or throws a TwinError (changing nothing) for a
   * refused one. Returns the event of a reported property, which is always made (its change is
   * saved at once), and undefined for telemetry.
   */
  apply(path: string, value: unknown, sourceTime: number | undefined, quality: Quality | undefined): TwinChangeEvent | undefined;
  /** Sets the etag and `$lastUpdateTime` after the batch's telemetry, once: nothing reads them in between. */
  finish(): void;
}

export interface ListFilter {
  /** DTMI; twins of Interfaces extending it match too unless `exact`. */
  model?: string;
  exact?: boolean;
  stage?: LifecycleStage;
}

const QUALITIES: ReadonlySet<string> = new Set(['good', 'uncertain', 'bad']);
const ACK_CODES_TEXT = '200 (done), 202 (in progress), or 400-599 (failed)';
const MAX_ID_LENGTH = 256;
const QUERY_CACHE_SIZE = 64;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function validationError(errors: readonly DtdlError[], twinId: string, path: string): TwinError {
  const first = errors[0] as DtdlError;
  const code: TwinErrorCode = first.code === 'target-unknown' ? 'path-unknown' : first.code === 'target-invalid' ? 'path-kind' : (first.code as TwinErrorCode);
  const message = errors.length === 1 ? first.message : errors.map((e) => e.message).join('; ');
  return new TwinError(code, message, { twinId, path, pointer: first.path, details: errors.map((e) => ({ ...e })) });
}

const KIND_HINT: Record<ContentKind, string> = {
  Telemetry: 'record it as telemetry',
  Property: 'report it as a property (or set its desired value)',
  Command: 'request it as a command',
  Relationship: 'create a relationship with that name',
};

export class TwinGraph {
  readonly models: ModelSet;
  readonly maxHops: number;
  private readonly clock: () => number;
  private readonly twins = new Map<string, TwinRecord>();
  private readonly indexes = new Map<string, ModelIndex>();
  private readonly limitRules: readonly LimitRule[];
  private readonly staleness: StalenessWatch;
  private readonly nowIso = new IsoCache();
  private readonly sourceIso = new IsoCache();
  private readonly queryCache = new Map<string, QueryAst>();
  /**
   * Random per graph instance and part of every etag it issues. A graph restored from an older
   * snapshot therefore never reissues an etag of a change the snapshot lacks, so a client holding
   * one cannot pass `ifMatch` by accident; etags stored in restored documents stay as they were.
   * Kept as the head of every etag, `W/"<epoch>-`.
   */
  private readonly etagHead: string;

  constructor(models: ModelSet, options: TwinGraphOptions = {}) {
    this.models = models;
    this.clock = options.clock ?? Date.now;
    const maxHops = options.maxHops ?? 5;
    if (!Number.isInteger(maxHops) || maxHops < 1 || maxHops > 10) throw new TwinError('input-invalid', `maxHops ${show(maxHops)} must be an integer from 1 to 10`);
    this.maxHops = maxHops;
    const limits = options.limits ?? [];
    checkLimitRules(models, limits);
    this.limitRules = limits.map((r) => ({ ...r }));
    this.staleness = new StalenessWatch(models);
    this.staleness.setRules(options.staleness ?? []);
    this.etagHead = `W/"${randomUUID().slice(0, 8)}-`;
  }

  // ---- reading -----------------------------------------------------------------------------------

  get size(): number {
    return this.twins.size;
  }

  has(twinId: string): boolean {
    return this.twins.has(twinId);
  }

  twinIds(): string[] {
    return [...this.twins.keys()];
  }

  /** A copy of the twin's document, or undefined. */
  getTwin(twinId: string): TwinDocument | undefined {
    const twin = this.twins.get(twinId);
    return twin ? cloneJson(twin.doc) : undefined;
  }

  getVersion(twinId: string): number {
    return this.record(twinId).version;
  }

  getEtag(twinId: string): string {
    return this.record(twinId).doc.$etag;
  }

  getModel(twinId: string): string {
    return this.record(twinId).model;
  }

  getStage(twinId: string): LifecycleStage {
    return this.record(twinId).stage;
  }

  /** One telemetry's last sample or one property's value and metadata, without copying the twin. */
  read(twinId: string, path: string): ContentReading {
    const twin = this.record(twinId);
    const entry = twin.index.entry(path, twinId);
    if (entry.kind === 'Telemetry') {
      const sample = twin.doc.$telemetry[entry.path];
      const out: ContentReading = { path, kind: 'Telemetry', value: cloneJson(sample?.value) };
      if (sample) {
        out.lastUpdateTime = sample.lastUpdateTime;
        if (sample.sourceTime !== undefined) out.sourceTime = sample.sourceTime;
        out.quality = sample.quality;
      }
      return out;
    }
    if (entry.kind !== 'Property') throw this.kindError(entry, 'Telemetry or Property', twinId);
    const meta = readMetadata(twin.doc, entry);
    const out: ContentReading = { path, kind: 'Property', value: cloneJson(readValue(twin.doc, entry)) };
    if (meta) {
      if (meta.lastUpdateTime !== undefined) out.lastUpdateTime = meta.lastUpdateTime;
      if (meta.sourceTime !== undefined) out.sourceTime = meta.sourceTime;
      out.metadata = cloneJson(meta);
    }
    return out;
  }

  /** Copies of the twins that match, in creation order. */
  listTwins(filter: ListFilter = {}): TwinDocument[] {
    const out: TwinDocument[] = [];
    for (const twin of this.twins.values()) {
      if (filter.stage !== undefined && twin.stage !== filter.stage) continue;
      if (filter.model !== undefined && (filter.exact ? twin.model !== filter.model : !this.models.isOfModel(twin.model, filter.model))) continue;
      out.push(cloneJson(twin.doc));
    }
    return out;
  }

  getRelationship(sourceId: string, relationshipId: string): RelationshipDocument | undefined {
    const rel = this.record(sourceId).outgoing.get(relationshipId);
    return rel ? cloneJson(rel) : undefined;
  }

  /** The twin's outgoing relationships, optionally of one name. */
  listOutgoing(twinId: string, name?: string): RelationshipDocument[] {
    return [...this.record(twinId).outgoing.values()].filter((r) => name === undefined || r.$relationshipName === name).map((r) => cloneJson(r));
  }

  /** Relationships pointing at the twin, optionally of one name. */
  listIncoming(twinId: string, name?: string): RelationshipDocument[] {
    return [...this.record(twinId).incoming.values()].filter((r) => name === undefined || r.$relationshipName === name).map((r) => cloneJson(r));
  }

  /** The twins one relationship away: targets of outgoing (`out`, default) or sources of incoming (`in`) ones, each once. */
  related(twinId: string, options: { direction?: 'out' | 'in'; name?: string } = {}): TwinDocument[] {
    const twin = this.record(twinId);
    const incoming = options.direction === 'in';
    const seen = new Set<string>();
    const out: TwinDocument[] = [];
    for (const rel of (incoming ? twin.incoming : twin.outgoing).values()) {
      if (options.name !== undefined && rel.$relationshipName !== options.name) continue;
      const id = incoming ? rel.$sourceId : rel.$targetId;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(cloneJson(this.record(id).doc));
    }
    return out;
  }

  /**
   * Runs a query in the supported subset of the Azure Digital Twins query language (see
   * query/parser.ts). Rows are copies; a twin row is its document.
   */
  query(text: string): QueryRow[] {
    let ast = this.queryCache.get(text);
    if (!ast) {
      ast = parseQuery(text, { maxHops: this.maxHops });
      if (this.queryCache.size >= QUERY_CACHE_SIZE) this.queryCache.delete(this.queryCache.keys().next().value as string);
      this.queryCache.set(text, ast);
    }
    return evaluateQuery(ast, {
      models: this.models,
      twins: () => this.twins.values(),
      twin: (id) => this.twins.get(id),
    });
  }

  // ---- staleness ---------------------------------------------------------------------------------

  setStalenessRules(rules: StalenessRule[]): void {
    this.staleness.setRules(rules);
  }

  getStalenessRules(): StalenessRule[] {
    return this.staleness.getRules();
  }

  /** Whether the twin is stale at `now`, and which paths make it so. */
  getStaleness(twinId: string, now: number = this.clock()): StalenessStatus {
    return this.staleness.status(this.record(twinId), now);
  }

  /** Paths that became stale or fresh again since the previous check. */
  checkStaleness(now: number = this.clock()): StalenessTransition[] {
    return this.staleness.check(this.twins.values(), now);
  }

  // ---- writing -----------------------------------------------------------------------------------

  createTwin(input: CreateTwinInput, options: Pick<WriteOptions, 'actor'> = {}): TwinChangeEvent {
    if (!isPlainObject(input as unknown)) throw new TwinError('input-invalid', 'createTwin takes { id, model, properties?, stage? }');
    if (options.actor !== undefined && typeof options.actor !== 'string') throw new TwinError('input-invalid', `actor ${show(options.actor)} is not a text`);
    const id = input.id;
    this.checkId(id, 'twin id');
    if (this.twins.has(id)) throw new TwinError('twin-exists', `${id}: a twin with this id exists already (twins are never deleted; decommissioned ones keep their id)`, { twinId: id });
    if (typeof input.model !== 'string' || !this.models.interfaces.has(input.model)) {
      throw new TwinError('model-unknown', `${id}: model ${show(input.model)} is not in the model set (it has ${[...this.models.interfaces.keys()].join(', ')})`, { twinId: id });
    }
    const stage = input.stage === undefined ? 'operation' : assertLifecycleStage(input.stage, id);
    if (stage === 'decommissioned') throw new TwinError('lifecycle-stage', `${id}: a twin cannot be created decommissioned`, { twinId: id });
    const index = this.indexFor(input.model);
    const initial = this.initialProperties(id, index, input.properties);

    const now = this.clock();
    const iso = this.nowIso.text(now);
    const doc = newDocument(id, index, stage, iso);
    const twin = new TwinRecord(id, index, doc, 0, stage, now, now);
    const ignored: PatchOperation[] = [];
    for (const [entry, value] of initial) {
      applyReported(doc, entry, value, iso, undefined, ignored);
      twin.touch(entry, now);
    }
    this.twins.set(id, twin);
    twin.version = 1;
    doc.$etag = this.etag(1);
    return this.event(twin, 'create', [{ op: 'add', path: '', value: cloneJson(doc) }], now, options, undefined, undefined);
  }

  /** Records a Telemetry sample (last value, sourceTime and quality per telemetry). */
  recordTelemetry(twinId: string, path: string, value: unknown, options: SampleOptions = {}): TwinChangeEvent {
    const twin = this.writable(twinId, options);
    const entry = this.entryOfKind(twin, path, 'Telemetry');
    const { sourceTime, quality } = this.sampleMeta(twinId, path, options);
    this.validate(twin, entry, value);
    return this.applySampleUnchecked(twin, entry, value, sourceTime, quality, options);
  }

  /** Records a reported Property value (any Property, writable or not). */
  reportProperty(twinId: string, path: string, value: unknown, options: SampleOptions = {}): TwinChangeEvent {
    const twin = this.writable(twinId, options);
    const entry = this.entryOfKind(twin, path, 'Property');
    const { sourceTime, quality } = this.sampleMeta(twinId, path, options);
    this.validate(twin, entry, value);
    return this.applySampleUnchecked(twin, entry, value, sourceTime, quality, options);
  }

  /** A sample message: telemetry or reported property, whichever the path names in the model. */
  applySample(twinId: string, sample: Sample, options: WriteOptions = {}): TwinChangeEvent {
    if (!isPlainObject(sample as unknown)) throw new TwinError('input-invalid', 'a sample is { path, value, sourceTime?, quality? }', { twinId });
    return this.applySampleParts(twinId, sample.path, sample.value, sample.sourceTime, sample.quality, options);
  }

  /**
   * applySample with the sample's parts as arguments: a batch of thousands of samples then needs
   * no sample object per value (see applyTelemetry on why allocation matters here).
   */
  applySampleParts(twinId: string, path: string, value: unknown, sourceTime: number | undefined, quality: Quality | undefined, options: WriteOptions = {}): TwinChangeEvent {
    const twin = this.writable(twinId, options);
    const entry = this.checkedSample(twin, path, value, sourceTime, quality);
    return this.applySampleUnchecked(twin, entry, value, sourceTime, quality ?? 'good', options);
  }

  /**
   * Applies a batch's samples to one twin one at a time, for a caller that keeps no change event
   * for telemetry (no event log records it, nobody listens): a telemetry sample then costs no
   * event, patch or copy, which is most of what a sample allocates. Throws at once when the twin
   * takes no changes (unknown, decommissioned, ifMatch). See SampleBatch.
   */
  sampleBatch(twinId: string, options: WriteOptions = {}): SampleBatch {
    const twin = this.writable(twinId, options);
    const now = this.clock();
    const nowText = this.nowIso.text(now);
    // Telemetry applied since the etag and $lastUpdateTime were last set.
    let unsettled = false;
    return {
      apply: (path, value, sourceTime, quality) => {
        const entry = this.checkedSample(twin, path, value, sourceTime, quality);
        if (entry.kind !== 'Telemetry') {
          unsettled = false;
          return this.applySampleUnchecked(twin, entry, value, sourceTime, quality ?? 'good', options);
        }
        storeTelemetry(twin.doc, entry, value, nowText, sourceTime === undefined ? undefined : this.sourceIso.text(sourceTime), quality ?? 'good');
        twin.touch(entry, now);
        twin.version += 1;
        unsettled = true;
        return undefined;
      },
      finish: () => {
        if (!unsettled) return;
        unsettled = false;
        this.stamp(twin, nowText);
      },
    };
  }

  /**
   * Several samples of one twin, all or nothing: every sample is checked before the first is
   * applied. One event per sample; `ifMatch` is checked once, before the first.
   */
  applySamples(twinId: string, samples: readonly Sample[], options: WriteOptions = {}): TwinChangeEvent[] {
    if (!Array.isArray(samples)) throw new TwinError('input-invalid', 'applySamples takes an array of { path, value, sourceTime?, quality? }', { twinId });
    const twin = this.writable(twinId, options);
    const checked = samples.map((sample) => {
      if (!isPlainObject(sample as unknown)) throw new TwinError('input-invalid', 'a sample is { path, value, sourceTime?, quality? }', { twinId });
      const entry = this.entryOfKind(twin, sample.path, 'Telemetry', 'Property');
      const meta = this.sampleMeta(twinId, sample.path, sample);
      this.validate(twin, entry, sample.value);
      return { entry, value: sample.value, ...meta };
    });
    const eventOptions: WriteOptions = options.actor === undefined ? {} : { actor: options.actor };
    return checked.map((c) => this.applySampleUnchecked(twin, c.entry, c.value, c.sourceTime, c.quality, eventOptions));
  }

  /** Sets a writable Property's desired value (`$metadata.<prop>.desiredValue`, `desiredVersion`). */
  setDesired(twinId: string, path: string, value: unknown, options: DesiredOptions = {}): TwinChangeEvent {
    const twin = this.writable(twinId, options);
    const entry = this.entryOfKind(twin, path, 'Property');
    if (!entry.writable) {
      const writable = twin.index.propertyPaths.filter((p) => twin.index.entry(p).writable);
      throw new TwinError('not-writable', `${path}: the Property is not writable, so it has no desired value (writable ones: ${writable.join(', ') || 'none'})`, { twinId, path });
    }
    this.validate(twin, entry, value);
    checkLimits(twin.doc, twin.index, entry, value, twinId);
    const current = readMetadata(twin.doc, entry)?.desiredVersion ?? 0;
    let version = current + 1;
    if (options.version !== undefined) {
      if (!Number.isSafeInteger(options.version) || options.version <= current) {
        throw new TwinError('desired-version', `${path}: desired version ${show(options.version)} must be an integer greater than the current ${current}`, { twinId, path });
      }
      version = options.version;
    }
    const now = this.clock();
    const ops: PatchOperation[] = [];
    applyDesired(twin.doc, entry, value, version, ops);
    return this.commit(twin, 'desired', ops, now, options, path, undefined);
  }

  /** The asset's answer to a desired value: `ackVersion`, `ackCode`, `ackDescription`, optionally the value it now reports. */
  acknowledgeDesired(twinId: string, path: string, ack: AckInput, options: WriteOptions = {}): TwinChangeEvent {
    const twin = this.writable(twinId, options);
    const entry = this.entryOfKind(twin, path, 'Property');
    if (!isPlainObject(ack as unknown)) throw new TwinError('input-invalid', `${path}: an acknowledgement is { version, code, description?, value?, sourceTime? }`, { twinId, path });
    const meta = readMetadata(twin.doc, entry);
    const desired = meta?.desiredVersion;
    if (desired === undefined) throw new TwinError('ack-version', `${path}: there is no desired value to acknowledge`, { twinId, path });
    const lowest = meta?.ackVersion ?? 1;
    if (!Number.isSafeInteger(ack.version) || ack.version < lowest || ack.version > desired) {
      const why = typeof ack.version === 'number' && ack.version > desired ? `the latest desired version is ${desired}` : meta?.ackVersion !== undefined ? `version ${meta.ackVersion} is acknowledged already` : `the desired versions are 1 to ${desired}`;
      throw new TwinError('ack-version', `${path}: acknowledged version ${show(ack.version)} is not valid: ${why}`, { twinId, path });
    }
    if (!Number.isInteger(ack.code) || !(ack.code === 200 || ack.code === 202 || (ack.code >= 400 && ack.code <= 599))) {
      throw new TwinError('ack-code', `${path}: ack code ${show(ack.code)} is not ${ACK_CODES_TEXT}`, { twinId, path });
    }
    if (ack.description !== undefined && typeof ack.description !== 'string') throw new TwinError('input-invalid', `${path}: ack description ${show(ack.description)} is not a text`, { twinId, path });
    const hasValue = ack.value !== undefined;
    let sourceTime: number | undefined;
    if (hasValue) {
      this.validate(twin, entry, ack.value);
      sourceTime = this.sampleMeta(twinId, path, { sourceTime: ack.sourceTime }).sourceTime;
    }
    const now = this.clock();
    const ops: PatchOperation[] = [];
    if (hasValue) {
      applyReported(twin.doc, entry, ack.value, this.nowIso.text(now), sourceTime === undefined ? undefined : this.sourceIso.text(sourceTime), ops);
      twin.touch(entry, now);
    }
    const clean: Acknowledgement = { version: ack.version, code: ack.code };
    if (ack.description !== undefined) clean.description = ack.description;
    applyAck(twin.doc, entry, clean, ops);
    return this.commit(twin, 'ack', ops, now, options, path, sourceTime);
  }

  /** Records a command request after validating it against the Command's request schema. Executes nothing. */
  requestCommand(twinId: string, path: string, request?: unknown, options: CommandOptions = {}): TwinChangeEvent {
    const twin = this.writable(twinId, options);
    const entry = this.entryOfKind(twin, path, 'Command');
    if (options.requestId !== undefined && typeof options.requestId !== 'string') throw new TwinError('input-invalid', `${path}: requestId ${show(options.requestId)} is not a text`, { twinId, path });
    this.validate(twin, entry, request);
    const now = this.clock();
    const event = this.commit(twin, 'command', [], now, options, path, undefined);
    const command: NonNullable<TwinChangeEvent['command']> = { name: path };
    if (request !== undefined) command.request = cloneJson(request);
    if (options.requestId !== undefined) command.requestId = options.requestId;
    event.command = command;
    return event;
  }

  createRelationship(input: RelationshipInput, options: WriteOptions = {}): TwinChangeEvent {
    if (!isPlainObject(input as unknown)) throw new TwinError('input-invalid', 'createRelationship takes { sourceId, relationshipId, name, targetId, properties? }');
    const source = this.writable(input.sourceId, options);
    const sourceId = source.id;
    const { relationshipId, name, targetId } = input;
    this.checkId(relationshipId, 'relationship id', sourceId);
    if (source.outgoing.has(relationshipId)) throw new TwinError('relationship-exists', `${sourceId}: relationship ${relationshipId} exists already`, { twinId: sourceId });
    const info = this.relationshipInfo(source, name);
    const target = this.twins.get(targetId);
    if (!target) throw new TwinError('relationship-target', `${name}: target twin ${show(targetId)} does not exist`, { twinId: sourceId, path: name });
    if (target.stage === 'decommissioned') throw new TwinError('relationship-target', `${name}: target twin ${targetId} is decommissioned and takes no new relationships`, { twinId: sourceId, path: name });
    if (info.target !== undefined && !this.models.isOfModel(target.model, info.target)) {
      throw new TwinError('relationship-target-model', `${name}: target ${targetId} is a ${target.model}, but the relationship needs a ${info.target} (or a model extending it)`, { twinId: sourceId, path: name });
    }
    if (info.maxMultiplicity !== undefined) {
      let count = 0;
      for (const rel of source.outgoing.values()) if (rel.$relationshipName === name) count++;
      if (count >= info.maxMultiplicity) {
        throw new TwinError('relationship-multiplicity', `${name}: ${sourceId} has ${count} already, the maximum (maxMultiplicity ${info.maxMultiplicity})`, { twinId: sourceId, path: name });
      }
    }
    const properties = input.properties ?? {};
    if (!isPlainObject(properties)) throw new TwinError('input-invalid', `${name}: relationship properties must be an object`, { twinId: sourceId, path: name });
    for (const [key, value] of Object.entries(properties)) {
      if (!info.properties.has(key)) {
        throw new TwinError('path-unknown', `${name}/${key}: relationship ${name} has no property ${key} (its properties are ${[...info.properties.keys()].join(', ') || 'none'})`, { twinId: sourceId, path: `${name}/${key}` });
      }
      const result = validateInstance(this.models, { interface: source.model, name: `${name}/${key}` }, value);
      if (!result.ok) throw validationError(result.errors, sourceId, `${name}/${key}`);
    }
    const rel: RelationshipDocument = { $relationshipId: relationshipId, $sourceId: sourceId, $targetId: target.id, $relationshipName: name };
    for (const [key, value] of Object.entries(properties)) rel[key] = cloneJson(value);
    source.addOutgoing(rel);
    target.addIncoming(rel);
    const event = this.commit(source, 'relationship', [], this.clock(), options, name, undefined);
    event.relationship = { op: 'create', value: cloneJson(rel) };
    return event;
  }

  deleteRelationship(sourceId: string, relationshipId: string, options: WriteOptions = {}): TwinChangeEvent {
    const source = this.writable(sourceId, options);
    const rel = source.outgoing.get(relationshipId);
    if (!rel) {
      throw new TwinError('relationship-unknown', `${sourceId}: there is no relationship ${show(relationshipId)} (it has ${[...source.outgoing.keys()].join(', ') || 'none'})`, { twinId: sourceId });
    }
    source.removeOutgoing(relationshipId);
    this.twins.get(rel.$targetId)?.removeIncoming(rel);
    const event = this.commit(source, 'relationship', [], this.clock(), options, rel.$relationshipName, undefined);
    event.relationship = { op: 'delete', value: cloneJson(rel) };
    return event;
  }

  /** Moves the twin to another lifecycle stage (see lifecycle.ts for the transition table). */
  setLifecycleStage(twinId: string, stage: LifecycleStage, options: WriteOptions = {}): TwinChangeEvent {
    const twin = this.writable(twinId, options);
    const to = assertLifecycleStage(stage, twinId);
    const from = twin.stage;
    assertTransition(twinId, from, to);
    const now = this.clock();
    const iso = this.nowIso.text(now);
    twin.doc.$lifecycle.stage = to;
    twin.doc.$lifecycle.since = iso;
    twin.stage = to;
    twin.stageSince = now;
    if (MONITORED_STAGES.has(to) && !MONITORED_STAGES.has(from)) twin.monitoredSince = now;
    const ops: PatchOperation[] = [
      { op: 'replace', path: '/$lifecycle/stage', value: to },
      { op: 'replace', path: '/$lifecycle/since', value: iso },
    ];
    const event = this.commit(twin, 'lifecycle', ops, now, options, undefined, undefined);
    event.lifecycle = { from, to };
    return event;
  }

  /** The end of a twin's life: read-only from now on, kept and queryable. */
  decommission(twinId: string, options: WriteOptions = {}): TwinChangeEvent {
    return this.setLifecycleStage(twinId, 'decommissioned', options);
  }

  // ---- persistence -------------------------------------------------------------------------------

  /** Plain JSON of the whole graph; `TwinGraph.restore` rebuilds it exactly. */
  snapshot(): TwinGraphSnapshot {
    return cloneJson(this.liveSnapshot());
  }

  /**
   * The same as `snapshot()`, but holding the graph's own documents and relationships, not copies:
   * for turning into JSON at once (a save). Nothing may keep or change it.
   */
  liveSnapshot(): TwinGraphSnapshot {
    const twins: TwinGraphSnapshot['twins'] = [];
    const relationships: RelationshipDocument[] = [];
    for (const twin of this.twins.values()) {
      twins.push({ version: twin.version, document: twin.doc });
      for (const rel of twin.outgoing.values()) relationships.push(rel);
    }
    return { format: SNAPSHOT_FORMAT, formatVersion: 1, twins, relationships };
  }

  /**
   * Rebuilds a graph from `snapshot()`. Refuses (TwinError `snapshot-invalid`, listing every twin
   * and relationship that fails and why) a snapshot that no longer validates against `models`.
   */
  static restore(models: ModelSet, snapshot: TwinGraphSnapshot, options: TwinGraphOptions = {}): TwinGraph {
    const graph = new TwinGraph(models, options);
    checkSnapshot(models, snapshot);
    const now = graph.clock();
    for (const { version, document } of snapshot.twins) {
      const doc = cloneJson(document);
      const index = graph.indexFor(doc.$metadata.$model);
      const stage = doc.$lifecycle.stage;
      const twin = new TwinRecord(doc.$dtId, index, doc, version, stage, parseIsoTime(doc.$lifecycle.since), now);
      for (const [path, sample] of Object.entries(doc.$telemetry)) twin.touch(index.entry(path), parseIsoTime(sample.lastUpdateTime));
      for (const path of index.propertyPaths) {
        const entry = index.entry(path);
        const updated = readMetadata(doc, entry)?.lastUpdateTime;
        if (updated !== undefined) twin.touch(entry, parseIsoTime(updated));
      }
      graph.twins.set(twin.id, twin);
    }
    for (const rel of snapshot.relationships) {
      const copy = cloneJson(rel);
      (graph.twins.get(copy.$sourceId) as TwinRecord).addOutgoing(copy);
      (graph.twins.get(copy.$targetId) as TwinRecord).addIncoming(copy);
    }
    return graph;
  }

  // ---- internals ---------------------------------------------------------------------------------

  private record(twinId: string): TwinRecord {
    const twin = this.twins.get(twinId);
    if (!twin) throw new TwinError('twin-unknown', `there is no twin ${show(twinId)}`, typeof twinId === 'string' ? { twinId } : {});
    return twin;
  }

  /** The twin, if it may be written: it exists, is not decommissioned, and `ifMatch` (if given) holds. */
  private writable(twinId: string, options: WriteOptions): TwinRecord {
    const twin = this.record(twinId);
    if (twin.stage === 'decommissioned') {
      throw new TwinError('decommissioned', `${twinId} is decommissioned: it is read-only (it stays queryable, but takes no more changes)`, { twinId });
    }
    const ifMatch = options.ifMatch;
    if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== twin.doc.$etag) {
      throw new TwinError('etag-mismatch', `${twinId}: ifMatch ${show(ifMatch)} is stale, the twin's etag is now ${twin.doc.$etag}; read it again and retry`, { twinId });
    }
    if (options.actor !== undefined && typeof options.actor !== 'string') throw new TwinError('input-invalid', `actor ${show(options.actor)} is not a text`, { twinId });
    return twin;
  }

  private checkId(id: unknown, what: string, twinId?: string): asserts id is string {
    // Control characters would break logs and JSON pointers people type; the length keeps keys sane.
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH || /[\u0000-\u001f\u007f]/.test(id)) {
      throw new TwinError('id-invalid', `${what} ${show(id)} must be a text of 1 to ${MAX_ID_LENGTH} characters without control characters`, twinId === undefined ? {} : { twinId });
    }
  }

  /**
   * Builds the content index and compiles the validators of one model, or of every Interface of
   * the model set, now: the first samples then cost what every later one does (with thousands of
   * contents the difference is a fraction of a second at the worst moment, while values queue).
   */
  prepare(dtmi?: string): void {
    for (const id of dtmi === undefined ? this.models.interfaces.keys() : [dtmi]) {
      if (this.models.interfaces.has(id)) this.indexFor(id).prepare();
    }
  }

  private indexFor(dtmi: string): ModelIndex {
    let index = this.indexes.get(dtmi);
    if (!index) this.indexes.set(dtmi, (index = new ModelIndex(this.models, dtmi, this.limitRules)));
    return index;
  }

  private kindError(entry: ContentEntry, wanted: string, twinId: string): TwinError {
    return new TwinError('path-kind', `${entry.path}: is a ${entry.kind}, not a ${wanted}; ${KIND_HINT[entry.kind]}`, { twinId, path: entry.path });
  }

  private entryOfKind(twin: TwinRecord, path: string, kind: ContentKind, other?: ContentKind): ContentEntry {
    const entry = twin.index.entry(path, twin.id);
    if (entry.kind !== kind && entry.kind !== other) throw this.kindError(entry, other ? `${kind} or ${other}` : kind, twin.id);
    return entry;
  }

  private relationshipInfo(source: TwinRecord, name: string): RelationshipInfo {
    const known = source.index.iface.relationships.map((r) => r.name);
    const content = typeof name === 'string' ? source.index.iface.contents.get(name) : undefined;
    if (content?.kind !== 'Relationship') {
      throw new TwinError('relationship-name', `${show(name)}: ${source.model} has no Relationship by that name (its relationships are ${known.join(', ') || 'none'})`, { twinId: source.id, path: String(name) });
    }
    return content;
  }

  private validate(twin: TwinRecord, entry: ContentEntry, value: unknown): void {
    const result = entry.validate(value);
    if (!result.ok) throw validationError(result.errors, twin.id, entry.path);
  }

  private sampleMeta(twinId: string, path: string, options: { sourceTime?: unknown; quality?: unknown }): { sourceTime: number | undefined; quality: Quality } {
    this.checkSampleMeta(twinId, path, options.sourceTime, options.quality);
    return { sourceTime: options.sourceTime as number | undefined, quality: (options.quality ?? 'good') as Quality };
  }

  /** The entry of a sample's Telemetry or Property, once the sample is known to be valid; throws otherwise. */
  private checkedSample(twin: TwinRecord, path: string, value: unknown, sourceTime: unknown, quality: unknown): ContentEntry {
    const entry = this.entryOfKind(twin, path, 'Telemetry', 'Property');
    this.checkSampleMeta(twin.id, path, sourceTime, quality);
    this.validate(twin, entry, value);
    return entry;
  }

  private checkSampleMeta(twinId: string, path: string, sourceTime: unknown, quality: unknown): void {
    if (sourceTime !== undefined && !isTimestamp(sourceTime)) throw new TwinError('input-invalid', `${path}: sourceTime ${show(sourceTime)} is not a time in ms since the epoch`, { twinId, path });
    if (quality !== undefined && (typeof quality !== 'string' || !QUALITIES.has(quality))) throw new TwinError('input-invalid', `${path}: quality ${show(quality)} is not good, uncertain or bad`, { twinId, path });
  }

  /** Applies a validated telemetry or reported-property sample. */
  private applySampleUnchecked(twin: TwinRecord, entry: ContentEntry, value: unknown, sourceTime: number | undefined, quality: Quality, options: WriteOptions): TwinChangeEvent {
    const now = this.clock();
    const iso = this.nowIso.text(now);
    const sourceIso = sourceTime === undefined ? undefined : this.sourceIso.text(sourceTime);
    if (entry.kind === 'Telemetry') {
      const op = applyTelemetry(twin.doc, entry, value, iso, sourceIso, quality);
      twin.touch(entry, now);
      this.nextVersion(twin, now);
      // The patch as one literal: a pushed-to array would reserve room for 16 operations.
      return this.event(twin, 'telemetry', [op, etagOperation(twin), lastUpdateOperation(twin)], now, options, entry.path, sourceTime);
    }
    const ops: PatchOperation[] = [];
    applyReported(twin.doc, entry, value, iso, sourceIso, ops);
    twin.touch(entry, now);
    return this.commit(twin, 'property', ops, now, options, entry.path, sourceTime);
  }

  private etag(version: number): string {
    // The constant head is made once: one etag per sample, and each piece joined costs an allocation.
    return this.etagHead + version + '"';
  }

  /** Moves the twin to its next version: new etag and `$lastUpdateTime`, both appended to the patch. */
  private commit(twin: TwinRecord, kind: TwinChangeKind, ops: PatchOperation[], now: number, options: WriteOptions, path: string | undefined, sourceTime: number | undefined): TwinChangeEvent {
    this.nextVersion(twin, now);
    ops.push(etagOperation(twin), lastUpdateOperation(twin));
    return this.event(twin, kind, ops, now, options, path, sourceTime);
  }

  /** New version, etag and `$lastUpdateTime`; the patch must say so (etagOperation, lastUpdateOperation). */
  private nextVersion(twin: TwinRecord, now: number): void {
    twin.version += 1;
    this.stamp(twin, this.nowIso.text(now));
  }

  /** The etag of the twin's current version, and its last update time. */
  private stamp(twin: TwinRecord, nowText: string): void {
    twin.doc.$etag = this.etag(twin.version);
    twin.doc.$metadata.$lastUpdateTime = nowText;
  }

  private event(twin: TwinRecord, kind: TwinChangeKind, patch: PatchOperation[], now: number, options: WriteOptions, path: string | undefined, sourceTime: number | undefined): TwinChangeEvent {
    if (path !== undefined && sourceTime !== undefined && options.actor === undefined) {
      // A sample's event as one literal: it is made for every value, and fields added one by one
      // would cost a second allocation each time.
      return { twinId: twin.id, kind, etag: twin.doc.$etag, version: twin.version, time: now, patch, path, sourceTime };
    }
    const event: TwinChangeEvent = { twinId: twin.id, kind, etag: twin.doc.$etag, version: twin.version, time: now, patch };
    if (path !== undefined) event.path = path;
    if (sourceTime !== undefined) event.sourceTime = sourceTime;
    if (options.actor !== undefined) event.actor = options.actor;
    return event;
  }

  /** Initial properties, flat or nested, each validated; every problem is reported at once. */
  private initialProperties(id: string, index: ModelIndex, properties: unknown): [ContentEntry, unknown][] {
    if (properties === undefined) return [];
    if (!isPlainObject(properties)) throw new TwinError('input-invalid', `${id}: properties must be an object of path → value`, { twinId: id });
    const flat: [string, unknown][] = [];
    const components = new Set(index.components.map((c) => c.name));
    for (const [key, value] of Object.entries(properties)) {
      if (components.has(key) && isPlainObject(value)) for (const [inner, v] of Object.entries(value)) flat.push([`${key}/${inner}`, v]);
      else flat.push([key, value]);
    }
    const out: [ContentEntry, unknown][] = [];
    const problems: TwinError[] = [];
    const seen = new Set<string>();
    for (const [path, value] of flat) {
      try {
        if (seen.has(path)) throw new TwinError('input-invalid', `${path}: given twice`, { twinId: id, path });
        seen.add(path);
        const entry = index.entry(path, id);
        if (entry.kind !== 'Property') throw new TwinError('path-kind', `${path}: is a ${entry.kind}; a twin is created with Property values only`, { twinId: id, path });
        const result = entry.validate(value);
        if (!result.ok) throw validationError(result.errors, id, path);
        out.push([entry, value]);
      } catch (err) {
        if (!(err instanceof TwinError)) throw err;
        problems.push(err);
      }
    }
    if (problems.length > 0) {
      const first = problems[0] as TwinError;
      const info: TwinErrorInfo = { twinId: id, details: problems.map((p) => p.toJSON()) };
      if (first.path !== undefined) info.path = first.path;
      if (first.pointer !== undefined) info.pointer = first.pointer;
      throw new TwinError(first.code, `${id} was not created: ${problems.map((p) => p.message).join('; ')}`, info);
    }
    return out;
  }
}

export type { TelemetrySample };

function etagOperation(twin: TwinRecord): PatchOperation {
  return { op: 'replace', path: '/$etag', value: twin.doc.$etag };
}

function lastUpdateOperation(twin: TwinRecord): PatchOperation {
  return { op: 'replace', path: '/$metadata/$lastUpdateTime', value: twin.doc.$metadata.$lastUpdateTime };
}
