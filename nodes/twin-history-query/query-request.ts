// Pure part of the twin-history query node: a message and the node's settings to a history request,
// every field checked, with errors naming the field.
import { AGGREGATES, HistoryError, parseTime, type Aggregate, type HistoryRequest, type OutputShape } from '../lib/history';

export interface QuerySettings {
  twinId: string;
  model: string;
  names: string[];
  /** Default start, relative to now (e.g. -1h) or absolute. */
  from: string;
  aggregate: '' | Aggregate;
  window: string;
  output: OutputShape;
  limit: number;
  retentionPolicy: string;
  downsampled: boolean;
}

export interface QueryJob {
  request: HistoryRequest;
  output: OutputShape;
  retentionPolicy?: string;
}

const OUTPUTS: readonly OutputShape[] = ['rows', 'chart', 'table'];

/** Names from the dialog (comma or line separated) or a message (array or text). */
export function parseNames(value: unknown, field: string): string[] {
  if (Array.isArray(value)) {
    return value.map((n, i) => {
      if (typeof n !== 'string' || n.trim() === '') throw new HistoryError(`${field}[${i}]`, `${field}[${i}]: must be a DTDL name like spindle/speed`);
      return n.trim();
    });
  }
  if (typeof value === 'string') return value.split(/[,\n]/).map((n) => n.trim()).filter((n) => n !== '');
  throw new HistoryError(field, `${field}: must be a list of DTDL names like ["spindle/speed", "positionX"]`);
}

export function readQuery(msg: Record<string, unknown>, settings: QuerySettings, now: number): QueryJob {
  const payload = (msg.payload !== null && typeof msg.payload === 'object' && !Array.isArray(msg.payload) ? msg.payload : {}) as Record<string, unknown>;
  const twin = (msg.twin ?? {}) as { id?: unknown; model?: unknown };
  const twinId = twin.id ?? payload.twin ?? settings.twinId;
  if (typeof twinId !== 'string' || twinId === '') throw new HistoryError('twin.id', 'twin.id: the twin whose history to read is required (msg.twin.id or the node\'s twin)');
  const model = twin.model ?? settings.model;
  if (typeof model !== 'string' || model === '') throw new HistoryError('twin.model', 'twin.model: the DTMI of the twin\'s model is required (msg.twin.model or the node\'s model)');
  const names = payload.names !== undefined ? parseNames(payload.names, 'payload.names') : settings.names;
  const from = parseTime(payload.from ?? settings.from ?? '-1h', 'payload.from', now);
  const to = payload.to === undefined ? now : parseTime(payload.to, 'payload.to', now);
  const aggregateValue = payload.aggregate ?? settings.aggregate;
  if (aggregateValue !== '' && aggregateValue !== undefined && aggregateValue !== null && !AGGREGATES.includes(aggregateValue as Aggregate)) {
    throw new HistoryError('payload.aggregate', `payload.aggregate: "${String(aggregateValue)}" must be one of ${AGGREGATES.join(', ')} (or empty for raw points)`);
  }
  const aggregate = aggregateValue ? (aggregateValue as Aggregate) : undefined;
  const window = payload.window ?? settings.window;
  const output = (payload.output ?? settings.output) as OutputShape;
  if (!OUTPUTS.includes(output)) throw new HistoryError('payload.output', `payload.output: "${String(output)}" must be rows, chart or table`);
  const limit = payload.limit ?? settings.limit;
  const retentionPolicy = payload.retentionPolicy ?? settings.retentionPolicy;
  if (retentionPolicy !== undefined && typeof retentionPolicy !== 'string') throw new HistoryError('payload.retentionPolicy', 'payload.retentionPolicy: must be the name of a retention policy');
  const downsampled = payload.downsampled ?? (payload.retentionPolicy === undefined ? settings.downsampled : false);
  return {
    request: {
      twinId,
      model,
      names,
      from,
      to,
      ...(aggregate ? { aggregate, window: String(window ?? '') } : {}),
      limit: Number(limit),
      ...(downsampled === true ? { fieldPrefix: 'mean_' } : {}),
    },
    output,
    ...(retentionPolicy ? { retentionPolicy } : {}),
  };
}
