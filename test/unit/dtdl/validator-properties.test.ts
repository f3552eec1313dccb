// Property-based: on generated DTDL schemas and values, validateInstance (DTDL -> JSON Schema -> ajv)
// agrees with an independent reference checker that reads the DTDL schema JSON directly.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { validateInstance, type ModelSet } from '../../../nodes/lib/dtdl';
import { assertValid, iface, telemetry, V4 } from './helpers';

type DtdlSchema = string | { '@type': string; [key: string]: unknown };

// ---- The reference: DTDL semantics written out directly, without JSON Schema or regex tables. ----

const INTEGER_BOUNDS: Record<string, [number, number, boolean]> = {
  byte: [-128, 127, false],
  short: [-32768, 32767, false],
  integer: [-2147483648, 2147483647, false],
  long: [-(2 ** 63), 2 ** 63, true],
  unsignedByte: [0, 255, false],
  unsignedShort: [0, 65535, false],
  unsignedInteger: [0, 4294967295, false],
  unsignedLong: [0, 2 ** 64, true],
};

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function isDate(s: string): boolean {
  if (s.length !== 10 || s[4] !== '-' || s[7] !== '-') return false;
  for (const i of [0, 1, 2, 3, 5, 6, 8, 9]) if (!isDigit(s[i])) return false;
  const year = Number(s.slice(0, 4));
  const month = Number(s.slice(5, 7));
  const day = Number(s.slice(8, 10));
  return month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month);
}

/** hh:mm:ss[.fraction][Z | ±hh[[:]mm]] (RFC 3339 / ISO 8601), with a leap second only at 23:59 UTC. */
function isTime(s: string, offsetRequired: boolean): boolean {
  if (s.length < 8 || s[2] !== ':' || s[5] !== ':') return false;
  for (const i of [0, 1, 3, 4, 6, 7]) if (!isDigit(s[i])) return false;
  let i = 8;
  if (s[i] === '.') {
    i++;
    const start = i;
    while (isDigit(s[i])) i++;
    if (i === start) return false;
  }
  const hour = Number(s.slice(0, 2));
  const minute = Number(s.slice(3, 5));
  const second = Number(s.slice(6, i));
  let offsetMinutes = 0;
  const zone = s.slice(i);
  if (zone === '') {
    if (offsetRequired) return false;
  } else if (zone === 'Z' || zone === 'z') {
    // UTC
  } else {
    const sign = zone[0];
    if (sign !== '+' && sign !== '-') return false;
    const rest = zone.slice(1);
    let h: string;
    let m = '00';
    if (/^\d\d$/.test(rest)) h = rest;
    else if (/^\d\d:?\d\d$/.test(rest)) {
      h = rest.slice(0, 2);
      m = rest.slice(-2);
    } else return false;
    if (Number(h) > 23 || Number(m) > 59) return false;
    offsetMinutes = (sign === '-' ? -1 : 1) * (Number(h) * 60 + Number(m));
  }
  if (hour <= 23 && minute <= 59 && second < 60) return true;
  const utc = (((hour * 60 + minute - offsetMinutes) % 1440) + 1440) % 1440;
  return utc === 23 * 60 + 59 && second < 61 && hour <= 23 && minute <= 59;
}

function isDateTime(s: string): boolean {
  const parts = s.split(/[Tt]|\s/);
  return parts.length === 2 && isDate(parts[0] as string) && isTime(parts[1] as string, true);
}

/** ISO 8601: [-]P then nW alone, or Y M D components and T H M S components (at least one). */
function isDuration(s: string): boolean {
  let i = s.startsWith('-') ? 1 : 0;
  if (s[i] !== 'P') return false;
  i++;
  const number = (): boolean => {
    const start = i;
    while (isDigit(s[i])) i++;
    if (i === start) return false;
    if (s[i] === '.' || s[i] === ',') {
      i++;
      const f = i;
      while (isDigit(s[i])) i++;
      if (i === f) return false;
    }
    return true;
  };
  const components = (units: string): number => {
    let found = 0;
    let allowed = units;
    while (i < s.length && isDigit(s[i])) {
      if (!number()) return -1;
      const unit = s[i] ?? '';
      const at = allowed.indexOf(unit);
      if (at < 0) return -1;
      allowed = allowed.slice(at + 1);
      i++;
      found++;
    }
    return found;
  };
  const save = i;
  if (number() && s[i] === 'W' && i + 1 === s.length) return true;
  i = save;
  const date = components('YMD');
  if (date < 0) return false;
  let time = 0;
  if (s[i] === 'T') {
    i++;
    time = components('HMS');
    if (time <= 0) return false;
  }
  return i === s.length && date + time > 0;
}

