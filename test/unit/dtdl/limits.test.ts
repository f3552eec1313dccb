// Limits and exclusions across elements: extends count and depth, cycles, Components in Components,
// inherited name clashes, contents counts and the Interface text size.
import { describe } from 'node:test';
import { iface, property, rule, telemetry, V2, V3, V4, type Json } from './helpers';

/** Interfaces L0 <- L1 <- … <- L{n}: L{n} has an extends chain n levels deep. */
function chain(levels: number, context: string): Json[] {
  return Array.from({ length: levels + 1 }, (_, i) =>
    iface(context, [telemetry(`t${i}`)], i > 0 ? { extends: `dtmi:ex:L${i - 1};1` } : {}, `dtmi:ex:L${i};1`),
  );
}

function bases(count: number): Json[] {
  const list = Array.from({ length: count }, (_, i) => `dtmi:ex:B${i};1`);
  return [iface(V3, [], { extends: list }), ...list.map((id) => iface(V3, [], {}, id))];
}

const component = (name: string, schema: string): Json => ({ '@type': 'Component', name, schema });

describe('extends', () => {
  rule('a DTDL v2 Interface extends at most 2 Interfaces directly', {
    valid: [iface(V2, [], { extends: ['dtmi:ex:B;1', 'dtmi:ex:C;1'] }), iface(V2, [], {}, 'dtmi:ex:B;1'), iface(V2, [], {}, 'dtmi:ex:C;1')],
    invalid: [
      iface(V2, [], { extends: ['dtmi:ex:B;1', 'dtmi:ex:C;1', 'dtmi:ex:D;1'] }),
      iface(V2, [], {}, 'dtmi:ex:B;1'),
      iface(V2, [], {}, 'dtmi:ex:C;1'),
      iface(V2, [], {}, 'dtmi:ex:D;1'),
    ],
    expect: { code: 'extends-count', path: '/extends', mentions: ['Interface dtmi:ex:A;1', 'extends has 3 values', 'at most 2'] },
  });

  rule('a DTDL v3 extends hierarchy has at most 1024 values', {
    valid: bases(1024),
    invalid: bases(1025),
    expect: { code: 'extends-count', path: '/extends', mentions: ['Interface dtmi:ex:A;1', '1025 extends values', 'at most 1024'] },
  });

  rule('a DTDL v3 extends chain is at most 10 levels deep', {
    valid: chain(10, V3),
    invalid: chain(11, V3),
    expect: { code: 'extends-depth', document: 11, path: '/extends', mentions: ['Interface dtmi:ex:L11;1', '11 levels deep', 'at most 10'] },
  });

  rule('a DTDL v4 extends chain is at most 12 levels deep', {
    valid: chain(12, V4),
    invalid: chain(13, V4),
    expect: { code: 'extends-depth', document: 13, path: '/extends', mentions: ['Interface dtmi:ex:L13;1', '13 levels deep', 'at most 12'] },
  });

  rule('extends forms no cycle', {
    valid: [iface(V3, [], { extends: 'dtmi:ex:B;1' }), iface(V3, [], {}, 'dtmi:ex:B;1')],
    invalid: [iface(V3, [], { extends: 'dtmi:ex:B;1' }), iface(V3, [], { extends: 'dtmi:ex:A;1' }, 'dtmi:ex:B;1')],
    expect: { code: 'cycle', document: 1, path: '/extends', mentions: ['extends itself', 'dtmi:ex:A;1', 'dtmi:ex:B;1'] },
  });

  rule('names are unique among own and inherited contents', {
    valid: [iface(V3, [telemetry('a')], { extends: 'dtmi:ex:B;1' }), iface(V3, [telemetry('b')], {}, 'dtmi:ex:B;1')],
    invalid: [iface(V3, [telemetry('a')], { extends: 'dtmi:ex:B;1' }), iface(V3, [property('a')], {}, 'dtmi:ex:B;1')],
    expect: { code: 'name-duplicate', path: '/extends', mentions: ['Interface dtmi:ex:A;1', 'content name "a"', 'inherited through extends'] },
  });

  rule('an element inherited twice through a diamond is not a duplicate', {
    valid: [
      iface(V3, [], { extends: ['dtmi:ex:B;1', 'dtmi:ex:C;1'] }),
      iface(V3, [], { extends: 'dtmi:ex:D;1' }, 'dtmi:ex:B;1'),
      iface(V3, [], { extends: 'dtmi:ex:D;1' }, 'dtmi:ex:C;1'),
      iface(V3, [telemetry('shared')], {}, 'dtmi:ex:D;1'),
    ],
    invalid: [
      iface(V3, [], { extends: ['dtmi:ex:B;1', 'dtmi:ex:C;1'] }),
      iface(V3, [telemetry('shared')], {}, 'dtmi:ex:B;1'),
      iface(V3, [telemetry('shared')], {}, 'dtmi:ex:C;1'),
    ],
    expect: { code: 'name-duplicate', path: '/extends', mentions: ['content name "shared"', 'dtmi:ex:B;1', 'dtmi:ex:C;1'] },
  });
});

