// Pure parts of opcua-in: item changes to messages in the message contract, and health to a status.
import type { ChangeMaker, Health } from '../opcua-endpoint/opcua-connection';
import type { ItemSpec } from '../opcua-endpoint/opcua-items';
import type { SampleMessage, TwinRef } from '../lib/messages';

export type OutputMode = 'change' | 'cycle';

export interface NodeStatus {
  fill: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape: 'ring' | 'dot';
  text: string;
}

/**
 * Makes the sample, in the message contract, for a value of item `index` of `items`: handed to the
 * connection, so each value the server sends becomes this one object and no other on its way.
 */
export function sampleMaker(items: readonly ItemSpec[], twin: TwinRef | undefined): ChangeMaker<SampleMessage> {
  return (index, value, sourceTime, serverTime, statusCode, quality) => {
    const item = items[index];
    // Where the value came from, kept apart from fields that output nodes act on (opcua-out's nodeId).
    const opcua = item?.nodeId ? { statusCode, nodeId: item.nodeId }
      : item?.browsePath ? { statusCode, browsePath: item.browsePath }
        : { statusCode };
    const topic = item ? item.name : '';
    // The usual case as one literal: fields added one by one would cost a second allocation per sample.
    if (twin === undefined && sourceTime !== undefined && serverTime !== undefined) {
      return { topic, payload: value, sourceTime, serverTime, quality, opcua } as SampleMessage;
    }
    const sample = { topic, payload: value } as SampleMessage;
    if (twin) sample.twin = twin;
    if (sourceTime !== undefined) sample.sourceTime = sourceTime;
    if (serverTime !== undefined) sample.serverTime = serverTime;
    sample.quality = quality;
    sample.opcua = opcua;
    return sample;
  };
}

/**
 * One message per change, or one message per publish cycle whose payload is the array of samples
 * (topic `samples`): thousands of tags then cost one message per cycle, not one per value.
 */
export function outputMessages(samples: SampleMessage[], mode: OutputMode, twin: TwinRef | undefined): SampleMessage[] {
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
