// Schema rules: standard schemas per version, complex schemas, nesting depth, Enum/Map/Object rules,
// v2's Property exclusions, v4 self-referencing schemas.
import { describe } from 'node:test';
import { iface, property, rule, telemetry, V2, V3, V4 } from './helpers';

function nested(levels: number, leaf: unknown = 'double'): unknown {
  let schema = leaf;
  for (let i = 0; i < levels; i++) schema = { '@type': 'Array', elementSchema: schema };
  return schema;
}

function nestedObjects(levels: number): unknown {
  let schema: unknown = 'double';
  for (let i = 0; i < levels; i++) schema = { '@type': 'Object', fields: [{ name: 'f', schema }] };
  return schema;
}

const enumOf = (valueSchema: string, values: Array<[string, unknown]>): unknown => ({
  '@type': 'Enum',
  valueSchema,
  enumValues: values.map(([name, enumValue]) => ({ name, enumValue })),
});

describe('standard schemas', () => {
  rule('a schema string names a standard schema', {
    valid: [iface(V3, [telemetry('t', 'dtmi:dtdl:instance:Schema:double;3')])],
    invalid: [iface(V3, [telemetry('t', 'real')])],
    expect: { code: 'schema-invalid', path: '/contents/0/schema', mentions: ['Telemetry "t"', 'schema "real"', 'neither a DTDL v3 schema'] },
  });

  rule('schema has exactly one value', {
    valid: [iface(V3, [telemetry('t', ['double'])])],
    invalid: [iface(V3, [telemetry('t', ['double', 'float'])])],
    expect: { code: 'member-count', path: '/contents/0/schema', mentions: ['Telemetry "t"', 'schema has 2 values'] },
  });

  rule('byte, bytes, decimal, short, unsigned types, uuid and scaledDecimal are DTDL v4 schemas', {
    valid: [
      iface(V4, ['byte', 'bytes', 'decimal', 'short', 'unsignedByte', 'unsignedShort', 'unsignedInteger', 'unsignedLong', 'uuid', 'scaledDecimal'].map((s) => telemetry(`t_${s}`, s))),
    ],
    invalid: [iface(V3, [telemetry('t', 'uuid')])],
    expect: { code: 'schema-invalid', path: '/contents/0/schema', mentions: ['Telemetry "t"', '"uuid"', 'DTDL v3'] },
  });

  rule('geospatial schemas are standard schemas', {
    valid: [iface(V3, ['point', 'multiPoint', 'lineString', 'multiLineString', 'polygon', 'multiPolygon'].map((s) => telemetry(s, s)))],
    invalid: [iface(V3, [telemetry('t', 'circle')])],
    expect: { code: 'schema-invalid', path: '/contents/0/schema', mentions: ['schema "circle"'] },
  });
});

