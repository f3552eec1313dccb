// The hash-chained audit log: appends, verification, and every kind of damage detected and located.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { acquireAuditLog, AuditLog, AuditLogError, GENESIS_HASH, hashRecord, verifyAuditLog, type AuditEntry, type AuditRecord } from '../../../nodes/lib/audit';
import { canonicalJson } from '../../../nodes/lib/signing';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'twinflow.js');
const T0 = Date.parse('2026-11-25T10:00:00Z');

let dir = '';
let file = '';
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'twinflow-audit-'));
  file = path.join(dir, 'audit.jsonl');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function entry(i: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return { actor: 'operator-console', action: 'setSpindleSpeed', target: 'cnc-1', decision: i % 3 === 0 ? 'rejected' : 'accepted', rule: i % 3 === 0 ? 'seq' : 'signature', reason: `decision ${i}`, snapshot: { spindle: { speed: i * 10 } }, cmdId: `cmd-${i}`, ...overrides };
}

async function writeLog(count: number): Promise<AuditRecord[]> {
  let t = T0;
  const log = AuditLog.open(file, { clock: () => (t += 1000) });
  const records = await Promise.all(Array.from({ length: count }, (_, i) => log.append(entry(i + 1))));
  await log.close();
  return records;
}

function lines(): string[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
}

function writeLines(list: string[]): void {
  writeFileSync(file, list.map((l) => `${l}\n`).join(''));
}

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, 'audit', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('audit log: appending', () => {
  test('chains records: seq 1, 2, 3, each prevHash the hash before, each hash over the canonical record', async () => {
    const records = await writeLog(5);
    assert.deepEqual(records.map((r) => r.seq), [1, 2, 3, 4, 5]);
    assert.equal(records[0]!.prevHash, GENESIS_HASH);
    for (let i = 1; i < records.length; i++) assert.equal(records[i]!.prevHash, records[i - 1]!.hash);
    const { hash, ...rest } = records[2]!;
    assert.equal(hash, (await import('node:crypto')).createHash('sha256').update(canonicalJson(rest)).digest('hex'));
    assert.equal(hashRecord(records[2]!), hash);
    assert.deepEqual(lines().map((l) => JSON.parse(l)), records);
    assert.equal(records[0]!.time, '2026-11-25T10:00:01.000Z');
    assert.deepEqual(records[0]!.snapshot, { spindle: { speed: 10 } });
    const result = await verifyAuditLog(file);
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.records, 5);
    assert.deepEqual(result.head, { seq: 5, hash: records[4]!.hash });
  });

  test('continues the chain after reopening', async () => {
    await writeLog(3);
    const log = AuditLog.open(file);
    assert.equal(log.opened.records, 3);
    const next = await log.append(entry(4));
    assert.equal(next.seq, 4);
    await log.close();
    assert.ok((await verifyAuditLog(file)).ok);
  });

  test('refuses bad entries, naming the field, and records nothing for them', async () => {
    const log = AuditLog.open(file);
    await assert.rejects(log.append({ ...entry(1), decision: '' }), /audit entry: decision: must be a non-empty string/);
    await assert.rejects(log.append({ ...entry(1), snapshot: { x: Number.NaN } }), /\/x: NaN is not a finite number/);
    await assert.rejects(log.append({ ...entry(1), cmdId: 5 as unknown as string }), /cmdId: must be a string or null/);
    const ok = await log.append(entry(1));
    assert.equal(ok.seq, 1, 'refused entries took no seq');
    await log.close();
    await assert.rejects(log.append(entry(2)), AuditLogError);
    assert.ok((await verifyAuditLog(file)).ok);
  });

  test('one log per file is shared in a process; it closes when its last user lets go', async () => {
    const a = acquireAuditLog(file);
    const b = acquireAuditLog(file);
    assert.equal(a.log, b.log);
    const [r1, r2] = await Promise.all([a.log.append(entry(1)), b.log.append(entry(2))]);
    assert.deepEqual([r1.seq, r2.seq], [1, 2]);
    await a.release();
    await b.log.append(entry(3));
    const releasing = b.release();
    // Acquired again while the last user lets go: a fresh log continuing the same chain.
    await releasing;
    const c = acquireAuditLog(file);
    assert.equal((await c.log.append(entry(4))).seq, 4);
    await c.release();
    assert.ok((await verifyAuditLog(file)).ok);
    assert.deepEqual(JSON.parse(readFileSync(`${file}.head`, 'utf8')).seq, 4, 'the head file names the last record');
  });
});

