// sampleMaker: the sample opcua-in makes for each value is a plain object in the message contract,
// whichever way it is made (by `new` for the usual shapes, as a literal for the rare ones).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sampleMaker } from '../../nodes/opcua-in/opcua-in-core';
import type { ItemSpec } from '../../nodes/opcua-endpoint/opcua-items';

const items = [
  { name: 'spindle/speed', nodeId: 'ns=1;s=Spindle.Speed' },
  { name: 'coolant/flow', browsePath: '/Objects/1:CNC/1:Coolant/1:Flow' },
] as unknown as ItemSpec[];

function assertPlain(value: unknown, what: string): void {
  assert.equal(Object.getPrototypeOf(value), Object.prototype, `${what}: its prototype is Object.prototype`);
  assert.equal((value as { constructor: unknown }).constructor, Object, `${what}: its constructor is Object`);
}

test('a sample with both timestamps is a plain object with the contract fields in order', () => {
  const make = sampleMaker(items, undefined);
  const sample = make(0, 1520.5, 1_700_000_000_000, 1_700_000_000_004, 0, 'good');
  assert.deepStrictEqual(sample, {
    topic: 'spindle/speed',
    payload: 1520.5,
    sourceTime: 1_700_000_000_000,
    serverTime: 1_700_000_000_004,
    quality: 'good',
    opcua: { statusCode: 0, nodeId: 'ns=1;s=Spindle.Speed' },
  });
  assert.deepEqual(Object.keys(sample), ['topic', 'payload', 'sourceTime', 'serverTime', 'quality', 'opcua']);
  assertPlain(sample, 'sample');
  assertPlain(sample.opcua, 'sample.opcua');
  assert.equal(JSON.stringify(sample), '{"topic":"spindle/speed","payload":1520.5,"sourceTime":1700000000000,"serverTime":1700000000004,"quality":"good","opcua":{"statusCode":0,"nodeId":"ns=1;s=Spindle.Speed"}}');
  // Each value gets objects of its own: a flow that changes one sample changes no other.
  const next = make(0, 1521, 1_700_000_000_100, 1_700_000_000_104, 0, 'good');
  assert.notEqual(next, sample);
  assert.notEqual(next.opcua, sample.opcua);
});

test('a sample for a twin carries it after the payload; an item found by browse path says so', () => {
  const twin = { id: 'cnc-1', model: 'dtmi:twinflow:cnc:CNCMachine;1' };
  const sample = sampleMaker(items, twin)(1, 12, 1_700_000_000_000, 1_700_000_000_001, 0x40000000, 'uncertain');
  assert.deepStrictEqual(sample, {
    topic: 'coolant/flow',
    payload: 12,
    twin,
    sourceTime: 1_700_000_000_000,
    serverTime: 1_700_000_000_001,
    quality: 'uncertain',
    opcua: { statusCode: 0x40000000, browsePath: '/Objects/1:CNC/1:Coolant/1:Flow' },
  });
  assert.deepEqual(Object.keys(sample), ['topic', 'payload', 'twin', 'sourceTime', 'serverTime', 'quality', 'opcua']);
  assertPlain(sample, 'twin sample');
  assertPlain(sample.opcua, 'twin sample.opcua');
});

test('a value without a source timestamp leaves the field out rather than setting it undefined', () => {
  const sample = sampleMaker(items, undefined)(0, 3, undefined, 1_700_000_000_001, 0x80000000, 'bad');
  assert.deepStrictEqual(sample, {
    topic: 'spindle/speed',
    payload: 3,
    serverTime: 1_700_000_000_001,
    quality: 'bad',
    opcua: { statusCode: 0x80000000, nodeId: 'ns=1;s=Spindle.Speed' },
  });
  assert.equal('sourceTime' in sample, false);
  assertPlain(sample, 'sample without a source time');
});
