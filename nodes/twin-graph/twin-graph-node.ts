// What twin nodes may ask of a deployed twin-graph config node.
import type { Node } from 'node-red';
import type { StalenessTransition, TwinChangeEvent, TwinGraph } from '../lib/twin';
import type { LogContext, TwinEventLog } from '../lib/eventlog';
import type { DtdlModelNode } from '../dtdl-model/dtdl-model-node';

export interface TwinGraphNode extends Node {
  /** The graph, absent when the models or the saved state cannot be used (see `problem`). */
  graph?: TwinGraph;
  problem?: string;
  models?: DtdlModelNode;
  /**
   * Tell the graph node what changed, so it persists it, appends it to the event log (when on;
   * `context` says where the change came from) and emits `changes` with the events. Changes that
   * carry intent (a new twin, properties, desired values, commands, ...) are saved before this
   * returns; telemetry within a second. `urgent: false` lets intent wait as well, for a change the
   * next message makes again if it is lost (a twin made on first use).
   */
  recordChanges(events: readonly TwinChangeEvent[], context?: LogContext, options?: { urgent?: boolean }): void;
  /**
   * Telemetry changed and no events were made for it, because nothing records or hears them (no
   * event log, no `changes` listener): it is saved with the next delayed save.
   */
  telemetryChanged(): void;
  /** The graph's event log, when turned on and readable (else see `eventLogProblem`). */
  eventLog?: TwinEventLog;
  eventLogProblem?: string;
  /** Staleness transitions, checked once a second: `on('staleness', (t: StalenessTransition[]) => ...)`. */
  on(event: 'staleness', listener: (transitions: StalenessTransition[]) => void): this;
  /** Every recorded change: `on('changes', (events: TwinChangeEvent[]) => ...)`. */
  on(event: 'changes', listener: (events: readonly TwinChangeEvent[]) => void): this;
  on(event: string, listener: (...args: any[]) => void): this;
}
