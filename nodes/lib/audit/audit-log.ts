// The append-only, hash-chained audit log: JSON lines in one file.
//
// Durability: append() resolves once its record is on disk (write + fdatasync). Appends made in the
// same event-loop tick share one write and one fdatasync (group commit), so many decisions a tick
// cost one disk flush. A caller that must not act before its decision is recorded awaits append().
//
// Crash safety: open() reads only the end of the file. A final line without its newline is an
// append cut off by a crash; it was never acknowledged, so it is moved to <file>.torn-<time> (kept,
// never deleted), reported in `opened.tornTail`, and cut from the log. A last complete line that is
// not a valid record means the log was damaged: open() refuses (the caller fails closed).
//
// Truncation: <file>.head holds { seq, hash } of the last record, rewritten atomically at most once a
// second and on close; verifyAuditLog compares the log against it, so records lost at the end are
// noticed. For protection against someone who can rewrite both, publish heads elsewhere and verify
// with expectedHead.
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync } from 'node:fs';
import { AppendFile, writeFileAtomically } from './durable-file';
import { GENESIS_HASH, hashRecord, recordShapeProblem, sealRecord, type AuditEntry, type AuditRecord } from './record';
import { verifyAuditLog, type AuditHead, type AuditVerification } from './verify-log';

export class AuditLogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditLogError';
  }
}

export interface AuditOpenReport {
  /** Records in the log when it was opened (the last seq). */
  records: number;
  /** A cut-off final line found at open: its text and where it was kept. */
  tornTail?: { bytes: number; keptIn: string };
}

export interface AuditLogOptions {
  /** fdatasync each batch (default true). */
  sync?: boolean;
  /** The clock for record times, ms since the epoch. */
  clock?: () => number;
  /** How often the head file is rewritten at most, ms (default 1,000). */
  headIntervalMs?: number;
}

interface Tail {
  /** The last complete line, or undefined when the file has none. */
  lastLine?: string;
  /** Byte offset where the complete lines end (= file size when nothing is torn). */
  completeEnd: number;
  size: number;
}

/** Reads backwards from the end until the last complete line is found. */
function readTail(fd: number): Tail {
  const size = fstatSync(fd).size;
  if (size === 0) return { completeEnd: 0, size };
  const chunk = 64 * 1024;
  let buffer = Buffer.alloc(0);
  let position = size;
  let lastNewline = -1; // offset in the file of the last '\n'
  for (;;) {
    const start = Math.max(0, position - chunk);
    const part = Buffer.alloc(position - start);
    readSync(fd, part, 0, part.length, start);
    buffer = Buffer.concat([part, buffer]);
    position = start;
    if (lastNewline < 0) {
      const i = buffer.lastIndexOf(0x0a);
      if (i >= 0) lastNewline = position + i;
    }
    if (lastNewline >= 0) {
      const rel = lastNewline - position;
      const before = buffer.lastIndexOf(0x0a, rel - 1);
      if (before >= 0 || position === 0) {
        const lineStart = before >= 0 ? before + 1 : 0;
        return { lastLine: buffer.subarray(lineStart, rel).toString('utf8'), completeEnd: lastNewline + 1, size };
      }
    } else if (position === 0) {
      return { completeEnd: 0, size };
    }
    if (position === 0) return { completeEnd: lastNewline + 1, size };
  }
}

export class AuditLog {
  readonly opened: AuditOpenReport;
  #seq: number;
  #hash: string;
  #file: AppendFile;
  #clock: () => number;
  #headTimer: NodeJS.Timeout | undefined;
  #headWritten: AuditHead | undefined;
  #closed = false;

  private constructor(readonly path: string, seq: number, hash: string, opened: AuditOpenReport, private readonly options: AuditLogOptions) {
    this.#seq = seq;
    this.#hash = hash;
    this.opened = opened;
    this.#clock = options.clock ?? Date.now;
    this.#file = new AppendFile(path, { sync: options.sync !== false });
  }

