// validateInstance: every DTDL schema, command payloads, component paths, DTMI targets, messages.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateInstance, type DtdlErrorCode, type ModelSet } from '../../../nodes/lib/dtdl';
import { assertValid, iface, property, telemetry, V3, V4, type Json } from './helpers';

const object = (fields: Json[]): Json => ({ '@type': 'Object', fields });
const field = (name: string, schema: unknown, extra: Json = {}): Json => ({ name, schema, ...extra });

const v4 = iface(
  [V4, 'dtmi:dtdl:extension:quantitativeTypes;2', 'dtmi:dtdl:extension:requirement;1'],
  [
    ...['boolean', 'date', 'dateTime', 'double', 'duration', 'float', 'integer', 'long', 'string', 'time'].map((s) => telemetry(s, s)),
    ...['byte', 'bytes', 'decimal', 'short', 'unsignedByte', 'unsignedInteger', 'unsignedLong', 'unsignedShort', 'uuid', 'scaledDecimal'].map((s) => telemetry(s, s)),
    ...['point', 'multiPoint', 'lineString', 'multiLineString', 'polygon', 'multiPolygon'].map((s) => telemetry(s, s)),
    telemetry('level', { '@type': 'Enum', valueSchema: 'integer', enumValues: [{ name: 'low', enumValue: 1 }, { name: 'high', enumValue: 2 }] }),
    telemetry('mode', { '@type': 'Enum', valueSchema: 'string', enumValues: [{ name: 'auto', enumValue: 'AUTO' }, { name: 'manual', enumValue: 'MANUAL' }] }),
    telemetry('nothing', { '@type': 'Enum', valueSchema: 'string' }),
    telemetry('accel', object([field('x', 'double'), field('y', 'double'), { '@type': ['Field', 'Required'], name: 'z', schema: 'double' }])),
    telemetry('modules', { '@type': 'Map', mapKey: { name: 'module', schema: 'string' }, mapValue: { name: 'state', schema: 'string' } }),
    telemetry('leds', { '@type': 'Array', elementSchema: 'boolean' }),
    telemetry('matrix', { '@type': 'Array', elementSchema: { '@type': 'Array', elementSchema: 'integer' } }),
    property('tempUnit', 'TemperatureUnit', { writable: true }),
    telemetry('list', 'dtmi:ex:Node;1'),
    { '@type': 'Command', name: 'reboot', request: { name: 'delay', schema: 'duration', nullable: true }, response: { name: 'at', schema: 'dateTime' } },
    { '@type': 'Command', name: 'ping' },
    { '@type': 'Component', name: 'motor', schema: 'dtmi:ex:Motor;1' },
    { '@type': 'Relationship', name: 'feeds', properties: [property('rate', 'float')] },
  ],
  { schemas: [{ '@id': 'dtmi:ex:Node;1', '@type': 'Object', fields: [field('value', 'integer'), field('next', 'dtmi:ex:Node;1')] }] },
);
const motor = iface(V3, [telemetry('rpm'), property('limit', 'integer', { '@id': 'dtmi:ex:Motor:limit;1' })], { extends: 'dtmi:ex:Device;1' }, 'dtmi:ex:Motor;1');
const device = iface(V3, [property('serial', 'string')], {}, 'dtmi:ex:Device;1');

const { model } = assertValid([v4, motor, device]);
const A = 'dtmi:ex:A;1';

function ok(name: string, value: unknown, m: ModelSet = model as ModelSet): void {
  const result = validateInstance(m, { interface: A, name }, value);
  assert.deepEqual(result.errors, [], `${name} should accept ${JSON.stringify(value)}`);
  assert.equal(result.ok, true);
}

function bad(name: string, value: unknown, code: DtdlErrorCode, path: string, ...mentions: string[]): void {
  const result = validateInstance(model as ModelSet, { interface: A, name }, value);
  assert.equal(result.ok, false, `${name} should refuse ${String(JSON.stringify(value))}`);
  const error = result.errors.find((e) => e.code === code && e.path === path);
  assert.ok(error, `expected ${code} at "${path}", got ${JSON.stringify(result.errors)}`);
  for (const text of mentions) assert.ok(error.message.includes(text), `"${error.message}" should mention "${text}"`);
}

