// What differs between DTDL v2, v3 and v4: limits, primitive schemas, reserved strings and the
// handful of language rules that changed. Everything version-dependent is looked up here.

import { V2_QUANTITY_TERMS } from './units';

export type DtdlVersion = 2 | 3 | 4;

export const DTDL_VERSIONS: readonly DtdlVersion[] = [2, 3, 4];

/** Numerical limits; a v4 limit extension (e.g. ONVIF) replaces some of them. */
export interface Limits {
  /** Max characters of a `name`. */
  readonly nameLength: number;
  /** Max characters of each `displayName` string. */
  readonly displayNameLength: number;
  /** Max characters of each `description` string and of `comment`. */
  readonly descriptionLength: number;
  readonly commentLength: number;
  /** Max values directly in one `extends` member (v2 only). */
  readonly extendsDirect: number;
  /** Max values among all `extends` members in an Interface's hierarchy (v3+). */
  readonly extendsTotal: number;
  /** Max `extends` members on any path. */
  readonly extendsDepth: number;
  /** Max nesting of complex schemas (Array, Map, Object). */
  readonly schemaDepth: number;
  /** Max contents of an Interface, inherited included (v2). */
  readonly contents: number;
  /** Max elements in an Interface's contents hierarchy, inherited included (v3+). */
  readonly hierarchyElements: number;
  /** Max enumValues of an Enum (v2). */
  readonly enumValues: number;
  /** Max fields of an Object (v2). */
  readonly fields: number;
  /** Max properties of a Relationship (v2). */
  readonly relationshipProperties: number;
  /** Max value of a Relationship's maxMultiplicity (v2). */
  readonly maxMultiplicity: number;
  /** Max bytes of the JSON text of one Interface (v3+). */
  readonly interfaceBytes: number;
}

const UNLIMITED = Number.MAX_SAFE_INTEGER;

export const CORE_LIMITS: Readonly<Record<DtdlVersion, Limits>> = {
  2: {
    nameLength: 64,
    displayNameLength: 64,
    descriptionLength: 512,
    commentLength: 512,
    extendsDirect: 2,
    extendsTotal: UNLIMITED,
    extendsDepth: 10,
    schemaDepth: 5,
    contents: 300,
    hierarchyElements: UNLIMITED,
    enumValues: 100,
    fields: 30,
    relationshipProperties: 300,
    maxMultiplicity: 500,
    interfaceBytes: UNLIMITED,
  },
  3: {
    nameLength: 512,
    displayNameLength: 512,
    descriptionLength: 512,
    commentLength: 512,
    extendsDirect: UNLIMITED,
    extendsTotal: 1024,
    extendsDepth: 10,
    schemaDepth: 5,
    contents: UNLIMITED,
    hierarchyElements: 100_000,
    enumValues: UNLIMITED,
    fields: UNLIMITED,
    relationshipProperties: UNLIMITED,
    maxMultiplicity: UNLIMITED,
    interfaceBytes: 1024 * 1024,
  },
  4: {
    nameLength: 512,
    displayNameLength: 512,
    descriptionLength: 512,
    commentLength: 512,
    extendsDirect: UNLIMITED,
    extendsTotal: 1024,
    extendsDepth: 12,
    schemaDepth: 8,
    contents: UNLIMITED,
    hierarchyElements: 100_000,
    enumValues: UNLIMITED,
    fields: UNLIMITED,
    relationshipProperties: UNLIMITED,
    maxMultiplicity: UNLIMITED,
    interfaceBytes: 1024 * 1024,
  },
};

/** Material element classes of DTDL (CommandPayload exists only in v2; CommandRequest/Response from v3). */
export type ClassName =
  | 'Interface'
  | 'Telemetry'
  | 'Property'
  | 'Command'
  | 'CommandPayload'
  | 'CommandRequest'
  | 'CommandResponse'
  | 'Relationship'
  | 'Component'
  | 'Array'
  | 'Enum'
  | 'EnumValue'
  | 'Map'
  | 'MapKey'
  | 'MapValue'
  | 'Object'
  | 'Field';

const CLASSES_V2: readonly ClassName[] = [
  'Interface', 'Telemetry', 'Property', 'Command', 'CommandPayload', 'Relationship', 'Component',
  'Array', 'Enum', 'EnumValue', 'Map', 'MapKey', 'MapValue', 'Object', 'Field',
];
const CLASSES_V3: readonly ClassName[] = [
  'Interface', 'Telemetry', 'Property', 'Command', 'CommandRequest', 'CommandResponse', 'Relationship', 'Component',
  'Array', 'Enum', 'EnumValue', 'Map', 'MapKey', 'MapValue', 'Object', 'Field',
];