describe('audit log: tampering is detected and located', () => {
  test('an edited field (hash left as it was): that line, by its hash', async () => {
    await writeLog(6);
    const list = lines();
    list[3] = list[3]!.replace('"decision":"accepted"', '"decision":"rejected"').replace('"decision 4"', '"decision 4 (edited)"');
    writeLines(list);
    const result = await verifyAuditLog(file);
    assert.ok(!result.ok);
    assert.equal(result.problem.kind, 'hash');
    assert.equal(result.problem.line, 4);
    assert.equal(result.problem.seq, 4);
    assert.match(result.problem.message, /line 4 \(seq 4\): the content hashes to .* but the record says .*: the record was changed after it was written/);
    assert.equal(result.records, 3);
  });

  test('an edited field with its hash recomputed: the next line, by its link', async () => {
    await writeLog(6);
    const list = lines();
    const record = JSON.parse(list[2]!) as AuditRecord;
    record.decision = 'approved';
    record.hash = hashRecord(record);
    list[2] = JSON.stringify(record);
    writeLines(list);
    const result = await verifyAuditLog(file, { useHeadFile: false });
    assert.ok(!result.ok);
    assert.equal(result.problem.kind, 'link');
    assert.equal(result.problem.line, 4);
    assert.match(result.problem.message, /line 4 \(seq 4\): prevHash .* is not the hash .* of line 3 \(seq 3\)/);
  });

  test('a deleted line: the line after it, naming the missing seq', async () => {
    await writeLog(6);
    const list = lines();
    list.splice(2, 1);
    writeLines(list);
    const result = await verifyAuditLog(file);
    assert.ok(!result.ok);
    assert.equal(result.problem.kind, 'seq');
    assert.equal(result.problem.line, 3);
    assert.match(result.problem.message, /line 3 has seq 4 where seq 3 was expected: record 3 is missing/);
  });

  test('reordered lines: the first line out of place', async () => {
    await writeLog(6);
    const list = lines();
    [list[3], list[4]] = [list[4]!, list[3]!];
    writeLines(list);
    const result = await verifyAuditLog(file);
    assert.ok(!result.ok);
    assert.equal(result.problem.kind, 'seq');
    assert.equal(result.problem.line, 4);
    assert.match(result.problem.message, /line 4 has seq 5 where seq 4 was expected/);
  });

  test('the first records removed and the rest renumbered and re-hashed: the genesis link', async () => {
    await writeLog(4);
    const list = lines().slice(1).map((l, i) => {
      const r = JSON.parse(l) as AuditRecord;
      r.seq = i + 1;
      r.hash = hashRecord(r);
      return JSON.stringify(r);
    });
    writeLines(list);
    const result = await verifyAuditLog(file, { useHeadFile: false });
    assert.ok(!result.ok);
    assert.equal(result.problem.kind, 'link');
    assert.equal(result.problem.line, 1);
    assert.match(result.problem.message, /the first record's prevHash is .*, not the genesis hash 000…: records before it were removed/);
  });

  test('a truncated tail: found against the head file, and against a head noted elsewhere', async () => {
    const records = await writeLog(6);
    writeLines(lines().slice(0, 4));
    const result = await verifyAuditLog(file);
    assert.ok(!result.ok);
    assert.equal(result.problem.kind, 'truncated');
    assert.equal(result.problem.line, 5);
    assert.match(result.problem.message, /the log ends at seq 4, but its head says seq 6 .* 2 record\(s\) are missing at the end/);
    rmSync(`${file}.head`);
    assert.ok((await verifyAuditLog(file)).ok, 'without any head, a clean cut between records cannot be seen');
    const noted = { seq: 6, hash: records[5]!.hash };
    const against = await verifyAuditLog(file, { expectedHead: noted });
    assert.equal(!against.ok && against.problem.kind, 'truncated');
  });

  test('a rewritten log that still chains: found against a head noted elsewhere', async () => {
    const records = await writeLog(3);
    rmSync(file);
    rmSync(`${file}.head`);
    const log = AuditLog.open(file);
    for (let i = 1; i <= 3; i++) await log.append(entry(i, { decision: 'approved' }));
    await log.close();
    const result = await verifyAuditLog(file, { expectedHead: { seq: 3, hash: records[2]!.hash } });
    assert.ok(!result.ok);
    assert.equal(result.problem.kind, 'head-mismatch');
  });

  test('a line that is not JSON, or not a record', async () => {
    await writeLog(3);
    const list = lines();
    writeLines([list[0]!, '{"seq":2,', list[2]!]);
    const notJson = await verifyAuditLog(file, { useHeadFile: false });
    assert.equal(!notJson.ok && notJson.problem.kind, 'not-json');
    assert.equal(!notJson.ok && notJson.problem.line, 2);
    writeLines([list[0]!, '{"seq":2,"hello":"world"}', list[2]!]);
    const notRecord = await verifyAuditLog(file, { useHeadFile: false });
    assert.equal(!notRecord.ok && notRecord.problem.kind, 'not-a-record');
  });

  test('opening a log whose last record was changed refuses (fail closed)', async () => {
    await writeLog(3);
    const list = lines();
    list[2] = list[2]!.replace('"decision 3"', '"decision three"');
    writeLines(list);
    assert.throws(() => AuditLog.open(file), /the last record \(seq 3\) does not match its hash/);
  });
});

describe('audit log: crashes', () => {
  test('a torn final line is reported, kept aside and cut on open; the chain continues and verifies', async () => {
    await writeLog(3);
    appendFileSync(file, '{"seq":4,"time":"2026-11-25T10:00:04.000Z","actor":"op');
    const before = await verifyAuditLog(file);
    assert.equal(!before.ok && before.problem.kind, 'torn-tail');
    assert.equal(!before.ok && before.problem.line, 4);
    const log = AuditLog.open(file);
    assert.equal(log.opened.records, 3);
    assert.equal(log.opened.tornTail?.bytes, 54);
    assert.equal(readFileSync(log.opened.tornTail!.keptIn, 'utf8'), '{"seq":4,"time":"2026-11-25T10:00:04.000Z","actor":"op');
    assert.equal((await log.append(entry(4))).seq, 4);
    await log.close();
    assert.ok((await verifyAuditLog(file)).ok);
  });

  test('a file that is nothing but a torn line opens empty', async () => {
    writeFileSync(file, '{"seq":1,"ti');
    const log = AuditLog.open(file);
    assert.equal(log.opened.records, 0);
    assert.ok(log.opened.tornTail);
    assert.equal((await log.append(entry(1))).seq, 1);
    await log.close();
    assert.ok((await verifyAuditLog(file)).ok);
  });

  test('SIGKILL of a process appending in a loop: nothing acknowledged is lost, a torn tail is cut, the chain verifies', async () => {
    let tornSeen = 0;
    for (let attempt = 0; attempt < 4; attempt++) {
      const child = spawn(process.execPath, [path.join(__dirname, 'append-child.js'), file], { stdio: ['ignore', 'pipe', 'inherit'] });
      let durable = 0;
      let out = '';
      const killedAt = new Promise<void>((resolve) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const seqs = [...out.matchAll(/durable (\d+)/g)];
          durable = Number(seqs.at(-1)?.[1] ?? 0);
          // Kill at a moment that varies from attempt to attempt, in the middle of further appends.
          if (durable >= (attempt + 1) * 8 + 3) {
            child.kill('SIGKILL');
            resolve();
          }
        });
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await Promise.race([killedAt, exited]);
      await exited;
      assert.ok(durable > 0, 'the child appended before it was killed');
      const log = AuditLog.open(file);
      if (log.opened.tornTail) tornSeen++;
      assert.ok(log.opened.records >= durable, `records acknowledged as durable (${durable}) are all there (${log.opened.records})`);
      await log.close();
      const result = await verifyAuditLog(file, { useHeadFile: false });
      assert.ok(result.ok, JSON.stringify(!result.ok && result.problem));
      assert.equal(result.records, log.opened.records);
    }
    // Kept-aside torn tails match the count reported (none silently dropped).
    assert.equal(readdirSync(dir).filter((f) => f.includes('.torn-')).length, tornSeen);
  });
});

