// plainValue: what opcua-in puts on a message for each kind of OPC UA value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataType, LocalizedText, Variant, VariantArrayType } from 'node-opcua';
import { plainValue } from '../../nodes/opcua-endpoint/opcua-connection';

test('plainValue turns every kind of Variant into a JSON-friendly value', () => {
  assert.equal(plainValue(null), null);
  assert.equal(plainValue(new Variant({ dataType: DataType.Double, value: 12.5 })), 12.5);
  assert.equal(plainValue(new Variant({ dataType: DataType.Boolean, value: false })), false);
  assert.equal(plainValue(new Variant({ dataType: DataType.String, value: 'running' })), 'running');
  assert.equal(plainValue(new Variant({ dataType: DataType.Null })), null);
  assert.equal(plainValue(new Variant({ dataType: DataType.DateTime, value: new Date('2026-12-04T01:02:03.004Z') })), '2026-12-04T01:02:03.004Z');
  assert.equal(plainValue(new Variant({ dataType: DataType.Int64, arrayType: VariantArrayType.Scalar, value: [1, 5] })), 2 ** 32 + 5);
  assert.equal(plainValue(new Variant({ dataType: DataType.LocalizedText, value: new LocalizedText({ text: 'Spindle', locale: 'en' }) })), 'Spindle');
  const doubles = plainValue(new Variant({ dataType: DataType.Double, arrayType: VariantArrayType.Array, value: new Float64Array([1, 2.5]) }));
  assert.deepEqual(doubles, [1, 2.5]);
  assert.ok(Array.isArray(doubles), 'a typed array becomes a plain array');
  assert.deepEqual(plainValue(new Variant({ dataType: DataType.String, arrayType: VariantArrayType.Array, value: ['a', 'b'] })), ['a', 'b']);
  assert.deepEqual(plainValue(new Variant({ dataType: DataType.UInt64, arrayType: VariantArrayType.Array, value: [[0, 7], [2, 0]] })), [7, 2 * 2 ** 32]);
  assert.deepEqual(plainValue(new Variant({ dataType: DataType.DateTime, arrayType: VariantArrayType.Array, value: [new Date(0)] })), ['1970-01-01T00:00:00.000Z']);
});