describe('validateInstance: primitives', () => {
  test('double: finite numbers', () => {
    ok('double', 42.5);
    ok('double', -1e308);
    bad('double', 'fast', 'value-type', '', 'double: "fast" is not a double');
    bad('double', Number.NaN, 'value-type', '', 'NaN is not a double');
    bad('double', Number.POSITIVE_INFINITY, 'value-type', '', 'is not a double');
    bad('double', null, 'value-null', '', 'double: null is not allowed');
    bad('double', undefined, 'value-required', '', 'a value is required');
  });

  test('float: finite and within single precision', () => {
    ok('float', 3.4e38);
    bad('float', 3.5e38, 'value-range', '', 'outside the range of float');
  });

  test('integer: 32-bit signed', () => {
    ok('integer', -2147483648);
    ok('integer', 2147483647);
    bad('integer', 2147483648, 'value-range', '', 'integer: 2147483648 is outside the range of integer (-2147483648 to 2147483647)');
    bad('integer', 1.5, 'value-type', '', '1.5 is not an integer');
  });

  test('long: 64-bit signed', () => {
    ok('long', 9007199254740991);
    ok('long', -9223372036854775808);
    bad('long', 9223372036854775808, 'value-range', '', 'outside the range of long');
  });

  test('v4 byte, short and unsigned types', () => {
    ok('byte', -128);
    bad('byte', 128, 'value-range', '', '-128 to 127');
    ok('short', 32767);
    bad('short', -32769, 'value-range', '', '-32768 to 32767');
    ok('unsignedByte', 255);
    bad('unsignedByte', -1, 'value-range', '', '0 to 255');
    ok('unsignedShort', 65535);
    bad('unsignedShort', 65536, 'value-range', '', '0 to 65535');
    ok('unsignedInteger', 4294967295);
    bad('unsignedInteger', 4294967296, 'value-range', '', '0 to 4294967295');
    ok('unsignedLong', 18446744073709549568);
    bad('unsignedLong', 18446744073709551616, 'value-range', '', '0 to 18446744073709551615');
  });

  test('boolean and string', () => {
    ok('boolean', false);
    bad('boolean', 'false', 'value-type', '', '"false" is not a boolean');
    ok('string', '');
    bad('string', 5, 'value-type', '', '5 is not a string');
  });

  test('date, time, dateTime and duration follow RFC 3339 / ISO 8601', () => {
    ok('date', '2024-02-29');
    bad('date', '2023-02-29', 'value-format', '', 'not a valid date', 'RFC 3339 full-date');
    ok('time', '13:45:00');
    ok('time', '13:45:00.250+02:00');
    bad('time', '25:00:00', 'value-format', '', 'not a valid time');
    ok('dateTime', '2024-05-31T13:45:00Z');
    ok('dateTime', '2024-05-31T13:45:00.5+02:00');
    bad('dateTime', '2024-05-31T13:45:00', 'value-format', '', 'not a valid dateTime', 'with offset');
    ok('duration', 'PT1H30M');
    ok('duration', 'P2W');
    ok('duration', 'PT0.5S');
    bad('duration', 'PT', 'value-format', '', 'not a valid duration');
    bad('duration', '1h', 'value-format', '', 'ISO 8601 duration');
  });

  test('bytes is base64, decimal a decimal string, uuid a UUID', () => {
    ok('bytes', 'AQID');
    ok('bytes', '');
    bad('bytes', 'AQI', 'value-format', '', 'not a valid bytes', 'base64');
    ok('decimal', '-12.50');
    ok('decimal', '1234567890123456789012345678901234567890');
    bad('decimal', '1e5', 'value-format', '', 'not a valid decimal');
    bad('decimal', 12.5, 'value-type', '', '12.5 is not a decimal');
    ok('uuid', '123e4567-e89b-12d3-a456-426614174000');
    bad('uuid', '123e4567e89b12d3a456426614174000', 'value-format', '', 'not a valid uuid');
  });

  test('scaledDecimal is { scale: short, value: decimal }', () => {
    ok('scaledDecimal', { scale: 7, value: '1234.56' });
    bad('scaledDecimal', { scale: 7 }, 'value-required', '', 'missing required field "value"');
    bad('scaledDecimal', { scale: 40000, value: '1' }, 'value-range', '/scale', 'scaledDecimal/scale: 40000 is outside the range of short');
  });
});

