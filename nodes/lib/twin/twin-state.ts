// One twin's state (its document plus what the graph keeps beside it) and the functions that
// change it. Callers validate first; these only apply, and append the JSON Patch operations that
// describe what they did. No object is shared between the document and a patch.

import type { LifecycleStage } from './lifecycle';
import type { ContentEntry, ModelIndex } from './model-index';
import { cloneJson } from './patch';
import type { PatchOperation, PropertyMetadata, Quality, RelationshipDocument, TelemetrySample, TwinDocument } from './types';

const NO_RELATIONSHIPS: ReadonlyMap<string, RelationshipDocument> = new Map();

/** Key of a relationship among a target's incoming ones. */
export function incomingKey(rel: RelationshipDocument): string {
  return `${rel.$sourceId}\u0000${rel.$relationshipId}`;
}

export class TwinRecord {
  /**
   * ms of the last sample per Telemetry and Property, by the path's slot in the ModelIndex (NaN:
   * none yet). A plain array of doubles: no allocation per update, a fraction of a Map's memory.
   */
  readonly updatedAt: number[];
  // Created on first use: most twins of a fleet have few relationships.
  private outgoingMap: Map<string, RelationshipDocument> | undefined = undefined;
  private incomingMap: Map<string, RelationshipDocument> | undefined = undefined;
  /** Paths the last staleness check found stale, with the ms they became stale. */
  stale: Map<string, number> | undefined = undefined;
  /** ms when the staleness watch started for this twin (see staleness.ts). */
  monitoredSince: number;

  constructor(
    readonly id: string,
    readonly index: ModelIndex,
    public doc: TwinDocument,
    public version: number,
    public stage: LifecycleStage,
    public stageSince: number,
    monitoredSince: number,
  ) {
    this.monitoredSince = monitoredSince;
    this.updatedAt = new Array<number>(index.slots.size).fill(NaN);
  }

  get model(): string {
    return this.index.dtmi;
  }

  /** Outgoing relationships by relationship id. */
  get outgoing(): ReadonlyMap<string, RelationshipDocument> {
    return this.outgoingMap ?? NO_RELATIONSHIPS;
  }

  /** Incoming relationships by `sourceId \0 relationshipId`. */
  get incoming(): ReadonlyMap<string, RelationshipDocument> {
    return this.incomingMap ?? NO_RELATIONSHIPS;
  }

  addOutgoing(rel: RelationshipDocument): void {
    (this.outgoingMap ??= new Map()).set(rel.$relationshipId, rel);
  }

  removeOutgoing(relationshipId: string): void {
    this.outgoingMap?.delete(relationshipId);
  }

  addIncoming(rel: RelationshipDocument): void {
    (this.incomingMap ??= new Map()).set(incomingKey(rel), rel);
  }

  removeIncoming(rel: RelationshipDocument): void {
    this.incomingMap?.delete(incomingKey(rel));
  }

  /** Notes a sample of a Telemetry or Property at `ms`. */
  touch(entry: ContentEntry, ms: number): void {
    if (entry.slot >= 0) this.updatedAt[entry.slot] = ms;
  }

  /** ms of the path's last sample, undefined when none came. */
  lastUpdate(path: string): number | undefined {
    const slot = this.index.slots.get(path);
    const ms = slot === undefined ? NaN : (this.updatedAt[slot] as number);
    return Number.isNaN(ms) ? undefined : ms;
  }
}

/** A value the graph keeps: copied unless its schema is primitive. */
export function own(entry: ContentEntry, value: unknown): unknown {
  // JSON has no -0: the twin keeps what its events and snapshots can carry (0), also inside objects.
  if (entry.primitive) return value === 0 ? 0 : value;
  return cloneJson(value);
}

/** The object holding an entry's value: the twin document or one of its Components. */
function holderOf(doc: TwinDocument, entry: ContentEntry): Record<string, unknown> & { $metadata: Record<string, PropertyMetadata> } {
  return (entry.component === undefined ? doc : doc[entry.component]) as Record<string, unknown> & { $metadata: Record<string, PropertyMetadata> };
}

const hasOwn = Object.prototype.hasOwnProperty;

/** A fresh document: system sections, and every Component present with an empty `$metadata`. */
export function newDocument(id: string, index: ModelIndex, stage: LifecycleStage, iso: string): TwinDocument {
  const doc: TwinDocument = {
    $dtId: id,
    $etag: '',
    $metadata: { $model: index.dtmi, $lastUpdateTime: iso },
    $lifecycle: { stage, since: iso },
    $telemetry: {},
  };
  for (const c of index.components) doc[c.name] = { $metadata: {} };
  return doc;
}

export function readValue(doc: TwinDocument, entry: ContentEntry): unknown {
  if (entry.kind === 'Telemetry') return doc.$telemetry[entry.path]?.value;
  const holder = holderOf(doc, entry);
  return hasOwn.call(holder, entry.name) ? holder[entry.name] : undefined;
}

export function readMetadata(doc: TwinDocument, entry: ContentEntry): PropertyMetadata | undefined {
  const meta = holderOf(doc, entry).$metadata;
  return hasOwn.call(meta, entry.name) ? meta[entry.name] : undefined;
}

