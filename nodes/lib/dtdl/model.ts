// The ModelSet: a parsed, resolved and validated set of DTDL models, as other Twinflow nodes read it.
//
// Everything reachable from a ModelSet is frozen: objects with Object.freeze, maps with a map whose
// set/delete/clear throw. Content is flattened (own + inherited) so a twin, history or OPC UA node can
// look up `model.interfaces.get(id).contents.get(name)` without walking `extends` itself.
// DTDL v4 allows self-referencing schemas, so a Schema graph may contain cycles: walk it with a
// visited set and do not JSON.stringify a Schema.

import type { GeospatialType, PrimitiveType } from './versions';

export type { GeospatialType, PrimitiveType } from './versions';
export type DtdlVersion = 2 | 3 | 4;

/** Text by language code ("en", "de-CH"). Empty when the model gives none. */
export type LocalizedText = Readonly<Record<string, string>>;

/** Where an element was written: document index (as given to parseModels) and JSON pointer. */
export interface SourceLocation {
  readonly document: number;
  readonly path: string;
}

/** Members every DTDL element has. */
export interface ElementInfo {
  /** The explicit `@id`, when the model gives one. */
  readonly id?: string;
  /** DTDL major version the element is written in (from its active `@context`). */
  readonly dtdlVersion: DtdlVersion;
  readonly displayName: LocalizedText;
  readonly description: LocalizedText;
  readonly comment?: string;
  /**
   * Co-types defined by DTDL v2 or by extensions, as terms: semantic types ("Temperature"),
   * "Historized", "ValueAnnotation", "Mqtt", "Required", …
   */
  readonly supplementalTypes: readonly string[];
  /** Members added by co-types, by term: `annotates`, `overrides`, `index`, `ttl`, `payloadFormat`, … (not `unit`). */
  readonly supplementalProperties: Readonly<Record<string, unknown>>;
  /** Co-types no known definition explains (v2's open world, or allowed undefined extensions). */
  readonly undefinedTypes: readonly string[];
  /** Members of informally co-typed elements that no definition explains, as written. */
  readonly undefinedProperties: Readonly<Record<string, unknown>>;
  readonly source: SourceLocation;
}

/** A value that may carry a semantic type and unit (Telemetry, Property, command payloads, Field, MapValue). */
export interface Quantity {
  /** Semantic types, e.g. ["Temperature"]; DTDL allows at most one. Empty when there is none. */
  readonly semanticTypes: readonly string[];
  /** Unit term of the semantic type, e.g. "degreeCelsius". */
  readonly unit?: string;
}

// ---- Schemas -------------------------------------------------------------------------------------

/** A primitive schema: boolean, date, dateTime, double, duration, float, integer, long, string, time; v4 adds byte, bytes, decimal, short, unsigned*, uuid. */
export interface PrimitiveSchema {
  readonly kind: 'Primitive';
  readonly type: PrimitiveType;
}

/** A GeoJSON geometry: point, multiPoint, lineString, multiLineString, polygon, multiPolygon. */
export interface GeospatialSchema {
  readonly kind: 'Geospatial';
  readonly type: GeospatialType;
}

/** DTDL v4 scaledDecimal: an object { scale: short, value: decimal string }. */
export interface ScaledDecimalSchema {
  readonly kind: 'ScaledDecimal';
}

/** A unit type used as a schema (QuantitativeTypes), e.g. "TemperatureUnit": its value is one of `units`. */
export interface UnitTypeSchema {
  readonly kind: 'UnitType';
  readonly unitType: string;
  readonly units: readonly string[];
}

export interface ArraySchema extends ElementInfo {
  readonly kind: 'Array';
  readonly elementSchema: Schema;
}

export interface EnumValueInfo extends ElementInfo {
  readonly kind: 'EnumValue';
  readonly name: string;
  /** The on-the-wire value: an integer or a string, per the Enum's valueSchema. */
  readonly enumValue: number | string;
}

export interface EnumSchema extends ElementInfo {
  readonly kind: 'Enum';
  readonly valueSchema: 'integer' | 'string';
  readonly enumValues: readonly EnumValueInfo[];
}

export interface MapKeyInfo extends ElementInfo {
  readonly kind: 'MapKey';
  readonly name: string;
  readonly schema: 'string';
}

export interface MapValueInfo extends ElementInfo, Quantity {
  readonly kind: 'MapValue';
  readonly name: string;
  readonly schema: Schema;
}

export interface MapSchema extends ElementInfo {
  readonly kind: 'Map';
  readonly mapKey: MapKeyInfo;
  readonly mapValue: MapValueInfo;
}

export interface FieldInfo extends ElementInfo, Quantity {
  readonly kind: 'Field';
  readonly name: string;
  readonly schema: Schema;
  /** True when co-typed Required (Requirement extension): an instance must have the field. */
  readonly required: boolean;
}

export interface ObjectSchema extends ElementInfo {
  readonly kind: 'Object';
  readonly fields: readonly FieldInfo[];
}

