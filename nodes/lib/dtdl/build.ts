// Phase 3: turns the linked element graph into the immutable ModelSet other nodes navigate.

import type {
  ArraySchema,
  CommandInfo,
  CommandPayloadInfo,
  ComplexSchema,
  ComponentInfo,
  Content,
  ElementInfo,
  EnumSchema,
  EnumValueInfo,
  FieldInfo,
  InterfaceInfo,
  MapKeyInfo,
  MapSchema,
  MapValueInfo,
  ModelElement,
  ModelSet,
  ObjectSchema,
  PropertyInfo,
  RelationshipInfo,
  ResolvedContent,
  Schema,
  TelemetryInfo,
} from './model';
import { elementOf, type ElementNode, type MemberValue } from './nodes';
import type { LinkedModel } from './resolver';
import type { PrimitiveType, GeospatialType } from './versions';

const frozenMaps = new WeakSet<Map<unknown, unknown>>();

/** A Map that refuses changes once built, so a ModelSet stays immutable. */
export class FrozenMap<K, V> extends Map<K, V> {
  constructor(entries?: Iterable<readonly [K, V]>) {
    super(entries);
    frozenMaps.add(this);
    Object.freeze(this);
  }
  override set(key: K, value: V): this {
    if (frozenMaps.has(this)) throw new TypeError('A ModelSet is immutable');
    return super.set(key, value);
  }
  override delete(): boolean {
    throw new TypeError('A ModelSet is immutable');
  }
  override clear(): void {
    throw new TypeError('A ModelSet is immutable');
  }
}

const primitives = new Map<PrimitiveType, Schema>();
const geospatials = new Map<GeospatialType, Schema>();
const SCALED_DECIMAL: Schema = Object.freeze({ kind: 'ScaledDecimal' });

function primitive(type: PrimitiveType): Schema {
  let schema = primitives.get(type);
  if (!schema) primitives.set(type, (schema = Object.freeze({ kind: 'Primitive', type })));
  return schema;
}

function geospatial(type: GeospatialType): Schema {
  let schema = geospatials.get(type);
  if (!schema) geospatials.set(type, (schema = Object.freeze({ kind: 'Geospatial', type })));
  return schema;
}

const EMPTY: readonly never[] = Object.freeze([]);

/** A frozen copy of plain JSON data, so values kept from the documents cannot change later. */
function deepFrozenCopy(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value)
    ? value.map(deepFrozenCopy)
    : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepFrozenCopy(v)]));
  return Object.freeze(copy);
}
const NO_TEXT = Object.freeze({});

class Builder {
  private readonly built = new Map<ElementNode, object>();
  private readonly toFreeze: object[] = [];
  readonly elements = new Map<string, ModelElement>();
  readonly schemas = new Map<string, ComplexSchema>();

  constructor(private readonly linked: LinkedModel) {}

  private common(node: ElementNode): ElementInfo {
    const supplementalProperties: Record<string, unknown> = {};
    for (const [term, { value }] of node.extensionValues) if (term !== 'unit') supplementalProperties[term] = deepFrozenCopy(value);
    const info: { -readonly [K in keyof ElementInfo]: ElementInfo[K] } = {
      dtdlVersion: node.version,
      displayName: node.displayName ? Object.freeze({ ...node.displayName }) : NO_TEXT,
      description: node.description ? Object.freeze({ ...node.description }) : NO_TEXT,
      supplementalTypes: node.adjuncts.length ? node.adjuncts.map((a) => a.term) : EMPTY,
      supplementalProperties,
      undefinedTypes: node.undefinedTypes.length ? [...node.undefinedTypes] : EMPTY,
      undefinedProperties: node.undefinedProperties ? (deepFrozenCopy(node.undefinedProperties) as Record<string, unknown>) : NO_TEXT,
      source: { document: node.source.document, path: node.source.pointer },
    };
    if (node.id !== undefined) info.id = node.id;
    if (node.comment !== undefined) info.comment = node.comment;
    return info;
  }

