// The disk queue under twin-history and the writer's batching, ordering, retry and overflow rules.
// The writer is driven through its transport seam by a scripted stand-in for InfluxDB's answers;
// the real InfluxDB outage is in test/node/twin-history-outage.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { BacklogFullError, HistoryWriter, Spool, SPOOL_HEADER, type WriteFailure, type WriterOptions } from '../../../nodes/lib/history';

let dir = '';
beforeEach(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'twinflow-spool-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function lines(from: number, count: number): string {
  return Array.from({ length: count }, (_, i) => `m v=${from + i}i ${from + i}`).join('\n');
}

describe('spool (disk queue)', () => {
  it('gives batches back in order, across a reopen, until acknowledged', async () => {
    const spool = new Spool(dir, { maxBytes: 1 << 20 });
    spool.open();
    const a = spool.append(lines(0, 3), 3);
    const b = spool.append(lines(3, 2), 2);
    await spool.flush();
    assert.equal(spool.points, 5);
    const take = spool.take(100, 1 << 20)!;
    assert.deepEqual(take.records.map((r) => r.seq), [a.seq, b.seq]);
    assert.equal(take.text, `${lines(0, 3)}\n${lines(3, 2)}`);
    spool.ack(a.seq);
    spool.close();

    const again = new Spool(dir, { maxBytes: 1 << 20 });
    const report = again.open();
    assert.equal(report.pending, 1);
    assert.equal(report.pendingPoints, 2);
    assert.equal(again.take(100, 1 << 20)!.text, lines(3, 2));
    const c = again.append(lines(5, 1), 1);
    assert.ok(c.seq > b.seq, 'sequence numbers go on after a restart');
    again.ack(c.seq);
    assert.equal(again.points, 0);
    assert.equal(again.take(100, 1 << 20), undefined);
    again.close();
  });

  it('takes at most the requested points per request, but always at least one batch', () => {
    const spool = new Spool(dir, { maxBytes: 1 << 20 });
    spool.open();
    spool.append(lines(0, 5), 5);
    spool.append(lines(5, 5), 5);
    spool.append(lines(10, 5), 5);
    assert.equal(spool.take(10, 1 << 20)!.points, 10);
    assert.equal(spool.take(3, 1 << 20)!.points, 5);
    spool.close();
  });

  it('cuts a torn last batch after a crash and keeps the whole ones', () => {
    const spool = new Spool(dir, { maxBytes: 1 << 20 });
    spool.open();
    spool.append(lines(0, 3), 3);
    spool.append(lines(3, 3), 3);
    spool.close();
    const segment = readdirSync(dir).find((f) => f.startsWith('batches-'))!;
    const file = path.join(dir, segment);
    truncateSync(file, statSync(file).size - 7);
    const again = new Spool(dir, { maxBytes: 1 << 20 });
    const report = again.open();
    assert.ok(report.cutBytes > 0);
    assert.equal(report.pendingPoints, 3);
    assert.equal(again.take(100, 1 << 20)!.text, lines(0, 3));
    again.close();
  });

  it('refuses to guess when damage is followed by intact batches', () => {
    const spool = new Spool(dir, { maxBytes: 1 << 20 });
    spool.open();
    spool.append(lines(0, 3), 3);
    spool.append(lines(3, 3), 3);
    spool.close();
    const file = path.join(dir, readdirSync(dir).find((f) => f.startsWith('batches-'))!);
    const bytes = readFileSync(file);
    bytes[20] = (bytes[20] as number) ^ 0xff;
    writeFileSync(file, bytes);
    assert.throws(() => new Spool(dir, { maxBytes: 1 << 20 }).open(), /damaged record at byte 0 \(checksum mismatch\) with intact records after it/);
  });

  it('drops whole segments once everything in them is sent', () => {
    const spool = new Spool(dir, { maxBytes: 1 << 30, segmentBytes: 4096 });
    spool.open();
    let last = 0;
    for (let i = 0; i < 50; i++) last = spool.append(lines(i * 50, 50), 50).seq;
    assert.ok(readdirSync(dir).filter((f) => f.startsWith('batches-')).length > 3);
    spool.ack(last);
    assert.equal(readdirSync(dir).filter((f) => f.startsWith('batches-')).length, 1, 'only the segment being written is left');
    spool.close();
  });

  it('takes the sent-cursor file lost mid-write as "send again", not as an error', () => {
    const spool = new Spool(dir, { maxBytes: 1 << 20 });
    spool.open();
    spool.append(lines(0, 2), 2);
    spool.close();
    writeFileSync(path.join(dir, 'sent.json'), '{"sent":');
    const again = new Spool(dir, { maxBytes: 1 << 20 });
    assert.equal(again.open().pendingPoints, 2);
    again.close();
  });
});