function isDecimal(s: string): boolean {
  let i = s[0] === '+' || s[0] === '-' ? 1 : 0;
  let digits = 0;
  while (isDigit(s[i])) (i++, digits++);
  if (s[i] === '.') {
    i++;
    while (isDigit(s[i])) (i++, digits++);
  }
  return i === s.length && digits > 0;
}

function isBase64(s: string): boolean {
  if (s.length % 4 !== 0) return false;
  const body = s.replace(/=+$/, '');
  if (s.length - body.length > 2) return false;
  if (body.length % 4 === 1) return false;
  return [...body].every((c) => /[A-Za-z0-9+/]/.test(c));
}

function isUuid(s: string): boolean {
  return s.length === 36 && [...s].every((c, i) => ([8, 13, 18, 23].includes(i) ? c === '-' : /[0-9a-fA-F]/.test(c)));
}

const isPosition = (p: unknown): boolean => Array.isArray(p) && (p.length === 2 || p.length === 3) && p.every((c) => typeof c === 'number' && Number.isFinite(c));
const isLine = (l: unknown): boolean => Array.isArray(l) && l.length >= 2 && l.every(isPosition);
const isRing = (r: unknown): boolean =>
  Array.isArray(r) && r.length >= 4 && r.every(isPosition) && (r[0] as number[]).every((c, i) => c === (r[r.length - 1] as number[])[i]) && (r[0] as number[]).length === (r[r.length - 1] as number[]).length;
const isPolygon = (p: unknown): boolean => Array.isArray(p) && p.every(isRing);

const GEO: Record<string, [string, (c: unknown) => boolean]> = {
  point: ['Point', isPosition],
  multiPoint: ['MultiPoint', (c) => Array.isArray(c) && c.every(isPosition)],
  lineString: ['LineString', isLine],
  multiLineString: ['MultiLineString', (c) => Array.isArray(c) && c.every(isLine)],
  polygon: ['Polygon', isPolygon],
  multiPolygon: ['MultiPolygon', (c) => Array.isArray(c) && c.every(isPolygon)],
};

function conforms(schema: DtdlSchema, value: unknown): boolean {
  if (typeof schema === 'string') {
    const bounds = INTEGER_BOUNDS[schema];
    if (bounds) {
      const [min, max, exclusive] = bounds;
      return typeof value === 'number' && Number.isInteger(value) && value >= min && (exclusive ? value < max : value <= max);
    }
    const geo = GEO[schema];
    if (geo) {
      if (!isPlainObject(value) || value['type'] !== geo[0] || !geo[1](value['coordinates'])) return false;
      const bbox = value['bbox'];
      if (bbox !== undefined && !(Array.isArray(bbox) && bbox.length >= 4 && bbox.every((n) => typeof n === 'number' && Number.isFinite(n)))) return false;
      return Object.keys(value).every((k) => k === 'type' || k === 'coordinates' || k === 'bbox');
    }
    switch (schema) {
      case 'boolean':
        return typeof value === 'boolean';
      case 'string':
        return typeof value === 'string';
      case 'double':
        return typeof value === 'number' && Number.isFinite(value);
      case 'float':
        return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= 3.4028234663852886e38;
      case 'date':
        return typeof value === 'string' && isDate(value);
      case 'time':
        return typeof value === 'string' && isTime(value, false);
      case 'dateTime':
        return typeof value === 'string' && isDateTime(value);
      case 'duration':
        return typeof value === 'string' && isDuration(value);
      case 'decimal':
        return typeof value === 'string' && isDecimal(value);
      case 'bytes':
        return typeof value === 'string' && isBase64(value);
      case 'uuid':
        return typeof value === 'string' && isUuid(value);
      case 'scaledDecimal':
        return (
          isPlainObject(value) &&
          Object.keys(value).every((k) => k === 'scale' || k === 'value') &&
          conforms('short', value['scale']) &&
          conforms('decimal', value['value'])
        );
    }
    throw new Error(`reference checker: unknown schema ${schema}`);
  }
  switch (schema['@type']) {
    case 'Array':
      return Array.isArray(value) && value.every((v) => conforms(schema['elementSchema'] as DtdlSchema, v));
    case 'Map':
      return isPlainObject(value) && Object.values(value).every((v) => conforms((schema['mapValue'] as { schema: DtdlSchema }).schema, v));
    case 'Enum':
      return ((schema['enumValues'] as Array<{ enumValue: unknown }>) ?? []).some((e) => e.enumValue === value);
    default: {
      if (!isPlainObject(value)) return false;
      const fields = schema['fields'] as Array<{ '@type'?: string[]; name: string; schema: DtdlSchema }>;
      for (const key of Object.keys(value)) if (!fields.some((f) => f.name === key)) return false;
      return fields.every((f) => (Object.hasOwn(value, f.name) ? conforms(f.schema, value[f.name]) : !(f['@type'] ?? []).includes('Required')));
    }
  }
}