  private quantity(node: ElementNode): { semanticTypes: readonly string[]; unit?: string } {
    const q: { semanticTypes: readonly string[]; unit?: string } = { semanticTypes: node.semanticType ? [node.semanticType.term] : EMPTY };
    if (node.unit !== undefined) q.unit = node.unit;
    return q;
  }

  /** Memoises and registers an element's info object; `fill` completes it (children may refer back). */
  private make<T extends object>(node: ElementNode, shell: T, fill?: (target: T) => void): T {
    this.built.set(node, shell);
    this.toFreeze.push(shell);
    if (node.id !== undefined) this.elements.set(node.id, shell as unknown as ModelElement);
    fill?.(shell);
    return shell;
  }

  schemaOf(value: MemberValue | undefined): Schema {
    if (!value) return primitive('string'); // unreachable for a valid model
    switch (value.kind) {
      case 'standard':
        if (value.schema.kind === 'primitive') return primitive(value.schema.type);
        if (value.schema.kind === 'geospatial') return geospatial(value.schema.type);
        return SCALED_DECIMAL;
      case 'unitType':
        return Object.freeze({ kind: 'UnitType', unitType: value.unitType, units: Object.freeze([...value.units]) });
      default: {
        const node = elementOf(value) as ElementNode;
        return this.complex(node);
      }
    }
  }

  private complex(node: ElementNode): ComplexSchema {
    const known = this.built.get(node);
    if (known) return known as ComplexSchema;
    let schema: ComplexSchema;
    switch (node.cls) {
      case 'Array': {
        const shell = { ...this.common(node), kind: 'Array' } as { -readonly [K in keyof ArraySchema]: ArraySchema[K] };
        schema = this.make(node, shell, (s) => (s.elementSchema = this.schemaOf(node.values('elementSchema')[0])));
        break;
      }
      case 'Enum': {
        const shell = { ...this.common(node), kind: 'Enum', valueSchema: node.valueSchema ?? 'string' } as { -readonly [K in keyof EnumSchema]: EnumSchema[K] };
        schema = this.make(node, shell, (s) => (s.enumValues = Object.freeze(node.values('enumValues').map((v) => this.enumValue(elementOf(v) as ElementNode)))));
        break;
      }
      case 'Map': {
        const shell = { ...this.common(node), kind: 'Map' } as { -readonly [K in keyof MapSchema]: MapSchema[K] };
        schema = this.make(node, shell, (s) => {
          s.mapKey = this.mapKey(elementOf(node.values('mapKey')[0] as MemberValue) as ElementNode);
          s.mapValue = this.mapValue(elementOf(node.values('mapValue')[0] as MemberValue) as ElementNode);
        });
        break;
      }
      default: {
        const shell = { ...this.common(node), kind: 'Object' } as { -readonly [K in keyof ObjectSchema]: ObjectSchema[K] };
        schema = this.make(node, shell, (s) => (s.fields = Object.freeze(node.values('fields').map((v) => this.field(elementOf(v) as ElementNode)))));
      }
    }
    if (node.id !== undefined) this.schemas.set(node.id, schema);
    return schema;
  }

  private enumValue(node: ElementNode): EnumValueInfo {
    const known = this.built.get(node);
    if (known) return known as EnumValueInfo;
    return this.make(node, {
      ...this.common(node),
      kind: 'EnumValue',
      name: node.name ?? '',
      enumValue: this.linked.enumValues.get(node) ?? '',
    });
  }

  private mapKey(node: ElementNode): MapKeyInfo {
    return this.make(node, { ...this.common(node), kind: 'MapKey', name: node.name ?? '', schema: 'string' });
  }

  private mapValue(node: ElementNode): MapValueInfo {
    const known = this.built.get(node);
    if (known) return known as MapValueInfo;
    const shell = { ...this.common(node), ...this.quantity(node), kind: 'MapValue', name: node.name ?? '' } as { -readonly [K in keyof MapValueInfo]: MapValueInfo[K] };
    return this.make(node, shell, (s) => (s.schema = this.schemaOf(node.values('schema')[0])));
  }