/** Records a telemetry sample and returns the patch operation that says so. */
export function applyTelemetry(doc: TwinDocument, entry: ContentEntry, value: unknown, iso: string, sourceIso: string | undefined, quality: Quality): PatchOperation {
  const existed = storeTelemetry(doc, entry, value, iso, sourceIso, quality);
  return { op: existed ? 'replace' : 'add', path: entry.pointer, value: newTelemetrySample(entry, value, iso, sourceIso, quality) };
}

/** A fresh stored sample; one literal per shape, so it takes one allocation. */
function newTelemetrySample(entry: ContentEntry, value: unknown, iso: string, sourceIso: string | undefined, quality: Quality): TelemetrySample {
  return sourceIso === undefined ? { value: own(entry, value), lastUpdateTime: iso, quality } : { value: own(entry, value), lastUpdateTime: iso, sourceTime: sourceIso, quality };
}

/** Records a telemetry sample in the document; says whether the telemetry had a sample before. */
export function storeTelemetry(doc: TwinDocument, entry: ContentEntry, value: unknown, iso: string, sourceIso: string | undefined, quality: Quality): boolean {
  const section = doc.$telemetry;
  const stored = hasOwn.call(section, entry.path) ? section[entry.path] : undefined;
  if (stored !== undefined && (sourceIso !== undefined) === (stored.sourceTime !== undefined)) {
    // Updated in place: a new stored object per sample lives long enough to be promoted to the
    // old generation, so 10,000 telemetries at 10 Hz made a full garbage collection every few
    // seconds. Nothing outside the graph keeps a stored sample: reads, snapshots and events copy,
    // and a save turns the live graph into JSON at once.
    stored.value = own(entry, value);
    stored.lastUpdateTime = iso;
    if (sourceIso !== undefined) stored.sourceTime = sourceIso;
    stored.quality = quality;
  } else {
    section[entry.path] = newTelemetrySample(entry, value, iso, sourceIso, quality);
  }
  return stored !== undefined;
}

/** Sets one metadata field, emitting add or replace. */
function setMeta(meta: PropertyMetadata, entry: ContentEntry, field: keyof PropertyMetadata, value: string | number, ops: PatchOperation[]): void {
  ops.push({ op: meta[field] === undefined ? 'add' : 'replace', path: entry.metaPointers[field], value });
  (meta as Record<string, unknown>)[field] = value;
}

function clearMeta(meta: PropertyMetadata, entry: ContentEntry, field: keyof PropertyMetadata, ops: PatchOperation[]): void {
  if (meta[field] === undefined) return;
  ops.push({ op: 'remove', path: entry.metaPointers[field] });
  delete meta[field];
}

/** The entry's metadata object, created (with an `add` of `initial`) when the property has none yet. */
function metaFor(holder: { $metadata: Record<string, PropertyMetadata> }, entry: ContentEntry): PropertyMetadata | undefined {
  return hasOwn.call(holder.$metadata, entry.name) ? holder.$metadata[entry.name] : undefined;
}

export function applyReported(doc: TwinDocument, entry: ContentEntry, value: unknown, iso: string, sourceIso: string | undefined, ops: PatchOperation[]): void {
  const holder = holderOf(doc, entry);
  const existed = hasOwn.call(holder, entry.name);
  holder[entry.name] = own(entry, value);
  ops.push({ op: existed ? 'replace' : 'add', path: entry.pointer, value: own(entry, value) });
  const meta = metaFor(holder, entry);
  if (meta === undefined) {
    const created: PropertyMetadata = sourceIso === undefined ? { lastUpdateTime: iso } : { lastUpdateTime: iso, sourceTime: sourceIso };
    holder.$metadata[entry.name] = created;
    ops.push({ op: 'add', path: entry.metadataPointer, value: { ...created } });
    return;
  }
  setMeta(meta, entry, 'lastUpdateTime', iso, ops);
  if (sourceIso !== undefined) setMeta(meta, entry, 'sourceTime', sourceIso, ops);
  else clearMeta(meta, entry, 'sourceTime', ops);
}

export function applyDesired(doc: TwinDocument, entry: ContentEntry, value: unknown, version: number, ops: PatchOperation[]): void {
  const holder = holderOf(doc, entry);
  const meta = metaFor(holder, entry);
  if (meta === undefined) {
    holder.$metadata[entry.name] = { desiredValue: own(entry, value), desiredVersion: version };
    ops.push({ op: 'add', path: entry.metadataPointer, value: { desiredValue: own(entry, value), desiredVersion: version } });
    return;
  }
  ops.push({ op: hasOwn.call(meta, 'desiredValue') ? 'replace' : 'add', path: entry.metaPointers.desiredValue, value: own(entry, value) });
  meta.desiredValue = own(entry, value);
  setMeta(meta, entry, 'desiredVersion', version, ops);
}

export interface Acknowledgement {
  /** The desired version this answers. */
  version: number;
  /** 200 done, 202 in progress, 4xx/5xx failed. */
  code: number;
  description?: string;
}

export function applyAck(doc: TwinDocument, entry: ContentEntry, ack: Acknowledgement, ops: PatchOperation[]): void {
  // Only called after a desired value exists, so the metadata object does too.
  const meta = metaFor(holderOf(doc, entry), entry) as PropertyMetadata;
  setMeta(meta, entry, 'ackVersion', ack.version, ops);
  setMeta(meta, entry, 'ackCode', ack.code, ops);
  if (ack.description !== undefined) setMeta(meta, entry, 'ackDescription', ack.description, ops);
  else clearMeta(meta, entry, 'ackDescription', ops);
}
