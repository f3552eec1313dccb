// Compiles DTDL schemas to JSON Schema and ajv validators. Every sub-schema carries a `dtdlType`
// annotation so validation errors can be phrased in DTDL terms ("is not a double").

import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { GeospatialType, PrimitiveType, Schema } from './model';

export type JsonSchema = Record<string, unknown>;

/** Largest finite IEEE 754 single-precision value. */
export const FLOAT_MAX = 3.4028234663852886e38;

/** Ranges of DTDL's integral types; `exclusiveMax` where the bound itself is not a valid value. */
export const INTEGER_RANGES: Readonly<Partial<Record<PrimitiveType, { min: number; max: number; exclusiveMax?: boolean; text: string }>>> = {
  byte: { min: -128, max: 127, text: '-128 to 127' },
  short: { min: -32768, max: 32767, text: '-32768 to 32767' },
  integer: { min: -2147483648, max: 2147483647, text: '-2147483648 to 2147483647' },
  long: { min: -9223372036854775808, max: 9223372036854775808, exclusiveMax: true, text: '-9223372036854775808 to 9223372036854775807' },
  unsignedByte: { min: 0, max: 255, text: '0 to 255' },
  unsignedShort: { min: 0, max: 65535, text: '0 to 65535' },
  unsignedInteger: { min: 0, max: 4294967295, text: '0 to 4294967295' },
  unsignedLong: { min: 0, max: 18446744073709551616, exclusiveMax: true, text: '0 to 18446744073709551615' },
};

/** ISO 8601 duration: PnYnMnDTnHnMnS (the smallest unit may have a fraction) or PnW; a leading "-" is allowed. */
export const DURATION_PATTERN =
  '^-?P(?:(?=\\d|T\\d)(?:\\d+(?:[.,]\\d+)?Y)?(?:\\d+(?:[.,]\\d+)?M)?(?:\\d+(?:[.,]\\d+)?D)?(?:T(?=\\d)(?:\\d+(?:[.,]\\d+)?H)?(?:\\d+(?:[.,]\\d+)?M)?(?:\\d+(?:[.,]\\d+)?S)?)?|\\d+(?:[.,]\\d+)?W)$';
/** DTDL v4 decimal: decimal digits, an optional point and fraction, an optional sign. */
export const DECIMAL_PATTERN = '^[+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)$';
/** Standard base64 with padding (RFC 4648 section 4). */
export const BASE64_PATTERN = '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$';
/** UUID string form (RFC 9562): 8-4-4-4-12 hexadecimal digits. */
export const UUID_PATTERN = '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$';

/** How each string format is described in a validation error. */
export const FORMAT_HINTS: Readonly<Record<string, string>> = {
  date: 'an RFC 3339 full-date such as "2024-05-31"',
  dateTime: 'an RFC 3339 date-time with offset such as "2024-05-31T13:45:00Z"',
  time: 'an RFC 3339 time such as "13:45:00" or "13:45:00.5+02:00"',
  duration: 'an ISO 8601 duration such as "PT1H30M" or "P2W"',
  decimal: 'a decimal number as a string such as "-12.50"',
  bytes: 'a base64 string such as "AQID"',
  uuid: 'a UUID such as "123e4567-e89b-12d3-a456-426614174000"',
};

function primitiveSchema(type: PrimitiveType): JsonSchema {
  const range = INTEGER_RANGES[type];
  if (range) {
    return range.exclusiveMax
      ? { dtdlType: type, type: 'integer', minimum: range.min, exclusiveMaximum: range.max }
      : { dtdlType: type, type: 'integer', minimum: range.min, maximum: range.max };
  }
  switch (type) {
    case 'boolean':
      return { dtdlType: type, type: 'boolean' };
    case 'string':
      return { dtdlType: type, type: 'string' };
    case 'double':
      return { dtdlType: type, type: 'number' };
    case 'float':
      return { dtdlType: type, type: 'number', minimum: -FLOAT_MAX, maximum: FLOAT_MAX };
    case 'date':
      return { dtdlType: type, type: 'string', format: 'date' };
    case 'dateTime':
      return { dtdlType: type, type: 'string', format: 'date-time' };
    case 'time':
      return { dtdlType: type, type: 'string', format: 'iso-time' };
    case 'duration':
      return { dtdlType: type, type: 'string', pattern: DURATION_PATTERN };
    case 'decimal':
      return { dtdlType: type, type: 'string', pattern: DECIMAL_PATTERN };
    case 'bytes':
      return { dtdlType: type, type: 'string', pattern: BASE64_PATTERN };
    case 'uuid':
      return { dtdlType: type, type: 'string', pattern: UUID_PATTERN };
    default:
      return { dtdlType: type };
  }
}

const position = (): JsonSchema => ({ dtdlType: 'position', type: 'array', minItems: 2, maxItems: 3, items: { dtdlType: 'coordinate', type: 'number' } });
const lineCoordinates = (): JsonSchema => ({ dtdlType: 'lineString coordinates', type: 'array', minItems: 2, items: position() });
const ring = (): JsonSchema => ({ dtdlType: 'linear ring', type: 'array', minItems: 4, dtdlClosedRing: true, items: position() });
const polygonCoordinates = (): JsonSchema => ({ dtdlType: 'polygon coordinates', type: 'array', items: ring() });

