import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CounterNoise, Random } from '../../../nodes/lib/random';

test('the same seed gives the same sequence, other seeds another', () => {
  const a = new Random(42);
  const b = new Random(42);
  const c = new Random(43);
  const seqA = Array.from({ length: 50 }, () => a.next());
  const seqB = Array.from({ length: 50 }, () => b.next());
  const seqC = Array.from({ length: 50 }, () => c.next());
  assert.deepEqual(seqA, seqB);
  assert.notDeepEqual(seqA, seqC);
});

test('next() is uniform in [0, 1)', () => {
  const random = new Random(7);
  const bins = new Array<number>(10).fill(0);
  const n = 100_000;
  for (let i = 0; i < n; i++) {
    const x = random.next();
    assert.ok(x >= 0 && x < 1, `${x} outside [0, 1)`);
    bins[Math.floor(x * 10)]++;
  }
  for (const count of bins) assert.ok(Math.abs(count - n / 10) < n / 100, `bin count ${count} far from ${n / 10}`);
});

test('gaussian() has the asked mean and standard deviation', () => {
  const random = new Random(3);
  const n = 100_000;
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < n; i++) {
    const x = random.gaussian(5, 2);
    sum += x;
    sumSquares += x * x;
  }
  const mean = sum / n;
  const sd = Math.sqrt(sumSquares / n - mean * mean);
  assert.ok(Math.abs(mean - 5) < 0.03, `mean ${mean}`);
  assert.ok(Math.abs(sd - 2) < 0.03, `sd ${sd}`);
});

test('int() stays in range and rejects a bad bound', () => {
  const random = new Random(9);
  for (let i = 0; i < 1000; i++) {
    const k = random.int(3);
    assert.ok(k === 0 || k === 1 || k === 2);
  }
  assert.throws(() => random.int(0), /n: 0 must be a positive integer/);
});

test('a non-finite seed is a clear error', () => {
  assert.throws(() => new Random(Number.NaN), /seed: NaN is not a finite number/);
});

test('counter noise is a pure function of seed, counter and channel', () => {
  const a = new CounterNoise(11);
  const b = new CounterNoise(11);
  assert.equal(a.gaussian(1234, 2), b.gaussian(1234, 2));
  assert.equal(a.gaussian(1234, 2), a.gaussian(1234, 2));
  assert.notEqual(a.gaussian(1234, 2), a.gaussian(1235, 2));
  assert.notEqual(a.gaussian(1234, 2), a.gaussian(1234, 3));
  assert.notEqual(a.gaussian(1234, 2), new CounterNoise(12).gaussian(1234, 2));
  let sum = 0;
  let sumSquares = 0;
  const n = 50_000;
  for (let i = 0; i < n; i++) {
    const x = a.gaussian(i, 0);
    sum += x;
    sumSquares += x * x;
  }
  assert.ok(Math.abs(sum / n) < 0.03);
  assert.ok(Math.abs(Math.sqrt(sumSquares / n) - 1) < 0.03);
});
