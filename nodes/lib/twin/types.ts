// The shapes the twin core hands out: twin and relationship documents (Azure Digital Twins' JSON
// shape plus three Twinflow sections), change events and JSON Patch operations. All plain JSON.

import type { Quality } from '../messages';
import type { LifecycleStage } from './lifecycle';

export type { Quality } from '../messages';

/** Per-property metadata, as in Azure Digital Twins / IoT Plug and Play digital twins. */
export interface PropertyMetadata {
  /** When the reported value last changed here (ISO 8601). Absent while only a desired value exists. */
  lastUpdateTime?: string;
  /** When the source measured the reported value (ISO 8601), if the sample said. */
  sourceTime?: string;
  desiredValue?: unknown;
  desiredVersion?: number;
  ackVersion?: number;
  /** 200 done, 202 in progress, 4xx/5xx failed (device-twin vocabulary). */
  ackCode?: number;
  ackDescription?: string;
}

/**
 * The last sample of one Telemetry. Azure Digital Twins does not store telemetry; Twinflow keeps the
 * last value of each in the twin's `$telemetry` section, keyed by its DTDL path (`positionX`,
 * `spindle/speed`, the same text as a sample message's `topic`), so dashboards, queries and the
 * staleness check read it without a separate store.
 */
export interface TelemetrySample {
  value: unknown;
  /** When the graph recorded it (ISO 8601). */
  lastUpdateTime: string;
  /** When the source measured it (ISO 8601), if the sample said. */
  sourceTime?: string;
  quality: Quality;
}

/** Where a twin stands in its ISO 23247 lifecycle (a Twinflow section of the document). */
export interface LifecycleInfo {
  stage: LifecycleStage;
  /** When it entered this stage (ISO 8601). */
  since: string;
}

export interface TwinMetadata {
  $model: string;
  /** Time of the twin's latest change event (ISO 8601). */
  $lastUpdateTime: string;
  [property: string]: PropertyMetadata | string;
}

export interface ComponentDocument {
  $metadata: Record<string, PropertyMetadata>;
  [property: string]: unknown;
}

/**
 * A twin as Azure Digital Twins shapes it: `$dtId`, `$etag`, `$metadata`, root properties, and one
 * object per Component (always present, as ADT requires) holding its properties and `$metadata`.
 * Twinflow adds `$lifecycle` and `$telemetry`; DTDL names cannot start with `$`, so these never
 * collide with a model's contents.
 */
export interface TwinDocument {
  $dtId: string;
  $etag: string;
  $metadata: TwinMetadata;
  $lifecycle: LifecycleInfo;
  $telemetry: Record<string, TelemetrySample>;
  [propertyOrComponent: string]: unknown;
}

/** A relationship as Azure Digital Twins shapes it, plus its own properties. */
export interface RelationshipDocument {
  $relationshipId: string;
  $sourceId: string;
  $targetId: string;
  $relationshipName: string;
  [property: string]: unknown;
}

/** One RFC 6902 operation. The core emits add, replace and remove; `applyPatch` accepts all six. */
export type PatchOperation =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; from: string; path: string };

export type TwinChangeKind = 'create' | 'telemetry' | 'property' | 'desired' | 'ack' | 'command' | 'relationship' | 'lifecycle';

/**
 * What one applied change did to one twin. `patch` applied to the twin's previous document gives
 * the new one (for `create`, a single `add` at the root). Every event moves the twin's `version` on
 * by one (gap-free per twin) and gives it a new `$etag` and `$metadata.$lastUpdateTime`, so the
 * patch always ends with those two operations. Relationships are not part of the twin document:
 * a `relationship` event carries the relationship itself beside the patch.
 * Events share no object with the graph's state; they are plain JSON.
 */
export interface TwinChangeEvent {
  twinId: string;
  kind: TwinChangeKind;
  /** The DTDL path the change is about: telemetry, property, command or relationship name. */
  path?: string;
  /** The twin's etag after the change. */
  etag: string;
  version: number;
  /** When the graph applied it (ms since the epoch). */
  time: number;
  /** When the source measured it (ms since the epoch), for samples that said. */
  sourceTime?: number;
  actor?: string;
  patch: PatchOperation[];
  /** `command` events: the request the graph recorded (it executes nothing). */
  command?: { name: string; request?: unknown; requestId?: string };
  /** `relationship` events. */
  relationship?: { op: 'create' | 'delete'; value: RelationshipDocument };
  /** `lifecycle` events. */
  lifecycle?: { from: LifecycleStage; to: LifecycleStage };
}

/** Options every write takes. */
export interface WriteOptions {
  /** Refuse the write unless the twin's current `$etag` equals this (optimistic concurrency). */
  ifMatch?: string;
  /** Who asked for the change; copied into the event. */
  actor?: string;
}

export interface SampleOptions extends WriteOptions {
  /** When the source measured the value, ms since the epoch. */
  sourceTime?: number;
  /**
   * Default `good`. Kept with telemetry samples; Azure Digital Twins' property metadata has no
   * quality, so for reported properties it is checked but not stored.
   */
  quality?: Quality;
}

/** A telemetry value or reported property, as a sample message carries it. */
export interface Sample {
  path: string;
  value: unknown;
  sourceTime?: number;
  quality?: Quality;
}