const GEOJSON: Record<GeospatialType, { type: string; coordinates: () => JsonSchema }> = {
  point: { type: 'Point', coordinates: position },
  multiPoint: { type: 'MultiPoint', coordinates: () => ({ dtdlType: 'multiPoint coordinates', type: 'array', items: position() }) },
  lineString: { type: 'LineString', coordinates: lineCoordinates },
  multiLineString: { type: 'MultiLineString', coordinates: () => ({ dtdlType: 'multiLineString coordinates', type: 'array', items: lineCoordinates() }) },
  polygon: { type: 'Polygon', coordinates: polygonCoordinates },
  multiPolygon: { type: 'MultiPolygon', coordinates: () => ({ dtdlType: 'multiPolygon coordinates', type: 'array', items: polygonCoordinates() }) },
};

function geospatialSchema(type: GeospatialType): JsonSchema {
  const geo = GEOJSON[type];
  return {
    dtdlType: type,
    type: 'object',
    required: ['type', 'coordinates'],
    additionalProperties: false,
    properties: {
      type: { dtdlType: `GeoJSON type "${geo.type}"`, const: geo.type },
      coordinates: geo.coordinates(),
      bbox: { dtdlType: 'bbox', type: 'array', minItems: 4, items: { dtdlType: 'coordinate', type: 'number' } },
    },
  };
}

/**
 * The JSON Schema of a DTDL schema. Schemas that contain themselves (DTDL v4) become
 * `definitions` entries reached through `$ref`.
 */
export function toJsonSchema(root: Schema): JsonSchema {
  const definitions: Record<string, JsonSchema> = {};
  const names = new Map<Schema, string>();
  const inProgress = new Set<Schema>();
  const compile = (schema: Schema): JsonSchema => {
    switch (schema.kind) {
      case 'Primitive':
        return primitiveSchema(schema.type);
      case 'Geospatial':
        return geospatialSchema(schema.type);
      case 'ScaledDecimal':
        return {
          dtdlType: 'scaledDecimal',
          type: 'object',
          required: ['scale', 'value'],
          additionalProperties: false,
          properties: { scale: primitiveSchema('short'), value: primitiveSchema('decimal') },
        };
      case 'UnitType':
        return { dtdlType: schema.unitType, type: 'string', enum: [...schema.units] };
      default:
        break;
    }
    if (inProgress.has(schema)) {
      let name = names.get(schema);
      if (name === undefined) names.set(schema, (name = `s${names.size}`));
      return { $ref: `#/definitions/${name}` };
    }
    inProgress.add(schema);
    let json: JsonSchema;
    switch (schema.kind) {
      case 'Array':
        json = { dtdlType: 'Array', type: 'array', items: compile(schema.elementSchema) };
        break;
      case 'Map':
        json = { dtdlType: 'Map', type: 'object', additionalProperties: compile(schema.mapValue.schema) };
        break;
      case 'Enum': {
        const values = schema.enumValues.map((v) => v.enumValue);
        json = values.length > 0 ? { dtdlType: 'Enum', enum: values } : { dtdlType: 'Enum', not: {} };
        break;
      }
      default: {
        const properties: Record<string, JsonSchema> = {};
        for (const field of schema.fields) properties[field.name] = compile(field.schema);
        const required = schema.fields.filter((f) => f.required).map((f) => f.name);
        json = { dtdlType: 'Object', type: 'object', properties, additionalProperties: false };
        if (required.length > 0) json['required'] = required;
      }
    }
    inProgress.delete(schema);
    const name = names.get(schema);
    if (name === undefined) return json;
    definitions[name] = json;
    return { $ref: `#/definitions/${name}` };
  };
  const json = compile(root);
  return Object.keys(definitions).length > 0 ? { ...json, definitions } : json;
}

/** True when a GeoJSON linear ring ends at its first position. */
function closedRing(_schema: unknown, data: unknown): boolean {
  if (!Array.isArray(data) || data.length === 0) return true;
  const first = data[0];
  const last = data[data.length - 1];
  if (!Array.isArray(first) || !Array.isArray(last) || first.length !== last.length) return false;
  return first.every((coordinate, i) => coordinate === last[i]);
}

/** An ajv instance set up for compiled DTDL schemas. `explain` adds all errors with their schemas. */
export function createAjv(explain: boolean): Ajv {
  const ajv = new Ajv({ strict: true, strictNumbers: true, allErrors: explain, verbose: explain, messages: explain });
  addFormats(ajv, ['date', 'date-time', 'iso-time']);
  ajv.addKeyword({ keyword: 'dtdlType', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'dtdlClosedRing', schemaType: 'boolean', type: 'array', validate: closedRing, errors: false });
  return ajv;
}

export type { ValidateFunction };