describe('twinflow audit verify', () => {
  test('exit 0 and a summary for an intact log', async () => {
    const records = await writeLog(4);
    const { status, stdout } = cli('verify', file);
    assert.equal(status, 0, stdout);
    assert.equal(stdout.trim(), `intact: 4 records, last seq 4, hash ${records[3]!.hash} (contains head seq 4)`);
  });

  test('exit 1 naming the first broken link; --json for machines', async () => {
    await writeLog(4);
    const list = lines();
    list.splice(1, 1);
    writeLines(list);
    const { status, stdout } = cli('verify', file);
    assert.equal(status, 1);
    assert.match(stdout, /^broken: line 2 has seq 3 where seq 2 was expected: record 2 is missing\n1 record before it verified/);
    const json = cli('verify', file, '--json');
    assert.equal(json.status, 1);
    const report = JSON.parse(json.stdout) as { ok: boolean; problem: { kind: string; line: number; seq: number } };
    assert.deepEqual([report.ok, report.problem.kind, report.problem.line, report.problem.seq], [false, 'seq', 2, 3]);
  });

  test('--head checks a head noted elsewhere; exit 2 for usage errors and missing files', async () => {
    const records = await writeLog(3);
    assert.equal(cli('verify', file, '--head', `3:${records[2]!.hash}`).status, 0);
    assert.equal(cli('verify', file, '--no-head-file', '--head', `5:${records[2]!.hash}`).status, 1);
    assert.equal(cli('verify', file, '--head', 'nonsense').status, 2);
    assert.equal(cli('verify').status, 2);
    const missing = cli('verify', path.join(dir, 'nope.jsonl'));
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /cannot read .*nope\.jsonl: ENOENT/);
    assert.equal(cli('frobnicate').status, 2);
    assert.ok(existsSync(`${file}.head`));
    truncateSync(file, 0);
    assert.equal(cli('verify', file).status, 1, 'an emptied log with a head file is truncated');
  });
});