// ---- Generators ----

const PRIMITIVES = [
  'boolean', 'date', 'dateTime', 'double', 'duration', 'float', 'integer', 'long', 'string', 'time',
  'byte', 'bytes', 'decimal', 'short', 'unsignedByte', 'unsignedInteger', 'unsignedLong', 'unsignedShort', 'uuid', 'scaledDecimal',
];
const NAMES = ['a', 'b', 'x', 'y', 'z', 'speed', 'temp', 'mode_1'];

const schemaArb: fc.Arbitrary<DtdlSchema> = fc.letrec<{ schema: DtdlSchema; array: DtdlSchema; map: DtdlSchema; object: DtdlSchema }>((tie) => ({
  schema: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'schema' },
    { weight: 6, arbitrary: fc.constantFrom(...PRIMITIVES) },
    { weight: 2, arbitrary: fc.constantFrom(...Object.keys(GEO)) },
    {
      weight: 2,
      arbitrary: fc.oneof(
        fc.uniqueArray(fc.integer(), { minLength: 1, maxLength: 4 }).map((values) => ({ '@type': 'Enum', valueSchema: 'integer', enumValues: values.map((v, i) => ({ name: `e${i}`, enumValue: v })) })),
        fc.uniqueArray(fc.string({ maxLength: 5 }), { minLength: 1, maxLength: 4 }).map((values) => ({ '@type': 'Enum', valueSchema: 'string', enumValues: values.map((v, i) => ({ name: `e${i}`, enumValue: v })) })),
      ),
    },
    { weight: 1, arbitrary: tie('array') },
    { weight: 1, arbitrary: tie('map') },
    { weight: 1, arbitrary: tie('object') },
  ),
  array: tie('schema').map((elementSchema) => ({ '@type': 'Array', elementSchema })),
  map: tie('schema').map((schema) => ({ '@type': 'Map', mapKey: { name: 'k', schema: 'string' }, mapValue: { name: 'v', schema } })),
  object: fc
    .uniqueArray(fc.record({ name: fc.constantFrom(...NAMES), schema: tie('schema'), required: fc.boolean() }), { selector: (f) => f.name, maxLength: 4 })
    .map((fields) => ({
      '@type': 'Object',
      fields: fields.map((f) => (f.required ? { '@type': ['Field', 'Required'], name: f.name, schema: f.schema } : { name: f.name, schema: f.schema })),
    })),
}))['schema'];

const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
const two = (n: number): string => String(n).padStart(2, '0');
const dateArb = fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true });
const offsetArb = fc.oneof(fc.constant('Z'), fc.constant('z'), fc.tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([s, h, m]) => `${s}${two(h)}:${two(m)}`));
const timeArb = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 }), fc.option(fc.integer({ min: 0, max: 999 })), fc.option(offsetArb))
  .map(([h, m, s, f, o]) => `${two(h)}:${two(m)}:${two(s)}${f === null ? '' : `.${f}`}${o ?? ''}`);
