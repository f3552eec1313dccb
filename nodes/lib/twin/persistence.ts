// The snapshot format of a TwinGraph, and the check that a snapshot still fits the models before
// TwinGraph.restore rebuilds from it. A node stores snapshots in Node-RED's persistent context or
// a file, so a restart loses nothing; models change between restarts, so restore checks everything.
//
// Format (plain JSON):
//   { format: 'twinflow/twin-graph', formatVersion: 1,
//     twins: [{ version, document }],   // document: the twin as getTwin returns it, incl. $lifecycle,
//                                       // $telemetry and desired state in $metadata
//     relationships: [RelationshipDocument] }

import { validateInstance, type ModelSet } from '../dtdl';
import { TwinError, show } from './errors';
import { isLifecycleStage } from './lifecycle';
import { ModelIndex } from './model-index';
import { isTimestamp, parseIsoTime } from './time';
import type { RelationshipDocument, TwinDocument } from './types';

export const SNAPSHOT_FORMAT = 'twinflow/twin-graph';

export interface TwinGraphSnapshot {
  format: typeof SNAPSHOT_FORMAT;
  formatVersion: 1;
  twins: { version: number; document: TwinDocument }[];
  relationships: RelationshipDocument[];
}

export interface SnapshotProblem {
  /** The twin (or the relationship's source twin) concerned, when there is one. */
  twinId?: string;
  relationshipId?: string;
  message: string;
}

const QUALITIES = new Set(['good', 'uncertain', 'bad']);
const META_FIELDS = new Set(['lastUpdateTime', 'sourceTime', 'desiredValue', 'desiredVersion', 'ackVersion', 'ackCode', 'ackDescription']);

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isIso(value: unknown): boolean {
  return typeof value === 'string' && isTimestamp(parseIsoTime(value));
}

/** Problems of one twin document against the models; empty when it fits. */
function twinProblems(models: ModelSet, doc: TwinDocument, version: unknown): string[] {
  const problems: string[] = [];
  const model = isObject(doc.$metadata) ? doc.$metadata.$model : undefined;
  if (typeof model !== 'string' || !models.interfaces.has(model)) return [`model ${typeof model === 'string' ? model : show(model)} is not in the model set`];
  const index = new ModelIndex(models, model, []);
  if (!Number.isSafeInteger(version) || (version as number) < 1) problems.push(`version ${show(version)} is not a positive integer`);
  if (typeof doc.$etag !== 'string') problems.push('$etag is missing');
  if (!isIso(doc.$metadata.$lastUpdateTime)) problems.push('$metadata.$lastUpdateTime is not an ISO time');
  if (!isObject(doc.$lifecycle) || !isLifecycleStage(doc.$lifecycle.stage) || !isIso(doc.$lifecycle.since)) problems.push(`$lifecycle ${show(doc.$lifecycle)} is not { stage, since }`);
  if (!isObject(doc.$telemetry)) problems.push('$telemetry is missing');
  else {
    for (const [path, sample] of Object.entries(doc.$telemetry)) {
      const content = models.resolve(model, path);
      if (content?.kind !== 'Telemetry') {
        problems.push(`$telemetry ${path}: ${model} has no such Telemetry`);
        continue;
      }
      if (!isObject(sample) || !isIso(sample.lastUpdateTime) || !QUALITIES.has(sample.quality as string) || (sample.sourceTime !== undefined && !isIso(sample.sourceTime))) {
        problems.push(`$telemetry ${path}: ${show(sample)} is not { value, lastUpdateTime, sourceTime?, quality }`);
        continue;
      }
      const result = validateInstance(models, { interface: model, name: path }, sample.value);
      if (!result.ok) problems.push(...result.errors.map((e) => e.message));
    }
  }
  const components = new Map(index.components.map((c) => [c.name, c.schema]));
  const checkHolder = (holder: Record<string, unknown>, prefix: string): void => {
    const meta = holder.$metadata;
    if (!isObject(meta)) {
      problems.push(`${prefix || 'twin'}: $metadata is missing`);
      return;
    }
    for (const [key, value] of Object.entries(holder)) {
      if (key.startsWith('$')) continue;
      const path = prefix + key;
      if (prefix === '' && components.has(key)) continue;
      const content = models.resolve(model, path);
      if (content?.kind !== 'Property') {
        problems.push(`${path}: ${model} has no such Property`);
        continue;
      }
      const result = validateInstance(models, { interface: model, name: path }, value);
      if (!result.ok) problems.push(...result.errors.map((e) => e.message));
    }
    for (const [key, entry] of Object.entries(meta)) {
      if (key.startsWith('$')) continue;
      const path = prefix + key;
      const content = models.resolve(model, path);
      if (content?.kind !== 'Property') {
        problems.push(`$metadata ${path}: ${model} has no such Property`);
        continue;
      }
      if (!isObject(entry) || Object.keys(entry).some((f) => !META_FIELDS.has(f))) {
        problems.push(`$metadata ${path}: ${show(entry)} has fields that are not property metadata`);
        continue;
      }
      for (const f of ['lastUpdateTime', 'sourceTime'] as const) if (entry[f] !== undefined && !isIso(entry[f])) problems.push(`$metadata ${path}: ${f} ${show(entry[f])} is not an ISO time`);
      for (const f of ['desiredVersion', 'ackVersion', 'ackCode'] as const) if (entry[f] !== undefined && !Number.isSafeInteger(entry[f])) problems.push(`$metadata ${path}: ${f} ${show(entry[f])} is not an integer`);
      if (entry.desiredValue !== undefined) {
        if (!content.writable) problems.push(`$metadata ${path}: has a desired value, but the Property is not writable`);
        const result = validateInstance(models, { interface: model, name: path }, entry.desiredValue);
        if (!result.ok) problems.push(...result.errors.map((e) => `desired ${e.message}`));
      }
    }
  };
  checkHolder(doc, '');
  for (const name of components.keys()) {
    const holder = doc[name];
    if (!isObject(holder)) problems.push(`${name}: the Component is missing`);
    else checkHolder(holder, `${name}/`);
  }
  return problems;
}

