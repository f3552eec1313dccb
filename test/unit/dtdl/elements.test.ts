// Element-level rules: @type and co-types, @id, members and their value forms, names, strings.
import { describe } from 'node:test';
import { iface, property, QT3, rule, telemetry, V2, V3, V4 } from './helpers';

describe('@type', () => {
  rule('@type is required where the class is not implied', {
    valid: [iface(V3, [telemetry('t')])],
    invalid: [iface(V3, [{ name: 't', schema: 'double' }])],
    expect: { code: 'type-missing', path: '/contents/0', mentions: ['member "contents" of dtmi:ex:A;1', 'no @type'] },
  });

  rule('@type is optional where the member implies the class (Field, EnumValue, MapKey, MapValue, CommandRequest)', {
    valid: [iface(V3, [telemetry('t', { '@type': 'Object', fields: [{ name: 'x', schema: 'double' }] })])],
    invalid: [iface(V3, [telemetry('t', { fields: [{ name: 'x', schema: 'double' }] })])],
    expect: { code: 'type-missing', path: '/contents/0/schema', mentions: ['member "schema" of Telemetry "t"', 'no @type'] },
  });

  rule('@type is a string or an array of strings', {
    valid: [iface(V3, [{ '@type': ['Telemetry'], name: 't', schema: 'double' }])],
    invalid: [iface(V3, [{ '@type': 5, name: 't', schema: 'double' }])],
    expect: { code: 'type-invalid', path: '/contents/0/@type', mentions: ['member "contents"', 'string or a non-empty array'] },
  });

  rule('an element has exactly one material type', {
    valid: [iface(V3, [{ '@type': 'dtmi:dtdl:class:Telemetry;3', name: 't', schema: 'double' }])],
    invalid: [iface(V3, [{ '@type': ['Telemetry', 'Property'], name: 't', schema: 'double' }])],
    expect: { code: 'type-material', path: '/contents/0/@type', mentions: ['several element types', 'Telemetry, Property'] },
  });

  rule('@type names a DTDL element type', {
    valid: [iface(V3, [telemetry('t')])],
    invalid: [iface(V3, [{ '@type': 'dtmi:dtdl:class:Telemetry;2', name: 't', schema: 'double' }])],
    expect: { code: 'type-material', path: '/contents/0/@type', mentions: ['dtmi:dtdl:class:Telemetry;2', 'no DTDL v3 element type'] },
  });

  rule('a member holds only the classes it accepts', {
    valid: [iface(V3, [], { schemas: [{ '@id': 'dtmi:ex:S;1', '@type': 'Array', elementSchema: 'double' }] })],
    invalid: [iface(V3, [], { schemas: [{ '@id': 'dtmi:ex:S;1', '@type': 'Telemetry', name: 't', schema: 'double' }] })],
    expect: { code: 'type-material', path: '/schemas/0', mentions: ['Member "schemas" of dtmi:ex:A;1', 'accepts Array, Enum, Map or Object', 'Telemetry'] },
  });

  rule('DTDL v3 refuses @type strings with ":" that are not DTMIs (v2 treats them as informal co-types)', {
    valid: [iface(V2, [{ '@type': ['Property', 'foo:bar'], name: 'p', schema: 'double' }])],
    invalid: [iface(V3, [{ '@type': ['Property', 'foo:bar'], name: 'p', schema: 'double' }])],
    expect: { code: 'type-invalid', path: '/contents/0/@type/1', mentions: ['Property "p"', '"foo:bar"', 'not a DTMI'] },
  });

  rule('DTDL v3 refuses undefined co-types (v2 is open world)', {
    valid: [iface(V2, [{ '@type': ['Property', 'Commercial'], name: 'p', schema: 'double', brand: 'Acme' }])],
    invalid: [iface(V3, [{ '@type': ['Property', 'Commercial'], name: 'p', schema: 'double' }])],
    expect: { code: 'type-undefined', path: '/contents/0/@type/1', mentions: ['Property "p"', '"Commercial"', 'not defined by DTDL v3'] },
  });

  rule('a DTDL term that is no co-type cannot co-type an element', {
    valid: [iface(V3, [telemetry('t')])],
    invalid: [iface(V3, [{ '@type': ['Telemetry', 'Schema'], name: 't', schema: 'double' }])],
    expect: { code: 'type-irrelevant', path: '/contents/0/@type/1', mentions: ['Telemetry "t"', '"Schema"', 'cannot co-type a Telemetry'] },
  });

  rule('a DTMI co-type must be defined by an extension in @context', {
    valid: [iface(QT3, [{ '@type': ['Telemetry', 'dtmi:dtdl:extension:quantitativeTypes:v1:class:Temperature'], name: 't', schema: 'double', unit: 'kelvin' }])],
    invalid: [iface(V3, [{ '@type': ['Telemetry', 'dtmi:example:Flavor;1'], name: 't', schema: 'double' }])],
    expect: { code: 'type-irrelevant', path: '/contents/0/@type/1', mentions: ['Telemetry "t"', 'dtmi:example:Flavor;1', 'extension in @context'] },
  });

  rule('a top-level element is an Interface', {
    valid: [iface(V3, [])],
    invalid: [{ '@context': V3, '@id': 'dtmi:ex:T;1', '@type': 'Telemetry', name: 't', schema: 'double' }],
    expect: { code: 'top-level-not-interface', path: '', mentions: ['top-level element must be an Interface', 'Telemetry'] },
  });
});