describe('Components and cycles', () => {
  rule('a Component does not contain itself', {
    valid: [iface(V3, [component('c', 'dtmi:ex:B;1')]), iface(V3, [telemetry('t')], {}, 'dtmi:ex:B;1')],
    invalid: [iface(V3, [component('me', 'dtmi:ex:A;1')])],
    expect: { code: 'cycle', path: '/contents/0/schema', mentions: ['Interface dtmi:ex:A;1', 'contains itself', 'path to itself'] },
  });

  rule('the Interface of a Component contains no Component', {
    valid: [iface(V3, [component('c', 'dtmi:ex:B;1'), component('d', 'dtmi:ex:C;1')]), iface(V3, [], {}, 'dtmi:ex:B;1'), iface(V3, [], {}, 'dtmi:ex:C;1')],
    invalid: [iface(V3, [component('c', 'dtmi:ex:B;1')]), iface(V3, [component('d', 'dtmi:ex:C;1')], {}, 'dtmi:ex:B;1'), iface(V3, [], {}, 'dtmi:ex:C;1')],
    expect: { code: 'component-nested', path: '/contents/0/schema', mentions: ['Component "c"', 'contains Component "d"', 'must not contain Components'] },
  });

  rule('…nor inherits one through extends', {
    valid: [iface(V3, [component('c', 'dtmi:ex:B;1')]), iface(V3, [], { extends: 'dtmi:ex:C;1' }, 'dtmi:ex:B;1'), iface(V3, [telemetry('t')], {}, 'dtmi:ex:C;1')],
    invalid: [
      iface(V3, [component('c', 'dtmi:ex:B;1')]),
      iface(V3, [], { extends: 'dtmi:ex:C;1' }, 'dtmi:ex:B;1'),
      iface(V3, [component('d', 'dtmi:ex:D;1')], {}, 'dtmi:ex:C;1'),
      iface(V3, [], {}, 'dtmi:ex:D;1'),
    ],
    expect: { code: 'component-nested', path: '/contents/0/schema', mentions: ['Component "c"', 'Component "d" in dtmi:ex:C;1'] },
  });

  rule('a Relationship may target its own Interface (a non-dependent reference)', {
    valid: [iface(V3, [{ '@type': 'Relationship', name: 'same', target: 'dtmi:ex:A;1' }])],
    invalid: [iface(V3, [{ '@type': 'Component', name: 'same', schema: 'dtmi:ex:A;1' }])],
    expect: { code: 'cycle', path: '/contents/0/schema', mentions: ['contains itself'] },
  });
});

describe('contents counts and size', () => {
  rule('a DTDL v2 Interface has at most 300 contents, inherited ones included', {
    valid: [iface(V2, Array.from({ length: 150 }, (_, i) => telemetry(`a${i}`)), { extends: 'dtmi:ex:B;1' }), iface(V2, Array.from({ length: 150 }, (_, i) => telemetry(`b${i}`)), {}, 'dtmi:ex:B;1')],
    invalid: [iface(V2, Array.from({ length: 151 }, (_, i) => telemetry(`a${i}`)), { extends: 'dtmi:ex:B;1' }), iface(V2, Array.from({ length: 150 }, (_, i) => telemetry(`b${i}`)), {}, 'dtmi:ex:B;1')],
    expect: { code: 'contents-count', path: '/contents', mentions: ['Interface dtmi:ex:A;1', '301 contents including inherited', 'at most 300'] },
  });

  // Each base: 1 content + 1 schema + n enum values; the bases keep each Interface under 1 MiB.
  const hierarchy = (valuesPerBase: number): Json[] => {
    const baseIds = [1, 2, 3, 4].map((i) => `dtmi:ex:Base${i};1`);
    return [
      iface(V3, [], { extends: baseIds }),
      ...baseIds.map((id, b) =>
        iface(V3, [telemetry(`state${b}`, { '@type': 'Enum', valueSchema: 'integer', enumValues: Array.from({ length: valuesPerBase }, (_, i) => ({ name: `v${i}`, enumValue: i })) })], {}, id),
      ),
    ];
  };
  rule('a DTDL v3 contents hierarchy, inherited contents included, has at most 100,000 elements', {
    valid: hierarchy(24_998),
    invalid: hierarchy(24_999),
    expect: { code: 'contents-count', path: '/contents', mentions: ['Interface dtmi:ex:A;1', '100004 elements', 'at most 100000'] },
  });

  const bulky = (count: number): Json[] => [
    iface(V3, Array.from({ length: count }, (_, i) => telemetry(`t${i}`, 'double', { comment: 'c'.repeat(500) }))),
  ];
  rule('the JSON text of a DTDL v3 Interface is at most 1 MiB', {
    valid: bulky(1800),
    invalid: bulky(2200),
    expect: { code: 'interface-size', path: '', mentions: ['Interface dtmi:ex:A;1', 'bytes', '1 MiB'] },
  });
});