describe('Enum, Map, Object', () => {
  rule('an Enum valueSchema is integer or string', {
    valid: [iface(V3, [telemetry('t', enumOf('integer', [['on', 1]]))])],
    invalid: [iface(V3, [telemetry('t', enumOf('double', [['on', 1]]))])],
    expect: { code: 'schema-invalid', path: '/contents/0/schema/valueSchema', mentions: ['Enum in Telemetry "t"', '"double"', 'must be integer or string'] },
  });

  rule('enum values match the valueSchema', {
    valid: [iface(V3, [telemetry('t', enumOf('string', [['on', 'ON']]))])],
    invalid: [iface(V3, [telemetry('t', enumOf('integer', [['on', 'ON']]))])],
    expect: { code: 'enum-value-type', path: '/contents/0/schema/enumValues/0/enumValue', mentions: ['EnumValue "on"', '"ON"', 'must be a 32-bit integer'] },
  });

  rule('integer enum values fit in 32 bits', {
    valid: [iface(V3, [telemetry('t', enumOf('integer', [['big', 2147483647]]))])],
    invalid: [iface(V3, [telemetry('t', enumOf('integer', [['big', 2147483648]]))])],
    expect: { code: 'enum-value-type', path: '/contents/0/schema/enumValues/0/enumValue', mentions: ['EnumValue "big"', '2147483648', '32-bit integer'] },
  });

  rule('enum values are unique', {
    valid: [iface(V3, [telemetry('t', enumOf('integer', [['a', 1], ['b', 2]]))])],
    invalid: [iface(V3, [telemetry('t', enumOf('integer', [['a', 1], ['b', 1]]))])],
    expect: { code: 'enum-value-duplicate', path: '/contents/0/schema/enumValues/1/enumValue', mentions: ['EnumValue "b"', 'already used by EnumValue "a"'] },
  });

  rule('enum value names are unique', {
    valid: [iface(V3, [telemetry('t', enumOf('integer', [['a', 1], ['b', 2]]))])],
    invalid: [iface(V3, [telemetry('t', enumOf('integer', [['a', 1], ['a', 2]]))])],
    expect: { code: 'name-duplicate', path: '/contents/0/schema/enumValues/1/name', mentions: ['EnumValue "a"', 'used twice among the enumValues'] },
  });

  rule('a DTDL v2 Enum has at least one value (v3 may have none)', {
    valid: [iface(V3, [telemetry('t', { '@type': 'Enum', valueSchema: 'integer' })])],
    invalid: [iface(V2, [telemetry('t', { '@type': 'Enum', valueSchema: 'integer', enumValues: [] })])],
    expect: { code: 'element-count', path: '/contents/0/schema/enumValues', mentions: ['Enum in Telemetry "t"', 'at least one value'] },
  });

  rule('a DTDL v2 Enum has at most 100 values', {
    valid: [iface(V2, [telemetry('t', enumOf('integer', Array.from({ length: 100 }, (_, i) => [`v${i}`, i] as [string, number])))])],
    invalid: [iface(V2, [telemetry('t', enumOf('integer', Array.from({ length: 101 }, (_, i) => [`v${i}`, i] as [string, number])))])],
    expect: { code: 'element-count', path: '/contents/0/schema/enumValues', mentions: ['Enum in Telemetry "t"', '101 values', 'at most 100'] },
  });

  rule('a DTDL v2 Object has 1 to 30 fields', {
    valid: [iface(V2, [telemetry('t', { '@type': 'Object', fields: Array.from({ length: 30 }, (_, i) => ({ name: `f${i}`, schema: 'double' })) })])],
    invalid: [iface(V2, [telemetry('t', { '@type': 'Object', fields: Array.from({ length: 31 }, (_, i) => ({ name: `f${i}`, schema: 'double' })) })])],
    expect: { code: 'element-count', path: '/contents/0/schema/fields', mentions: ['Object in Telemetry "t"', '31 values', 'at most 30'] },
  });

  rule('field names are unique', {
    valid: [iface(V3, [telemetry('t', { '@type': 'Object', fields: [{ name: 'x', schema: 'double' }, { name: 'y', schema: 'double' }] })])],
    invalid: [iface(V3, [telemetry('t', { '@type': 'Object', fields: [{ name: 'x', schema: 'double' }, { name: 'x', schema: 'double' }] })])],
    expect: { code: 'name-duplicate', path: '/contents/0/schema/fields/1/name', mentions: ['Field "x" in Object in Telemetry "t"', 'used twice among the fields'] },
  });

  rule('a MapKey schema is string', {
    valid: [iface(V3, [telemetry('t', { '@type': 'Map', mapKey: { name: 'k', schema: 'string' }, mapValue: { name: 'v', schema: 'double' } })])],
    invalid: [iface(V3, [telemetry('t', { '@type': 'Map', mapKey: { name: 'k', schema: 'integer' }, mapValue: { name: 'v', schema: 'double' } })])],
    expect: { code: 'schema-invalid', path: '/contents/0/schema/mapKey/schema', mentions: ['MapKey "k" in Map in Telemetry "t"', 'must be string'] },
  });

  rule('a Map has a mapValue', {
    valid: [iface(V3, [telemetry('t', { '@type': 'Map', mapKey: { name: 'k', schema: 'string' }, mapValue: { name: 'v', schema: 'double' } })])],
    invalid: [iface(V3, [telemetry('t', { '@type': 'Map', mapKey: { name: 'k', schema: 'string' } })])],
    expect: { code: 'member-required', path: '/contents/0/schema', mentions: ['Map in Telemetry "t"', 'member "mapValue"'] },
  });
});

describe('schema nesting depth', () => {
  rule('DTDL v3 nests at most 5 levels of complex schemas', {
    valid: [iface(V3, [telemetry('t', nested(5))])],
    invalid: [iface(V3, [telemetry('t', nested(6))])],
    expect: { code: 'schema-depth', path: '/contents/0/schema', mentions: ['Telemetry "t"', '6 levels', 'DTDL v3 allows at most 5'] },
  });

  rule('Objects count as levels too', {
    valid: [iface(V2, [telemetry('t', nestedObjects(5))])],
    invalid: [iface(V2, [telemetry('t', nestedObjects(6))])],
    expect: { code: 'schema-depth', path: '/contents/0/schema', mentions: ['Telemetry "t"', '6 levels', 'DTDL v2 allows at most 5'] },
  });

  rule('DTDL v4 nests at most 8 levels', {
    valid: [iface(V4, [telemetry('t', nested(8))])],
    invalid: [iface(V4, [telemetry('t', nested(9))])],
    expect: { code: 'schema-depth', path: '/contents/0/schema', mentions: ['Telemetry "t"', '9 levels', 'DTDL v4 allows at most 8'] },
  });

  rule('geospatial schemas count as the Objects and Arrays they are', {
    valid: [iface(V3, [telemetry('t', nested(2, 'lineString'))])],
    invalid: [iface(V3, [telemetry('t', nested(3, 'polygon'))])],
    expect: { code: 'schema-depth', path: '/contents/0/schema', mentions: ['Telemetry "t"', '7 levels'] },
  });

  rule('a schema in "schemas" is held to the limit too', {
    valid: [iface(V3, [], { schemas: [{ '@id': 'dtmi:ex:S;1', '@type': 'Array', elementSchema: nested(4) }] })],
    invalid: [iface(V3, [], { schemas: [{ '@id': 'dtmi:ex:S;1', '@type': 'Array', elementSchema: nested(5) }] })],
    expect: { code: 'schema-depth', path: '/schemas/0', mentions: ['Array dtmi:ex:S;1', '6 levels'] },
  });
});

