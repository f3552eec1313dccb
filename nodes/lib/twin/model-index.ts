// Per-Interface lookups the hot path needs, resolved once: for each DTDL path its kind, its
// validation target and validator, JSON pointers, and limits.

import { instanceValidator, prepareValidators, type CommandInfo, type InterfaceInfo, type ModelSet, type PropertyInfo, type RelationshipInfo, type ResolvedContent, type Schema, type TelemetryInfo, type ValidationResult, type ValidationTarget } from '../dtdl';
import { TwinError } from './errors';
import { pointer } from './patch';

export type ContentKind = 'Telemetry' | 'Property' | 'Command' | 'Relationship';

/** A bound of a desired value: a number, or another property of the same twin (`spindle/maxSpeed`). */
export type LimitBound = number | { path: string };

/** A guard on desired values beyond what DTDL can say, e.g. a setpoint at most the rated maximum. */
export interface LimitRule {
  /** DTMI the rule applies to (and every Interface extending it); without `;version`, any version. Absent: every model. */
  model?: string;
  /** The writable property's path, e.g. `spindle/speedSetpoint`. */
  path: string;
  min?: LimitBound;
  max?: LimitBound;
}

export const METADATA_FIELDS = ['lastUpdateTime', 'sourceTime', 'desiredValue', 'desiredVersion', 'ackVersion', 'ackCode', 'ackDescription'] as const;
export type MetadataField = (typeof METADATA_FIELDS)[number];

export interface ContentEntry {
  readonly path: string;
  readonly kind: ContentKind;
  /** The Component holding it, for `spindle/speed`. */
  readonly component?: string;
  /** The content's own name (last path segment). */
  readonly name: string;
  /** What validateInstance checks values against (for a Command: its request). */
  readonly target: ValidationTarget;
  /** validateInstance against `target`, with the target looked up once. */
  readonly validate: (value: unknown) => ValidationResult;
  readonly writable: boolean;
  /** Where the value lives in the twin document. */
  readonly pointer: string;
  /** Where its metadata lives (`/$metadata/doorOpen`, `/spindle/$metadata/speedSetpoint`). */
  readonly metadataPointer: string;
  /** Pointers of each metadata field, built once. */
  readonly metaPointers: Readonly<Record<MetadataField, string>>;
  /** Values of a primitive schema need no defensive copy. */
  readonly primitive: boolean;
  readonly content: TelemetryInfo | PropertyInfo | CommandInfo | RelationshipInfo;
  readonly limits: readonly LimitRule[];
  /** Position of a Telemetry or Property in a twin's `updatedAt` array; -1 for others. */
  readonly slot: number;
}

/** True when a rule's `model` names `twinModel`, one of its ancestors, or (without version) any version of them. */
export function modelMatches(models: ModelSet, twinModel: string, ruleModel: string | undefined): boolean {
  if (ruleModel === undefined) return true;
  if (ruleModel.includes(';')) return models.isOfModel(twinModel, ruleModel);
  const prefix = `${ruleModel};`;
  if (twinModel.startsWith(prefix)) return true;
  const iface = models.interfaces.get(twinModel);
  return iface !== undefined && iface.ancestors.some((a) => a.startsWith(prefix));
}

function isPrimitive(schema: Schema): boolean {
  return schema.kind === 'Primitive' || schema.kind === 'UnitType' || schema.kind === 'Enum';
}

function contentNames(iface: InterfaceInfo): string {
  return [...iface.contents.keys()].join(', ') || 'none';
}

export class ModelIndex {
  readonly iface: InterfaceInfo;
  /** Component names and their Interface DTMIs, in model order. */
  readonly components: readonly { name: string; schema: string }[];
  readonly telemetryPaths: readonly string[];
  readonly propertyPaths: readonly string[];
  /** Telemetry and Property paths by their slot in a twin's `updatedAt` array. */
  readonly slots: ReadonlyMap<string, number>;
  private readonly entries = new Map<string, ContentEntry>();

  constructor(
    readonly models: ModelSet,
    readonly dtmi: string,
    private readonly limitRules: readonly LimitRule[],
  ) {
    const iface = models.interfaces.get(dtmi);
    if (!iface) throw new TwinError('model-unknown', `model ${dtmi} is not in the model set`);
    this.iface = iface;
    this.components = iface.components.map((c) => ({ name: c.name, schema: c.schema }));
    const telemetry: string[] = [];
    const properties: string[] = [];
    const collect = (holder: InterfaceInfo, prefix: string): void => {
      for (const t of holder.telemetries) telemetry.push(prefix + t.name);
      for (const p of holder.properties) properties.push(prefix + p.name);
    };
    collect(iface, '');
    for (const c of this.components) {
      const inner = models.interfaces.get(c.schema);
      if (inner) collect(inner, `${c.name}/`);
    }
    this.telemetryPaths = telemetry;
    this.propertyPaths = properties;
    this.slots = new Map([...telemetry, ...properties].map((path, i) => [path, i]));
  }

