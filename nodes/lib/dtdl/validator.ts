// validateInstance: checks a Telemetry, Property or Command payload value, or a value of any schema
// or element with an @id, against a ModelSet. Each target's JSON Schema is compiled once per
// ModelSet (identical schemas share one ajv validator) and cached; the success path does no
// allocation: two map lookups, the compiled check, and a shared frozen result.

import type { ErrorObject } from 'ajv';
import { createAjv, FORMAT_HINTS, INTEGER_RANGES, toJsonSchema, type ValidateFunction } from './compiler';
import { show, type DtdlError, type DtdlErrorCode } from './errors';
import type { ModelElement, ModelSet, ResolvedContent, Schema } from './model';
import type { PrimitiveType } from './versions';
import type Ajv from 'ajv';

export interface ValidationResult {
  ok: boolean;
  errors: DtdlError[];
}

/** The result of every successful validation: shared and frozen, never modify it. */
const OK: ValidationResult = Object.freeze({ ok: true, errors: Object.freeze([]) as unknown as DtdlError[] }) as ValidationResult;

export type ValidationTarget = string | { interface: string; name: string };

interface Entry {
  /** Fast check on the hot path. */
  check(value: unknown): boolean;
  /** Full explanation, only computed when `check` failed. */
  explain(value: unknown): ValidationResult;
}

function failure(code: DtdlErrorCode, path: string, message: string): ValidationResult {
  return { ok: false, errors: [{ code, path, message }] };
}

/** "a double", "an integer", "an unsignedLong", "a uuid". */
function article(type: string): string {
  return `${/^[aeiouAEIOU]/.test(type) && !type.startsWith('uuid') ? 'an' : 'a'} ${type}`;
}

/** Compiled validators and resolved targets of one ModelSet. */
class ModelValidators {
  private fastAjv: Ajv | undefined;
  private explainAjv: Ajv | undefined;
  private readonly compiled = new Map<string, { json: Record<string, unknown>; fast: ValidateFunction; explain?: ValidateFunction }>();
  private readonly byName = new Map<string, Map<string, Entry>>();
  private readonly byId = new Map<string, Entry>();

  constructor(private readonly model: ModelSet) {}

  entryForName(interfaceDtmi: string, name: string): Entry | ValidationResult {
    const names = this.byName.get(interfaceDtmi);
    const cached = names?.get(name);
    if (cached) return cached;
    const iface = this.model.interfaces.get(interfaceDtmi);
    if (!iface) return failure('target-unknown', '', `Unknown Interface ${interfaceDtmi}: it is not in this model set`);
    const resolved = this.model.resolve(interfaceDtmi, name);
    let entry: Entry | ValidationResult;
    if (resolved) entry = this.entryForContent(resolved, name);
    else entry = this.noPayload(interfaceDtmi, name) ?? failure('target-unknown', '', `${name}: Interface ${interfaceDtmi} has no content by that name (its contents are ${[...iface.contents.keys()].join(', ') || 'none'})`);
    if (isEntry(entry)) {
      let map = names;
      if (!map) this.byName.set(interfaceDtmi, (map = new Map()));
      map.set(name, entry);
    }
    return entry;
  }

  entryForId(dtmi: string): Entry | ValidationResult {
    const cached = this.byId.get(dtmi);
    if (cached) return cached;
    const element = this.model.elements.get(dtmi);
    if (!element) return failure('target-unknown', '', `Unknown DTMI ${dtmi}: no element of this model set has that @id`);
    const entry = this.entryForElement(element, dtmi);
    if (isEntry(entry)) this.byId.set(dtmi, entry);
    return entry;
  }

  /** "resetAlarm/request" when the Command has no request: only "nothing" is a valid payload. */
  private noPayload(interfaceDtmi: string, name: string): Entry | undefined {
    const slash = name.lastIndexOf('/');
    if (slash < 0) return undefined;
    const part = name.slice(slash + 1);
    const command = this.model.resolve(interfaceDtmi, name.slice(0, slash));
    if (command?.kind !== 'Command' || (part !== 'request' && part !== 'response')) return undefined;
    return {
      check: (value) => value === undefined || value === null,
      explain: (value) => failure('value-invalid', '', `${name}: Command ${command.name} takes no ${part}, but got ${show(value)}`),
    };
  }

