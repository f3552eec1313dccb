// Several documents referring to each other, the resolve option, unresolved references, document
// shapes, and which DTDL versions may refer to which.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertError, assertValid, iface, parse, rule, telemetry, V2, V3 } from './helpers';

const base = iface(V3, [telemetry('pixels')], {}, 'dtmi:ex:Base;1');
const derived = iface(V3, [telemetry('resolution')], { extends: 'dtmi:ex:Base;1' }, 'dtmi:ex:Derived;1');

describe('documents and references', () => {
  test('a document is one Interface or an array of them, and documents refer to each other', () => {
    const { model } = assertValid([[derived, iface(V3, [], {}, 'dtmi:ex:Other;1')], base]);
    assert.deepEqual([...(model?.interfaces.get('dtmi:ex:Derived;1')?.contents.keys() ?? [])], ['resolution', 'pixels']);
  });

  rule('a document is a JSON object or an array of objects', {
    valid: [[base]],
    invalid: ['dtmi:ex:Base;1'],
    expect: { code: 'document-root', path: '', mentions: ['JSON object or an array of objects'] },
  });

  test('an array item that is not an object is reported at its index', () => {
    assertError([[base, 42]], { code: 'document-root', path: '/1', mentions: ['must be a JSON object', 'number 42'] });
  });

  test('a reference nobody defines makes the set invalid and is listed in unresolved', () => {
    const result = parse([derived]);
    assert.equal(result.valid, false);
    assert.deepEqual(result.unresolved, ['dtmi:ex:Base;1']);
    const error = result.errors.find((e) => e.code === 'reference-unresolved');
    assert.equal(error?.path, '/extends');
    assert.equal(error?.dtmi, 'dtmi:ex:Derived;1');
    assert.match(error?.message ?? '', /Interface dtmi:ex:Derived;1: extends refers to dtmi:ex:Base;1, which no given document defines/);
  });

  test('the resolve option supplies missing documents, transitively, numbered after the given ones', () => {
    const asked: string[] = [];
    const top = iface(V3, [{ '@type': 'Component', name: 'cam', schema: 'dtmi:ex:Derived;1' }], {}, 'dtmi:ex:Phone;1');
    const library: Record<string, unknown> = { 'dtmi:ex:Derived;1': derived, 'dtmi:ex:Base;1': base };
    const result = parse([top], {
      resolve: (dtmi) => {
        asked.push(dtmi);
        return library[dtmi];
      },
    });
    assert.ok(result.valid, JSON.stringify(result.errors));
    assert.deepEqual(asked, ['dtmi:ex:Derived;1', 'dtmi:ex:Base;1']);
    assert.equal(result.model?.interfaces.get('dtmi:ex:Base;1')?.source.document, 2);
    assert.deepEqual(result.unresolved, []);
  });

  test('a resolver that does not know a DTMI leaves it unresolved', () => {
    const result = parse([derived], { resolve: () => undefined });
    assert.equal(result.valid, false);
    assert.deepEqual(result.unresolved, ['dtmi:ex:Base;1']);
  });

  test('errors in resolved documents point at their document number', () => {
    const broken = iface(V3, [telemetry('2bad')], {}, 'dtmi:ex:Base;1');
    const result = parse([derived], { resolve: (dtmi) => (dtmi === 'dtmi:ex:Base;1' ? broken : undefined) });
    const error = result.errors.find((e) => e.code === 'name-invalid');
    assert.equal(error?.document, 1);
    assert.equal(error?.path, '/contents/0/name');
  });

  rule('a DTDL v3 Interface may extend a v2 Interface, not the other way round', {
    valid: [iface(V3, [], { extends: 'dtmi:ex:Old;1' }), iface(V2, [telemetry('t')], {}, 'dtmi:ex:Old;1')],
    invalid: [iface(V2, [], { extends: 'dtmi:ex:New;1' }), iface(V3, [telemetry('t')], {}, 'dtmi:ex:New;1')],
    expect: { code: 'version-mismatch', path: '/extends', mentions: ['Interface dtmi:ex:A;1', 'dtmi:ex:New;1', 'DTDL v3', 'DTDL v2 element'] },
  });

  rule('a dependent reference names an element of the kind the member takes', {
    valid: [iface(V3, [], { extends: 'dtmi:ex:B;1' }), iface(V3, [], {}, 'dtmi:ex:B;1')],
    invalid: [iface(V3, [], { extends: 'dtmi:ex:S;1', schemas: [{ '@id': 'dtmi:ex:S;1', '@type': 'Enum', valueSchema: 'string' }] })],
    expect: { code: 'reference-type', path: '/extends', mentions: ['Interface dtmi:ex:A;1', 'dtmi:ex:S;1', 'is an Enum', 'must be Interface'] },
  });

  rule('a reference is a valid DTMI', {
    valid: [iface(V3, [], { extends: 'dtmi:ex:B;1' }), iface(V3, [], {}, 'dtmi:ex:B;1')],
    invalid: [iface(V3, [], { extends: 'dtmi:ex:9B;1' })],
    expect: { code: 'dtmi-invalid', path: '/extends', mentions: ['Interface dtmi:ex:A;1', '"dtmi:ex:9B;1"', 'starts with a digit'] },
  });

  test('inline Interfaces (in extends and Component schemas) are part of the set', () => {
    const { model } = assertValid([
      iface(V3, [{ '@type': 'Component', name: 'c', schema: { '@id': 'dtmi:ex:Inner;1', '@type': 'Interface', contents: [telemetry('x')] } }], {
        extends: { '@id': 'dtmi:ex:InlineBase;1', '@type': 'Interface', contents: [telemetry('y')] },
      }),
    ]);
    assert.ok(model?.interfaces.has('dtmi:ex:Inner;1'));
    assert.ok(model?.isOfModel('dtmi:ex:A;1', 'dtmi:ex:InlineBase;1'));
  });
});