  /** Builds the entry and compiles the validator of every Telemetry and Property now rather than on first use. */
  prepare(): void {
    const targets: { interface: string; name: string }[] = [];
    for (const path of [...this.telemetryPaths, ...this.propertyPaths]) {
      const target = this.entry(path).target;
      if (typeof target !== 'string') targets.push(target);
    }
    prepareValidators(this.models, targets);
  }

  /** The entry for a path, or a TwinError naming what is wrong with it. */
  entry(path: string, twinId?: string): ContentEntry {
    const cached = this.entries.get(path);
    if (cached) return cached;
    const entry = this.build(path, twinId);
    this.entries.set(path, entry);
    return entry;
  }

  private fail(path: string, message: string, twinId: string | undefined, code: 'path-unknown' | 'path-kind' = 'path-unknown'): never {
    throw new TwinError(code, `${path}: ${message}`, twinId === undefined ? { path } : { twinId, path });
  }

  private build(path: string, twinId: string | undefined): ContentEntry {
    if (typeof path !== 'string' || path === '') {
      throw new TwinError('input-invalid', `a content path must be a non-empty text like "doorOpen" or "spindle/speed", not ${JSON.stringify(path)}`, twinId === undefined ? {} : { twinId });
    }
    const parts = path.split('/');
    const first = parts[0] as string;
    const top = this.iface.contents.get(first);
    if (!top) this.fail(path, `${this.dtmi} has no content named ${first} (its contents are ${contentNames(this.iface)})`, twinId);
    let resolved: ResolvedContent | undefined;
    let component: string | undefined;
    if (parts.length === 1) resolved = top;
    else if (top.kind !== 'Component') this.fail(path, `${first} is a ${top.kind}, not a Component, so it has no content ${parts.slice(1).join('/')}`, twinId);
    else {
      const inner = this.models.interfaces.get(top.schema);
      const second = parts[1] as string;
      if (!inner || !inner.contents.has(second)) {
        this.fail(path, `Component ${first} (${top.schema}) has no content named ${second} (its contents are ${inner ? contentNames(inner) : 'unknown'})`, twinId);
      }
      if (parts.length > 2) this.fail(path, `${first}/${second} is a ${inner.contents.get(second)?.kind}; paths go at most one Component deep`, twinId);
      component = first;
      resolved = this.models.resolve(this.dtmi, path);
    }
    if (!resolved) this.fail(path, `${this.dtmi} has no content at this path`, twinId);
    if (resolved.kind === 'Component') this.fail(path, `${path} is a Component; name one of its contents as ${path}/<name>`, twinId, 'path-kind');
    if (resolved.kind !== 'Telemetry' && resolved.kind !== 'Property' && resolved.kind !== 'Command' && resolved.kind !== 'Relationship') {
      this.fail(path, `a ${resolved.kind} is not a twin content`, twinId, 'path-kind');
    }
    const name = resolved.name;
    const kind = resolved.kind;
    const valuePointer = kind === 'Telemetry' ? pointer('$telemetry', path) : component ? pointer(component, name) : pointer(name);
    const metadataPointer = component ? pointer(component, '$metadata', name) : pointer('$metadata', name);
    const schema = kind === 'Telemetry' || kind === 'Property' ? resolved.schema : undefined;
    const limits = kind === 'Property' ? this.limitRules.filter((r) => r.path === path && modelMatches(this.models, this.dtmi, r.model)) : [];
    const target = { interface: this.dtmi, name: kind === 'Command' ? `${path}/request` : path };
    const entry: ContentEntry = {
      path,
      kind,
      name,
      target,
      validate: instanceValidator(this.models, target),
      writable: kind === 'Property' ? resolved.writable : false,
      pointer: valuePointer,
      metadataPointer,
      metaPointers: Object.fromEntries(METADATA_FIELDS.map((f) => [f, `${metadataPointer}/${f}`])) as Record<MetadataField, string>,
      primitive: schema !== undefined && isPrimitive(schema),
      content: resolved,
      limits,
      slot: this.slots.get(path) ?? -1,
    };
    if (component !== undefined) (entry as { component?: string }).component = component;
    return entry;
  }
}
