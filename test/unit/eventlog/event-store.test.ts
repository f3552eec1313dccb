// The durable event store: versions, idempotent ids, optimistic concurrency, causation and
// correlation, snapshots, state at any time, torn tails cut and other damage refused, and a real
// SIGKILL of a process appending in a loop.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { CorruptLogError, EventLogError, EventStore, TwinEventLog, type StoredEvent } from '../../../nodes/lib/eventlog';
import { crc32, crc32Fallback } from '../../../nodes/lib/durable/crc32';
import { TwinWorkload, withoutEtag } from './twin-workload';

let dir = '';
beforeEach(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'twinflow-eventlog-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function open(options: ConstructorParameters<typeof EventStore>[1] = {}): EventStore {
  const store = new EventStore(dir, options);
  store.open();
  return store;
}

/** A reducer for tests: the state is the list of `data.n` values seen. */
const sum = (state: number[], event: StoredEvent): number[] => [...state, (event.data as { n: number }).n];

function segmentFiles(prefix = 'events'): string[] {
  return readdirSync(dir).filter((f) => f.startsWith(`${prefix}-`)).sort().map((f) => path.join(dir, f));
}

describe('event store', () => {
  it('numbers each stream\'s events 1, 2, 3 ... and keeps actor, causation and correlation', () => {
    let now = 1000;
    const store = open({ clock: () => now++ });
    const first = store.append('cnc-1', [{ kind: 'a', data: { n: 1 }, actor: 'op', causationId: 'm1', correlationId: 'c1' }, { kind: 'b', data: { n: 2 } }]);
    store.append('cnc-2', [{ kind: 'a', data: { n: 1 } }]);
    const third = store.append('cnc-1', [{ kind: 'c', data: { n: 3 }, time: 5 }]);
    assert.deepEqual(first.appended.map((e) => e.version), [1, 2]);
    assert.equal(third.version, 3);
    assert.equal(store.version('cnc-2'), 1);
    const events = store.read('cnc-1');
    assert.deepEqual(events.map((e) => [e.version, e.kind, e.actor, e.causationId, e.correlationId]), [[1, 'a', 'op', 'm1', 'c1'], [2, 'b', undefined, undefined, undefined], [3, 'c', undefined, undefined, undefined]]);
    assert.equal(events[0]!.time, 1000);
    assert.equal(events[2]!.time, 5);
    store.close();
    const again = open();
    assert.deepEqual(again.read('cnc-1').map((e) => e.id), events.map((e) => e.id));
    assert.equal(again.append('cnc-1', [{ kind: 'd', data: { n: 4 } }]).version, 4);
    again.close();
  });

  it('makes appends idempotent by event id, and refuses the same id with other content', () => {
    const store = open();
    const first = store.append('s', [{ id: 'e-1', kind: 'set', data: { n: 1 }, actor: 'op' }]);
    const again = store.append('s', [{ id: 'e-1', kind: 'set', data: { n: 1 }, actor: 'op' }]);
    assert.equal(again.appended.length, 0);
    assert.deepEqual(again.duplicates.map((e) => [e.id, e.version]), [['e-1', 1]]);
    assert.equal(store.version('s'), 1);
    assert.equal(first.appended[0]!.id, 'e-1');
    assert.throws(() => store.append('s', [{ id: 'e-1', kind: 'set', data: { n: 2 }, actor: 'op' }]), (err: unknown) => err instanceof EventLogError && err.code === 'id-conflict' && /e-1 was appended before with other content \(stream s, version 1\)/.test(err.message));
    assert.throws(() => store.append('other', [{ id: 'e-1', kind: 'set', data: { n: 1 }, actor: 'op' }]), /id-conflict|other content/);
    assert.throws(() => store.append('s', [{ id: 'x', kind: 'k' }, { id: 'x', kind: 'k' }]), /x appears twice in one append/);
    store.close();
    const reopened = open();
    assert.equal(reopened.append('s', [{ id: 'e-1', kind: 'set', data: { n: 1 }, actor: 'op' }]).duplicates.length, 1, 'ids survive a restart');
    assert.equal(reopened.find('e-1')?.version, 1);
    reopened.close();
  });

  it('checks the expected version (optimistic concurrency) and changes nothing on a conflict', () => {
    const store = open();
    store.append('s', [{ kind: 'k', data: { n: 1 } }], { expectedVersion: 0 });
    assert.throws(() => store.append('s', [{ kind: 'k', data: { n: 2 } }], { expectedVersion: 0 }), (err: unknown) => err instanceof EventLogError && err.code === 'version-conflict' && /stream s is at version 1, not the expected 0/.test(err.message));
    assert.equal(store.append('s', [{ kind: 'k', data: { n: 2 } }], { expectedVersion: 1 }).version, 2);
    // A retry of events already stored succeeds although the stream has moved on.
    store.append('s', [{ id: 'r', kind: 'k', data: { n: 3 } }], { expectedVersion: 2 });
    store.append('s', [{ kind: 'k', data: { n: 4 } }]);
    assert.equal(store.append('s', [{ id: 'r', kind: 'k', data: { n: 3 } }], { expectedVersion: 2 }).duplicates.length, 1);
    // All or nothing across streams: one conflict appends nothing.
    assert.throws(() => store.appendBatch([{ stream: 'a', events: [{ kind: 'k', data: { n: 1 } }] }, { stream: 's', events: [{ kind: 'k', data: { n: 9 } }], expectedVersion: 1 }]), /version-conflict|not the expected/);
    assert.equal(store.version('a'), 0);
    assert.equal(store.version('s'), 4);
    store.close();
  });

  it('refuses bad input with the field named', () => {
    const store = open();
    assert.throws(() => store.append('', [{ kind: 'k' }]), /stream: must be a non-empty text/);
    assert.throws(() => store.append('s', [{ kind: '' }]), /events\[0\]\.kind/);
    assert.throws(() => store.append('s', [{ kind: 'k', time: Number.NaN }]), /events\[0\]\.time/);
    assert.throws(() => store.append('s', [{ kind: 'k', actor: 5 as unknown as string }]), /events\[0\]\.actor/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => store.append('s', [{ kind: 'k', data: cyclic }]), /data is not JSON/);
    assert.equal(store.version('s'), 0);
    store.close();
  });

  it('rebuilds the state at any time from the nearest snapshot, with a clock that went back', () => {
    let state: number[] = [];
    const store = open({ snapshotEvery: 10, snapshot: () => state });
    const times: number[] = [];
    for (let n = 1; n <= 95; n++) {
      const time = n === 50 ? 1000 + 40 * 10 : 1000 + n * 10; // event 50 is stamped earlier than 49
      times.push(time);
      state = [...state, n];
      store.append('s', [{ kind: 'k', data: { n }, time }]);
    }
    const at = (t: number) => store.stateAt('s', t, sum, () => [] as number[]);
    assert.equal(at(999), undefined, 'nothing before the first event');
    assert.deepEqual(at(1010)?.state, [1]);
    assert.deepEqual(at(1015)?.state, [1]);
    const mid = at(1000 + 73 * 10)!;
    assert.deepEqual(mid.state, Array.from({ length: 73 }, (_, i) => i + 1));
    assert.equal(mid.version, 73);
    assert.equal(mid.fromSnapshot, 70, 'started from the snapshot at version 70');
    // Event 50 counts at the time of 49 (the latest before it), so history never reorders.
    assert.deepEqual(at(1000 + 49 * 10)?.state.length, 50);
    assert.deepEqual(at(1e12)?.state.length, 95);
    assert.deepEqual(store.stateAtVersion('s', 12, sum, () => [])?.state, Array.from({ length: 12 }, (_, i) => i + 1));
    assert.deepEqual(store.between(1000 + 20 * 10, 1000 + 23 * 10, { stream: 's' }).map((e) => (e.data as { n: number }).n), [20, 21, 22, 23]);
    store.close();
  });

  it('cuts a torn tail at any byte of the last record and keeps every whole event', () => {
    const store = open();
    for (let n = 1; n <= 20; n++) store.append('s', [{ kind: 'k', data: { n, text: 'x'.repeat(n * 7) } }]);
    store.close();
    const file = segmentFiles()[0]!;
    const whole = readFileSync(file);
    const lastStart = whole.lastIndexOf(Buffer.from([0x54, 0x46, 0x52, 0x31]));
    fc.assert(fc.property(fc.integer({ min: lastStart + 1, max: whole.length - 1 }), (cut) => {
      writeFileSync(file, whole.subarray(0, cut));
      const again = new EventStore(dir);
      const report = again.open();
      assert.equal(report.cutBytes, cut - lastStart);
      assert.equal(again.version('s'), 19);
      assert.equal((again.read('s').at(-1)!.data as { n: number }).n, 19);
      assert.equal(statSync(file).size, lastStart, 'the tail is cut on disk too');
      // Appends go on from the last whole event.
      assert.equal(again.append('s', [{ kind: 'k', data: { n: 20 } }]).version, 20);
      again.close();
    }), { numRuns: 40 });
  });

  it('refuses to load a log damaged before its end, naming the file and the byte', () => {
    const store = open();
    for (let n = 1; n <= 5; n++) store.append('s', [{ kind: 'k', data: { n } }]);
    store.close();
    const file = segmentFiles()[0]!;
    const bytes = readFileSync(file);
    bytes[40] = (bytes[40] as number) ^ 0x01;
    writeFileSync(file, bytes);
    assert.throws(() => new EventStore(dir).open(), (err: unknown) => err instanceof CorruptLogError && /damaged record at byte 0 \(checksum mismatch\) with intact records after it/.test(err.message) && err.file === file);
  });

  it('ignores garbage appended after the last record as a torn tail, and old segments must be whole', () => {
    const store = open({ segmentBytes: 300 });
    for (let n = 1; n <= 20; n++) store.append('s', [{ kind: 'k', data: { n } }]);
    store.close();
    const files = segmentFiles();
    assert.ok(files.length > 2);
    appendFileSync(files.at(-1)!, Buffer.from('TFR1 garbage'));
    const again = new EventStore(dir);
    assert.ok(again.open().cutBytes > 0);
    assert.equal(again.version('s'), 20);
    again.close();
    truncateSync(files[0]!, statSync(files[0]!).size - 3);
    assert.throws(() => new EventStore(dir).open(), CorruptLogError, 'a short older segment is damage, not a torn tail');
  });

  it('computes CRC-32 the same way with and without zlib', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 0xffffffff }), (data, initial) => {
      assert.equal(crc32(data, initial), crc32Fallback(data, initial));
    }));
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  });
});

