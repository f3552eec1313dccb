// The snapshot store: urgent writes land at once, delayed writes land off the event loop, and the
// file never goes back in time, whichever write finishes last.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SnapshotStore } from '../../nodes/lib/snapshot-store';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'twinflow-snapshot-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const read = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

async function until(what: string, check: () => boolean, deadlineMs = 10000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > end) assert.fail(`${what}: not within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('snapshot store', () => {
  test('an urgent change is on disk before changed() returns', () => {
    const file = path.join(tempDir(), 'state.json');
    let state = { n: 1 };
    const store = new SnapshotStore(file, () => state, (err) => assert.fail(err));
    store.changed(true);
    assert.deepEqual(read(file), { n: 1 });
    state = { n: 2 };
    store.changed(true);
    assert.deepEqual(read(file), { n: 2 });
  });

  test('a delayed change lands after the delay, written in the background, and leaves no temporary file', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'state.json');
    const many = Array.from({ length: 50_000 }, (_, i) => ({ i, at: '2026-12-04T01:00:00.000Z' }));
    let state = { n: 1, many };
    // The snapshot function hands over the state itself: the JSON is made before anything can change it.
    const store = new SnapshotStore(file, () => state, (err) => assert.fail(err), { telemetryDelayMs: 20 });
    store.changed(false);
    assert.deepEqual(readdirSync(dir), [], 'nothing is written before the delay');
    state = { n: 2, many };
    store.changed(false);
    await until('the delayed write', () => readdirSync(dir).some((name) => name.endsWith('.tmp')) || readdirSync(dir).includes('state.json'));
    // Changed while the file is written: the write in flight keeps what it took.
    state.n = 3;
    await store.idle();
    assert.deepEqual(read(file), { n: 2, many }, 'the snapshot is taken when the delay ends');
    assert.deepEqual(readdirSync(dir), ['state.json']);
    await store.close();
  });

  test('a due delayed write waits for a pause in the changes, so it lands between bursts', async () => {
    const file = path.join(tempDir(), 'state.json');
    let lastChangeAt = 0;
    let takenAt = 0;
    let quietBeforeTaken = -1;
    const store = new SnapshotStore(file, () => {
      takenAt = performance.now();
      quietBeforeTaken = takenAt - lastChangeAt;
      return { n: 1 };
    }, (err) => assert.fail(err), { telemetryDelayMs: 50, quietMs: 20 });
    const change = () => {
      lastChangeAt = performance.now();
      store.changed(false);
    };
    // A burst of changes every 5 ms for 70 ms: the write is due after 50 ms, in the burst, and waits
    // for 20 ms without a change (about 90 ms) or for 50 ms more, whichever comes first.
    const startedAt = performance.now();
    change();
    const burst = setInterval(() => {
      if (performance.now() - startedAt >= 70) clearInterval(burst);
      else change();
    }, 5);
    await until('the delayed write', () => takenAt > 0);
    clearInterval(burst);
    const dueFor = takenAt - startedAt - 50;
    // Timers may fire late on a busy machine, so the check is on what the store promises: it took
    // the snapshot either after 20 quiet ms or because it had waited its 50 ms of grace.
    assert.ok(quietBeforeTaken >= 20 - 1 || dueFor >= 50 - 1, `taken ${quietBeforeTaken.toFixed(1)} ms after a change, ${dueFor.toFixed(1)} ms after it was due`);
    await store.close();
    assert.deepEqual(read(file), { n: 1 });
  });

  test('a due delayed write made to wait by changes that never pause still lands after a second delay', async () => {
    const file = path.join(tempDir(), 'state.json');
    let takes = 0;
    const store = new SnapshotStore(file, () => {
      takes++;
      return { n: takes };
    }, (err) => assert.fail(err), { telemetryDelayMs: 20, quietMs: 1000 });
    const startedAt = performance.now();
    store.changed(false);
    const stream = setInterval(() => store.changed(false), 2);
    try {
      await until('the delayed write', () => takes > 0, 5000);
      const tookMs = performance.now() - startedAt;
      assert.ok(tookMs >= 40 - 1, `the write waited for quiet first (${tookMs.toFixed(1)} ms)`);
    } finally {
      clearInterval(stream);
    }
    await store.idle();
    await store.close();
    assert.ok((read(file) as { n: number }).n >= 1);
  });

  test('with no changes during the delay, the delayed write does not wait any longer', async () => {
    const file = path.join(tempDir(), 'state.json');
    let takenAt = 0;
    const store = new SnapshotStore(file, () => {
      takenAt = performance.now();
      return { n: 1 };
    }, (err) => assert.fail(err), { telemetryDelayMs: 30, quietMs: 20 });
    const startedAt = performance.now();
    store.changed(false);
    await until('the delayed write', () => takenAt > 0);
    // Due at 30 ms and quiet since 0 ms: taken then (timers never fire early).
    assert.ok(takenAt - startedAt >= 30 - 1);
    await store.close();
  });

  test('a delayed write that finishes after a newer urgent write does not replace it', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'state.json');
    let state: { n: number; pad?: string } = { n: 1 };
    let snapshots = 0;
    const store = new SnapshotStore(file, () => {
      snapshots++;
      return state;
    }, (err) => assert.fail(err), { telemetryDelayMs: 5 });
    // A big snapshot, so that its background write is still in flight when the urgent one runs.
    state = { n: 1, pad: 'x'.repeat(8_000_000) };
    store.changed(false);
    await until('the delayed snapshot to be taken', () => snapshots === 1);
    state = { n: 2 };
    store.changed(true);
    assert.deepEqual(read(file), { n: 2 });
    await store.idle();
    assert.deepEqual(read(file), { n: 2 }, 'the older background write was dropped');
    assert.deepEqual(readdirSync(dir), ['state.json']);
    await store.close();
  });

  test('close writes what is left at once and supersedes a delayed write in flight', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'state.json');
    let state: { n: number; pad?: string } = { n: 1, pad: 'x'.repeat(8_000_000) };
    let snapshots = 0;
    const first = new SnapshotStore(file, () => {
      snapshots++;
      return state;
    }, (err) => assert.fail(err), { telemetryDelayMs: 5 });
    first.changed(false);
    await until('the delayed snapshot to be taken', () => snapshots === 1);
    state = { n: 2 };
    first.changed(false);
    const closing = first.close();
    assert.deepEqual(read(file), { n: 2 }, 'written before close returns');
    await closing;
    assert.deepEqual(read(file), { n: 2 });
    assert.deepEqual(readdirSync(dir), ['state.json']);
    first.changed(true);
    assert.deepEqual(read(file), { n: 2 }, 'a closed store takes no more changes');
  });

  test('a delayed write that fails is reported, then retried with the latest state', async () => {
    const dir = tempDir();
    // The folder of the file is a file: every write fails until it is removed.
    const blocker = path.join(dir, 'sub');
    writeFileSync(blocker, 'not a folder');
    const file = path.join(blocker, 'state.json');
    let state = { n: 1 };
    const errors: string[] = [];
    const store = new SnapshotStore(file, () => state, (err) => errors.push(err.message), { telemetryDelayMs: 5 });
    store.changed(false);
    await until('the failure to be reported', () => errors.length > 0);
    assert.match(errors[0]!, /ENOTDIR|EEXIST/);
    rmSync(blocker);
    mkdirSync(blocker);
    state = { n: 3 };
    await until('the retry to land', () => {
      try {
        return (read(file) as { n: number }).n === 3;
      } catch {
        return false;
      }
    });
    await store.close();
    assert.deepEqual(readdirSync(blocker), ['state.json']);
  });

  test('a snapshot function with nothing to give (undefined) leaves the file as it is', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'state.json');
    let state: unknown = { n: 1 };
    const store = new SnapshotStore(file, () => state, (err) => assert.fail(err), { telemetryDelayMs: 5 });
    store.changed(true);
    state = undefined;
    store.changed(true);
    store.changed(false);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await store.close();
    assert.deepEqual(read(file), { n: 1 });
  });
});