const durationArb = fc.oneof(
  fc.nat(99).map((w) => `P${w}W`),
  fc
    .tuple(fc.option(fc.nat(99)), fc.option(fc.nat(11)), fc.option(fc.nat(30)), fc.option(fc.nat(23)), fc.option(fc.nat(59)), fc.option(fc.nat(59)))
    .filter((parts) => parts.some((p) => p !== null))
    .map(([y, mo, d, h, mi, s]) => {
      const date = `${y === null ? '' : `${y}Y`}${mo === null ? '' : `${mo}M`}${d === null ? '' : `${d}D`}`;
      const time = `${h === null ? '' : `${h}H`}${mi === null ? '' : `${mi}M`}${s === null ? '' : `${s}S`}`;
      return `P${date}${time ? `T${time}` : ''}`;
    }),
);
const decimalArb = fc.tuple(fc.constantFrom('', '+', '-'), fc.stringMatching(/^[0-9]{1,12}$/), fc.option(fc.stringMatching(/^[0-9]{0,6}$/))).map(([s, i, f]) => `${s}${i}${f === null ? '' : `.${f}`}`);
const positionArb = fc.array(finite, { minLength: 2, maxLength: 3 });
const ringArb = fc.array(positionArb, { minLength: 3, maxLength: 5 }).map((ps) => [...ps, [...(ps[0] as number[])]]);

function boundedInteger(name: string): fc.Arbitrary<number> {
  const [min, max, exclusive] = INTEGER_BOUNDS[name] as [number, number, boolean];
  if (!exclusive) return fc.integer({ min, max });
  return fc.bigInt(BigInt(min), BigInt(max) - 1n).map(Number).filter((n) => n < max);
}

/** Values that conform to `schema`. */
function validValue(schema: DtdlSchema): fc.Arbitrary<unknown> {
  if (typeof schema === 'string') {
    if (INTEGER_BOUNDS[schema]) return boundedInteger(schema);
    const geo = GEO[schema];
    if (geo) {
      const coordinates: Record<string, fc.Arbitrary<unknown>> = {
        point: positionArb,
        multiPoint: fc.array(positionArb, { maxLength: 3 }),
        lineString: fc.array(positionArb, { minLength: 2, maxLength: 4 }),
        multiLineString: fc.array(fc.array(positionArb, { minLength: 2, maxLength: 3 }), { maxLength: 3 }),
        polygon: fc.array(ringArb, { maxLength: 2 }),
        multiPolygon: fc.array(fc.array(ringArb, { maxLength: 2 }), { maxLength: 2 }),
      };
      return (coordinates[schema] as fc.Arbitrary<unknown>).map((c) => ({ type: geo[0], coordinates: c }));
    }
    switch (schema) {
      case 'boolean':
        return fc.boolean();
      case 'string':
        return fc.string();
      case 'double':
        return finite;
      case 'float':
        return fc.float({ noNaN: true, noDefaultInfinity: true });
      case 'date':
        return dateArb.map((d) => d.toISOString().slice(0, 10));
      case 'dateTime':
        return fc.tuple(dateArb, offsetArb).map(([d, o]) => `${d.toISOString().slice(0, 19)}${o}`);
      case 'time':
        return timeArb;
      case 'duration':
        return durationArb;
      case 'decimal':
        return decimalArb;
      case 'bytes':
        return fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b).toString('base64'));
      case 'uuid':
        return fc.uuid();
      case 'scaledDecimal':
        return fc.record({ scale: boundedInteger('short'), value: decimalArb });
    }
    throw new Error(schema);
  }
  switch (schema['@type']) {
    case 'Array':
      return fc.array(validValue(schema['elementSchema'] as DtdlSchema), { maxLength: 3 });
    case 'Map':
      return fc.dictionary(fc.string({ maxLength: 4 }), validValue((schema['mapValue'] as { schema: DtdlSchema }).schema), { maxKeys: 3 });
    case 'Enum': {
      const values = (schema['enumValues'] as Array<{ enumValue: unknown }>).map((e) => e.enumValue);
      return fc.constantFrom(...values);
    }
    default: {
      const fields = schema['fields'] as Array<{ '@type'?: string[]; name: string; schema: DtdlSchema }>;
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const f of fields) record[f.name] = validValue(f.schema);
      const requiredKeys = fields.filter((f) => (f['@type'] ?? []).includes('Required')).map((f) => f.name);
      return fc.record(record, { requiredKeys });
    }
  }
}