describe('@id', () => {
  rule('@id is a user DTMI (no system segments)', {
    valid: [iface(V3, [{ ...telemetry('t'), '@id': 'dtmi:ex:A:t;1' }])],
    invalid: [iface(V3, [{ ...telemetry('t'), '@id': 'dtmi:ex:_t;1' }])],
    expect: { code: 'id-invalid', path: '/contents/0/@id', mentions: ['Telemetry "t"', 'dtmi:ex:_t;1', 'system segment'] },
  });

  rule('@id does not use the reserved prefixes', {
    valid: [iface(V3, [], {}, 'dtmi:example:Thing;1')],
    invalid: [iface(V3, [], {}, 'dtmi:standard:Thing;1')],
    expect: { code: 'id-reserved', path: '/@id', mentions: ['dtmi:standard:Thing;1', 'reserved prefix'] },
  });

  rule('an Interface @id is at most 128 characters', {
    valid: [iface(V3, [], {}, `dtmi:ex:${'a'.repeat(118)};1`)],
    invalid: [iface(V3, [], {}, `dtmi:ex:${'a'.repeat(119)};1`)],
    expect: { code: 'id-too-long', path: '/@id', mentions: ['Interface', 'at most 128 characters', 'has 129'] },
  });

  rule('any other @id is at most 2048 characters', {
    valid: [iface(V3, [{ ...telemetry('t'), '@id': `dtmi:ex:${'a'.repeat(2038)};1` }])],
    invalid: [iface(V3, [{ ...telemetry('t'), '@id': `dtmi:ex:${'a'.repeat(2039)};1` }])],
    expect: { code: 'id-invalid', path: '/contents/0/@id', mentions: ['Telemetry "t"', 'longer than 2048 characters'] },
  });

  rule('DTDL v2 DTMIs need a version; v3 allows none', {
    valid: [iface(V3, [], {}, 'dtmi:ex:A')],
    invalid: [iface(V2, [], {}, 'dtmi:ex:A')],
    expect: { code: 'id-invalid', path: '/@id', mentions: ['dtmi:ex:A', 'DTDL v2 requires a version suffix'] },
  });

  rule('two-part versions are v3/v4 only and the minor part is not zero', {
    valid: [iface(V3, [], {}, 'dtmi:ex:A;1.2')],
    invalid: [iface(V3, [], {}, 'dtmi:ex:A;1.0')],
    expect: { code: 'id-invalid', path: '/@id', mentions: ['dtmi:ex:A;1.0', 'minor version "0"'] },
  });

  rule('DTDL v2 refuses two-part versions', {
    valid: [iface(V2, [], {}, 'dtmi:ex:A;12')],
    invalid: [iface(V2, [], {}, 'dtmi:ex:A;1.2')],
    expect: { code: 'id-invalid', path: '/@id', mentions: ['dtmi:ex:A;1.2', 'one-part version'] },
  });

  rule('every @id in a model set is unique', {
    valid: [iface(V3, []), iface(V3, [], {}, 'dtmi:ex:B;1')],
    invalid: [iface(V3, []), iface(V3, [], {}, 'dtmi:ex:A;1')],
    expect: { code: 'id-duplicate', document: 1, path: '/@id', mentions: ['Interface dtmi:ex:A;1', 'already used', 'unique'] },
  });

  rule('an Interface has an @id', {
    valid: [iface(V3, [])],
    invalid: [{ '@context': V3, '@type': 'Interface', contents: [] }],
    expect: { code: 'id-required', path: '', mentions: ['Interface', 'no @id'] },
  });

  rule('a schema in an Interface\'s "schemas" has an @id', {
    valid: [iface(V3, [], { schemas: [{ '@id': 'dtmi:ex:S;1', '@type': 'Array', elementSchema: 'double' }] })],
    invalid: [iface(V3, [], { schemas: [{ '@type': 'Array', elementSchema: 'double' }] })],
    expect: { code: 'id-required', path: '/schemas/0', mentions: ['Array in dtmi:ex:A;1', '"schemas" must have one'] },
  });
});