  /**
   * Opens (or creates) the log at `file`. Throws an AuditLogError when its last complete record is
   * not valid. Use acquireAuditLog to share one log between several users in a process.
   */
  static open(file: string, options: AuditLogOptions = {}): AuditLog {
    let seq = 0;
    let hash = GENESIS_HASH;
    const report: AuditOpenReport = { records: 0 };
    if (existsSync(file)) {
      const fd = openSync(file, 'r+');
      try {
        const tail = readTail(fd);
        if (tail.completeEnd < tail.size) {
          const torn = Buffer.alloc(tail.size - tail.completeEnd);
          readSync(fd, torn, 0, torn.length, tail.completeEnd);
          const keptIn = `${file}.torn-${new Date().toISOString().replace(/[:.]/g, '-')}`;
          writeFileAtomically(keptIn, torn);
          ftruncateSync(fd, tail.completeEnd);
          fsyncSync(fd);
          report.tornTail = { bytes: torn.length, keptIn };
        }
        if (tail.lastLine !== undefined) {
          let record: AuditRecord;
          try {
            record = JSON.parse(tail.lastLine) as AuditRecord;
          } catch {
            throw new AuditLogError(`${file}: the last record is not JSON; the log is damaged (run "twinflow audit verify ${file}")`);
          }
          const problem = recordShapeProblem(record);
          if (problem) throw new AuditLogError(`${file}: the last record is not valid (${problem}); the log is damaged`);
          if (hashRecord(record) !== record.hash) throw new AuditLogError(`${file}: the last record (seq ${record.seq}) does not match its hash; the log was changed`);
          seq = record.seq;
          hash = record.hash;
        }
      } finally {
        closeSync(fd);
      }
    }
    report.records = seq;
    return new AuditLog(file, seq, hash, report, options);
  }

  get lastSeq(): number {
    return this.#seq;
  }

  get lastHash(): string {
    return this.#hash;
  }

  /**
   * Seals `entry` as the next record and appends it; resolves with the record once it is on disk.
   * Rejects (and records nothing) when the entry is not valid, e.g. a missing field or a NaN in the snapshot.
   */
  append(entry: AuditEntry): Promise<AuditRecord> {
    if (this.#closed) return Promise.reject(new AuditLogError(`${this.path} is closed`));
    let record: AuditRecord;
    try {
      record = sealRecord(entry, this.#seq, this.#hash, this.#clock());
    } catch (err) {
      return Promise.reject(err);
    }
    this.#seq = record.seq;
    this.#hash = record.hash;
    this.#scheduleHead();
    return this.#file.append(`${JSON.stringify(record)}\n`).then(() => record);
  }

  #scheduleHead(): void {
    if (this.#headTimer) return;
    this.#headTimer = setTimeout(() => {
      this.#headTimer = undefined;
      void this.#writeHead();
    }, this.options.headIntervalMs ?? 1000);
    this.#headTimer.unref?.();
  }

  /** Rewrites the head file once the records it names are on disk. */
  async #writeHead(): Promise<void> {
    const head = { seq: this.#seq, hash: this.#hash };
    if (this.#headWritten?.seq === head.seq) return;
    try {
      await this.#file.flush();
      writeFileAtomically(`${this.path}.head`, JSON.stringify({ ...head, time: new Date(this.#clock()).toISOString() }));
      this.#headWritten = head;
    } catch {
      // A head that lags is only a weaker truncation check; the next write tries again.
    }
  }

  /** Resolves when every record appended so far is on disk. */
  flush(): Promise<void> {
    return this.#file.flush();
  }

  /** Verifies the whole file (after writing what is pending). */
  async verify(options?: { expectedHead?: AuditHead }): Promise<AuditVerification> {
    await this.flush();
    return verifyAuditLog(this.path, options);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#headTimer) clearTimeout(this.#headTimer);
    this.#headTimer = undefined;
    await this.#file.close();
    if (this.#seq > 0 && this.#headWritten?.seq !== this.#seq) {
      writeFileAtomically(`${this.path}.head`, JSON.stringify({ seq: this.#seq, hash: this.#hash, time: new Date(this.#clock()).toISOString() }));
    }
  }
}

interface Shared {
  log: AuditLog;
  refs: number;
}

const shared = new Map<string, Shared>();

/**
 * One AuditLog per file in this process, shared by every node that writes to it (refcounted).
 * release() closes the log when its last user lets go, after everything pending is on disk; a user
 * that acquires it again meanwhile keeps the same log, so the chain never forks.
 */
export function acquireAuditLog(file: string, options?: AuditLogOptions): { log: AuditLog; release(): Promise<void> } {
  let entry = shared.get(file);
  if (!entry) {
    entry = { log: AuditLog.open(file, options), refs: 0 };
    shared.set(file, entry);
  }
  entry.refs++;
  const held = entry;
  let released = false;
  return {
    log: held.log,
    release: async () => {
      if (released) return;
      released = true;
      held.refs--;
      if (held.refs > 0) return;
      await held.log.flush();
      if (held.refs > 0 || shared.get(file) !== held) return;
      shared.delete(file);
      await held.log.close();
    },
  };
}