export function classesOf(version: DtdlVersion): readonly ClassName[] {
  return version === 2 ? CLASSES_V2 : CLASSES_V3;
}

/** Primitive schema terms. */
export type PrimitiveType =
  | 'boolean' | 'date' | 'dateTime' | 'double' | 'duration' | 'float' | 'integer' | 'long' | 'string' | 'time'
  | 'byte' | 'bytes' | 'decimal' | 'short' | 'unsignedByte' | 'unsignedInteger' | 'unsignedLong' | 'unsignedShort' | 'uuid';

export type GeospatialType = 'point' | 'multiPoint' | 'lineString' | 'multiLineString' | 'polygon' | 'multiPolygon';

const PRIMITIVES_V3: readonly PrimitiveType[] = ['boolean', 'date', 'dateTime', 'double', 'duration', 'float', 'integer', 'long', 'string', 'time'];
const PRIMITIVES_V4: readonly PrimitiveType[] = [
  ...PRIMITIVES_V3, 'byte', 'bytes', 'decimal', 'short', 'unsignedByte', 'unsignedInteger', 'unsignedLong', 'unsignedShort', 'uuid',
];
export const GEOSPATIAL_TYPES: readonly GeospatialType[] = ['point', 'multiPoint', 'lineString', 'multiLineString', 'polygon', 'multiPolygon'];

export function primitivesOf(version: DtdlVersion): readonly PrimitiveType[] {
  return version === 4 ? PRIMITIVES_V4 : PRIMITIVES_V3;
}

/** Schemas a semantic type (unit) may be applied to. */
export function numericSchemasOf(version: DtdlVersion): readonly PrimitiveType[] {
  return version === 4
    ? ['byte', 'decimal', 'double', 'float', 'integer', 'long', 'short', 'unsignedByte', 'unsignedInteger', 'unsignedLong', 'unsignedShort']
    : ['double', 'float', 'integer', 'long'];
}

/** A standard schema string (term or DTMI) resolved to what it names. */
export type StandardSchema =
  | { readonly kind: 'primitive'; readonly type: PrimitiveType }
  | { readonly kind: 'geospatial'; readonly type: GeospatialType }
  | { readonly kind: 'scaledDecimal' };

/**
 * Looks up a schema string from the Standard schemas tables. The term column and the DTMI column
 * are both accepted; DTMI forms of any DTDL version that defines the term are accepted, as the
 * reference parser does ("dtmi:dtdl:instance:Schema:double;2" is a valid v3 schema).
 */
export function standardSchema(text: string, version: DtdlVersion): StandardSchema | undefined {
  const primitives = primitivesOf(version);
  if ((primitives as readonly string[]).includes(text)) return { kind: 'primitive', type: text as PrimitiveType };
  if ((GEOSPATIAL_TYPES as readonly string[]).includes(text)) return { kind: 'geospatial', type: text as GeospatialType };
  if (text === 'scaledDecimal' && version === 4) return { kind: 'scaledDecimal' };
  const primitive = /^dtmi:dtdl:instance:Schema:([A-Za-z]+);([234])$/.exec(text);
  if (primitive) {
    const [, term = '', suffix] = primitive;
    const definedIn = (primitivesOf(Number(suffix) as DtdlVersion) as readonly string[]).includes(term);
    if (definedIn && (primitives as readonly string[]).includes(term)) return { kind: 'primitive', type: term as PrimitiveType };
    return undefined;
  }
  const geo = /^dtmi:standard:schema:geospatial:([A-Za-z]+);([234])$/.exec(text);
  if (geo && (GEOSPATIAL_TYPES as readonly string[]).includes(geo[1] ?? '')) return { kind: 'geospatial', type: geo[1] as GeospatialType };
  if (text === 'dtmi:standard:schema:scaledDecimal;4' && version === 4) return { kind: 'scaledDecimal' };
  return undefined;
}

/** The DTMI form of a class term for a version, e.g. "dtmi:dtdl:class:Telemetry;3". */
export function classDtmi(cls: string, version: DtdlVersion): string {
  return `dtmi:dtdl:class:${cls};${version}`;
}