describe('members', () => {
  rule('undefined members are refused on formally typed elements', {
    valid: [iface(V3, [property('p')])],
    invalid: [iface(V3, [property('p', 'double', { brand: 'Acme' })])],
    expect: { code: 'member-undefined', path: '/contents/0/brand', mentions: ['Property "p"', '"brand"', 'not defined for a Property'] },
  });

  rule('JSON-LD keywords other than @context, @id and @type are refused in DTDL v3', {
    valid: [iface(V2, [property('p', 'double', { '@language': 'en' })])],
    invalid: [iface(V3, [property('p', 'double', { '@language': 'en' })])],
    expect: { code: 'member-keyword', path: '/contents/0/@language', mentions: ['Property "p"', '"@language"', '@context, @id and @type'] },
  });

  rule('"@graph" is refused in DTDL v2', {
    valid: [iface(V2, [])],
    invalid: [iface(V2, [], { '@graph': [] })],
    expect: { code: 'member-keyword', path: '/@graph', mentions: ['Interface dtmi:ex:A;1', '"@graph"'] },
  });

  rule('writable is a member of Property (and Relationship) only', {
    valid: [iface(V3, [property('p', 'double', { writable: true })])],
    invalid: [iface(V3, [telemetry('t', 'double', { writable: true })])],
    expect: { code: 'member-irrelevant', path: '/contents/0/writable', mentions: ['Telemetry "t"', '"writable"', 'Property or Relationship'] },
  });

  rule('a member may be spelt as its DTMI, but not twice', {
    valid: [iface(V3, [{ '@type': 'Telemetry', 'dtmi:dtdl:property:name;3': 't', schema: 'double' }])],
    invalid: [iface(V3, [{ '@type': 'Telemetry', name: 't', 'dtmi:dtdl:property:name;3': 't', schema: 'double' }])],
    expect: { code: 'member-duplicate', path: '/contents/0/dtmi:dtdl:property:name;3', mentions: ['Telemetry "t"', 'member "name" is given twice'] },
  });

  rule('required members are present', {
    valid: [iface(V3, [telemetry('t')])],
    invalid: [iface(V3, [{ '@type': 'Telemetry', name: 't' }])],
    expect: { code: 'member-required', path: '/contents/0', mentions: ['Telemetry "t"', 'member "schema"', 'requires'] },
  });

  rule('name is one representational string (a value object is fine)', {
    valid: [iface(V3, [{ '@type': 'Telemetry', name: { '@value': 't', '@type': 'xsd:string' }, schema: 'double' }])],
    invalid: [iface(V3, [{ '@type': 'Telemetry', name: ['t', 'u'], schema: 'double' }])],
    expect: { code: 'member-value', path: '/contents/0/name', mentions: ['Telemetry "t"', 'name has 2 values'] },
  });

  rule('writable is a boolean', {
    valid: [iface(V3, [property('p', 'double', { writable: { '@value': true } })])],
    invalid: [iface(V3, [property('p', 'double', { writable: 'true' })])],
    expect: { code: 'member-value', path: '/contents/0/writable', mentions: ['Property "p"', 'writable must be a boolean'] },
  });

  rule('a representational integer has only @value and @type "xsd:integer"', {
    valid: [iface(V3, [{ '@type': 'Relationship', name: 'r', minMultiplicity: { '@value': 0, '@type': 'xsd:integer' } }])],
    invalid: [iface(V3, [{ '@type': 'Relationship', name: 'r', minMultiplicity: { '@value': 0, '@type': 'xsd:string' } }])],
    expect: { code: 'member-value', path: '/contents/0/minMultiplicity', mentions: ['Relationship "r"', 'xsd:integer'] },
  });

  rule('comment is at most 512 characters', {
    valid: [iface(V3, [], { comment: 'x'.repeat(512) })],
    invalid: [iface(V3, [], { comment: 'x'.repeat(513) })],
    expect: { code: 'string-too-long', path: '/comment', mentions: ['Interface dtmi:ex:A;1', 'comment is 513 characters', '512'] },
  });

  rule('comment has at most one value', {
    valid: [iface(V3, [], { comment: ['only one'] })],
    invalid: [iface(V3, [], { comment: ['one', 'two'] })],
    expect: { code: 'member-value', path: '/comment', mentions: ['Interface dtmi:ex:A;1', 'comment has 2 values'] },
  });

  rule('displayName is at most 512 characters in DTDL v3', {
    valid: [iface(V3, [], { displayName: 'x'.repeat(512) })],
    invalid: [iface(V3, [], { displayName: 'x'.repeat(513) })],
    expect: { code: 'string-too-long', path: '/displayName', mentions: ['Interface dtmi:ex:A;1', 'displayName', '513 characters', 'limit is 512'] },
  });

  rule('displayName is at most 64 characters in DTDL v2', {
    valid: [iface(V2, [], { displayName: 'x'.repeat(64) })],
    invalid: [iface(V2, [], { displayName: 'x'.repeat(65) })],
    expect: { code: 'string-too-long', path: '/displayName', mentions: ['displayName', '65 characters', 'limit is 64'] },
  });

  rule('description is at most 512 characters per language', {
    valid: [iface(V4, [], { description: { en: 'x'.repeat(512), de: 'y' } })],
    invalid: [iface(V4, [], { description: { en: 'x', de: 'y'.repeat(513) } })],
    expect: { code: 'string-too-long', path: '/description', mentions: ['description', '513 characters', '512'] },
  });

  rule('a language map has language codes as keys', {
    valid: [iface(V3, [], { description: { 'en-US': 'hello', 'es-ES': 'hola' } })],
    invalid: [iface(V3, [], { description: { EN: 'hello' } })],
    expect: { code: 'langstring-invalid', path: '/description', mentions: ['Interface dtmi:ex:A;1', '"EN"', 'language code'] },
  });

  rule('a localizable array has at most one default-language text', {
    valid: [iface(V3, [], { displayName: ['hello', { '@value': 'hallo', '@language': 'de' }] })],
    invalid: [iface(V3, [], { displayName: ['hello', { '@value': 'hi' }] })],
    expect: { code: 'langstring-invalid', path: '/displayName', mentions: ['displayName', 'more than one default-language'] },
  });

  rule('a localizable array holds language-tagged values, not language maps', {
    valid: [iface(V3, [], { description: [{ '@value': 'hello', '@language': 'en-US' }] })],
    invalid: [iface(V3, [], { description: [{ 'en-US': 'hello' }] })],
    expect: { code: 'langstring-invalid', path: '/description', mentions: ['description', '"@value" and "@language"'] },
  });
});

