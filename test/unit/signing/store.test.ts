// Replay state and seq counters on disk: what was accepted or handed out before a restart stays so.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { acquireSeqCounter, ReplayStore, SeqCounter } from '../../../nodes/lib/signing';

let dir = '';
beforeEach(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'twinflow-store-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const NOW = Date.parse('2026-11-25T10:00:00Z');
const entry = (seq: number, iss = 'op') => ({ iss, seq, nonce: `nonce-${iss}-${seq}-0123456789`, cmdId: `cmd-${iss}-${seq}`, forgetAt: NOW + 60_000 });

describe('ReplayStore', () => {
  test('journals accepted entries and restores them after a restart', async () => {
    const base = path.join(dir, 'replay');
    const store = ReplayStore.open(base, NOW);
    for (const seq of [1, 2, 5]) {
      store.state.accept(entry(seq));
      await store.record(entry(seq));
    }
    store.state.accept(entry(3, 'other'));
    await store.record(entry(3, 'other'));
    await store.close();
    const again = ReplayStore.open(base, NOW + 1000);
    assert.equal(again.state.lastSeq('op'), 5);
    assert.equal(again.state.lastSeq('other'), 3);
    assert.ok(again.state.hasCmdId('cmd-op-2', NOW + 1000));
    assert.ok(again.state.hasNonce('nonce-op-5-0123456789', NOW + 1000));
    assert.equal(again.report.journalEntries, 4);
    await again.close();
    // After the entries' commands expired, the ids are gone but the seq stays.
    const later = ReplayStore.open(base, NOW + 120_000);
    assert.equal(later.state.lastSeq('op'), 5);
    assert.equal(later.state.rememberedIds, 0);
    await later.close();
  });

  test('a torn final journal line is reported and cut; the lines before it count', async () => {
    const base = path.join(dir, 'replay');
    const store = ReplayStore.open(base, NOW);
    await store.record(entry(1));
    await store.close();
    appendFileSync(`${base}.journal`, '{"iss":"op","seq":2,"no');
    const again = ReplayStore.open(base, NOW);
    assert.equal(again.report.tornTail, '{"iss":"op","seq":2,"no');
    assert.equal(again.state.lastSeq('op'), 1);
    await again.record(entry(3));
    await again.close();
    assert.equal(readFileSync(`${base}.journal`, 'utf8').split('\n').filter(Boolean).length, 2, 'the next entry starts on its own line');
    assert.equal(ReplayStore.open(base, NOW).state.lastSeq('op'), 3);
  });

  test('a damaged journal line in the middle is an error, and the files can be set aside', () => {
    const base = path.join(dir, 'replay');
    writeFileSync(`${base}.journal`, `${JSON.stringify(entry(1))}\nnot json\n${JSON.stringify(entry(2))}\n`);
    assert.throws(() => ReplayStore.open(base, NOW), /replay\.journal line 2 is not JSON/);
    const moved = ReplayStore.setAside(base);
    assert.equal(moved.length, 1);
    assert.ok(existsSync(moved[0]!) && !existsSync(`${base}.journal`));
  });

  test('compacts into a snapshot after 10,000 entries and still restores everything', async () => {
    const base = path.join(dir, 'replay');
    const store = ReplayStore.open(base, NOW, { sync: false, clock: () => NOW });
    const writes: Promise<void>[] = [];
    for (let seq = 1; seq <= 10_050; seq++) {
      store.state.accept(entry(seq));
      writes.push(store.record(entry(seq)));
    }
    await Promise.all(writes);
    await store.close();
    assert.ok(existsSync(`${base}.json`), 'a snapshot was written');
    assert.ok(readFileSync(`${base}.journal`, 'utf8').split('\n').length < 10_050, 'the journal was emptied');
    const again = ReplayStore.open(base, NOW);
    assert.equal(again.state.lastSeq('op'), 10_050);
    assert.ok(again.state.hasCmdId('cmd-op-1', NOW) && again.state.hasCmdId('cmd-op-10050', NOW));
    await again.close();
  });
});

describe('SeqCounter', () => {
  test('never hands out a seq twice, also across restarts', () => {
    const file = path.join(dir, 'seq-op.json');
    const first = new SeqCounter(file, 'op', 10);
    const seen = Array.from({ length: 25 }, () => first.next());
    assert.deepEqual(seen, Array.from({ length: 25 }, (_, i) => i + 1));
    const second = new SeqCounter(file, 'op', 10);
    assert.equal(second.next(), 31, 'the rest of the reserved block is skipped');
  });

  test('refuses a file of another issuer or a damaged file', () => {
    const file = path.join(dir, 'seq.json');
    new SeqCounter(file, 'op').next();
    assert.throws(() => new SeqCounter(file, 'scheduler'), /counts for issuer op, not scheduler/);
    writeFileSync(file, '{');
    assert.throws(() => new SeqCounter(file, 'op'), /is not JSON/);
  });

  test('two signers of one issuer in one process share one counter', () => {
    const file = path.join(dir, 'seq-shared.json');
    const a = acquireSeqCounter(file, 'op');
    const b = acquireSeqCounter(file, 'op');
    assert.equal(a.counter, b.counter);
    assert.deepEqual([a.counter.next(), b.counter.next(), a.counter.next()], [1, 2, 3]);
    assert.throws(() => acquireSeqCounter(file, 'other'), /in use for issuer op/);
    a.release();
    b.release();
  });
});
