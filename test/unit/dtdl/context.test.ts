// @context: DTDL version selection, ordering, extension contexts, limit extensions, nested contexts.
import { describe } from 'node:test';
import { iface, property, QT3, rule, telemetry, V2, V3, V4 } from './helpers';

function nestedArrays(levels: number): unknown {
  let schema: unknown = 'double';
  for (let i = 0; i < levels; i++) schema = { '@type': 'Array', elementSchema: schema };
  return schema;
}

describe('DTDL context rules', () => {
  rule('a top-level element has an @context naming the DTDL version', {
    valid: [iface(V3, [telemetry('t')])],
    invalid: [{ '@id': 'dtmi:ex:A;1', '@type': 'Interface', contents: [] }],
    expect: { code: 'context-missing', path: '', mentions: ['top-level element', '@context', 'dtmi:dtdl:context;3'] },
  });

  rule('the DTDL version is 2, 3 or 4', {
    valid: [iface(V4, [telemetry('t')])],
    invalid: [iface('dtmi:dtdl:context;5', [telemetry('t')])],
    expect: { code: 'context-version', path: '/@context', mentions: ['dtmi:dtdl:context;5', 'not DTDL v2, v3 or v4'] },
  });

  rule('context specifiers are DTMIs', {
    valid: [iface([V3, 'dtmi:dtdl:extension:historization;1'], [])],
    invalid: [iface([V3, 'http://example.com/context'], [])],
    expect: { code: 'context-invalid', path: '/@context/1', mentions: ['http://example.com/context', 'is not a DTMI'] },
  });

  rule('extension context specifiers carry a version', {
    valid: [iface([V3, 'dtmi:dtdl:extension:historization;2'], [])],
    invalid: [iface([V3, 'dtmi:dtdl:extension:historization'], [])],
    expect: { code: 'context-invalid', path: '/@context/1', mentions: ['dtmi:dtdl:extension:historization', 'no version number'] },
  });

  rule('the DTDL context comes before extension contexts', {
    valid: [iface([V3, 'dtmi:dtdl:extension:historization;1'], [])],
    invalid: [iface(['dtmi:dtdl:extension:historization;1', V3], [])],
    expect: { code: 'context-order', path: '/@context/1', mentions: ['dtmi:dtdl:context;3', 'DTDL contexts must come first'] },
  });

  rule('undefined extension contexts are refused by default', {
    valid: [iface(QT3, [telemetry('t')])],
    invalid: [iface([V3, 'dtmi:example:flavors;1'], [telemetry('t')])],
    expect: { code: 'extension-undefined', path: '/@context/1', mentions: ['dtmi:example:flavors;1', 'not defined', 'incomplete'] },
  });

  rule('"#limitless" is followed by a limits context', {
    valid: [iface(['dtmi:dtdl:context;4#limitless', 'dtmi:dtdl:context;4#limits'], [telemetry('t')])],
    invalid: [iface(['dtmi:dtdl:context;4#limitless'], [telemetry('t')])],
    expect: { code: 'context-order', path: '/@context/0', mentions: ['#limitless', 'must be immediately followed'] },
  });

  rule('the Onvif limit extension raises the schema depth limit to 24', {
    valid: [iface(['dtmi:dtdl:context;4#limitless', 'dtmi:dtdl:limits:onvif;1'], [telemetry('t', nestedArrays(12))])],
    invalid: [iface(V4, [telemetry('t', nestedArrays(12))])],
    expect: { code: 'schema-depth', path: '/contents/0/schema', mentions: ['Telemetry "t"', '12 levels', 'at most 8'] },
  });

  rule('a nested element may not use a later DTDL version than its parent', {
    valid: [iface(V3, [{ '@type': 'Component', name: 'c', schema: { '@context': V2, '@id': 'dtmi:ex:B;1', '@type': 'Interface', contents: [telemetry('x')] } }])],
    invalid: [iface(V2, [{ '@type': 'Component', name: 'c', schema: { '@context': V3, '@id': 'dtmi:ex:B;1', '@type': 'Interface', contents: [telemetry('x')] } }])],
    expect: { code: 'version-mismatch', path: '/contents/0/schema/@context', mentions: ['Component "c"', 'DTDL v3', 'DTDL v2'] },
  });

  rule('a nested @context adds extensions for its subtree only', {
    valid: [iface(V3, [{ '@context': 'dtmi:dtdl:extension:historization;1', '@type': ['Property', 'Historized'], name: 'p', schema: 'double' }])],
    invalid: [iface(V3, [property('q'), { '@type': ['Property', 'Historized'], name: 'p', schema: 'double' }])],
    expect: { code: 'type-undefined', path: '/contents/1/@type/1', mentions: ['Property "p"', '"Historized"', 'not defined by DTDL v3'] },
  });
});