describe('schema references', () => {
  const shared = { '@id': 'dtmi:ex:Point;1', '@type': 'Object', fields: [{ name: 'x', schema: 'double' }] };

  rule('a schema from "schemas" can be used by its own Interface only', {
    valid: [iface(V3, [telemetry('t', 'dtmi:ex:Point;1')], { schemas: [shared] })],
    invalid: [iface(V3, [telemetry('t', 'dtmi:ex:Point;1')]), iface(V3, [], { schemas: [shared] }, 'dtmi:ex:B;1')],
    expect: { code: 'reference-partition', path: '/contents/0/schema', mentions: ['Telemetry "t"', 'dtmi:ex:Point;1', 'defined inside dtmi:ex:B;1'] },
  });

  rule('an extending Interface cannot reuse its base\'s schemas', {
    valid: [iface(V3, [], { extends: 'dtmi:ex:B;1' }), iface(V3, [telemetry('t', 'dtmi:ex:Point;1')], { schemas: [shared] }, 'dtmi:ex:B;1')],
    invalid: [iface(V3, [telemetry('u', 'dtmi:ex:Point;1')], { extends: 'dtmi:ex:B;1' }), iface(V3, [], { schemas: [shared] }, 'dtmi:ex:B;1')],
    expect: { code: 'reference-partition', path: '/contents/0/schema', mentions: ['Telemetry "u"', 'defined inside dtmi:ex:B;1'] },
  });

  rule('a schema reference names an Array, Enum, Map or Object', {
    valid: [iface(V3, [telemetry('t', 'dtmi:ex:Point;1')], { schemas: [shared] })],
    invalid: [iface(V3, [telemetry('t', 'dtmi:ex:B;1')]), iface(V3, [], {}, 'dtmi:ex:B;1')],
    expect: { code: 'reference-type', path: '/contents/0/schema', mentions: ['Telemetry "t"', 'dtmi:ex:B;1', 'is an Interface', 'Array, Enum, Map or Object'] },
  });

  rule('a Component schema is an Interface', {
    valid: [iface(V3, [{ '@type': 'Component', name: 'c', schema: 'dtmi:ex:B;1' }]), iface(V3, [], {}, 'dtmi:ex:B;1')],
    invalid: [iface(V3, [{ '@type': 'Component', name: 'c', schema: 'dtmi:ex:Point;1' }], { schemas: [shared] })],
    expect: { code: 'reference-type', path: '/contents/0/schema', mentions: ['Component "c"', 'is an Object', 'must be Interface'] },
  });
});

describe('DTDL v2 Property schemas', () => {
  rule('a DTDL v2 Property schema contains no Array (v3 allows it)', {
    valid: [iface(V3, [property('p', { '@type': 'Array', elementSchema: 'double' })])],
    invalid: [iface(V2, [property('p', { '@type': 'Object', fields: [{ name: 'f', schema: { '@type': 'Array', elementSchema: 'double' } }] })])],
    expect: { code: 'property-array', path: '/contents/0/schema', mentions: ['Property "p"', 'DTDL v2 does not allow an Array'] },
  });

  rule('a DTDL v2 Property schema is not geospatial (Telemetry may be)', {
    valid: [iface(V2, [telemetry('t', 'point')])],
    invalid: [iface(V2, [property('p', 'point')])],
    expect: { code: 'property-array', path: '/contents/0/schema', mentions: ['Property "p"', 'geospatial schema point'] },
  });
});

describe('self-referencing schemas', () => {
  const node = { '@id': 'dtmi:ex:Node;1', '@type': 'Object', fields: [{ name: 'value', schema: 'double' }, { name: 'next', schema: 'dtmi:ex:Node;1' }] };
  rule('DTDL v4 schemas may refer to themselves; earlier versions may not', {
    valid: [iface(V4, [telemetry('list', 'dtmi:ex:Node;1')], { schemas: [node] })],
    invalid: [iface(V3, [telemetry('list', 'dtmi:ex:Node;1')], { schemas: [node] })],
    expect: { code: 'cycle', path: '/schemas/0/fields/1/schema', mentions: ['Object dtmi:ex:Node;1', 'contains itself', 'must not have a path to itself'] },
  });
});

