// Item lists for opcua-in: validation, CSV import and the mapping of OPC UA status codes to quality.
import { parse as parseCsv } from 'csv-parse/sync';
import type { Quality } from '../lib/messages';

export type DeadbandType = 'none' | 'absolute' | 'percent';

/** One monitored variable: where it is on the server and which twin name it feeds. */
export interface ItemSpec {
  /** NodeId in OPC UA string form, e.g. `ns=1;s=CNC.spindle.speed`. Either this or browsePath. */
  nodeId?: string;
  /** Browse path from the Objects folder, e.g. `/1:CNC/1:spindle/1:speed`. */
  browsePath?: string;
  /** The twin name (telemetry or property, `component/name` for components): becomes `msg.topic`. */
  name: string;
  /** Server-side sampling interval in ms; -1 means "the publishing interval". */
  samplingInterval: number;
  deadbandType: DeadbandType;
  deadbandValue: number;
  queueSize: number;
}

export const ITEM_DEFAULTS = { samplingInterval: -1, deadbandType: 'none' as DeadbandType, deadbandValue: 0, queueSize: 1 };

const NODE_ID_PATTERN = /^(ns=\d+;)?(i=\d+|s=.+|g=[0-9a-fA-F-]{36}|b=[A-Za-z0-9+/=]+)$|^nsu=[^;]+;(i=\d+|s=.+|g=[0-9a-fA-F-]{36}|b=[A-Za-z0-9+/=]+)$/;

/** Checks one raw item (from the dialog, a message or CSV) and fills defaults; throws with the field and the rule. */
export function normalizeItem(raw: unknown, where: string): ItemSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error(`${where}: an item must be an object with nodeId or browsePath and name`);
  }
  const item = raw as Record<string, unknown>;
  const nodeId = typeof item.nodeId === 'string' && item.nodeId.trim() !== '' ? item.nodeId.trim() : undefined;
  const browsePath = typeof item.browsePath === 'string' && item.browsePath.trim() !== '' ? item.browsePath.trim() : undefined;
  if (!nodeId && !browsePath) throw new Error(`${where}: nodeId or browsePath is required`);
  if (nodeId && browsePath) throw new Error(`${where}: give nodeId or browsePath, not both`);
  if (nodeId && !NODE_ID_PATTERN.test(nodeId)) {
    throw new Error(`${where}.nodeId: "${nodeId}" is not an OPC UA NodeId (e.g. ns=1;s=Machine.Speed or i=2258)`);
  }
  if (browsePath && !browsePath.startsWith('/')) {
    throw new Error(`${where}.browsePath: "${browsePath}" must start with "/" (a path from the Objects folder, e.g. /1:CNC/1:spindle/1:speed)`);
  }
  const name = typeof item.name === 'string' ? item.name.trim() : '';
  if (name === '') throw new Error(`${where}.name: the twin name the item maps to is required`);
  const samplingInterval = numberField(item.samplingInterval, ITEM_DEFAULTS.samplingInterval, `${where}.samplingInterval`);
  if (samplingInterval < 0 && samplingInterval !== -1) {
    throw new Error(`${where}.samplingInterval: ${samplingInterval} must be 0 or more milliseconds, or -1 for the publishing interval`);
  }
  const deadbandType = (item.deadbandType ?? ITEM_DEFAULTS.deadbandType) as DeadbandType;
  if (!['none', 'absolute', 'percent'].includes(deadbandType)) {
    throw new Error(`${where}.deadbandType: "${String(deadbandType)}" must be none, absolute or percent`);
  }
  const deadbandValue = numberField(item.deadbandValue, ITEM_DEFAULTS.deadbandValue, `${where}.deadbandValue`);
  if (deadbandValue < 0) throw new Error(`${where}.deadbandValue: ${deadbandValue} must not be negative`);
  if (deadbandType === 'percent' && deadbandValue > 100) {
    throw new Error(`${where}.deadbandValue: ${deadbandValue} is above 100 percent`);
  }
  const queueSize = numberField(item.queueSize, ITEM_DEFAULTS.queueSize, `${where}.queueSize`);
  if (!Number.isInteger(queueSize) || queueSize < 1) throw new Error(`${where}.queueSize: ${queueSize} must be a whole number of at least 1`);
  return { ...(nodeId ? { nodeId } : { browsePath: browsePath! }), name, samplingInterval, deadbandType, deadbandValue, queueSize };
}

function numberField(value: unknown, fallback: number, where: string): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) throw new Error(`${where}: "${String(value)}" is not a number`);
  return n;
}

/** Normalizes a whole list, rejecting duplicate names (two items feeding one twin name would fight). */
export function normalizeItems(raw: unknown, where = 'items'): ItemSpec[] {
  if (!Array.isArray(raw)) throw new Error(`${where}: must be an array of items`);
  const items = raw.map((r, i) => normalizeItem(r, `${where}[${i}]`));
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const first = seen.get(item.name);
    if (first !== undefined) throw new Error(`${where}[${i}].name: "${item.name}" is already used by ${where}[${first}]; each twin name may be fed by one item`);
    seen.set(item.name, i);
  });
  return items;
}

/**
 * Parses CSV with a header row. Columns: nodeId or browsePath, name, and optionally samplingInterval,
 * deadbandType, deadbandValue, queueSize.
 */
export function itemsFromCsv(text: string): ItemSpec[] {
  let rows: Record<string, string>[];
  try {
    rows = parseCsv(text, { columns: true, skip_empty_lines: true, trim: true, bom: true });
  } catch (err) {
    throw new Error(`CSV: ${(err as Error).message}`);
  }
  const header = rows.length > 0 ? Object.keys(rows[0]!) : [];
  const known = ['nodeId', 'browsePath', 'name', 'samplingInterval', 'deadbandType', 'deadbandValue', 'queueSize'];
  for (const column of header) {
    if (!known.includes(column)) throw new Error(`CSV: unknown column "${column}"; columns are ${known.join(', ')}`);
  }
  if (rows.length > 0 && !header.includes('name')) throw new Error('CSV: a "name" column is required');
  return normalizeItems(rows, 'CSV items');
}

/** OPC UA StatusCode severity bits (Part 4, 7.39): 00 good, 01 uncertain, 10/11 bad. */
export function qualityOf(statusCode: number): Quality {
  const severity = statusCode >>> 30;
  if (severity === 0) return 'good';
  if (severity === 1) return 'uncertain';
  return 'bad';
}