describe('validateInstance: complex schemas', () => {
  test('Enum values by valueSchema', () => {
    ok('level', 2);
    bad('level', 3, 'value-enum', '', 'level: 3 is not one of the Enum values 1, 2');
    ok('mode', 'AUTO');
    bad('mode', 'auto', 'value-enum', '', '"auto" is not one of the Enum values "AUTO", "MANUAL"');
    bad('nothing', 'x', 'value-enum', '', 'has no values');
  });

  test('Object: fields, unknown fields refused, Required fields (Requirement extension)', () => {
    ok('accel', { x: 1, y: 2, z: 3 });
    ok('accel', { z: 3 });
    bad('accel', { x: 1 }, 'value-required', '', 'accel: missing required field "z"');
    bad('accel', { z: 1, w: 2 }, 'value-unknown-field', '', 'unknown field "w"', 'fields x, y, z');
    bad('accel', { z: 'high' }, 'value-type', '/z', 'accel/z: "high" is not a double');
    bad('accel', [1, 2, 3], 'value-type', '', 'is not an Object');
  });

  test('Map: string keys, values by mapValue schema', () => {
    ok('modules', { moduleA: 'running', moduleB: 'stopped' });
    ok('modules', {});
    bad('modules', { moduleA: 3 }, 'value-type', '/moduleA', 'modules/moduleA: 3 is not a string');
  });

  test('Array: elements by elementSchema, nested', () => {
    ok('leds', [true, false, true]);
    bad('leds', [true, 'off'], 'value-type', '/1', 'leds/1: "off" is not a boolean');
    ok('matrix', [[1, 2], [3]]);
    bad('matrix', [[1], [2.5]], 'value-type', '/1/0', 'matrix/1/0: 2.5 is not an integer');
  });

  test('unit types (QuantitativeTypes) accept their units', () => {
    ok('tempUnit', 'kelvin');
    bad('tempUnit', 'metre', 'value-enum', '', '"metre" is not a TemperatureUnit unit');
  });

  test('a DTDL v4 self-referencing schema validates recursively', () => {
    ok('list', { value: 1, next: { value: 2, next: { value: 3 } } });
    bad('list', { value: 1, next: { value: 'two' } }, 'value-type', '/next/value', 'list/next/value: "two" is not an integer');
  });
});

describe('validateInstance: geospatial', () => {
  test('point, multiPoint, lineString and multiLineString are GeoJSON geometries', () => {
    ok('point', { type: 'Point', coordinates: [47.64, -122.13] });
    ok('point', { type: 'Point', coordinates: [47.64, -122.13, 12] });
    bad('point', { type: 'Point', coordinates: [47.64] }, 'value-invalid', '/coordinates', '2 or 3 coordinates');
    bad('point', { type: 'LineString', coordinates: [1, 2] }, 'value-invalid', '/type', 'must be "Point"');
    ok('multiPoint', { type: 'MultiPoint', coordinates: [[1, 2], [3, 4]] });
    ok('lineString', { type: 'LineString', coordinates: [[1, 2], [3, 4]] });
    bad('lineString', { type: 'LineString', coordinates: [[1, 2]] }, 'value-invalid', '/coordinates', 'at least 2 positions');
    ok('multiLineString', { type: 'MultiLineString', coordinates: [[[1, 2], [3, 4]]] });
  });

  test('polygon rings have 4 positions and are closed', () => {
    const ring = [[0, 0], [1, 0], [1, 1], [0, 0]];
    ok('polygon', { type: 'Polygon', coordinates: [ring] });
    ok('multiPolygon', { type: 'MultiPolygon', coordinates: [[ring], [ring]] });
    bad('polygon', { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1]]] }, 'value-invalid', '/coordinates/0', 'must end at the position where it starts');
    bad('polygon', { type: 'Polygon', coordinates: [[[0, 0], [1, 1], [0, 0]]] }, 'value-invalid', '/coordinates/0', 'at least 4 positions');
  });
});

