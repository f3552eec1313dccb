// Verifies an audit log file from its first record to its last: every line a record, seq 1, 2, 3 …
// without gaps, each prevHash the hash of the record before, each hash the hash of its own content,
// and (when a head is known) nothing missing at the end. Reports the first broken link precisely.
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { GENESIS_HASH, hashRecord, recordShapeProblem, type AuditRecord } from './record';

export type AuditProblemKind = 'not-json' | 'not-a-record' | 'hash' | 'seq' | 'link' | 'torn-tail' | 'truncated' | 'head-mismatch' | 'unreadable';

export interface AuditProblem {
  kind: AuditProblemKind;
  /** 1-based line in the file (for truncated: the line after the last one). */
  line: number;
  /** The seq the line claims, when it could be read. */
  seq?: number;
  message: string;
}

export interface AuditHead {
  seq: number;
  hash: string;
}

export type AuditVerification =
  | { ok: true; file: string; records: number; head: AuditHead | null; checkedAgainst?: AuditHead }
  | { ok: false; file: string; records: number; head: AuditHead | null; problem: AuditProblem };

/** The head file written beside the log (`<file>.head`), or undefined. */
export function readHeadFile(file: string): (AuditHead & { time?: string }) | undefined {
  const headFile = `${file}.head`;
  if (!existsSync(headFile)) return undefined;
  try {
    const head = JSON.parse(readFileSync(headFile, 'utf8')) as AuditHead;
    if (Number.isSafeInteger(head.seq) && typeof head.hash === 'string') return head;
  } catch {
    // unreadable: treated as absent; verification says so through the missing check
  }
  return undefined;
}

function short(hash: unknown): string {
  return typeof hash === 'string' ? `${hash.slice(0, 12)}…` : JSON.stringify(hash);
}

/**
 * Verifies `file`. `expectedHead` (a seq and hash noted elsewhere, e.g. published to another system)
 * is checked when given; otherwise the head file beside the log is, when there is one.
 */
export async function verifyAuditLog(file: string, options: { expectedHead?: AuditHead; useHeadFile?: boolean } = {}): Promise<AuditVerification> {
  const expected = options.expectedHead ?? (options.useHeadFile === false ? undefined : readHeadFile(file));
  let line = 0;
  let prev: AuditRecord | undefined;
  let records = 0;
  let problem: AuditProblem | undefined;
  let atExpected: AuditRecord | undefined;
  let pending = '';
  const head = (): AuditHead | null => (prev ? { seq: prev.seq, hash: prev.hash } : null);

  const checkLine = (text: string): void => {
    line++;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      problem = { kind: 'not-json', line, message: `line ${line} is not JSON${text === '' ? ' (an empty line)' : ''}` };
      return;
    }
    const shape = recordShapeProblem(value);
    const claimed = (value as { seq?: unknown })?.seq;
    const seq = Number.isSafeInteger(claimed) ? (claimed as number) : undefined;
    if (shape) {
      problem = { kind: 'not-a-record', line, ...(seq !== undefined ? { seq } : {}), message: `line ${line}: ${shape}` };
      return;
    }
    const record = value as AuditRecord;
    const recomputed = hashRecord(record);
    if (recomputed !== record.hash) {
      problem = { kind: 'hash', line, seq: record.seq, message: `line ${line} (seq ${record.seq}): the content hashes to ${short(recomputed)} but the record says ${short(record.hash)}: the record was changed after it was written` };
      return;
    }
    const expectedSeq = (prev?.seq ?? 0) + 1;
    if (record.seq !== expectedSeq) {
      const message = record.seq > expectedSeq
        ? `line ${line} has seq ${record.seq} where seq ${expectedSeq} was expected: ${record.seq - expectedSeq === 1 ? `record ${expectedSeq} is` : `records ${expectedSeq} to ${record.seq - 1} are`} missing`
        : `line ${line} has seq ${record.seq} where seq ${expectedSeq} was expected: records are reordered or repeated`;
      problem = { kind: 'seq', line, seq: record.seq, message };
      return;
    }
    const expectedPrev = prev?.hash ?? GENESIS_HASH;
    if (record.prevHash !== expectedPrev) {
      problem = {
        kind: 'link',
        line,
        seq: record.seq,
        message: prev
          ? `line ${line} (seq ${record.seq}): prevHash ${short(record.prevHash)} is not the hash ${short(expectedPrev)} of line ${line - 1} (seq ${prev.seq}): the record before it was replaced or re-hashed`
          : `line ${line} (seq ${record.seq}): the first record's prevHash is ${short(record.prevHash)}, not the genesis hash 000…: records before it were removed`,
      };
      return;
    }
    if (expected && record.seq === expected.seq) atExpected = record;
    prev = record;
    records++;
  };

  try {
    const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
    for await (const chunk of stream as AsyncIterable<string>) {
      pending += chunk;
      let start = 0;
      let nl: number;
      while ((nl = pending.indexOf('\n', start)) >= 0) {
        checkLine(pending.slice(start, nl));
        start = nl + 1;
        if (problem) break;
      }
      pending = pending.slice(start);
      if (problem) {
        stream.destroy();
        break;
      }
    }
  } catch (err) {
    return { ok: false, file, records, head: head(), problem: { kind: 'unreadable', line: line + 1, message: `cannot read ${file}: ${(err as Error).message}` } };
  }
  if (!problem && pending !== '') {
    problem = { kind: 'torn-tail', line: line + 1, message: `line ${line + 1} is not complete (${pending.length} characters without a final newline): an append was cut off` };
  }
  if (!problem && expected) {
    if (!prev || prev.seq < expected.seq) {
      problem = {
        kind: 'truncated',
        line: line + 1,
        message: `the log ends at seq ${prev?.seq ?? 0}, but its head says seq ${expected.seq} (${short(expected.hash)}) was written: ${expected.seq - (prev?.seq ?? 0)} record(s) are missing at the end`,
      };
    } else if (atExpected && atExpected.hash !== expected.hash) {
      problem = { kind: 'head-mismatch', line: atExpected.seq, seq: atExpected.seq, message: `seq ${expected.seq} has hash ${short(atExpected.hash)}, but the head says ${short(expected.hash)}: the log was rewritten from there on or before` };
    }
  }
  if (problem) return { ok: false, file, records, head: head(), problem };
  return { ok: true, file, records, head: head(), ...(expected ? { checkedAgainst: { seq: expected.seq, hash: expected.hash } } : {}) };
}
