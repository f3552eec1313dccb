// Where a twin's telemetry or property lives in InfluxDB, decided by its DTDL model: one measurement
// per Interface (the twin's model for its own contents, the Component's Interface for component
// contents), tags for twin, model and component, one field per content, typed from its schema.
// The write node and the query node share this mapping, so what is written is found again.
import type { ModelSet, Schema } from '../dtdl';
import { HistoryError, type FieldType } from './line-protocol';

export interface FieldTarget {
  /** The DTDL path (the sample's topic), e.g. `spindle/speed`. */
  path: string;
  measurement: string;
  /** Component name for component contents, absent for the twin's own. */
  component?: string;
  field: string;
  type: FieldType;
  kind: 'Telemetry' | 'Property';
}

export interface HistorySchemaOptions {
  /** One measurement for everything instead of one per Interface. */
  measurement?: string;
}

const INTEGER_TYPES = new Set(['integer', 'long', 'short', 'byte', 'unsignedByte', 'unsignedShort', 'unsignedInteger', 'unsignedLong']);
const FLOAT_TYPES = new Set(['double', 'float']);

/** The InfluxDB field type of a DTDL schema: numbers keep integer or float, complex values are JSON text. */
export function fieldTypeOf(schema: Schema): FieldType {
  switch (schema.kind) {
    case 'Primitive':
      if (schema.type === 'boolean') return 'boolean';
      if (INTEGER_TYPES.has(schema.type)) return 'integer';
      if (FLOAT_TYPES.has(schema.type)) return 'float';
      return 'string';
    case 'Enum':
      return schema.valueSchema === 'integer' ? 'integer' : 'string';
    default:
      return 'string';
  }
}

/** `dtmi:twinflow:cnc:Spindle;1` → `Spindle`: readable in InfluxQL, the same across model versions. */
export function measurementName(dtmi: string): string {
  const withoutVersion = dtmi.replace(/;[^;]*$/, '');
  const last = withoutVersion.split(':').at(-1);
  return last && last.length > 0 ? last : withoutVersion;
}

export class HistorySchema {
  /** Targets found so far, by model and path (no key strings built per lookup). */
  readonly #cache = new Map<string, Map<string, FieldTarget>>();
  #cached = 0;

  constructor(readonly models: ModelSet, private readonly options: HistorySchemaOptions = {}) {}

  /** Where `path` of a twin of `model` is stored; throws HistoryError naming the path. */
  target(model: string, path: string): FieldTarget {
    let byPath = this.#cache.get(model);
    let found = byPath?.get(path);
    if (!found) {
      found = this.#resolve(model, path);
      if (this.#cached > 50_000) {
        this.#cache.clear();
        this.#cached = 0;
        byPath = undefined;
      }
      if (!byPath) {
        byPath = new Map();
        this.#cache.set(model, byPath);
      }
      byPath.set(path, found);
      this.#cached++;
    }
    return found;
  }

  #resolve(model: string, path: string): FieldTarget {
    const root = this.models.interfaces.get(model);
    if (!root) throw new HistoryError('twin.model', `twin.model: ${model} is not among the loaded models`);
    const content = this.models.resolve(model, path);
    if (!content) throw new HistoryError('topic', `topic: ${model} has no ${JSON.stringify(path)}`);
    if (content.kind !== 'Telemetry' && content.kind !== 'Property') {
      throw new HistoryError('topic', `topic: ${path} is a ${content.kind} of ${model}; only telemetry and properties are stored as fields`);
    }
    const segments = path.split('/');
    let measurement = this.options.measurement || measurementName(model);
    let component: string | undefined;
    if (segments.length === 2) {
      const first = root.contents.get(segments[0] as string);
      if (first?.kind !== 'Component') throw new HistoryError('topic', `topic: ${path} is not a component's content`);
      component = first.name;
      if (!this.options.measurement) measurement = measurementName(first.schema);
    } else if (segments.length !== 1) {
      throw new HistoryError('topic', `topic: ${path} goes inside a value; write the whole telemetry or property`);
    }
    return {
      path,
      measurement,
      ...(component !== undefined ? { component } : {}),
      field: content.name,
      type: fieldTypeOf(content.schema),
      kind: content.kind,
    };
  }
}
