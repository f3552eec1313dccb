// Append-only files of checksummed records, split into segments: the storage under the InfluxDB
// store-and-forward queue and the twin event log. Pure Node.js, no Node-RED.
//
// Record:  u32 magic 'TFR1' | u32 payload length | u32 crc32(length bytes + payload) | payload
// A record is written with one write() and is either all there or detected as torn: on open, a
// bad record at the end of the last segment (a crash in the middle of a write) is cut off and
// reported; a bad record followed by good ones is corruption, never a torn tail, and is refused.
import { closeSync, existsSync, fdatasync, fdatasyncSync, fstatSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from './crc32';

export const RECORD_MAGIC = 0x31524654; // 'TFR1' little-endian
export const HEADER_BYTES = 12;
/** Upper bound of one record's payload: anything larger in a header is damage, not data. */
export const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;

/** segment number * 2^32 + byte offset: one number that orders records across segments. */
export type Position = number;
const SEGMENT_FACTOR = 2 ** 32;

export function positionOf(segment: number, offset: number): Position {
  return segment * SEGMENT_FACTOR + offset;
}

export function segmentOf(position: Position): number {
  return Math.floor(position / SEGMENT_FACTOR);
}

export function offsetOf(position: Position): number {
  return position % SEGMENT_FACTOR;
}

export class CorruptLogError extends Error {
  constructor(readonly file: string, readonly offset: number, readonly reason: string) {
    super(`${file}: damaged record at byte ${offset} (${reason}) with intact records after it; this is not a torn tail from a crash, so the log is not loaded. Keep the file for inspection and restore it from a backup`);
    this.name = 'CorruptLogError';
  }
}

export function encodeRecord(payload: Buffer, target?: Buffer, at = 0): Buffer {
  const out = target ?? Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt32LE(RECORD_MAGIC, at);
  out.writeUInt32LE(payload.length, at + 4);
  out.writeUInt32LE(crc32(payload, crc32(out.subarray(at + 4, at + 8))), at + 8);
  payload.copy(out, at + HEADER_BYTES);
  return out;
}

interface Damage {
  offset: number;
  reason: string;
}

/** Why the record at `offset` is not valid, or undefined when it is. */
function recordDamage(buf: Buffer, offset: number): Damage | undefined {
  if (buf.length - offset < HEADER_BYTES) return { offset, reason: `${buf.length - offset} bytes, less than a record header` };
  if (buf.readUInt32LE(offset) !== RECORD_MAGIC) return { offset, reason: 'no record marker' };
  const length = buf.readUInt32LE(offset + 4);
  if (length > MAX_PAYLOAD_BYTES) return { offset, reason: `length ${length} is implausible` };
  if (buf.length - offset - HEADER_BYTES < length) return { offset, reason: `the record needs ${length} payload bytes, ${buf.length - offset - HEADER_BYTES} are there` };
  const expected = buf.readUInt32LE(offset + 8);
  const actual = crc32(buf.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length), crc32(buf.subarray(offset + 4, offset + 8)));
  if (expected !== actual) return { offset, reason: 'checksum mismatch' };
  return undefined;
}

/** True when an intact record starts anywhere after `from` (so the damage is not a torn tail). */
function intactRecordAfter(buf: Buffer, from: number): boolean {
  const marker = Buffer.alloc(4);
  marker.writeUInt32LE(RECORD_MAGIC, 0);
  let at = buf.indexOf(marker, from + 1);
  while (at >= 0) {
    if (recordDamage(buf, at) === undefined) return true;
    at = buf.indexOf(marker, at + 1);
  }
  return false;
}

export interface ScanResult {
  /** Byte offset just after the last intact record. */
  end: number;
  /** Set when the records stop before the end of the buffer. */
  damage?: Damage & { intactAfter: boolean };
}

/** Visits every intact record of a segment's bytes, in order, and says where they end. */
export function scanRecords(buf: Buffer, visit: (payload: Buffer, offset: number) => void): ScanResult {
  let offset = 0;
  while (offset < buf.length) {
    const damage = recordDamage(buf, offset);
    if (damage) return { end: offset, damage: { ...damage, intactAfter: intactRecordAfter(buf, offset) } };
    const length = buf.readUInt32LE(offset + 4);
    visit(buf.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length), offset);
    offset += HEADER_BYTES + length;
  }
  return { end: offset };
}