/** Throws TwinError `snapshot-invalid` listing every twin and relationship that does not fit `models`. */
export function checkSnapshot(models: ModelSet, snapshot: TwinGraphSnapshot): void {
  if (!isObject(snapshot) || snapshot.format !== SNAPSHOT_FORMAT || snapshot.formatVersion !== 1 || !Array.isArray(snapshot.twins) || !Array.isArray(snapshot.relationships)) {
    throw new TwinError('snapshot-invalid', `snapshot refused: it is not a ${SNAPSHOT_FORMAT} snapshot of format version 1`);
  }
  const problems: SnapshotProblem[] = [];
  const models_ = new Map<string, string>();
  for (const item of snapshot.twins as unknown[]) {
    const doc = isObject(item) ? (item.document as TwinDocument) : undefined;
    const id = isObject(doc) ? doc.$dtId : undefined;
    if (typeof id !== 'string' || id === '') {
      problems.push({ message: `a twin entry without a $dtId: ${show(item)}` });
      continue;
    }
    if (models_.has(id)) {
      problems.push({ twinId: id, message: 'appears twice' });
      continue;
    }
    const found = twinProblems(models, doc as TwinDocument, (item as { version?: unknown }).version);
    models_.set(id, (doc as TwinDocument).$metadata?.$model as string);
    for (const message of found) problems.push({ twinId: id, message });
  }
  const relIds = new Set<string>();
  const counts = new Map<string, number>();
  for (const rel of snapshot.relationships as unknown[]) {
    if (!isObject(rel) || typeof rel.$sourceId !== 'string' || typeof rel.$relationshipId !== 'string') {
      problems.push({ message: `a relationship without $sourceId and $relationshipId: ${show(rel)}` });
      continue;
    }
    const r = rel as RelationshipDocument;
    const where = { twinId: r.$sourceId, relationshipId: r.$relationshipId };
    const key = `${r.$sourceId}\u0000${r.$relationshipId}`;
    if (relIds.has(key)) {
      problems.push({ ...where, message: `relationship ${r.$relationshipId} appears twice` });
      continue;
    }
    relIds.add(key);
    const sourceModel = models_.get(r.$sourceId);
    const targetModel = models_.get(r.$targetId);
    if (sourceModel === undefined || targetModel === undefined) {
      problems.push({ ...where, message: `relationship ${r.$relationshipId}: ${sourceModel === undefined ? `source ${r.$sourceId}` : `target ${show(r.$targetId)}`} is not in the snapshot` });
      continue;
    }
    // A source whose model is gone is reported as a twin already; a target's is worth naming here.
    if (!models.interfaces.has(sourceModel)) continue;
    if (!models.interfaces.has(targetModel)) {
      problems.push({ ...where, message: `relationship ${r.$relationshipId}: the model ${targetModel} of its target ${r.$targetId} is not in the model set` });
      continue;
    }
    const info = models.interfaces.get(sourceModel)?.contents.get(r.$relationshipName);
    if (info?.kind !== 'Relationship') {
      problems.push({ ...where, message: `relationship ${r.$relationshipId}: ${sourceModel} has no Relationship ${show(r.$relationshipName)}` });
      continue;
    }
    if (info.target !== undefined && !models.isOfModel(targetModel, info.target)) {
      problems.push({ ...where, message: `relationship ${r.$relationshipId}: target ${r.$targetId} is a ${targetModel}, not a ${info.target}` });
    }
    const countKey = `${r.$sourceId}\u0000${r.$relationshipName}`;
    const count = (counts.get(countKey) ?? 0) + 1;
    counts.set(countKey, count);
    if (info.maxMultiplicity !== undefined && count === info.maxMultiplicity + 1) {
      problems.push({ ...where, message: `${r.$relationshipName}: more than maxMultiplicity ${info.maxMultiplicity}` });
    }
    for (const [key2, value] of Object.entries(r)) {
      if (key2.startsWith('$')) continue;
      if (!info.properties.has(key2)) {
        problems.push({ ...where, message: `relationship ${r.$relationshipId}: ${r.$relationshipName} has no property ${key2}` });
        continue;
      }
      const result = validateInstance(models, { interface: sourceModel, name: `${r.$relationshipName}/${key2}` }, value);
      if (!result.ok) problems.push(...result.errors.map((e) => ({ ...where, message: `relationship ${r.$relationshipId}: ${e.message}` })));
    }
  }
  if (problems.length === 0) return;
  const byTwin = new Map<string, string[]>();
  for (const p of problems) {
    const key = p.twinId ?? '(unnamed)';
    const list = byTwin.get(key) ?? [];
    list.push(p.message);
    byTwin.set(key, list);
  }
  const listed = [...byTwin].map(([id, messages]) => `${id} (${messages.join('; ')})`);
  throw new TwinError('snapshot-invalid', `snapshot refused: ${byTwin.size} twin${byTwin.size === 1 ? '' : 's'} no longer validate${byTwin.size === 1 ? 's' : ''} against the models: ${listed.join(', ')}`, {
    details: problems,
  });
}
