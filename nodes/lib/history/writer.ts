// Batching and store-and-forward for InfluxDB writes. Points are gathered into batches (by size and
// by time), each batch goes to the disk queue first, and one request at a time takes the oldest
// batches from the queue to InfluxDB, so the order is kept and nothing is lost or sent twice while
// the database is down, refuses writes, or Node-RED restarts. The queue is bounded: when it is full
// the writer either drops the oldest batches or refuses new points, as configured, and says so.
import { EventEmitter } from 'node:events';
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { SPOOL_HEADER, type Spool } from './spool';

/** Why a write failed, and whether sending the same points again can succeed. */
export interface WriteFailure {
  /** `transient`: keep the points and try again (unreachable, 5xx, overloaded, unknown database, credentials). `rejected`: InfluxDB refused these points for good (400). `too-large`: split and try again. */
  kind: 'transient' | 'rejected' | 'too-large';
  message: string;
  status?: number;
}

export interface WriteTransport {
  /** Writes line protocol; rejects with an error that `classify` understands. */
  write(text: string): Promise<void>;
  /** The same for line protocol as UTF-8 bytes; used instead of `write` when present (no decoding). */
  writeBody?(body: Buffer): Promise<void>;
  classify(err: unknown): WriteFailure;
}

export type OverflowPolicy = 'drop-oldest' | 'refuse-new';

export interface WriterOptions {
  /** A batch is sealed once it holds this many points. */
  batchSize: number;
  /** ... or this long after its first point (ms). */
  flushMs: number;
  /** Most points in one request when the queue has caught up several batches. */
  maxRequestPoints: number;
  maxRequestBytes: number;
  overflow: OverflowPolicy;
  /** First and longest wait before trying an unreachable InfluxDB again (ms). */
  retryMinMs: number;
  retryMaxMs: number;
  /** Where batches InfluxDB refused for good are kept (line protocol with the reason as a comment). */
  rejectedFile?: string;
}

export interface WriterState {
  /** undefined until the first request answered. */
  reachable: boolean | undefined;
  lastError?: string;
  /** Since when InfluxDB has been failing (ms), while it is. */
  failingSince?: number;
  written: number;
  dropped: number;
  rejected: number;
  /** Points queued on disk, waiting for InfluxDB (the open batch, not on disk yet, is not counted). */
  backlog: number;
  backlogBytes: number;
  full: boolean;
}

/** Thrown for points refused because the queue is full under the refuse-new policy. */
export class BacklogFullError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BacklogFullError';
  }
}

/** Told once the points it was given are on disk in the queue (no error), or are not (the error). */
export type Queued = (err?: Error) => void;

/** First size of the open batch's buffer; it grows to what batches need and is reused. */
const OPEN_BUFFER_BYTES = 64 * 1024;
/** A buffer grown past this for one large batch is let go after sealing it. */
const OPEN_BUFFER_KEEP_BYTES = 16 * 1024 * 1024;

export class HistoryWriter extends EventEmitter {
  /**
   * The open batch as it will be queued: SPOOL_HEADER bytes for the queue, then each added text as
   * UTF-8 followed by a newline (the last newline is not queued). Written once, never joined.
   */
  #open: Buffer = Buffer.allocUnsafe(OPEN_BUFFER_BYTES);
  #openPoints = 0;
  /** Bytes of the added texts, one newline each counted. */
  #openBytes = 0;
  #openWaiters: Queued[] = [];
  /** Counts changes of the open batch (texts accepted, sealed). */
  #openEdits = 0;
  #flushTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryDelay: number;
  #inFlight = false;
  #inFlightDone: Promise<void> = Promise.resolve();
  #closed = false;
  #closing = false;
  #pumpScheduled = false;
  #idleWaiters: (() => void)[] = [];
  readonly state: WriterState = { reachable: undefined, written: 0, dropped: 0, rejected: 0, backlog: 0, backlogBytes: 0, full: false };

  constructor(private readonly spool: Spool, private readonly transport: WriteTransport, private readonly options: WriterOptions) {
    super();
    this.#retryDelay = options.retryMinMs;
    this.#refreshBacklog();
    // Batches queued before a restart go out first.
    if (spool.batches > 0) this.#schedulePump();
  }

  /**
   * Adds points (line protocol, `points` lines). Resolves once they are on disk in the queue;
   * rejects with BacklogFullError when the queue is full and the policy refuses new points.
   */
  add(text: string, points: number): Promise<void> {
    return new Promise((resolve, reject) => this.enqueue(text, points, (err) => (err ? reject(err) : resolve())));
  }