export interface OpenReport {
  segments: number;
  records: number;
  /** Bytes of a torn tail cut from the last segment (0 when the log ended cleanly). */
  cutBytes: number;
  cutReason?: string;
}

export interface SegmentedLogOptions {
  /** File name prefix; segments are `<prefix>-<number>.log`. */
  prefix: string;
  /** A new segment starts once the current one holds this many bytes. */
  segmentBytes: number;
}

/**
 * One directory of segment files. Single writer: the caller makes sure only one SegmentedLog per
 * directory and prefix is open at a time (Node-RED runs one node per id).
 */
export class SegmentedLog {
  #segments: number[] = [];
  #fds = new Map<number, number>();
  #activeSize = 0;
  #dirty = false;
  #syncing: Promise<void> | undefined;
  #closed = false;

  constructor(readonly dir: string, private readonly options: SegmentedLogOptions) {}

  file(segment: number): string {
    return path.join(this.dir, `${this.options.prefix}-${String(segment).padStart(8, '0')}.log`);
  }

  get segments(): readonly number[] {
    return this.#segments;
  }

  get active(): number {
    return this.#segments.at(-1) ?? 1;
  }

  /** Bytes in the segment being written. */
  get activeSize(): number {
    return this.#activeSize;
  }

  /**
   * Reads every segment, visiting each intact record in order. A torn tail of the last segment is
   * cut (and reported); damage with intact records after it throws CorruptLogError.
   */
  open(visit: (payload: Buffer, position: Position) => void): OpenReport {
    mkdirSync(this.dir, { recursive: true });
    const pattern = new RegExp(`^${this.options.prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d{8})\\.log$`);
    this.#segments = readdirSync(this.dir)
      .map((name) => pattern.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    const report: OpenReport = { segments: this.#segments.length, records: 0, cutBytes: 0 };
    for (const [i, segment] of this.#segments.entries()) {
      const file = this.file(segment);
      const buf = readFileSync(file);
      const last = i === this.#segments.length - 1;
      const result = scanRecords(buf, (payload, offset) => {
        report.records++;
        visit(payload, positionOf(segment, offset));
      });
      if (result.damage) {
        // Only the end of the newest segment can be torn by a crash; older segments were complete
        // before the next one began.
        if (result.damage.intactAfter || !last) throw new CorruptLogError(file, result.damage.offset, result.damage.reason);
        const fd = openSync(file, 'r+');
        try {
          ftruncateSync(fd, result.end);
          fdatasyncSync(fd);
        } finally {
          closeSync(fd);
        }
        report.cutBytes = buf.length - result.end;
        report.cutReason = result.damage.reason;
      }
      if (last) this.#activeSize = result.end;
    }
    if (this.#segments.length === 0) {
      this.#segments = [1];
      this.#activeSize = 0;
    }
    return report;
  }

  #fd(segment: number, forWrite: boolean): number {
    let fd = this.#fds.get(segment);
    if (fd === undefined) {
      // The segment being written is opened for appending (reads work on it too), older ones read-only.
      fd = openSync(this.file(segment), forWrite || segment === this.active || !existsSync(this.file(segment)) ? 'a+' : 'r');
      this.#fds.set(segment, fd);
    }
    return fd;
  }

  /**
   * Appends records with one write (a new segment first when the current one is full) and returns
   * their positions. The bytes are in the operating system once this returns (a process crash keeps
   * them); `sync()`/`flush()` put them on the disk.
   */
  append(payloads: readonly Buffer[]): Position[] {
    if (this.#closed) throw new Error(`${this.dir}: the log is closed`);
    let total = 0;
    for (const p of payloads) total += HEADER_BYTES + p.length;
    if (this.#activeSize > 0 && this.#activeSize + total > this.options.segmentBytes) this.#rotate();
    const segment = this.active;
    const buf = Buffer.allocUnsafe(total);
    const positions: Position[] = [];
    let at = 0;
    for (const p of payloads) {
      encodeRecord(p, buf, at);
      positions.push(positionOf(segment, this.#activeSize + at));
      at += HEADER_BYTES + p.length;
    }
    const fd = this.#fd(segment, true);
    let written = 0;
    while (written < buf.length) written += writeSync(fd, buf, written, buf.length - written);
    this.#activeSize += buf.length;
    this.#dirty = true;
    return positions;
  }

  #rotate(): void {
    // The full segment goes to disk before the next begins, so only the newest can have a torn tail.
    this.sync();
    const next = this.active + 1;
    this.#segments.push(next);
    this.#activeSize = 0;
    const fd = openSync(this.file(next), 'a+');
    this.#fds.set(next, fd);
    // The new file's directory entry must survive a power cut too.
    syncDirectory(this.dir);
  }

  /** Reads and checks the record at `position`; throws on damage. */
  read(position: Position): Buffer {
    const segment = segmentOf(position);
    const offset = offsetOf(position);
    const fd = this.#fd(segment, false);
    const header = Buffer.allocUnsafe(HEADER_BYTES);
    if (readSync(fd, header, 0, HEADER_BYTES, offset) !== HEADER_BYTES) throw new Error(`${this.file(segment)}: no record at byte ${offset}`);
    const length = header.readUInt32LE(4);
    if (header.readUInt32LE(0) !== RECORD_MAGIC || length > MAX_PAYLOAD_BYTES) throw new Error(`${this.file(segment)}: no record at byte ${offset}`);
    const whole = Buffer.allocUnsafe(HEADER_BYTES + length);
    header.copy(whole, 0);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, whole, HEADER_BYTES + got, length - got, offset + HEADER_BYTES + got);
      if (n === 0) throw new Error(`${this.file(segment)}: record at byte ${offset} is cut short`);
      got += n;
    }
    const damage = recordDamage(whole, 0);
    if (damage) throw new Error(`${this.file(segment)}: record at byte ${offset}: ${damage.reason}`);
    return whole.subarray(HEADER_BYTES);
  }

  /** Everything appended so far to disk, now (blocks the thread for the fsync). */
  sync(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    const fd = this.#fds.get(this.active);
    if (fd !== undefined) fdatasyncSync(fd);
  }

  /**
   * Everything appended so far to disk, off the main thread; calls made while one fsync runs share
   * the next one (group commit).
   */
  flush(): Promise<void> {
    if (this.#syncing) return this.#syncing.then(() => this.flush());
    if (!this.#dirty) return Promise.resolve();
    this.#dirty = false;
    const fd = this.#fds.get(this.active);
    if (fd === undefined) return Promise.resolve();
    this.#syncing = new Promise<void>((resolve, reject) => {
      fdatasync(fd, (err) => {
        this.#syncing = undefined;
        if (err) {
          this.#dirty = true;
          reject(err);
        } else resolve();
      });
    });
    return this.#syncing;
  }

  /** Deletes whole segments older than `segment` (never the one being written). */
  dropSegmentsBefore(segment: number): number[] {
    const dropped: number[] = [];
    while (this.#segments.length > 1 && (this.#segments[0] as number) < segment) {
      const old = this.#segments.shift() as number;
      const fd = this.#fds.get(old);
      if (fd !== undefined) closeSync(fd);
      this.#fds.delete(old);
      try {
        unlinkSync(this.file(old));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      dropped.push(old);
    }
    return dropped;
  }

  /** Bytes on disk across all segments. */
  sizeOnDisk(): number {
    let total = 0;
    for (const segment of this.#segments) {
      const fd = this.#fds.get(segment);
      try {
        total += fd !== undefined ? fstatSync(fd).size : existsSync(this.file(segment)) ? fstatSync(this.#fd(segment, false)).size : 0;
      } catch {
        // a segment deleted meanwhile counts nothing
      }
    }
    return total;
  }

  close(): void {
    if (this.#closed) return;
    try {
      this.sync();
    } finally {
      this.#closed = true;
      for (const fd of this.#fds.values()) closeSync(fd);
      this.#fds.clear();
    }
  }

  get closed(): boolean {
    return this.#closed;
  }
}

export function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