/** Array, Enum, Map and Object: the schemas that are DTDL elements and may have an `@id`. */
export type ComplexSchema = ArraySchema | EnumSchema | MapSchema | ObjectSchema;

/** Every DTDL schema, as found in `schema`, `elementSchema` and `mapValue.schema`. */
export type Schema = PrimitiveSchema | GeospatialSchema | ScaledDecimalSchema | UnitTypeSchema | ComplexSchema;

// ---- Contents ------------------------------------------------------------------------------------

export interface ContentBase extends ElementInfo {
  /** The programming name, unique among the Interface's own and inherited contents. */
  readonly name: string;
  /** DTMI of the Interface that declares this content (differs from the holder when inherited). */
  readonly definedIn: string;
}

export interface TelemetryInfo extends ContentBase, Quantity {
  readonly kind: 'Telemetry';
  readonly schema: Schema;
}

export interface PropertyInfo extends ContentBase, Quantity {
  readonly kind: 'Property';
  readonly schema: Schema;
  /** Whether a twin's desired value may be written (default false). */
  readonly writable: boolean;
}

/** A command's request or response (DTDL v3/v4 CommandRequest/CommandResponse; v2 CommandPayload). */
export interface CommandPayloadInfo extends ElementInfo, Quantity {
  readonly kind: 'CommandRequest' | 'CommandResponse' | 'CommandPayload';
  readonly name: string;
  readonly schema: Schema;
  /** DTDL v4: a null or missing payload is valid. Always false before v4. */
  readonly nullable: boolean;
}

export interface CommandInfo extends ContentBase {
  readonly kind: 'Command';
  readonly request?: CommandPayloadInfo;
  readonly response?: CommandPayloadInfo;
}

export interface RelationshipInfo extends ContentBase {
  readonly kind: 'Relationship';
  /** DTMI of the target Interface; absent means any Interface. Not necessarily part of the ModelSet. */
  readonly target?: string;
  /** Always 0 (DTDL allows only 0). */
  readonly minMultiplicity: number;
  /** Absent means unbounded (DTDL v2: 500). */
  readonly maxMultiplicity?: number;
  readonly writable: boolean;
  /** Relationship properties by name. */
  readonly properties: ReadonlyMap<string, PropertyInfo>;
}

export interface ComponentInfo extends ContentBase {
  readonly kind: 'Component';
  /** DTMI of the Component's Interface; look it up in `ModelSet.interfaces`. */
  readonly schema: string;
}

export type Content = TelemetryInfo | PropertyInfo | CommandInfo | RelationshipInfo | ComponentInfo;

export interface InterfaceInfo extends ElementInfo {
  readonly kind: 'Interface';
  readonly id: string;
  /** DTMIs of the Interfaces this one extends directly. */
  readonly extends: readonly string[];
  /** DTMIs of every Interface this one extends, transitively, nearest first. */
  readonly ancestors: readonly string[];
  /** Own and inherited contents by name, own first. */
  readonly contents: ReadonlyMap<string, Content>;
  readonly telemetries: readonly TelemetryInfo[];
  readonly properties: readonly PropertyInfo[];
  readonly commands: readonly CommandInfo[];
  readonly relationships: readonly RelationshipInfo[];
  readonly components: readonly ComponentInfo[];
  /** The complex schemas of this Interface's `schemas` section. */
  readonly schemas: readonly ComplexSchema[];
}

/** Any element that can carry an explicit `@id`. */
export type ModelElement =
  | InterfaceInfo
  | Content
  | CommandPayloadInfo
  | ComplexSchema
  | EnumValueInfo
  | MapKeyInfo
  | MapValueInfo
  | FieldInfo;

/** What `ModelSet.resolve` can return: a content, a command payload, or a Relationship property. */
export type ResolvedContent = Content | CommandPayloadInfo;

/** A parsed, resolved, valid and immutable set of DTDL models. */
export interface ModelSet {
  /** Every Interface by DTMI, inline ones (Component schemas, extends) included. */
  readonly interfaces: ReadonlyMap<string, InterfaceInfo>;
  /** Every complex schema (Array, Enum, Map, Object) that has an `@id`, by DTMI. */
  readonly schemas: ReadonlyMap<string, ComplexSchema>;
  /** Every element that has an explicit `@id`, by DTMI. */
  readonly elements: ReadonlyMap<string, ModelElement>;
  /** True when `dtmi` is `baseDtmi` or extends it, transitively. */
  isOfModel(dtmi: string, baseDtmi: string): boolean;
  /** Every Interface that extends `baseDtmi`, transitively (`baseDtmi` itself not included). */
  interfacesExtending(baseDtmi: string): readonly InterfaceInfo[];
  /**
   * Resolves a content path in an Interface: "speed", "spindle/speed" (into a Component's
   * Interface), "startCycle/request", "startCycle/response", "contains/position" (a
   * Relationship property). Undefined when the path names nothing.
   */
  resolve(interfaceDtmi: string, path: string): ResolvedContent | undefined;
}
