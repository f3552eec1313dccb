// The store-and-forward queue of the twin-history node: every batch of points goes to disk first
// (checksummed records in segment files, fsync'd), is sent to InfluxDB from there in order, and is
// acknowledged once InfluxDB has taken it. Bounded in bytes; survives restarts and crashes; a
// batch acknowledged but not yet recorded as such is sent again after a crash, which InfluxDB
// absorbs (a point with the same measurement, tags, field and time is overwritten, not added).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { segmentOf, SegmentedLog, type OpenReport, type Position } from '../durable/segmented-log';

export interface SpoolRecord {
  /** Ever-increasing number of the batch. */
  seq: number;
  position: Position;
  /** Bytes of line protocol. */
  bytes: number;
  /** Points (lines) in it. */
  points: number;
}

export interface SpoolOptions {
  /** Upper bound of the queued line protocol, in bytes. */
  maxBytes: number;
  /** Segment file size; whole segments are deleted once sent. Default 4 MiB. */
  segmentBytes?: number;
  /** Line protocol kept in memory as well, so sending rarely reads the disk back. Default 16 MiB. */
  cacheBytes?: number;
}

/** Bytes in front of a batch's line protocol in its record (seq, points): see `appendPayload`. */
export const SPOOL_HEADER = 12; // f64 seq + u32 points

export interface SpoolOpenReport extends OpenReport {
  /** Batches waiting to be sent after the restart. */
  pending: number;
  pendingPoints: number;
}

const HEADER = SPOOL_HEADER;
const NEWLINE = Buffer.from('\n');

/** Batches taken from the head of the queue to send as one request. */
export interface SpoolTake {
  records: SpoolRecord[];
  /** The batches' line protocol, newline between batches, as UTF-8 (what is sent). */
  body: Buffer;
  /** The body as text (decoded on each read). */
  readonly text: string;
  points: number;
}

export class Spool {
  readonly #log: SegmentedLog;
  readonly #cursorFile: string;
  readonly #records: SpoolRecord[] = [];
  #head = 0;
  /** Line protocol of queued batches by seq, as sent (UTF-8), while within the cache limit. */
  readonly #cache = new Map<number, Buffer>();
  #cacheBytes = 0;
  #nextSeq = 1;
  #acked = 0;
  #bytes = 0;
  #points = 0;
  readonly #cacheLimit: number;

  constructor(readonly dir: string, private readonly options: SpoolOptions) {
    this.#log = new SegmentedLog(dir, { prefix: 'batches', segmentBytes: options.segmentBytes ?? 4 * 1024 * 1024 });
    this.#cursorFile = path.join(dir, 'sent.json');
    this.#cacheLimit = options.cacheBytes ?? 16 * 1024 * 1024;
  }

  get maxBytes(): number {
    return this.options.maxBytes;
  }

  /** Reads what is on disk: batches not yet sent come back in order. */
  open(): SpoolOpenReport {
    mkdirSync(this.dir, { recursive: true });
    this.#acked = this.#readCursor();
    let maxSeq = this.#acked;
    const report = this.#log.open((payload, position) => {
      const seq = payload.readDoubleLE(0);
      const points = payload.readUInt32LE(8);
      if (seq > maxSeq) maxSeq = seq;
      if (seq <= this.#acked) return;
      const record = { seq, position, bytes: payload.length - HEADER, points };
      this.#records.push(record);
      this.#bytes += record.bytes;
      this.#points += points;
    });
    this.#nextSeq = maxSeq + 1;
    this.#dropSentSegments();
    return { ...report, pending: this.#records.length - this.#head, pendingPoints: this.#points };
  }