/** A stand-in for InfluxDB's answers: scripted failures, and every accepted request recorded. */
class ScriptedInflux {
  readonly accepted: string[] = [];
  failures: WriteFailure[] = [];
  down = false;

  write = async (text: string): Promise<void> => {
    await new Promise((resolve) => setImmediate(resolve));
    if (this.down) throw Object.assign(new Error('connect ECONNREFUSED'), { failure: { kind: 'transient', message: 'ECONNREFUSED' } });
    const failure = this.failures.shift();
    if (failure) throw Object.assign(new Error(failure.message), { failure });
    this.accepted.push(text);
  };

  classify = (err: unknown): WriteFailure => (err as { failure: WriteFailure }).failure;

  values(): number[] {
    return this.accepted.flatMap((t) => t.split('\n')).map((l) => Number(/v=(\d+)i/.exec(l)![1]));
  }
}

function writer(spool: Spool, influx: ScriptedInflux, options: Partial<WriterOptions> = {}): HistoryWriter {
  const w = new HistoryWriter(spool, influx, { batchSize: 10, flushMs: 20, maxRequestPoints: 1000, maxRequestBytes: 1 << 20, overflow: 'drop-oldest', retryMinMs: 10, retryMaxMs: 40, rejectedFile: path.join(dir, 'refused.lp'), ...options });
  w.on('error', () => undefined);
  return w;
}

