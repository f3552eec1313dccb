// Garbage-collection pauses of one process over a measurement window, from Node's performance
// timeline: a benchmark diagnostic, since a collection in the simulator or the client holds up
// every value in flight at that moment and so lands in the latency's tail.
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { quantileOfSorted } from '../../nodes/lib/analytics/stats';

export interface Distribution {
  count: number;
  medianMs: number;
  p90Ms: number;
  maxMs: number;
}

export interface GcWindowStats {
  /** young-generation collections (scavenges) */
  young: Distribution;
  /** every other kind: mark-compact, incremental marking steps, weak callbacks */
  other: Distribution;
  /** all pauses added up, as a share of the window */
  pausedPercent: number;
}

export interface ServerWindowStats {
  /** publish response to its acknowledgement, as the simulator timed it */
  acknowledgementMs: Distribution;
  gc: GcWindowStats | null;
}

export function summarise(values: number[]): Distribution {
  if (values.length === 0) return { count: 0, medianMs: Number.NaN, p90Ms: Number.NaN, maxMs: Number.NaN };
  const sorted = values.slice().sort((a, b) => a - b);
  return { count: sorted.length, medianMs: quantileOfSorted(sorted, 0.5), p90Ms: quantileOfSorted(sorted, 0.9), maxMs: sorted[sorted.length - 1]! };
}

/** Records this process's collection pauses from construction until stop(). */
export class GcPauses {
  readonly #young: number[] = [];
  readonly #other: number[] = [];
  readonly #observer: PerformanceObserver;
  readonly #start = performance.now();
  #stats: GcWindowStats | undefined;

  constructor() {
    this.#observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) this.#record(entry);
    });
    this.#observer.observe({ entryTypes: ['gc'] });
  }

  #record(entry: PerformanceEntry): void {
    const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    (kind === constants.NODE_PERFORMANCE_GC_MINOR ? this.#young : this.#other).push(entry.duration);
  }

  /** Stops recording (once) and returns what the window saw. */
  stop(): GcWindowStats {
    if (this.#stats) return this.#stats;
    // Entries are delivered asynchronously: take the ones still buffered before disconnecting.
    for (const entry of this.#observer.takeRecords()) this.#record(entry);
    this.#observer.disconnect();
    const windowMs = performance.now() - this.#start;
    const paused = [...this.#young, ...this.#other].reduce((sum, ms) => sum + ms, 0);
    this.#stats = { young: summarise(this.#young), other: summarise(this.#other), pausedPercent: (paused / windowMs) * 100 };
    return this.#stats;
  }
}
