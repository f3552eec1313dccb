// What twin nodes may ask of a deployed twin-graph config node.
import type { Node } from 'node-red';
import type { StalenessTransition, TwinChangeEvent, TwinGraph } from '../lib/twin';
import type { DtdlModelNode } from '../dtdl-model/dtdl-model-node';

export interface TwinGraphNode extends Node {
  /** The graph, absent when the models or the saved state cannot be used (see `problem`). */
  graph?: TwinGraph;
  problem?: string;
  models?: DtdlModelNode;
  /** Tell the graph node what changed, so it persists it. */
  recordChanges(events: readonly TwinChangeEvent[]): void;
  /** Staleness transitions, checked once a second: `on('staleness', (t: StalenessTransition[]) => ...)`. */
  on(event: 'staleness', listener: (transitions: StalenessTransition[]) => void): this;
  on(event: string, listener: (...args: any[]) => void): this;
}