describe('history writer', () => {
  it('keeps every point while InfluxDB is down and sends them once, in order, when it is back', async () => {
    const spool = new Spool(dir, { maxBytes: 1 << 20 });
    spool.open();
    const influx = new ScriptedInflux();
    const w = writer(spool, influx, { batchSize: 1 });
    const unreachable: unknown[] = [];
    w.on('unreachable', (e) => unreachable.push(e));
    influx.down = true;
    for (let i = 0; i < 100; i++) await w.add(lines(i, 1), 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(w.state.reachable, false);
    assert.equal(w.state.backlog, 100);
    assert.equal(unreachable.length, 1, 'said once, not per retry');
    influx.down = false;
    await w.drained();
    assert.deepEqual(influx.values(), Array.from({ length: 100 }, (_, i) => i));
    assert.equal(w.state.written, 100);
    assert.equal(w.state.backlog, 0);
    await w.close();
  });

  it('resolves add() only once the points are on disk, and a new writer sends what a closed one queued', async () => {
    const spool = new Spool(dir, { maxBytes: 1 << 20 });
    spool.open();
    const influx = new ScriptedInflux();
    influx.down = true;
    const w = writer(spool, influx);
    await w.add(lines(0, 5), 5);
    await w.close();
    const spool2 = new Spool(dir, { maxBytes: 1 << 20 });
    assert.equal(spool2.open().pendingPoints, 5);
    influx.down = false;
    const w2 = writer(spool2, influx);
    await w2.drained();
    assert.deepEqual(influx.values(), [0, 1, 2, 3, 4]);
    await w2.close();
  });

  it('drops the oldest points when full under drop-oldest, and says so', async () => {
    const spool = new Spool(dir, { maxBytes: 2000 });
    spool.open();
    const influx = new ScriptedInflux();
    influx.down = true;
    const w = writer(spool, influx, { batchSize: 1 });
    const full: { dropped?: number }[] = [];
    w.on('full', (e) => full.push(e));
    for (let i = 0; i < 300; i++) await w.add(lines(i, 1), 1);
    assert.ok(full.length > 0, 'the writer said it is full');
    assert.ok(w.state.dropped > 0);
    assert.equal(w.state.full, true);
    influx.down = false;
    await w.drained();
    const values = influx.values();
    assert.equal(values.length + w.state.dropped, 300, 'every point is either written or counted as dropped');
    assert.deepEqual(values, [...values].sort((a, b) => a - b));
    assert.equal(values.at(-1), 299, 'the newest points are kept');
    await w.close();
  });

  it('refuses new points when full under refuse-new, keeping the queued ones', async () => {
    const spool = new Spool(dir, { maxBytes: 2000 });
    spool.open();
    const influx = new ScriptedInflux();
    influx.down = true;
    const w = writer(spool, influx, { batchSize: 1, overflow: 'refuse-new' });
    let accepted = 0;
    let refused: Error | undefined;
    for (let i = 0; i < 300 && !refused; i++) {
      try {
        await w.add(lines(i, 1), 1);
        accepted++;
      } catch (err) {
        refused = err as Error;
      }
    }
    assert.ok(refused instanceof BacklogFullError);
    assert.match(refused.message, /the backlog is full .* these 1 point\(s\) were not stored/);
    influx.down = false;
    await w.drained();
    assert.deepEqual(influx.values(), Array.from({ length: accepted }, (_, i) => i));
    await w.add(lines(1000, 1), 1);
    await w.drained();
    assert.equal(influx.values().at(-1), 1000, 'room again once sent');
    await w.close();
  });

  it('keeps points InfluxDB refuses for good aside, with the reason, and goes on', async () => {
    const spool = new Spool(dir, { maxBytes: 1 << 20 });
    spool.open();
    const influx = new ScriptedInflux();
    influx.failures = [{ kind: 'rejected', status: 400, message: 'partial write: field type conflict' }];
    const w = writer(spool, influx);
    const rejected: unknown[] = [];
    w.on('rejected', (e) => rejected.push(e));
    await w.add(lines(0, 10), 10);
    await w.drained();
    await w.add(lines(10, 10), 10);
    await w.drained();
    assert.equal(rejected.length, 1);
    assert.equal(w.state.rejected, 10);
    assert.deepEqual(influx.values(), Array.from({ length: 10 }, (_, i) => 10 + i));
    const kept = readFileSync(path.join(dir, 'refused.lp'), 'utf8');
    assert.match(kept, /^# .* InfluxDB refused: partial write: field type conflict\nm v=0i 0\n/);
    await w.close();
  });

  it('splits joined batches that are too large for one request', async () => {
    const spool = new Spool(dir, { maxBytes: 1 << 20 });
    spool.open();
    const influx = new ScriptedInflux();
    influx.down = true;
    const w = writer(spool, influx);
    for (let i = 0; i < 4; i++) await w.add(lines(i * 10, 10), 10);
    influx.failures = [{ kind: 'too-large', status: 413, message: 'request entity too large' }];
    influx.down = false;
    w.retryNow();
    await w.drained();
    assert.deepEqual(influx.values(), Array.from({ length: 40 }, (_, i) => i));
    assert.equal(w.state.rejected, 0);
    await w.close();
  });
});


describe('writer and queue without copies of the text', () => {
  it('queues a batch laid out by the caller, who may reuse the buffer at once', () => {
    const spool = new Spool(dir, { maxBytes: 1 << 20 });
    spool.open();
    const buffer = Buffer.alloc(SPOOL_HEADER + 64);
    const first = Buffer.from(lines(0, 2));
    first.copy(buffer, SPOOL_HEADER);
    spool.appendPayload(buffer.subarray(0, SPOOL_HEADER + first.length), 2);
    buffer.fill(0x78);
    assert.equal(spool.take(100, 1 << 20)!.text, lines(0, 2), 'the queue kept its own copy');
    spool.close();
    const again = new Spool(dir, { maxBytes: 1 << 20 });
    assert.equal(again.open().pendingPoints, 2);
    const take = again.take(100, 1 << 20)!;
    assert.deepEqual(take.body, first);
    assert.throws(() => again.appendPayload(Buffer.alloc(4), 1), /header/);
    again.close();
  });

  it('writes non-ASCII text byte for byte and counts its UTF-8 bytes in the backlog', async () => {
    const spool = new Spool(dir, { maxBytes: 1 << 20 });
    spool.open();
    const influx = new ScriptedInflux();
    influx.down = true;
    const w = writer(spool, influx, { batchSize: 3 });
    const texts = ['m,twin=ünï v=1i 1', 'm,twin=😀 v=2i 2', 'm,twin=\ud800 v=3i 3'];
    await Promise.all(texts.map((t) => w.add(t, 1)));
    const expected = `${texts[0]}\n${texts[1]}\n${'m,twin=\ufffd v=3i 3'}`;
    assert.equal(w.state.backlogBytes, Buffer.byteLength(expected));
    influx.down = false;
    w.retryNow();
    await w.drained();
    assert.deepEqual(influx.accepted, [expected]);
    await w.close();
  });

  it('sends UTF-8 bytes to a transport that takes them, and grows the open batch for large texts', async () => {
    const spool = new Spool(dir, { maxBytes: 1 << 26 });
    spool.open();
    const bodies: Buffer[] = [];
    const transport = { write: async (): Promise<void> => { throw new Error('writeBody is there, write must not be used'); }, writeBody: async (body: Buffer) => { bodies.push(Buffer.from(body)); }, classify: () => ({ kind: 'transient' as const, message: '' }) };
    const w = new HistoryWriter(spool, transport, { batchSize: 100_000, flushMs: 20, maxRequestPoints: 1_000_000, maxRequestBytes: 1 << 26, overflow: 'drop-oldest', retryMinMs: 10, retryMaxMs: 40 });
    const big = lines(0, 20_000);
    await Promise.all([w.add(lines(0, 1), 1), w.add(big, 20_000), w.add(lines(5, 1), 1)]);
    await w.drained();
    assert.equal(Buffer.concat(bodies).toString('utf8'), `${lines(0, 1)}\n${big}\n${lines(5, 1)}`);
    await w.close();
  });

  it('tells enqueue callers once, and refuses a full queue synchronously under refuse-new', async () => {
    const spool = new Spool(dir, { maxBytes: 300 });
    spool.open();
    const influx = new ScriptedInflux();
    influx.down = true;
    const w = writer(spool, influx, { batchSize: 1, overflow: 'refuse-new' });
    const calls: (Error | undefined)[] = [];
    await new Promise<void>((resolve) => w.enqueue(lines(0, 1), 1, (err) => { calls.push(err); resolve(); }));
    assert.deepEqual(calls, [undefined]);
    let refused: Error | undefined;
    for (let i = 1; i < 100 && !refused; i++) {
      let sync = true;
      let result: Error | undefined | 'pending' = 'pending';
      w.enqueue(lines(i, 1), 1, (err) => { result = err; if (err) refused = err; });
      sync = result !== 'pending';
      if (refused) assert.ok(sync, 'a refusal is told before enqueue returns');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.ok(refused instanceof BacklogFullError);
    await w.close();
    const closed: (Error | undefined)[] = [];
    w.enqueue(lines(0, 1), 1, (err) => closed.push(err));
    assert.match(String(closed[0]?.message), /closed/);
  });

  it('keeps a text whole when a full-queue listener adds points meanwhile (drop-oldest)', async () => {
    const spool = new Spool(dir, { maxBytes: 400 });
    spool.open();
    const influx = new ScriptedInflux();
    influx.down = true;
    const w = writer(spool, influx, { batchSize: 2 });
    let nested = 0;
    w.on('full', () => {
      if (nested++ < 3) void w.add(`m v=${9000 + nested}i ${9000 + nested}`, 1);
    });
    for (let i = 0; i < 40; i++) void w.add(lines(i, 1), 1);
    w.sealNow();
    influx.down = false;
    w.retryNow();
    await w.drained();
    const accepted = influx.accepted.flatMap((t) => t.split('\n'));
    for (const line of accepted) assert.match(line, /^m v=(\d+)i \1$/, `a whole line: ${JSON.stringify(line)}`);
    assert.equal(accepted.length + w.state.dropped, 40 + Math.min(nested, 3));
    await w.close();
  });
});