  private field(node: ElementNode): FieldInfo {
    const known = this.built.get(node);
    if (known) return known as FieldInfo;
    const shell = {
      ...this.common(node),
      ...this.quantity(node),
      kind: 'Field',
      name: node.name ?? '',
      required: node.hasCotype('Required'),
    } as { -readonly [K in keyof FieldInfo]: FieldInfo[K] };
    return this.make(node, shell, (s) => (s.schema = this.schemaOf(node.values('schema')[0])));
  }

  private payload(node: ElementNode): CommandPayloadInfo {
    const known = this.built.get(node);
    if (known) return known as CommandPayloadInfo;
    return this.make(node, {
      ...this.common(node),
      ...this.quantity(node),
      kind: node.cls as CommandPayloadInfo['kind'],
      name: node.name ?? '',
      schema: this.schemaOf(node.values('schema')[0]),
      nullable: node.nullable ?? false,
    });
  }

  private property(node: ElementNode, definedIn: string): PropertyInfo {
    const known = this.built.get(node);
    if (known) return known as PropertyInfo;
    return this.make(node, {
      ...this.common(node),
      ...this.quantity(node),
      kind: 'Property',
      name: node.name ?? '',
      definedIn,
      schema: this.schemaOf(node.values('schema')[0]),
      writable: node.writable ?? false,
    });
  }

  content(node: ElementNode): Content {
    const known = this.built.get(node);
    if (known) return known as Content;
    const definedIn = node.partition.id ?? '';
    const base = { ...this.common(node), name: node.name ?? '', definedIn };
    switch (node.cls) {
      case 'Telemetry':
        return this.make<TelemetryInfo>(node, { ...base, ...this.quantity(node), kind: 'Telemetry', schema: this.schemaOf(node.values('schema')[0]) });
      case 'Property':
        return this.property(node, definedIn);
      case 'Command': {
        const command: { -readonly [K in keyof CommandInfo]: CommandInfo[K] } = { ...base, kind: 'Command' };
        const request = elementOf(node.values('request')[0] as MemberValue);
        const response = elementOf(node.values('response')[0] as MemberValue);
        if (request) command.request = this.payload(request);
        if (response) command.response = this.payload(response);
        return this.make(node, command);
      }
      case 'Relationship': {
        const relationship: { -readonly [K in keyof RelationshipInfo]: RelationshipInfo[K] } = {
          ...base,
          kind: 'Relationship',
          minMultiplicity: 0,
          writable: node.writable ?? false,
          properties: new FrozenMap(
            node.values('properties').map((v) => elementOf(v) as ElementNode).map((p) => [p.name ?? '', this.property(p, definedIn)] as const),
          ),
        };
        if (node.target !== undefined) relationship.target = node.target;
        if (node.maxMultiplicity !== undefined) relationship.maxMultiplicity = node.maxMultiplicity;
        return this.make(node, relationship);
      }
      default: {
        const schema = elementOf(node.values('schema')[0] as MemberValue);
        return this.make<ComponentInfo>(node, { ...base, kind: 'Component', schema: schema?.id ?? '' });
      }
    }
  }

  interfaceOf(node: ElementNode): InterfaceInfo {
    const flat = this.linked.contents.get(node) ?? new Map<string, ElementNode>();
    const entries = [...flat].map(([name, content]) => [name, this.content(content)] as const);
    const byKind = <K extends Content['kind']>(kind: K): Array<Extract<Content, { kind: K }>> =>
      entries.map(([, c]) => c).filter((c): c is Extract<Content, { kind: K }> => c.kind === kind);
    const info: InterfaceInfo = {
      ...this.common(node),
      kind: 'Interface',
      id: node.id ?? '',
      extends: Object.freeze(node.values('extends').map((v) => elementOf(v)?.id ?? '')),
      ancestors: Object.freeze((this.linked.ancestors.get(node) ?? []).map((a) => a.id ?? '')),
      contents: new FrozenMap(entries),
      telemetries: Object.freeze(byKind('Telemetry')),
      properties: Object.freeze(byKind('Property')),
      commands: Object.freeze(byKind('Command')),
      relationships: Object.freeze(byKind('Relationship')),
      components: Object.freeze(byKind('Component')),
      schemas: Object.freeze(node.values('schemas').map((v) => this.complex(elementOf(v) as ElementNode))),
    };
    return this.make(node, info);
  }