describe('twin event log', () => {
  it('replays a twin\'s full state (document and relationships) at any time, as the graph had it', () => {
    const workload = new TwinWorkload(7);
    const { log } = TwinEventLog.open(dir, () => workload.graph, { snapshotEvery: 20 });
    const history: { time: number; docs: Record<string, unknown>; rels: Record<string, unknown> }[] = [];
    for (let i = 0; i < 400; i++) {
      log.record(workload.step());
      const docs: Record<string, unknown> = {};
      const rels: Record<string, unknown> = {};
      for (const id of workload.graph.twinIds()) {
        docs[id] = workload.graph.getTwin(id);
        rels[id] = workload.graph.listOutgoing(id);
      }
      history.push({ time: workload.now, docs, rels });
    }
    for (const moment of history.filter((_, i) => i % 13 === 0 || i === history.length - 1)) {
      for (const id of ['cnc-1', 'cnc-2', 'line-1']) {
        const state = log.stateAt(id, moment.time);
        assert.ok(state, `${id} at ${moment.time}`);
        assert.deepEqual(state.document, moment.docs[id], `${id} at ${moment.time}`);
        const sortById = (r: unknown) => [...(r as { $relationshipId: string }[])].sort((a, b) => a.$relationshipId.localeCompare(b.$relationshipId));
        assert.deepEqual(sortById(state.relationships), sortById(moment.rels[id]));
      }
    }
    assert.equal(log.stateAt('cnc-1', history[0]!.time - 1_000_000), undefined);
    log.close();
  });

  it('records a baseline when the log has not seen a twin\'s latest state, and carries on from there', () => {
    const workload = new TwinWorkload(3);
    for (let i = 0; i < 30; i++) workload.step();
    const { log } = TwinEventLog.open(dir, () => workload.graph, { snapshotEvery: 0, clock: () => workload.now });
    assert.equal(log.resync(), 3, 'three twins the log had never seen');
    assert.equal(log.resync(), 0);
    const resyncedAt = workload.now;
    const before = Object.fromEntries(['cnc-1', 'cnc-2', 'line-1'].map((id) => [id, workload.graph.getTwin(id)]));
    // Changes the log never sees (a writer that forgot recordChanges), then one it sees.
    workload.step();
    workload.step();
    workload.step();
    const events = workload.step();
    log.record(events);
    const touched = events[0]!.twinId;
    assert.deepEqual(log.store.read(touched).map((e) => e.kind), ['baseline', 'baseline'], 'the unseen changes made the log record the twin whole again');
    assert.match((log.store.read(touched)[1]!.data as { reason: string }).reason, /the log was at version \d+ of the twin, this change is version \d+/);
    assert.deepEqual(log.stateAt(touched, workload.now)?.document, workload.graph.getTwin(touched));
    for (const id of ['cnc-1', 'cnc-2', 'line-1']) assert.deepEqual(log.stateAt(id, resyncedAt)?.document, before[id], `${id} as it was at the resync`);
    // Changes that follow on are recorded as changes again.
    const next = workload.step();
    log.record(next);
    assert.notEqual(log.store.read(next[0]!.twinId).at(-1)!.kind, 'baseline');
    assert.deepEqual(log.stateAt(next[0]!.twinId, workload.now)?.document, workload.graph.getTwin(next[0]!.twinId));
    log.close();
  });

  it('answers a redelivered change, refuses a reused id, and checks the expected version', () => {
    const workload = new TwinWorkload(5);
    const { log } = TwinEventLog.open(dir, () => workload.graph);
    log.record(workload.step(), { eventId: 'setup', digest: 'd0' });
    const events = workload.step();
    log.record(events, { eventId: 'msg-1', digest: 'd1', causationId: 'm1', correlationId: 'corr' });
    const twin = events[0]!.twinId;
    assert.equal(log.precheck(twin, { eventId: 'msg-1', digest: 'd1' }).duplicate?.id, 'msg-1');
    assert.throws(() => log.precheck(twin, { eventId: 'msg-1', digest: 'other' }), /eventId: "msg-1" was used before for a different change/);
    assert.deepEqual(log.precheck(twin, { eventId: 'msg-2', digest: 'd2', expectedVersion: log.version(twin) }), {});
    assert.throws(() => log.precheck(twin, { expectedVersion: log.version(twin) - 1, digest: '' }), new RegExp(`expectedVersion: twin ${twin} is at version ${log.version(twin)} in the event log, not ${log.version(twin) - 1}`));
    assert.throws(() => log.precheck(twin, { expectedVersion: -1, digest: '' }), /must be a whole number/);
    const stored = log.store.read(twin).at(-1)!;
    assert.equal(stored.causationId, 'm1');
    assert.equal(stored.correlationId, 'corr');
    log.close();
  });

  it('loses nothing acknowledged when a process appending in a loop is killed, and the state at T is right', async () => {
    const seed = 11;
    const child = spawn(process.execPath, [path.join(__dirname, 'crash-child.js'), dir, String(seed)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let durable = 0;
    let buffered = '';
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => reject(new Error(`the appending process ended early (${code ?? signal})`)));
      child.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          const m = /^durable (\d+) (\d+)$/.exec(line);
          if (m) durable = Number(m[1]);
        }
        // Kill it in full flight, well past several segments and snapshots.
        if (durable > 3000) {
          child.removeAllListeners('exit');
          child.kill('SIGKILL');
          child.once('exit', () => resolve());
        }
      });
    });

    const { log, report } = TwinEventLog.open(dir, () => undefined);
    assert.ok(report.events >= durable, `all ${durable} acknowledged changes are there (found ${report.events})`);
    assert.ok(report.segments > 3, 'the log spans several segments');
    // Rebuild the same history here and compare: every stored change, and states at many times.
    const reference = new TwinWorkload(seed);
    const expected: { twinId: string; kind: string; twinVersion: number; time: number }[] = [];
    const moments: { time: number; docs: Map<string, unknown> }[] = [];
    while (expected.length < report.events) {
      for (const e of reference.step()) expected.push({ twinId: e.twinId, kind: e.kind, twinVersion: e.version, time: e.time });
      if (expected.length % 7 === 0 || moments.length < 50) moments.push({ time: reference.now, docs: new Map(reference.graph.twinIds().map((id) => [id, withoutEtag(reference.graph.getTwin(id))])) });
    }
    const stored = log.between(0, Number.MAX_SAFE_INTEGER);
    assert.equal(stored.length, report.events);
    assert.deepEqual(stored.map((e) => ({ twinId: e.stream, kind: e.kind, twinVersion: (e.data as { twinVersion: number }).twinVersion, time: e.time })), expected.slice(0, stored.length), 'the log holds exactly the changes made, in order');
    const lastTime = stored.at(-1)!.time;
    let checked = 0;
    for (const moment of moments.filter((m) => m.time <= lastTime)) {
      for (const [id, doc] of moment.docs) {
        assert.deepEqual(withoutEtag(log.stateAt(id, moment.time)?.document), doc, `${id} at ${moment.time}`);
        checked++;
      }
    }
    assert.ok(checked > 300, `checked ${checked} states`);
    // The reopened log takes appends again after the crash.
    assert.equal(log.store.append('cnc-1', [{ kind: 'note', data: { text: 'after the crash' } }]).version, log.version('cnc-1'));
    log.close();
  });
});