  private entryForContent(content: ResolvedContent, label: string): Entry | ValidationResult {
    switch (content.kind) {
      case 'Telemetry':
      case 'Property':
        return this.entryForSchema(content.schema, label, false);
      case 'CommandRequest':
      case 'CommandResponse':
      case 'CommandPayload':
        return this.entryForSchema(content.schema, label, content.nullable);
      case 'Command':
        return failure('target-invalid', '', `${label}: a Command has no value itself; validate "${label}/request" or "${label}/response"`);
      case 'Relationship':
        return failure('target-invalid', '', `${label}: a Relationship has no value itself; validate one of its properties as "${label}/<property>"`);
      case 'Component':
        return failure('target-invalid', '', `${label}: a Component has no value itself; validate one of its contents as "${label}/<name>"`);
    }
  }

  private entryForElement(element: ModelElement, label: string): Entry | ValidationResult {
    switch (element.kind) {
      case 'Array':
      case 'Enum':
      case 'Map':
      case 'Object':
        return this.entryForSchema(element, label, false);
      case 'Field':
      case 'MapValue':
        return this.entryForSchema(element.schema, label, false);
      case 'MapKey':
        return this.entryForSchema({ kind: 'Primitive', type: 'string' }, label, false);
      case 'EnumValue':
        return failure('target-invalid', '', `${label}: an EnumValue is a value, not a schema; validate against its Enum`);
      case 'Interface':
        return failure('target-invalid', '', `${label}: an Interface has no value schema; validate one of its contents with { interface, name }`);
      default:
        return this.entryForContent(element, label);
    }
  }

  private entryForSchema(schema: Schema, label: string, nullable: boolean): Entry {
    const json = toJsonSchema(schema);
    const key = JSON.stringify(json);
    let compiled = this.compiled.get(key);
    if (!compiled) {
      this.fastAjv ??= createAjv(false);
      compiled = { json, fast: this.fastAjv.compile(json) };
      this.compiled.set(key, compiled);
    }
    const fast = compiled.fast;
    const holder = compiled;
    const explain = (value: unknown): ValidationResult => {
      if (value === undefined) return failure('value-required', '', `${label}: a value is required`);
      if (value === null) return failure('value-null', '', `${label}: null is not allowed (only nullable DTDL v4 command payloads may be null)`);
      this.explainAjv ??= createAjv(true);
      holder.explain ??= this.explainAjv.compile(holder.json);
      holder.explain(value);
      const errors = (holder.explain.errors ?? []).map((e) => toDtdlError(e, label));
      return errors.length > 0 ? { ok: false, errors } : failure('value-invalid', '', `${label}: ${show(value)} is not valid`);
    };
    if (nullable) return { check: (value) => value === undefined || value === null || fast(value), explain };
    return { check: fast, explain };
  }
}

function isEntry(entry: Entry | ValidationResult): entry is Entry {
  return typeof (entry as Entry).check === 'function';
}

function toDtdlError(error: ErrorObject, label: string): DtdlError {
  const path = error.instancePath;
  const where = `${label}${path}`;
  const parent = (error.parentSchema ?? {}) as Record<string, unknown>;
  const type = typeof parent['dtdlType'] === 'string' ? (parent['dtdlType'] as string) : 'value';
  const data: unknown = error.data;
  const params = error.params as Record<string, unknown>;
  let code: DtdlErrorCode = 'value-invalid';
  let message: string;
  switch (error.keyword) {
    case 'type':
      code = 'value-type';
      message = `${show(data)} is not ${article(type)}`;
      break;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      code = 'value-range';
      const range = INTEGER_RANGES[type as PrimitiveType];
      message = range
        ? `${show(data)} is outside the range of ${type} (${range.text})`
        : `${show(data)} is outside the range of ${type} (finite single-precision values, at most ±3.4028234663852886e38)`;
      break;
    }
    case 'format':
    case 'pattern':
      code = 'value-format';
      message = `${show(data)} is not a valid ${type}${FORMAT_HINTS[type] ? `: expected ${FORMAT_HINTS[type]}` : ''}`;
      break;
    case 'enum': {
      code = 'value-enum';
      const allowed = ((parent['enum'] as unknown[]) ?? []).map((v) => show(v, 30));
      message =
        type === 'Enum'
          ? `${show(data)} is not one of the Enum values ${allowed.join(', ')}`
          : `${show(data)} is not a ${type} unit (${allowed.join(', ')})`;
      break;
    }
    case 'not':
      code = 'value-enum';
      message = `${show(data)} is not a value of the Enum, which has no values`;
      break;
    case 'const':
      code = 'value-invalid';
      message = `${show(data)} must be ${show(parent['const'])} (GeoJSON geometry type)`;
      break;
    case 'required':
      code = 'value-required';
      message = `missing required field "${String(params['missingProperty'])}"`;
      break;
    case 'additionalProperties': {
      code = 'value-unknown-field';
      const known = Object.keys((parent['properties'] as Record<string, unknown>) ?? {});
      message = `unknown field "${String(params['additionalProperty'])}"; the ${type} has ${known.length ? `fields ${known.join(', ')}` : 'no fields'}`;
      break;
    }
    case 'minItems':
    case 'maxItems': {
      const count = Array.isArray(data) ? data.length : 0;
      message =
        type === 'position'
          ? `a GeoJSON position has 2 or 3 coordinates, not ${count}`
          : type === 'linear ring'
            ? `a polygon ring needs at least 4 positions, not ${count}`
            : type === 'lineString coordinates'
              ? `a lineString needs at least 2 positions, not ${count}`
              : `${type} must have ${error.keyword === 'minItems' ? 'at least' : 'at most'} ${String(params['limit'])} items, not ${count}`;
      break;
    }
    case 'dtdlClosedRing':
      message = 'a polygon ring must end at the position where it starts';
      break;
    default:
      message = `${error.message ?? 'is invalid'} (${error.keyword})`;
  }
  return { code, path, message: `${where}: ${message}` };
}