/** The DTMI form of a core member name, e.g. "dtmi:dtdl:property:schema;3". */
export function propertyDtmi(member: string, version: DtdlVersion): string {
  return `dtmi:dtdl:property:${member};${version}`;
}

// The "Reserved strings" tables. They decide whether an unknown @type or member name is merely
// undefined (allowed under an undefined extension, or in v2's open world) or a misuse of a DTDL term.
const RESERVED_COMMON = [
  'Array', 'asynchronous', 'boolean', 'Boolean', 'Command', 'CommandPayload', 'CommandRequest', 'CommandResponse', 'commandType', 'CommandType', 'comment',
  'ComplexSchema', 'Component', 'Content', 'contents', 'date', 'Date', 'dateTime', 'DateTime', 'description', 'displayName',
  'double', 'Double', 'duration', 'Duration', 'elementSchema', 'Entity', 'Enum', 'enumValue', 'EnumValue', 'enumValues',
  'exponent', 'extends', 'Field', 'fields', 'float', 'Float', 'integer', 'Integer', 'Interface', 'languageMajorVersion',
  'lineString', 'long', 'Long', 'Map', 'mapKey', 'MapKey', 'mapValue', 'MapValue', 'maxMultiplicity', 'minMultiplicity',
  'multiLineString', 'multiPoint', 'multiPolygon', 'name', 'NamedEntity', 'NumericSchema', 'Object', 'point', 'polygon',
  'PrimitiveSchema', 'properties', 'Property', 'Relationship', 'request', 'response', 'schema', 'Schema', 'SchemaField',
  'schemas', 'SemanticType', 'SemanticUnit', 'string', 'String', 'symbol', 'synchronous', 'target', 'Telemetry',
  'TemporalSchema', 'time', 'Time', 'Unit', 'UnitAttribute', 'valueSchema', 'writable',
];
const RESERVED_V3_ONLY = [
  'AdjunctType', 'Alias', 'aliasFor', 'DtdlExtension', 'LatentType', 'metamodel',
  'model', 'NamedLatentType',
];
const RESERVED_V4_ONLY = [
  'byte', 'Byte', 'bytes', 'Bytes', 'decimal', 'Decimal', 'nullable', 'scaledDecimal', 'short', 'Short', 'unsignedByte',
  'UnsignedByte', 'unsignedInteger', 'UnsignedInteger', 'unsignedLong', 'UnsignedLong', 'unsignedShort', 'UnsignedShort',
  'uuid', 'Uuid',
];
// v2 also reserves its native semantic types, unit types, units and unit prefixes.
const RESERVED_V2_ONLY = [
  'baseUnit', 'bottomUnit', 'topUnit', 'prefix', 'unit', 'BinaryPrefix', 'BinaryUnit', 'DecimalPrefix', 'DecimalUnit',
  'QuantitativeType', 'RatioUnit', 'SymbolicUnit', 'UnitPrefix',
  'atto', 'centi', 'deci', 'deka', 'exa', 'exbi', 'femto', 'gibi', 'giga', 'hecto', 'kibi', 'kilo', 'mebi', 'mega',
  'micro', 'milli', 'nano', 'pebi', 'peta', 'pico', 'tebi', 'tera', 'yobi', 'yocto', 'yotta', 'zebi', 'zepto', 'zetta',
];

const reservedCache = new Map<DtdlVersion, ReadonlySet<string>>();

/** Reserved terms of a version. */
export function reservedTerms(version: DtdlVersion): ReadonlySet<string> {
  let set = reservedCache.get(version);
  if (!set) {
    const terms = [...RESERVED_COMMON];
    if (version === 2) terms.push(...RESERVED_V2_ONLY, ...V2_QUANTITY_TERMS);
    else terms.push(...RESERVED_V3_ONLY);
    if (version === 4) terms.push(...RESERVED_V4_ONLY);
    set = new Set(terms);
    reservedCache.set(version, set);
  }
  return set;
}

/** A string is "reserved" if it is a reserved term or the DTMI form of one for this version. */
export function isReserved(text: string, version: DtdlVersion): boolean {
  if (reservedTerms(version).has(text)) return true;
  const dtdl = /^dtmi:dtdl:(?:class|property|instance:Schema|instance:CommandType|meta):([A-Za-z]+);([0-9]+)$/.exec(text);
  if (dtdl) return Number(dtdl[2]) === version;
  return /^dtmi:standard:/.test(text);
}