describe('validateInstance: targets', () => {
  test('command request and response; nullable payloads (DTDL v4)', () => {
    ok('reboot/request', 'PT30S');
    ok('reboot/request', null);
    ok('reboot/request', undefined);
    bad('reboot/request', 30, 'value-type', '', 'reboot/request: 30 is not a duration');
    ok('reboot/response', '2024-05-31T13:45:00Z');
    bad('reboot/response', null, 'value-null', '', 'reboot/response: null is not allowed');
  });

  test('a command without request accepts only no payload', () => {
    ok('ping/request', undefined);
    bad('ping/request', { now: true }, 'value-invalid', '', 'Command ping takes no request');
  });

  test('component paths resolve into the Component\'s Interface, inherited contents included', () => {
    ok('motor/rpm', 1500);
    ok('motor/serial', 'SN-1');
    bad('motor/rpm', 'fast', 'value-type', '', 'motor/rpm: "fast" is not a double');
  });

  test('relationship properties', () => {
    ok('feeds/rate', 1.5);
    bad('feeds/rate', true, 'value-type', '', 'feeds/rate: true is not a float');
  });

  test('any schema or element with an @id, by DTMI', () => {
    assert.equal(validateInstance(model as ModelSet, 'dtmi:ex:Node;1', { value: 1 }).ok, true);
    const result = validateInstance(model as ModelSet, 'dtmi:ex:Motor:limit;1', 'ten');
    assert.equal(result.ok, false);
    assert.match(result.errors[0]?.message ?? '', /^dtmi:ex:Motor:limit;1: "ten" is not an integer$/);
  });

  test('unknown targets and targets without a value are reported, not thrown', () => {
    const check = (target: Parameters<typeof validateInstance>[1], code: DtdlErrorCode, pattern: RegExp): void => {
      const result = validateInstance(model as ModelSet, target, 1);
      assert.equal(result.ok, false);
      assert.equal(result.errors[0]?.code, code);
      assert.match(result.errors[0]?.message ?? '', pattern);
    };
    check({ interface: 'dtmi:ex:Nope;1', name: 'x' }, 'target-unknown', /Unknown Interface dtmi:ex:Nope;1/);
    check({ interface: A, name: 'speed' }, 'target-unknown', /speed: Interface dtmi:ex:A;1 has no content by that name/);
    check({ interface: A, name: 'reboot' }, 'target-invalid', /validate "reboot\/request" or "reboot\/response"/);
    check({ interface: A, name: 'motor' }, 'target-invalid', /a Component has no value itself/);
    check('dtmi:ex:Unknown;1', 'target-unknown', /no element of this model set has that @id/);
    check('dtmi:ex:Motor;1', 'target-invalid', /an Interface has no value schema/);
  });

  test('success is one shared frozen result; failures are fresh', () => {
    const first = validateInstance(model as ModelSet, { interface: A, name: 'double' }, 1);
    const second = validateInstance(model as ModelSet, { interface: A, name: 'motor/rpm' }, 2);
    assert.equal(first, second);
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.errors));
    const failure = validateInstance(model as ModelSet, { interface: A, name: 'double' }, 'x');
    assert.notEqual(failure, validateInstance(model as ModelSet, { interface: A, name: 'double' }, 'x'));
  });

  test('several ModelSets keep separate caches', () => {
    const { model: other } = assertValid([iface(V3, [telemetry('double', 'string')])]);
    assert.equal(validateInstance(other as ModelSet, { interface: A, name: 'double' }, 'text').ok, true);
    assert.equal(validateInstance(model as ModelSet, { interface: A, name: 'double' }, 'text').ok, false);
    assert.equal(validateInstance(other as ModelSet, { interface: A, name: 'double' }, 'text').ok, true);
  });
});