  /**
   * `add` with a callback instead of a promise (one message at a time, many per batch): `queued`
   * is called once the points are on disk in the queue, or with the error (BacklogFullError when
   * the queue is full and the policy refuses new points; then synchronously, before this returns).
   */
  enqueue(text: string, points: number, queued: Queued): void {
    if (this.#closing) {
      queued(new Error("twin-history: the writer is closed"));
      return;
    }
    if (points === 0) {
      queued();
      return;
    }
    // Encoded straight into the open batch, where it only counts once accepted below.
    const edits = this.#openEdits;
    let at = SPOOL_HEADER + this.#openBytes;
    const written = this.#encodeOpen(text, at);
    const bytes = written + 1;
    if (this.spool.wouldOverflow(this.#openBytes + bytes)) {
      if (this.options.overflow === 'refuse-new') {
        if (!this.state.full) {
          this.state.full = true;
          this.emit('full', { policy: 'refuse-new', backlog: this.spool.points, bytes: this.spool.bytes });
        }
        this.#refreshBacklog();
        queued(new BacklogFullError(`the backlog is full (${this.spool.points} points, ${(this.spool.bytes / 1048576).toFixed(1)} MiB of ${(this.spool.maxBytes / 1048576).toFixed(1)} MiB) while InfluxDB ${this.state.lastError ? `fails: ${this.state.lastError}` : 'does not keep up'}; these ${points} point(s) were not stored`));
        return;
      }
      const dropped = this.spool.dropOldest(this.#openBytes + bytes);
      if (dropped.points > 0) {
        this.state.dropped += dropped.points;
        if (!this.state.full) {
          this.state.full = true;
        }
        this.emit('full', { policy: 'drop-oldest', dropped: dropped.points, totalDropped: this.state.dropped, backlog: this.spool.points, bytes: this.spool.bytes });
      }
    }
    // A 'full' listener may have added or sealed meanwhile: the text goes after what is open now.
    if (edits !== this.#openEdits) {
      at = SPOOL_HEADER + this.#openBytes;
      this.#encodeOpen(text, at);
    }
    this.#openEdits++;
    this.#openWaiters.push(queued);
    this.#open[at + written] = 0x0a;
    this.#openPoints += points;
    this.#openBytes += bytes;
    if (this.#openPoints >= this.options.batchSize) this.#seal();
    else if (!this.#flushTimer) this.#flushTimer = setTimeout(() => this.#seal(), this.options.flushMs);
    this.#refreshBacklog();
  }

  /** Writes `text` as UTF-8 into the open batch at `at`, growing it as needed; returns the bytes. */
  #encodeOpen(text: string, at: number): number {
    // Room for 3 bytes per UTF-16 unit, the most UTF-8 needs, and the newline.
    const room = at + text.length * 3 + 1;
    if (room > this.#open.length) {
      const grown = Buffer.allocUnsafe(Math.max(room, this.#open.length * 2));
      this.#open.copy(grown, 0, 0, at);
      this.#open = grown;
    }
    return this.#open.write(text, at, 'utf8');
  }

  /** Puts the open batch into the queue now. */
  #seal(): void {
    if (this.#flushTimer) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = undefined;
    }
    if (this.#openPoints === 0) return;
    // The texts and their newlines, but the last newline: the queue copies what it keeps.
    const payload = this.#open.subarray(0, SPOOL_HEADER + this.#openBytes - 1);
    const points = this.#openPoints;
    const waiters = this.#openWaiters;
    this.#openEdits++;
    this.#openPoints = 0;
    this.#openBytes = 0;
    this.#openWaiters = [];
    try {
      this.spool.appendPayload(payload, points);
    } catch (err) {
      const error = new Error(`twin-history: cannot queue ${points} point(s) on disk: ${(err as Error).message}`);
      for (const queued of waiters) queued(error);
      this.emit('error', error);
      return;
    } finally {
      if (this.#open.length > OPEN_BUFFER_KEEP_BYTES) this.#open = Buffer.allocUnsafe(OPEN_BUFFER_BYTES);
    }
    this.spool.flush().then(
      () => { for (const queued of waiters) queued(); },
      (err: Error) => {
        const error = new Error(`twin-history: the disk did not confirm ${points} queued point(s): ${err.message}`);
        for (const queued of waiters) queued(error);
      },
    );
    this.#refreshBacklog();
    this.#schedulePump();
  }

  #schedulePump(): void {
    if (this.#pumpScheduled || this.#inFlight || this.#retryTimer || this.#closing) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      void this.#pump();
    });
  }

  async #pump(): Promise<void> {
    if (this.#inFlight || this.#closing || this.#retryTimer) return;
    const take = this.spool.take(this.options.maxRequestPoints, this.options.maxRequestBytes);
    if (!take) {
      this.#notifyIdle();
      return;
    }
    this.#inFlight = true;
    let failure: WriteFailure | undefined;
    let settle: () => void = () => undefined;
    this.#inFlightDone = new Promise((resolve) => { settle = resolve; });
    try {
      if (this.transport.writeBody) await this.transport.writeBody(take.body);
      else await this.transport.write(take.text);
    } catch (err) {
      failure = this.transport.classify(err);
    }
    this.#inFlight = false;
    settle();
    // Closed meanwhile: the queue belongs to whoever opens it next, which sends this batch again.
    if (this.#closed) return;
    const lastSeq = (take.records.at(-1) as { seq: number }).seq;
    if (!failure) {
      this.spool.ack(lastSeq);
      this.state.written += take.points;
      this.#retryDelay = this.options.retryMinMs;
      const wasDown = this.state.reachable === false;
      this.state.reachable = true;
      this.state.lastError = undefined;
      this.state.failingSince = undefined;
      if (this.state.full && !this.spool.wouldOverflow(0)) this.state.full = false;
      this.#refreshBacklog();
      this.emit('written', { points: take.points, recovered: wasDown });
      this.#schedulePump();
      return;
    }
    if (failure.kind === 'too-large' && take.records.length > 1) {
      // Coalesced batches too large together: send them one by one.
      this.options.maxRequestPoints = Math.max(this.options.batchSize, Math.floor(take.points / 2));
      this.options.maxRequestBytes = Math.max(64 * 1024, Math.floor(take.body.length / 2));
      this.#schedulePump();
      return;
    }
    if (failure.kind === 'rejected' || failure.kind === 'too-large') {
      // Sending these again cannot succeed; keep them aside with the reason, never silently.
      this.#keepRejected(take.text, failure.message);
      this.spool.ack(lastSeq);
      this.state.rejected += take.points;
      this.state.reachable = true;
      this.#refreshBacklog();
      this.emit('rejected', { points: take.points, message: failure.message, file: this.options.rejectedFile });
      this.#schedulePump();
      return;
    }
    const firstFailure = this.state.reachable !== false;
    this.state.reachable = false;
    this.state.lastError = failure.message;
    this.state.failingSince ??= Date.now();
    this.#refreshBacklog();
    if (firstFailure) this.emit('unreachable', { message: failure.message, backlog: this.state.backlog });
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#pump();
    }, this.#retryDelay);
    this.#retryDelay = Math.min(this.options.retryMaxMs, this.#retryDelay * 2);
  }

  #keepRejected(text: string, reason: string): void {
    const file = this.options.rejectedFile;
    if (!file) return;
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      appendFileSync(file, `# ${new Date().toISOString()} InfluxDB refused: ${reason.replace(/\n/g, ' ')}\n${text}\n`);
    } catch (err) {
      this.emit('error', new Error(`twin-history: cannot keep refused points in ${file}: ${(err as Error).message}`));
    }
  }

  #refreshBacklog(): void {
    this.state.backlog = this.spool.points;
    this.state.backlogBytes = this.spool.bytes;
  }

  /** Tries InfluxDB now instead of waiting for the next retry (e.g. after a successful ping). */
  retryNow(): void {
    if (!this.#retryTimer || this.#closing) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    void this.#pump();
  }

  /** Seals the open batch now (tests, shutdown). */
  sealNow(): void {
    this.#seal();
  }

  /** Resolves once everything added so far is in InfluxDB (or given up). For tests and benchmarks. */
  drained(): Promise<void> {
    this.#seal();
    if (this.spool.batches === 0 && !this.#inFlight) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #notifyIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Stops: the open batch goes to the queue (so a restart sends it), timers stop. A request in
   * flight is not waited for; if it succeeded without being acknowledged, the restart sends it
   * again and InfluxDB absorbs the repeat.
   */
  async close(graceMs = 2000): Promise<void> {
    if (this.#closed || this.#closing) return;
    this.#seal();
    this.#closing = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    // Give a request in flight a moment, so a redeploy rarely sends a batch twice.
    if (this.#inFlight) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.#inFlightDone, new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs); })]);
      clearTimeout(timer);
    }
    this.#closed = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    try {
      await this.spool.flush();
    } catch {
      // reported by the waiters of the last batch
    }
    this.spool.close();
    this.#notifyIdle();
  }
}