describe('names', () => {
  rule('a name starts with a letter', {
    valid: [iface(V3, [property('speed')])],
    invalid: [iface(V3, [property('2speed')])],
    expect: { code: 'name-invalid', path: '/contents/0/name', mentions: ['Property "2speed" in dtmi:ex:A;1', 'must start with a letter', 'DTDL v3 name rule'] },
  });

  rule('a name does not end with an underscore', {
    valid: [iface(V3, [property('speed_1')])],
    invalid: [iface(V3, [property('speed_')])],
    expect: { code: 'name-invalid', path: '/contents/0/name', mentions: ['Property "speed_"', 'must not end with an underscore'] },
  });

  rule('a name holds only letters, digits and underscores', {
    valid: [iface(V3, [property('spindle_speed')])],
    invalid: [iface(V3, [property('spindle-speed')])],
    expect: { code: 'name-invalid', path: '/contents/0/name', mentions: ['Property "spindle-speed"', 'only letters, digits and underscores'] },
  });

  rule('a name is at most 512 characters in DTDL v3', {
    valid: [iface(V3, [property(`a${'b'.repeat(511)}`)])],
    invalid: [iface(V3, [property(`a${'b'.repeat(512)}`)])],
    expect: { code: 'name-too-long', path: '/contents/0/name', mentions: ['Property', '513 characters', 'DTDL v3 allows at most 512'] },
  });

  rule('a name is at most 64 characters in DTDL v2', {
    valid: [iface(V2, [property(`a${'b'.repeat(63)}`)])],
    invalid: [iface(V2, [property(`a${'b'.repeat(64)}`)])],
    expect: { code: 'name-too-long', path: '/contents/0/name', mentions: ['Property', '65 characters', 'DTDL v2 allows at most 64'] },
  });

  rule('content names are unique in an Interface', {
    valid: [iface(V3, [telemetry('a'), property('b')])],
    invalid: [iface(V3, [telemetry('a'), property('a')])],
    expect: { code: 'name-duplicate', path: '/contents/1/name', mentions: ['Property "a"', 'already used by Telemetry "a"', 'unique'] },
  });
});