  #readCursor(): number {
    if (!existsSync(this.#cursorFile)) return 0;
    try {
      const value = (JSON.parse(readFileSync(this.#cursorFile, 'utf8')) as { sent?: unknown }).sent;
      return typeof value === 'number' && Number.isFinite(value) ? value : 0;
    } catch {
      // A cursor lost mid-write means batches are sent again, which InfluxDB absorbs.
      return 0;
    }
  }

  /** Points waiting to be sent. */
  get points(): number {
    return this.#points;
  }

  /** Bytes of line protocol waiting to be sent. */
  get bytes(): number {
    return this.#bytes;
  }

  get batches(): number {
    return this.#records.length - this.#head;
  }

  /** True when `bytes` more would exceed the bound. */
  wouldOverflow(bytes: number): boolean {
    return this.#bytes + bytes > this.options.maxBytes;
  }

  /**
   * Queues one batch. It is in the operating system when this returns (a Node-RED crash keeps it)
   * and on disk once `flush()` resolves.
   */
  append(text: string, points: number): SpoolRecord {
    const payload = Buffer.allocUnsafe(HEADER + Buffer.byteLength(text));
    payload.write(text, HEADER, 'utf8');
    return this.#append(payload, points, false);
  }

  /**
   * Queues one batch laid out by the caller: `SPOOL_HEADER` bytes for the queue's own use, then the
   * line protocol as UTF-8. The queue writes the header and copies what it keeps, so the caller may
   * reuse the buffer once this returns. Otherwise as `append`.
   */
  appendPayload(payload: Buffer, points: number): SpoolRecord {
    if (payload.length < HEADER) throw new RangeError(`a batch payload needs at least ${HEADER} bytes of header, this one has ${payload.length}`);
    return this.#append(payload, points, true);
  }

  #append(payload: Buffer, points: number, borrowed: boolean): SpoolRecord {
    const seq = this.#nextSeq++;
    payload.writeDoubleLE(seq, 0);
    payload.writeUInt32LE(points, 8);
    const [position] = this.#log.append([payload]);
    const bytes = payload.length - HEADER;
    const record: SpoolRecord = { seq, position: position as Position, bytes, points };
    this.#records.push(record);
    this.#bytes += bytes;
    this.#points += points;
    if (this.#cacheBytes + bytes <= this.#cacheLimit) {
      const body = payload.subarray(HEADER);
      this.#cache.set(seq, borrowed ? Buffer.from(body) : body);
      this.#cacheBytes += bytes;
    }
    return record;
  }

  /** Everything queued so far is on disk when this resolves. */
  flush(): Promise<void> {
    return this.#log.flush();
  }

  /** The oldest batches, joined up to `maxPoints`/`maxBytes` (at least one batch), without removing them. */
  take(maxPoints: number, maxBytes: number): SpoolTake | undefined {
    if (this.#head >= this.#records.length) return undefined;
    const records: SpoolRecord[] = [];
    const bodies: Buffer[] = [];
    let points = 0;
    let bytes = 0;
    for (let i = this.#head; i < this.#records.length; i++) {
      const record = this.#records[i] as SpoolRecord;
      if (records.length > 0 && (points + record.points > maxPoints || bytes + record.bytes > maxBytes)) break;
      if (bodies.length > 0) bodies.push(NEWLINE);
      bodies.push(this.#body(record));
      records.push(record);
      points += record.points;
      bytes += record.bytes;
    }
    const body = bodies.length === 1 ? (bodies[0] as Buffer) : Buffer.concat(bodies);
    return {
      records,
      body,
      get text() {
        return body.toString('utf8');
      },
      points,
    };
  }

  #body(record: SpoolRecord): Buffer {
    return this.#cache.get(record.seq) ?? this.#log.read(record.position).subarray(HEADER);
  }

  /**
   * Removes batches up to and including `seq` from the head (sent, or given up) and records that
   * on disk, so a restart does not send them again.
   */
  ack(seq: number): { batches: number; points: number } {
    let batches = 0;
    let points = 0;
    while (this.#head < this.#records.length && (this.#records[this.#head] as SpoolRecord).seq <= seq) {
      const record = this.#records[this.#head++] as SpoolRecord;
      this.#bytes -= record.bytes;
      this.#points -= record.points;
      points += record.points;
      batches++;
      if (this.#cache.delete(record.seq)) this.#cacheBytes -= record.bytes;
    }
    if (batches === 0) return { batches, points };
    this.#acked = Math.max(this.#acked, seq);
    // Compact the array now and then instead of shifting on every acknowledgement.
    if (this.#head > 1024 && this.#head * 2 > this.#records.length) {
      this.#records.splice(0, this.#head);
      this.#head = 0;
    }
    this.#writeCursor();
    this.#dropSentSegments();
    return { batches, points };
  }

  /** Drops the oldest batches until `bytes` more fit; returns what was dropped. */
  dropOldest(bytes: number): { batches: number; points: number } {
    let last: number | undefined;
    let freed = 0;
    for (let i = this.#head; i < this.#records.length && this.#bytes - freed + bytes > this.options.maxBytes; i++) {
      const record = this.#records[i] as SpoolRecord;
      freed += record.bytes;
      last = record.seq;
    }
    return last === undefined ? { batches: 0, points: 0 } : this.ack(last);
  }

  /** Sequence number of the oldest queued batch. */
  get oldest(): SpoolRecord | undefined {
    return this.#records[this.#head];
  }

  #writeCursor(): void {
    // Atomic replace; no fsync: a cursor that loses the last acknowledgements to a power cut makes
    // the queue send those batches again, which InfluxDB absorbs.
    const temporary = `${this.#cursorFile}.tmp`;
    writeFileSync(temporary, JSON.stringify({ sent: this.#acked }));
    renameSync(temporary, this.#cursorFile);
  }

  #dropSentSegments(): void {
    const oldest = this.#records[this.#head];
    const keepFrom = oldest ? segmentOf(oldest.position) : this.#log.active;
    this.#log.dropSegmentsBefore(keepFrom);
  }

  close(): void {
    this.#log.close();
  }
}
