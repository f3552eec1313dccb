// Pure parts of opcua-in: item changes to messages in the message contract, and health to a status.
import type { Health, ItemChange } from '../opcua-endpoint/opcua-connection';
import type { ItemSpec } from '../opcua-endpoint/opcua-items';
import type { SampleMessage, TwinRef } from '../lib/messages';

export type OutputMode = 'change' | 'cycle';

export interface NodeStatus {
  fill: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape: 'ring' | 'dot';
  text: string;
}

function sampleOf(change: ItemChange, twin: TwinRef | undefined, item: ItemSpec | undefined): SampleMessage {
  // Where the value came from, kept apart from fields that output nodes act on (opcua-out's nodeId).
  const opcua = item?.nodeId ? { statusCode: change.statusCode, nodeId: item.nodeId }
    : item?.browsePath ? { statusCode: change.statusCode, browsePath: item.browsePath }
      : { statusCode: change.statusCode };
  // The usual case as one literal: this runs for every value of every publish cycle, and fields
  // added one by one would cost a second allocation per sample.
  if (twin === undefined && change.sourceTime !== undefined && change.serverTime !== undefined) {
    return { topic: change.name, payload: change.value, sourceTime: change.sourceTime, serverTime: change.serverTime, quality: change.quality, opcua } as SampleMessage;
  }
  const sample = { topic: change.name, payload: change.value } as SampleMessage;
  if (twin) sample.twin = twin;
  if (change.sourceTime !== undefined) sample.sourceTime = change.sourceTime;
  if (change.serverTime !== undefined) sample.serverTime = change.serverTime;
  sample.quality = change.quality;
  sample.opcua = opcua;
  return sample;
}

/**
 * One message per change, or one message per publish cycle whose payload is the array of samples
 * (topic `samples`): thousands of tags then cost one message per cycle, not one per value.
 * `items` is the list the changes' `index` points into.
 */
export function sampleMessages(changes: ItemChange[], mode: OutputMode, twin: TwinRef | undefined, items: ItemSpec[]): SampleMessage[] {
  const samples = new Array<SampleMessage>(changes.length);
  for (let i = 0; i < changes.length; i++) {
    const change = changes[i]!;
    samples[i] = sampleOf(change, twin, items[change.index]);
  }
  if (mode === 'change') return samples;
  return [{ topic: 'samples', payload: samples, ...(twin ? { twin } : {}) }];
}

function compact(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

export function healthStatus(health: Health, activeItems: number, configuredItems: number, valuesSent: number): NodeStatus {
  const items = activeItems === configuredItems ? `${activeItems} items` : `${activeItems}/${configuredItems} items`;
  switch (health.state) {
    case 'connected':
      return { fill: activeItems === configuredItems ? 'green' : 'yellow', shape: 'dot', text: `connected · ${items} · ${compact(valuesSent)} values` };
    case 'stale':
      return { fill: 'red', shape: 'dot', text: `stale: repairing subscription (${health.staleRepairs} repairs)` };
    case 'connecting':
      return { fill: 'yellow', shape: 'ring', text: 'connecting' };
    case 'reconnecting':
      return { fill: 'yellow', shape: 'ring', text: `reconnecting${health.lastError ? `: ${health.lastError}` : ''}`.slice(0, 120) };
    case 'closed':
      return { fill: 'grey', shape: 'ring', text: 'closed' };
    default:
      return { fill: 'grey', shape: 'ring', text: 'idle' };
  }
}
