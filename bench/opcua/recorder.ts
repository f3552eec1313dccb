// What every row of the OPC UA benchmark measures at the point where a value reaches the twin:
// which items have reported (for the set-up time), how many values arrived in the measurement
// window, and the latency from the server's source timestamp to the arrival, in a 1 ms histogram
// (no per-sample allocation, so measuring does not slow down what is measured).
import diagnostics from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';

/** Latencies above this many milliseconds are counted in one overflow bucket. */
const HISTOGRAM_MS = 30_000;

export interface WindowStats {
  seconds: number;
  values: number;
  valuesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** values that had no source timestamp (not counted in the latency) */
  withoutSourceTime: number;
}

/** The index of a bench tag from anything that ends in its five digits: `Tag00042`, `ns=1;s=Bench.Tag00042`. */
export function benchTagIndex(text: string): number {
  return Number(text.slice(-5));
}

export class Recorder {
  readonly itemCount: number;
  private readonly seen: Uint8Array;
  private seenCount = 0;
  private readonly startedAt = performance.now();
  /** when the client opened its first TCP connection after the recorder was made */
  private firstRequestAt: number | undefined;
  private allSeenAt: number | undefined;
  private allSeenWaiters: (() => void)[] = [];
  private measuring = false;
  private windowStartedAt = 0;
  private windowValues = 0;
  private withoutSourceTime = 0;
  private readonly histogram = new Uint32Array(HISTOGRAM_MS + 1);
  private maxMs = 0;
  /** every value since the start, window or not */
  totalValues = 0;

  constructor(itemCount: number) {
    this.itemCount = itemCount;
    this.seen = new Uint8Array(itemCount);
    // Node announces every new client socket here, whichever library opens it: the first one
    // after this point is the row's first request to the server.
    const onSocket = () => {
      this.firstRequestAt = performance.now();
      diagnostics.unsubscribe('net.client.socket', onSocket);
    };
    diagnostics.subscribe('net.client.socket', onSocket);
  }

  /** One value of item `index` reached the twin at `now` (Date.now()); sourceTime in ms since the epoch. */
  value(index: number, sourceTime: number | undefined, now: number): void {
    this.totalValues++;
    if (this.seenCount < this.itemCount) this.markSeen(index);
    if (!this.measuring) return;
    this.windowValues++;
    if (sourceTime === undefined || !Number.isFinite(sourceTime)) {
      this.withoutSourceTime++;
      return;
    }
    // The simulator stamps from the same wall clock; rounding can put a stamp 1 ms ahead.
    const ms = Math.max(0, Math.round(now - sourceTime));
    this.histogram[ms < HISTOGRAM_MS ? ms : HISTOGRAM_MS]!++;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  private markSeen(index: number): void {
    if (!(index >= 0 && index < this.itemCount) || this.seen[index] === 1) return;
    this.seen[index] = 1;
    this.seenCount++;
    if (this.seenCount === this.itemCount) {
      this.allSeenAt = performance.now();
      for (const resolve of this.allSeenWaiters) resolve();
      this.allSeenWaiters = [];
    }
  }

  /** Whether values still need their item index (until every item has reported once). */
  get tracking(): boolean {
    return this.seenCount < this.itemCount;
  }

  get itemsSeen(): number {
    return this.seenCount;
  }

  /** Milliseconds from the client's first request (its first TCP connection) until every item had reported. */
  get setupMs(): number | undefined {
    return this.allSeenAt === undefined || this.firstRequestAt === undefined ? undefined : this.allSeenAt - this.firstRequestAt;
  }

  /** Milliseconds from the recorder's creation (for Node-RED rows: the deploy) until every item had reported. */
  get setupFromStartMs(): number | undefined {
    return this.allSeenAt === undefined ? undefined : this.allSeenAt - this.startedAt;
  }

  /** Resolves once every item has reported, or rejects after timeoutMs saying how many did. */
  allSeen(timeoutMs: number): Promise<void> {
    if (this.allSeenAt !== undefined) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`only ${this.seenCount} of ${this.itemCount} items reported within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.allSeenWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  startWindow(): void {
    this.histogram.fill(0);
    this.maxMs = 0;
    this.windowValues = 0;
    this.withoutSourceTime = 0;
    this.windowStartedAt = performance.now();
    this.measuring = true;
  }

  stopWindow(): WindowStats {
    this.measuring = false;
    const seconds = (performance.now() - this.windowStartedAt) / 1000;
    return {
      seconds,
      values: this.windowValues,
      valuesPerSecond: this.windowValues / seconds,
      p50Ms: this.percentile(0.5),
      p99Ms: this.percentile(0.99),
      maxMs: this.maxMs,
      withoutSourceTime: this.withoutSourceTime,
    };
  }

  private percentile(p: number): number {
    let total = 0;
    for (let i = 0; i < this.histogram.length; i++) total += this.histogram[i]!;
    if (total === 0) return Number.NaN;
    const rank = Math.ceil(p * total);
    let cumulative = 0;
    for (let i = 0; i < this.histogram.length; i++) {
      cumulative += this.histogram[i]!;
      if (cumulative >= rank) return i;
    }
    return HISTOGRAM_MS;
  }
}

/** The recorder the sink behind the twin (sink-node) feeds; set by the client process before it deploys. */
let active: Recorder | undefined;

export function setActiveRecorder(recorder: Recorder | undefined): void {
  active = recorder;
}

export function activeRecorder(): Recorder | undefined {
  return active;
}

// ---- the message shapes the benchmarked nodes send -------------------------------------------

export const SINK_TYPE = 'twinflow-bench-sink';

interface Sample {
  topic?: unknown;
  sourceTime?: unknown;
}

/** A DataValue as node-red-contrib-opcua puts it in msg.payload. */
interface DataValueLike {
  sourceTimestamp?: unknown;
}

/**
 * Records one message of any shape the benchmarked nodes send: a Twinflow sample (topic = item
 * name, sourceTime in ms), a Twinflow batch (topic `samples`, payload = samples), or a
 * node-red-contrib-opcua message (topic = NodeId, payload = the DataValue).
 */
export function recordMessage(recorder: Recorder, msg: { topic?: unknown; payload?: unknown; sourceTime?: unknown }): void {
  const now = Date.now();
  // Item indexes are only needed for the set-up time: skip the string work once all have reported.
  const tracking = recorder.tracking;
  if (msg.topic === 'samples' && Array.isArray(msg.payload)) {
    for (const sample of msg.payload as Sample[]) {
      recorder.value(tracking ? benchTagIndex(String(sample.topic)) : -1, typeof sample.sourceTime === 'number' ? sample.sourceTime : undefined, now);
    }
    return;
  }
  const index = tracking ? benchTagIndex(String(msg.topic)) : -1;
  if (typeof msg.sourceTime === 'number') {
    recorder.value(index, msg.sourceTime, now);
    return;
  }
  const stamp = (msg.payload as DataValueLike | undefined)?.sourceTimestamp;
  recorder.value(index, stamp instanceof Date ? stamp.getTime() : undefined, now);
}