  freezeAll(): void {
    for (const object of this.toFreeze) {
      for (const value of Object.values(object)) if (value && typeof value === 'object' && !Object.isFrozen(value)) Object.freeze(value);
      Object.freeze(object);
    }
  }
}

class FrozenModelSet implements ModelSet {
  readonly interfaces: ReadonlyMap<string, InterfaceInfo>;
  readonly schemas: ReadonlyMap<string, ComplexSchema>;
  readonly elements: ReadonlyMap<string, ModelElement>;
  private readonly ancestorSets: ReadonlyMap<string, ReadonlySet<string>>;
  private readonly descendants: ReadonlyMap<string, readonly InterfaceInfo[]>;

  constructor(interfaces: Map<string, InterfaceInfo>, schemas: Map<string, ComplexSchema>, elements: Map<string, ModelElement>) {
    this.interfaces = new FrozenMap(interfaces);
    this.schemas = new FrozenMap(schemas);
    this.elements = new FrozenMap(elements);
    const ancestorSets = new Map<string, ReadonlySet<string>>();
    const descendants = new Map<string, InterfaceInfo[]>();
    for (const iface of interfaces.values()) {
      ancestorSets.set(iface.id, new Set(iface.ancestors));
      for (const ancestor of iface.ancestors) {
        let list = descendants.get(ancestor);
        if (!list) descendants.set(ancestor, (list = []));
        list.push(iface);
      }
    }
    for (const list of descendants.values()) Object.freeze(list);
    this.ancestorSets = ancestorSets;
    this.descendants = descendants;
    Object.freeze(this);
  }

  isOfModel(dtmi: string, baseDtmi: string): boolean {
    return dtmi === baseDtmi ? this.interfaces.has(dtmi) : (this.ancestorSets.get(dtmi)?.has(baseDtmi) ?? false);
  }

  interfacesExtending(baseDtmi: string): readonly InterfaceInfo[] {
    return this.descendants.get(baseDtmi) ?? EMPTY;
  }

  resolve(interfaceDtmi: string, path: string): ResolvedContent | undefined {
    let iface = this.interfaces.get(interfaceDtmi);
    const parts = path.split('/');
    for (let i = 0; iface && i < parts.length; i++) {
      const content: Content | undefined = iface.contents.get(parts[i] as string);
      if (!content) return undefined;
      const rest = parts.length - i - 1;
      if (rest === 0) return content;
      if (content.kind === 'Component') {
        iface = this.interfaces.get(content.schema);
        continue;
      }
      if (rest !== 1) return undefined;
      const last = parts[i + 1] as string;
      if (content.kind === 'Command') return last === 'request' ? content.request : last === 'response' ? content.response : undefined;
      if (content.kind === 'Relationship') return content.properties.get(last);
      return undefined;
    }
    return undefined;
  }
}

export function buildModelSet(linked: LinkedModel): ModelSet {
  const builder = new Builder(linked);
  const interfaces = new Map<string, InterfaceInfo>();
  for (const node of linked.interfaces) if (node.id !== undefined) interfaces.set(node.id, builder.interfaceOf(node));
  // Schemas reachable only through `schemas` sections or @id lookups are built above; pick up the rest.
  for (const node of linked.nodes) {
    if (node.id === undefined || builder.elements.has(node.id)) continue;
    if (node.cls === 'Array' || node.cls === 'Enum' || node.cls === 'Map' || node.cls === 'Object') builder.schemaOf({ kind: 'element', node, source: node.source });
  }
  builder.freezeAll();
  return new FrozenModelSet(interfaces, builder.schemas, builder.elements);
}