const EDGE_VALUES: unknown[] = [
  null, true, 0, -0, 1.5, -1, 127, 128, 255, 256, 32768, 65536, 2147483648, -2147483649, 4294967296, 2 ** 53, 2 ** 63, 2 ** 64,
  3.5e38, Number.NaN, Number.POSITIVE_INFINITY, '', 'x', '2024-02-30', '2024-02-29', '24:00:00', '12:00:00', '12:00:00Z',
  '2024-01-01T00:00:00', '2024-01-01T00:00:00Z', 'P', 'PT', 'P1Y2M', 'PT1.5S', 'P1W2D', '1.', '.5', '-', '+1', 'AQ==', 'AQ=', 'A===',
  '123e4567-e89b-12d3-a456-426614174000', [], {}, [1, 2], { type: 'Point', coordinates: [1, 2] }, { scale: 1, value: '1' },
];
const junk = fc.oneof(fc.constantFrom(...EDGE_VALUES), fc.jsonValue({ maxDepth: 2 }));

/** Mostly near-misses: valid values, junk, and valid containers with one junk part. */
function candidate(schema: DtdlSchema): fc.Arbitrary<unknown> {
  const valid = validValue(schema);
  const nested: fc.Arbitrary<unknown>[] = [];
  if (typeof schema !== 'string' && schema['@type'] === 'Array') nested.push(fc.tuple(fc.array(validValue(schema['elementSchema'] as DtdlSchema), { maxLength: 2 }), junk).map(([a, j]) => [...a, j]));
  if (typeof schema !== 'string' && schema['@type'] === 'Object') {
    nested.push(fc.tuple(valid, fc.constantFrom(...NAMES), junk).map(([o, k, j]) => ({ ...(o as object), [k]: j })));
  }
  return fc.oneof({ weight: 3, arbitrary: valid }, { weight: 2, arbitrary: junk }, ...nested.map((arbitrary) => ({ weight: 2, arbitrary })));
}

function modelFor(schema: DtdlSchema): ModelSet {
  const { model } = assertValid([iface([V4, 'dtmi:dtdl:extension:requirement;1'], [telemetry('t', schema)])]);
  return model as ModelSet;
}

describe('validateInstance agrees with DTDL semantics on generated schemas and values', () => {
  test('conforming values are accepted', () => {
    fc.assert(
      fc.property(
        schemaArb.chain((schema) => fc.tuple(fc.constant(schema), fc.array(validValue(schema), { minLength: 1, maxLength: 8 }))),
        ([schema, values]) => {
          const model = modelFor(schema);
          for (const value of values) {
            assert.equal(conforms(schema, value), true, `reference refuses a generated value ${JSON.stringify(value)} for ${JSON.stringify(schema)}`);
            const result = validateInstance(model, { interface: 'dtmi:ex:A;1', name: 't' }, value);
            assert.equal(result.ok, true, `${JSON.stringify(schema)} refused ${JSON.stringify(value)}: ${JSON.stringify(result.errors)}`);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  test('validateInstance and the reference agree on near misses and junk', () => {
    fc.assert(
      fc.property(
        schemaArb.chain((schema) => fc.tuple(fc.constant(schema), fc.array(candidate(schema), { minLength: 1, maxLength: 12 }))),
        ([schema, values]) => {
          const model = modelFor(schema);
          for (const value of values) {
            const result = validateInstance(model, { interface: 'dtmi:ex:A;1', name: 't' }, value);
            const expected = conforms(schema, value);
            assert.equal(result.ok, expected, `${JSON.stringify(schema)} on ${String(JSON.stringify(value))}: validator ${result.ok}, reference ${expected}`);
            if (!result.ok) assert.ok(result.errors.length > 0 && result.errors.every((e) => e.message.startsWith('t')), 'failures explain themselves');
          }
        },
      ),
      { numRuns: 250 },
    );
  });

  test('format edge cases agree', () => {
    const strings = fc.oneof(fc.string({ maxLength: 12 }), fc.stringMatching(/^[0-9T:.+\-Zz PWYMDHS,]{0,24}$/), fc.constantFrom(...EDGE_VALUES.filter((v) => typeof v === 'string')));
    for (const schema of ['date', 'time', 'dateTime', 'duration', 'decimal', 'bytes', 'uuid']) {
      const model = modelFor(schema);
      fc.assert(
        fc.property(strings, (value) => {
          assert.equal(validateInstance(model, { interface: 'dtmi:ex:A;1', name: 't' }, value).ok, conforms(schema, value), `${schema} on ${JSON.stringify(value)}`);
        }),
        { numRuns: 400 },
      );
    }
  });
});