const caches = new WeakMap<ModelSet, ModelValidators>();
let lastModel: ModelSet | undefined;
let lastCache: ModelValidators | undefined;
// The last named target: a twin node validates the same content again and again.
let lastInterface: string | undefined;
let lastName: string | undefined;
let lastEntry: Entry | undefined;

function validatorsOf(model: ModelSet): ModelValidators {
  if (model === lastModel) return lastCache as ModelValidators;
  let found = caches.get(model);
  if (!found) caches.set(model, (found = new ModelValidators(model)));
  lastModel = model;
  lastCache = found;
  lastEntry = undefined;
  return found;
}

/**
 * Compiles the validators of these named targets now, so that the first values to arrive do not
 * pay for it (thousands of contents take a noticeable fraction of a second). Unknown targets are
 * left for validateInstance to explain.
 */
export function prepareValidators(model: ModelSet, targets: Iterable<{ interface: string; name: string }>): void {
  const cache = validatorsOf(model);
  for (const target of targets) cache.entryForName(target.interface, target.name);
}

/**
 * validateInstance for one target, looked up once rather than per value: for a telemetry whose
 * every sample is checked. The validator is compiled on first use unless prepareValidators did it.
 */
export function instanceValidator(model: ModelSet, target: ValidationTarget): (value: unknown) => ValidationResult {
  let entry: Entry | undefined;
  return (value) => {
    if (entry === undefined) {
      const found = typeof target === 'string' ? validatorsOf(model).entryForId(target) : validatorsOf(model).entryForName(target.interface, target.name);
      if (!isEntry(found)) return found;
      entry = found;
    }
    return entry.check(value) ? OK : entry.explain(value);
  };
}

/**
 * Validates `value` against a target of `model`:
 * - `{ interface, name }`: a Telemetry or Property by name (inherited ones too), a path into a
 *   Component ("spindle/speed"), a command payload ("startCycle/request", "startCycle/response"), or
 *   a Relationship property ("contains/position");
 * - a DTMI string: any complex schema or element with that `@id`.
 *
 * Errors name the field and the rule (`spindle/speed: "fast" is not a double`); their `path` is a
 * JSON pointer into `value`. A successful result is a shared frozen object.
 */
export function validateInstance(model: ModelSet, target: ValidationTarget, value: unknown): ValidationResult {
  const cache = validatorsOf(model);
  let entry: Entry | ValidationResult;
  if (typeof target === 'string') entry = cache.entryForId(target);
  else {
    const { interface: iface, name } = target;
    if (lastEntry !== undefined && name === lastName && iface === lastInterface) entry = lastEntry;
    else {
      entry = cache.entryForName(iface, name);
      if (isEntry(entry)) {
        lastInterface = iface;
        lastName = name;
        lastEntry = entry;
      }
    }
  }
  if (!isEntry(entry)) return entry;
  return entry.check(value) ? OK : entry.explain(value);
}
