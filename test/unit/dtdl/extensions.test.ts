// Semantic types and units (native in DTDL v2, QuantitativeTypes in v3/v4) and the feature
// extensions: Historization, Annotation, Overriding, Requirement, Mqtt; undefined extensions.
import { describe } from 'node:test';
import { iface, property, QT3, QT4, rule, telemetry, V2, V3, V4, type Json } from './helpers';

const quantity = (cls: string, semanticType: string, unit: unknown, schema: unknown = 'double', name = 'q'): Json => ({
  '@type': [cls, semanticType],
  name,
  schema,
  unit,
});

describe('semantic types and units', () => {
  rule('DTDL v2 has native semantic types with units', {
    valid: [iface(V2, [quantity('Telemetry', 'Temperature', 'degreeCelsius'), quantity('Property', 'Pressure', 'dtmi:standard:unit:millibar;2', 'integer', 'p')])],
    invalid: [iface(V2, [quantity('Telemetry', 'Temperature', 'metre')])],
    expect: { code: 'unit-invalid', path: '/contents/0/unit', mentions: ['Telemetry "q"', 'unit "metre" is not a unit of Temperature', 'degreeCelsius'] },
  });

  rule('a semantic type requires a unit', {
    valid: [iface(V2, [quantity('Telemetry', 'Temperature', 'kelvin')])],
    invalid: [iface(V2, [{ '@type': ['Telemetry', 'Temperature'], name: 'q', schema: 'double' }])],
    expect: { code: 'unit-missing', path: '/contents/0', mentions: ['Telemetry "q"', 'semantic type Temperature requires member "unit"'] },
  });

  rule('a DTDL v2 semantic type requires double, float, integer or long', {
    valid: [iface(V2, [quantity('Telemetry', 'Temperature', 'kelvin', 'long')])],
    invalid: [iface(V2, [quantity('Telemetry', 'Temperature', 'kelvin', 'string')])],
    expect: { code: 'semantic-type-schema', path: '/contents/0/schema', mentions: ['Telemetry "q"', 'numeric schema (double, float, integer, long)', 'string'] },
  });

  rule('unit is only allowed with a semantic type', {
    valid: [iface(V2, [quantity('Telemetry', 'Temperature', 'kelvin')])],
    invalid: [iface(V2, [telemetry('t', 'double', { unit: 'kelvin' })])],
    expect: { code: 'member-irrelevant', path: '/contents/0/unit', mentions: ['Telemetry "t"', 'member "unit"', 'semantic type'] },
  });

  rule('DTDL v2 semantic types apply to Property and Telemetry only', {
    valid: [iface(V2, [quantity('Property', 'Temperature', 'kelvin')])],
    invalid: [iface(V2, [telemetry('t', { '@type': 'Object', fields: [{ '@type': ['Field', 'Temperature'], name: 'f', schema: 'double', unit: 'kelvin' }] })])],
    expect: { code: 'cotype-not-allowed', path: '/contents/0/schema/fields/0/@type', mentions: ['Field "f"', 'co-type "Temperature"', 'Property or Telemetry'] },
  });

  rule('DTDL v3 needs the QuantitativeTypes extension for semantic types', {
    valid: [iface(QT3, [quantity('Telemetry', 'Temperature', 'degreeCelsius')])],
    invalid: [iface(V3, [quantity('Telemetry', 'Temperature', 'degreeCelsius')])],
    expect: { code: 'type-undefined', path: '/contents/0/@type/1', mentions: ['Telemetry "q"', '"Temperature"', 'QuantitativeTypes extension'] },
  });

  rule('QuantitativeTypes v1 units belong to their semantic type', {
    valid: [iface(QT3, [quantity('Telemetry', 'VolumeFlowRate', 'litrePerMinute')])],
    invalid: [iface(QT3, [quantity('Telemetry', 'VolumeFlowRate', 'litre')])],
    expect: { code: 'unit-invalid', path: '/contents/0/unit', mentions: ['unit "litre" is not a unit of VolumeFlowRate', 'QuantitativeTypes v1'] },
  });

  rule('QuantitativeTypes semantic types also co-type Fields, MapValues and command payloads', {
    valid: [
      iface(QT3, [
        telemetry('o', { '@type': 'Object', fields: [quantity('Field', 'Length', 'millimetre', 'double', 'x')] }),
        telemetry('m', { '@type': 'Map', mapKey: { name: 'k', schema: 'string' }, mapValue: quantity('MapValue', 'Mass', 'kilogram', 'float', 'v') }),
        { '@type': 'Command', name: 'c', request: quantity('CommandRequest', 'TimeSpan', 'second', 'integer', 'r') },
      ]),
    ],
    invalid: [iface(QT3, [{ '@type': ['Relationship', 'Length'], name: 'r', unit: 'metre' }])],
    expect: { code: 'cotype-not-allowed', path: '/contents/0/@type', mentions: ['Relationship "r"', 'co-type "Length"', 'CommandRequest, CommandResponse, Field, MapValue, Property or Telemetry'] },
  });

  rule('DTDL v4 semantic types accept every numeric schema', {
    valid: [iface(QT4, ['byte', 'short', 'unsignedLong', 'decimal'].map((s) => quantity('Telemetry', 'Temperature', 'kelvin', s, `t_${s}`)))],
    invalid: [iface(QT4, [quantity('Telemetry', 'Temperature', 'kelvin', 'scaledDecimal')])],
    expect: { code: 'semantic-type-schema', path: '/contents/0/schema', mentions: ['Telemetry "q"', 'numeric schema', 'scaledDecimal'] },
  });

  rule('an element has at most one semantic type', {
    valid: [iface(QT3, [quantity('Telemetry', 'Length', 'metre')])],
    invalid: [iface(QT3, [{ '@type': ['Telemetry', 'Length', 'Temperature'], name: 'q', schema: 'double', unit: 'metre' }])],
    expect: { code: 'cotype-conflict', path: '/contents/0/@type', mentions: ['Telemetry "q"', 'Length and Temperature', 'only one'] },
  });

  rule('QuantitativeTypes v1 co-types apply to DTDL v3 elements only', {
    valid: [iface(QT4, [quantity('Telemetry', 'Temperature', 'kelvin')])],
    invalid: [iface([V4, 'dtmi:dtdl:extension:quantitativeTypes;1'], [quantity('Telemetry', 'Temperature', 'kelvin')])],
    expect: { code: 'cotype-not-allowed', path: '/contents/0/@type', mentions: ['Telemetry "q"', 'QuantitativeTypes v1', 'DTDL v3'] },
  });

  rule('unit types are schemas in QuantitativeTypes', {
    valid: [iface(QT3, [property('unitChoice', 'TemperatureUnit', { writable: true })])],
    invalid: [iface(V3, [property('unitChoice', 'TemperatureUnit', { writable: true })])],
    expect: { code: 'schema-invalid', path: '/contents/0/schema', mentions: ['Property "unitChoice"', '"TemperatureUnit"'] },
  });
});