describe('Relationship', () => {
  rule('minMultiplicity is 0', {
    valid: [iface(V3, [{ '@type': 'Relationship', name: 'r', minMultiplicity: 0 }])],
    invalid: [iface(V3, [{ '@type': 'Relationship', name: 'r', minMultiplicity: 1 }])],
    expect: { code: 'multiplicity', path: '/contents/0/minMultiplicity', mentions: ['Relationship "r"', 'minMultiplicity must be 0'] },
  });

  rule('maxMultiplicity is at least 1', {
    valid: [iface(V3, [{ '@type': 'Relationship', name: 'r', maxMultiplicity: 1 }])],
    invalid: [iface(V3, [{ '@type': 'Relationship', name: 'r', maxMultiplicity: 0 }])],
    expect: { code: 'multiplicity', path: '/contents/0/maxMultiplicity', mentions: ['Relationship "r"', 'at least 1'] },
  });

  rule('maxMultiplicity is at most 500 in DTDL v2 (unbounded in v3)', {
    valid: [iface(V3, [{ '@type': 'Relationship', name: 'r', maxMultiplicity: 501 }])],
    invalid: [iface(V2, [{ '@type': 'Relationship', name: 'r', maxMultiplicity: 501 }])],
    expect: { code: 'multiplicity', path: '/contents/0/maxMultiplicity', mentions: ['Relationship "r"', 'at most 500 in DTDL v2'] },
  });

  rule('target is a DTMI (a non-dependent reference, so it need not resolve)', {
    valid: [iface(V3, [{ '@type': 'Relationship', name: 'r', target: 'dtmi:ex:Elsewhere;1' }])],
    invalid: [iface(V3, [{ '@type': 'Relationship', name: 'r', target: 'Room' }])],
    expect: { code: 'dtmi-invalid', path: '/contents/0/target', mentions: ['Relationship "r"', 'target "Room"', 'not a valid DTDL v3 DTMI'] },
  });

  rule('relationship property names are unique', {
    valid: [iface(V3, [{ '@type': 'Relationship', name: 'r', properties: [property('a'), property('b')] }])],
    invalid: [iface(V3, [{ '@type': 'Relationship', name: 'r', properties: [property('a'), property('a')] }])],
    expect: { code: 'name-duplicate', path: '/contents/0/properties/1/name', mentions: ['Property "a" in Relationship "r"', 'used twice'] },
  });

  rule('a DTDL v2 Relationship has at most 300 properties', {
    valid: [iface(V2, [{ '@type': 'Relationship', name: 'r', properties: Array.from({ length: 300 }, (_, i) => property(`p${i}`)) }])],
    invalid: [iface(V2, [{ '@type': 'Relationship', name: 'r', properties: Array.from({ length: 301 }, (_, i) => property(`p${i}`)) }])],
    expect: { code: 'element-count', path: '/contents/0/properties', mentions: ['Relationship "r"', '301 values', 'at most 300'] },
  });
});

describe('Command', () => {
  rule('a Command has at most one request', {
    valid: [iface(V3, [{ '@type': 'Command', name: 'c', request: [{ name: 'r', schema: 'double' }] }])],
    invalid: [iface(V3, [{ '@type': 'Command', name: 'c', request: [{ name: 'r', schema: 'double' }, { name: 's', schema: 'double' }] }])],
    expect: { code: 'member-count', path: '/contents/0/request', mentions: ['Command "c"', 'request has 2 values', 'only one'] },
  });

  rule('nullable is a DTDL v4 member of command payloads', {
    valid: [iface(V4, [{ '@type': 'Command', name: 'c', request: { name: 'r', schema: 'double', nullable: true } }])],
    invalid: [iface(V3, [{ '@type': 'Command', name: 'c', request: { name: 'r', schema: 'double', nullable: true } }])],
    expect: { code: 'member-undefined', path: '/contents/0/request/nullable', mentions: ['CommandRequest "r" in Command "c"', '"nullable"'] },
  });

  rule('the deprecated commandType is synchronous or asynchronous', {
    valid: [iface(V3, [{ '@type': 'Command', name: 'c', commandType: 'synchronous' }])],
    invalid: [iface(V3, [{ '@type': 'Command', name: 'c', commandType: 'sometimes' }])],
    expect: { code: 'member-value', path: '/contents/0/commandType', mentions: ['Command "c"', '"synchronous" or "asynchronous"'] },
  });
});
