// Batching and store-and-forward for InfluxDB writes. Points are gathered into batches (by size and
// by time), each batch goes to the disk queue first, and one request at a time takes the oldest
// batches from the queue to InfluxDB, so the order is kept and nothing is lost or sent twice while
// the database is down, refuses writes, or Node-RED restarts. The queue is bounded: when it is full
// the writer either drops the oldest batches or refuses new points, as configured, and says so.
import { EventEmitter } from 'node:events';
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Spool } from './spool';

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

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

export class HistoryWriter extends EventEmitter {
  #open: string[] = [];
  #openPoints = 0;
  #openBytes = 0;
  #openWaiters: Waiter[] = [];
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
    if (this.#closing) return Promise.reject(new Error("twin-history: the writer is closed"));
    if (points === 0) return Promise.resolve();
    const bytes = Buffer.byteLength(text) + 1;
    if (this.spool.wouldOverflow(this.#openBytes + bytes)) {
      if (this.options.overflow === 'refuse-new') {
        if (!this.state.full) {
          this.state.full = true;
          this.emit('full', { policy: 'refuse-new', backlog: this.spool.points, bytes: this.spool.bytes });
        }
        this.#refreshBacklog();
        return Promise.reject(new BacklogFullError(`the backlog is full (${this.spool.points} points, ${(this.spool.bytes / 1048576).toFixed(1)} MiB of ${(this.spool.maxBytes / 1048576).toFixed(1)} MiB) while InfluxDB ${this.state.lastError ? `fails: ${this.state.lastError}` : 'does not keep up'}; these ${points} point(s) were not stored`));
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
    const promise = new Promise<void>((resolve, reject) => this.#openWaiters.push({ resolve, reject }));
    this.#open.push(text);
    this.#openPoints += points;
    this.#openBytes += bytes;
    if (this.#openPoints >= this.options.batchSize) this.#seal();
    else if (!this.#flushTimer) this.#flushTimer = setTimeout(() => this.#seal(), this.options.flushMs);
    this.#refreshBacklog();
    return promise;
  }

  /** Puts the open batch into the queue now. */
  #seal(): void {
    if (this.#flushTimer) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = undefined;
    }
    if (this.#openPoints === 0) return;
    const text = this.#open.join('\n');
    const points = this.#openPoints;
    const waiters = this.#openWaiters;
    this.#open = [];
    this.#openPoints = 0;
    this.#openBytes = 0;
    this.#openWaiters = [];
    try {
      this.spool.append(text, points);
    } catch (err) {
      const error = new Error(`twin-history: cannot queue ${points} point(s) on disk: ${(err as Error).message}`);
      for (const w of waiters) w.reject(error);
      this.emit('error', error);
      return;
    }
    this.spool.flush().then(
      () => { for (const w of waiters) w.resolve(); },
      (err: Error) => {
        const error = new Error(`twin-history: the disk did not confirm ${points} queued point(s): ${err.message}`);
        for (const w of waiters) w.reject(error);
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
      await this.transport.write(take.text);
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
      this.options.maxRequestBytes = Math.max(64 * 1024, Math.floor(Buffer.byteLength(take.text) / 2));
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