describe('feature extensions', () => {
  const HIST = [V3, 'dtmi:dtdl:extension:historization;1'];
  rule('Historized co-types a Property or Telemetry', {
    valid: [iface(HIST, [{ '@type': ['Property', 'Historized'], name: 'p', schema: 'double' }])],
    invalid: [iface(HIST, [{ '@type': ['Command', 'Historized'], name: 'c' }])],
    expect: { code: 'cotype-not-allowed', path: '/contents/0/@type', mentions: ['Command "c"', 'co-type "Historized"', 'Historization v1', 'Property or Telemetry'] },
  });

  const ANN = [V3, 'dtmi:dtdl:extension:quantitativeTypes;1', 'dtmi:dtdl:extension:annotation;1', 'dtmi:dtdl:extension:overriding;1'];
  const annotated = quantity('Telemetry', 'Temperature', 'kelvin', 'double', 'temp');
  rule('ValueAnnotation annotates a sibling Property or Telemetry by name', {
    valid: [iface(ANN, [annotated, { '@type': ['Telemetry', 'ValueAnnotation'], name: 'accuracy', schema: 'double', annotates: 'temp' }])],
    invalid: [iface(ANN, [annotated, { '@type': ['Telemetry', 'ValueAnnotation'], name: 'accuracy', schema: 'double', annotates: 'pressure' }])],
    expect: { code: 'annotates-unknown', path: '/contents/1/annotates', mentions: ['Telemetry "accuracy"', 'annotates "pressure"', 'ValueAnnotation rule'] },
  });

  rule('ValueAnnotation requires annotates', {
    valid: [iface(ANN, [annotated, { '@type': ['Property', 'ValueAnnotation'], name: 'calibrated', schema: 'date', annotates: 'temp' }])],
    invalid: [iface(ANN, [annotated, { '@type': ['Property', 'ValueAnnotation'], name: 'calibrated', schema: 'date' }])],
    expect: { code: 'member-required', path: '/contents/1', mentions: ['Property "calibrated"', 'co-type "ValueAnnotation"', 'member "annotates"'] },
  });

  rule('Override requires ValueAnnotation', {
    valid: [iface(ANN, [annotated, { '@type': ['Property', 'ValueAnnotation', 'Override'], name: 'tempUnit', schema: 'TemperatureUnit', annotates: 'temp', overrides: 'unit' }])],
    invalid: [iface(ANN, [annotated, { '@type': ['Property', 'Override'], name: 'tempUnit', schema: 'TemperatureUnit', overrides: 'unit' }])],
    expect: { code: 'cotype-requires', path: '/contents/1/@type', mentions: ['Property "tempUnit"', 'co-type "Override"', '"ValueAnnotation" too'] },
  });

  rule('overrides names an extension member of the annotated element', {
    valid: [iface(ANN, [annotated, { '@type': ['Property', 'ValueAnnotation', 'Override'], name: 'tempUnit', schema: 'TemperatureUnit', annotates: 'temp', overrides: 'unit' }])],
    invalid: [iface(ANN, [annotated, { '@type': ['Property', 'ValueAnnotation', 'Override'], name: 'tempUnit', schema: 'string', annotates: 'temp', overrides: 'colour' }])],
    expect: { code: 'overrides-invalid', path: '/contents/1/overrides', mentions: ['Property "tempUnit"', 'overrides "colour"', 'Telemetry "temp"'] },
  });

  const REQ = [V4, 'dtmi:dtdl:extension:requirement;1'];
  rule('Required co-types a Field', {
    valid: [iface(REQ, [telemetry('p', { '@type': 'Object', fields: [{ '@type': ['Field', 'Required'], name: 'x', schema: 'double' }] })])],
    invalid: [iface(REQ, [{ '@type': ['Property', 'Required'], name: 'p', schema: 'double' }])],
    expect: { code: 'cotype-not-allowed', path: '/contents/0/@type', mentions: ['Property "p"', 'co-type "Required"', 'only be applied to Field'] },
  });

  const MQTT1 = [V3, 'dtmi:dtdl:extension:mqtt;1'];
  const MQTT3 = [V4, 'dtmi:dtdl:extension:mqtt;3'];
  rule('Mqtt requires a payloadFormat', {
    valid: [iface(MQTT1, [], { '@type': ['Interface', 'Mqtt'], payloadFormat: 'json', telemetryTopic: 'plant/{senderId}/telemetry' })],
    invalid: [iface(MQTT1, [], { '@type': ['Interface', 'Mqtt'] })],
    expect: { code: 'member-required', path: '', mentions: ['Interface dtmi:ex:A;1', 'co-type "Mqtt"', 'member "payloadFormat"'] },
  });

  rule('Mqtt v1 payloadFormat is one of the listed designators', {
    valid: [iface(MQTT1, [], { '@type': ['Interface', 'Mqtt'], payloadFormat: 'proto3' })],
    invalid: [iface(MQTT1, [], { '@type': ['Interface', 'Mqtt'], payloadFormat: 'xml' })],
    expect: { code: 'extension-value', path: '/payloadFormat', mentions: ['Interface dtmi:ex:A;1', '"xml"', 'avro, cbor, json'] },
  });

  rule('Mqtt topic patterns are labels and {tokens}, not starting with $', {
    valid: [iface(MQTT3, [], { '@type': ['Interface', 'Mqtt'], payloadFormat: 'Json/ecma/404', commandTopic: 'vehicles/{ex:executorId}/command/{commandName}' })],
    invalid: [iface(MQTT3, [], { '@type': ['Interface', 'Mqtt'], payloadFormat: 'Json/ecma/404', commandTopic: '$SYS/{commandName}' })],
    expect: { code: 'extension-value', path: '/commandTopic', mentions: ['commandTopic "$SYS/{commandName}"', 'must not start with "$"'] },
  });

  rule('Indexed indexes are unique among the values of one member', {
    valid: [iface(MQTT3, [{ '@type': ['Telemetry', 'Indexed'], name: 'a', schema: 'double', index: 1 }, { '@type': ['Telemetry', 'Indexed'], name: 'b', schema: 'double', index: 2 }])],
    invalid: [iface(MQTT3, [{ '@type': ['Telemetry', 'Indexed'], name: 'a', schema: 'double', index: 1 }, { '@type': ['Telemetry', 'Indexed'], name: 'b', schema: 'double', index: 1 }])],
    expect: { code: 'index-duplicate', path: '/contents/1/index', mentions: ['Telemetry "b"', 'index 1 is already used by Telemetry "a"'] },
  });

  rule('Cacheable commands are Idempotent and have a duration ttl', {
    valid: [iface(MQTT3, [{ '@type': ['Command', 'Idempotent', 'Cacheable'], name: 'getSpeed', ttl: 'PT15S' }])],
    invalid: [iface(MQTT3, [{ '@type': ['Command', 'Idempotent', 'Cacheable'], name: 'getSpeed', ttl: '15 seconds' }])],
    expect: { code: 'extension-value', path: '/contents/0/ttl', mentions: ['Command "getSpeed"', '"15 seconds"', 'ISO 8601 duration'] },
  });

  rule('Cacheable requires Idempotent', {
    valid: [iface(MQTT3, [{ '@type': ['Command', 'Idempotent', 'Cacheable'], name: 'getSpeed', ttl: 'PT1M' }])],
    invalid: [iface(MQTT3, [{ '@type': ['Command', 'Cacheable'], name: 'getSpeed', ttl: 'PT1M' }])],
    expect: { code: 'cotype-requires', path: '/contents/0/@type', mentions: ['Command "getSpeed"', 'co-type "Cacheable"', '"Idempotent" too'] },
  });

  const display = (schema: unknown): Json => ({ '@type': 'Command', name: 'display', request: { '@type': ['CommandRequest', 'Transparent'], name: 'announcement', schema } });
  rule('Transparent requires an Object schema', {
    valid: [iface(MQTT3, [display({ '@type': 'Object', fields: [{ name: 'text', schema: 'string' }] })])],
    invalid: [iface(MQTT3, [display('string')])],
    expect: { code: 'cotype-not-allowed', path: '/contents/0/request/schema', mentions: ['CommandRequest "announcement"', 'Transparent requires the schema to be an Object'] },
  });

  const result = (fields: Json[]): Json => telemetry('r', { '@type': ['Object', 'Result'], fields });
  rule('every field of a Result Object is a NormalResult or an ErrorResult', {
    valid: [iface(MQTT3, [result([{ '@type': ['Field', 'NormalResult'], name: 'value', schema: 'double' }, { '@type': ['Field', 'ErrorResult'], name: 'error', schema: 'string' }])])],
    invalid: [iface(MQTT3, [result([{ '@type': ['Field', 'NormalResult'], name: 'value', schema: 'double' }, { name: 'extra', schema: 'string' }])])],
    expect: { code: 'cotype-not-allowed', path: '/contents/0/schema', mentions: ['Object in Telemetry "r"', 'Field "extra"', 'NormalResult or ErrorResult'] },
  });
});

describe('undefined extensions', () => {
  const FLAVORS = [V3, 'dtmi:example:flavors;1'];
  const flavored = { '@type': ['Property', 'Flavor'], name: 'flavoring', schema: 'string', intensity: 3 };

  rule('allowUndefinedExtensions accepts co-types and members of an undefined extension', {
    valid: [iface(FLAVORS, [flavored])],
    invalid: [iface(FLAVORS, [{ '@type': 'Property', name: 'flavoring', schema: 'string', intensity: 3 }])],
    expect: { code: 'member-undefined', path: '/contents/0/intensity', mentions: ['Property "flavoring"', '"intensity"'] },
    options: { allowUndefinedExtensions: true },
  });

  rule('without the option, the same model is refused', {
    valid: [iface(V3, [{ '@type': 'Property', name: 'flavoring', schema: 'string' }])],
    invalid: [iface(FLAVORS, [flavored])],
    expect: { code: 'extension-undefined', path: '/@context/1', mentions: ['dtmi:example:flavors;1'] },
  });
});
