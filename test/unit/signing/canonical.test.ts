// Canonical JSON (RFC 8785 style) and strict base64url.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { canonicalJson, CanonicalJsonError, decodeBase64url, encodeBase64url } from '../../../nodes/lib/signing';

describe('canonicalJson', () => {
  test('sorts keys by UTF-16 code units, at every level, without whitespace', () => {
    assert.equal(canonicalJson({ b: 1, a: [3, { d: true, c: null }], é: 'x', Z: 'y' }), '{"Z":"y","a":[3,{"c":null,"d":true}],"b":1,"é":"x"}');
    // U+1F600 (surrogates D83D DE00) sorts before U+FB33 by code units, after it by code points.
    assert.equal(canonicalJson({ '\uFB33': 1, '\u{1F600}': 2 }), '{"\u{1F600}":2,"\uFB33":1}');
  });

  test('writes numbers and strings as ECMAScript does (the JCS rules)', () => {
    assert.equal(canonicalJson([1e21, 1e-7, -0, 0.1 + 0.2, 333333333.3333333, 5e-324]), '[1e+21,1e-7,0,0.30000000000000004,333333333.3333333,5e-324]');
    assert.equal(canonicalJson('a"b\\c\n\u0001\u2028'), '"a\\"b\\\\c\\n\\u0001\u2028"');
  });

  test('leaves out undefined members, as JSON does', () => {
    assert.equal(canonicalJson({ a: undefined, b: 2 }), '{"b":2}');
  });

  test('refuses what JSON cannot carry, naming where it is', () => {
    assert.throws(() => canonicalJson({ a: { b: [1, Number.NaN] } }), (err: unknown) => err instanceof CanonicalJsonError && /\/a\/b\/1: NaN is not a finite number/.test(err.message));
    assert.throws(() => canonicalJson({ x: Infinity }), /\/x: Infinity/);
    assert.throws(() => canonicalJson([undefined]), /\/0: undefined/);
    assert.throws(() => canonicalJson({ f: () => 1 }), /\/f: a function is not JSON data/);
    assert.throws(() => canonicalJson({ n: 10n }), /bigint/);
    assert.throws(() => canonicalJson({ d: new Date(0) }), /\/d: a Date is not JSON data/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => canonicalJson(cyclic), /deeper than 64 levels \(or a cycle\)/);
  });

  test('is a fixed point of parsing: canonical(parse(canonical(x))) = canonical(x)', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => {
      const text = canonicalJson(value);
      assert.equal(canonicalJson(JSON.parse(text)), text);
      assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(value)));
    }), { numRuns: 300 });
  });
});

describe('base64url', () => {
  test('round-trips bytes and refuses non-canonical text', () => {
    const bytes = Buffer.from([0, 1, 2, 250, 251, 255]);
    assert.deepEqual(decodeBase64url(encodeBase64url(bytes)), bytes);
    assert.equal(decodeBase64url('AAE='), undefined, 'padding');
    assert.equal(decodeBase64url('AA+/'), undefined, 'base64, not base64url');
    assert.equal(decodeBase64url('AB'), undefined, 'spare bits set (AA is the canonical form)');
    assert.equal(decodeBase64url('A'), undefined, 'impossible length');
    assert.equal(decodeBase64url('AA A'), undefined, 'whitespace');
    assert.deepEqual(decodeBase64url('AA'), Buffer.from([0]));
  });
});
