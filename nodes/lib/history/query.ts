// History queries: a time range, a twin and DTDL names in; InfluxQL out, with every value (twin,
// component, times) as a bind parameter and every name taken from the model and quoted as an
// identifier, so nothing a message carries is ever spliced into the query text. Results come back
// as rows, as Dashboard 2.0 ui-chart series (one message per name, x in ms), or as ui-table rows.
import { DURATION, type QueryResult } from './influx-client';
import { HistoryError, quoteIdentifier } from './line-protocol';
import type { FieldTarget, HistorySchema } from './schema';

export const AGGREGATES = ['mean', 'min', 'max', 'first', 'last', 'count', 'sum', 'median', 'spread', 'stddev'] as const;
export type Aggregate = (typeof AGGREGATES)[number];
export type OutputShape = 'rows' | 'chart' | 'table';

export interface HistoryRequest {
  twinId: string;
  model: string;
  names: string[];
  /** ms since the epoch, inclusive. */
  from: number;
  to: number;
  aggregate?: Aggregate;
  /** GROUP BY time window, with an aggregate (e.g. 1m). */
  window?: string;
  /** Most rows per statement. */
  limit: number;
  /** Field name prefix in a downsampled retention policy (`mean_` for InfluxDB's mean(*) continuous queries). */
  fieldPrefix?: string;
}

export interface Statement {
  text: string;
  params: Record<string, string | number>;
  /** Column name in the results → DTDL name. */
  columns: Map<string, string>;
}

export interface HistoryRow {
  time: number;
  name: string;
  value: unknown;
}

const MAX_WINDOWS = 100_000;

/** Milliseconds of an InfluxQL duration like 90s, 1h30m. */
export function durationMs(text: string): number {
  const units: Record<string, number> = { ns: 1e-6, u: 1e-3, µ: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
  let total = 0;
  for (const m of text.matchAll(/(\d+)(ns|u|µ|ms|s|m|h|d|w)/g)) total += Number(m[1]) * (units[m[2] as string] as number);
  return total;
}

/**
 * A time: ms since the epoch, an ISO 8601 text, a Date, `now`, or relative to now like `-15m`,
 * `-2h`, `-7d` (InfluxQL duration units).
 */
export function parseTime(value: unknown, field: string, now: number): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (value instanceof Date && Number.isFinite(value.getTime())) return value.getTime();
  if (typeof value === 'string') {
    const text = value.trim();
    if (text === 'now' || text === '') return now;
    const relative = /^-(\d+(?:ns|u|µ|ms|s|m|h|d|w))+$/.exec(text);
    if (relative && DURATION.test(text.slice(1))) return now - durationMs(text.slice(1));
    if (/^\d+$/.test(text)) return Number(text);
    const parsed = Date.parse(text);
    if (Number.isFinite(parsed)) return parsed;
  }
  throw new HistoryError(field, `${field}: ${JSON.stringify(value)} is not a time (ms since the epoch, ISO 8601, "now" or relative like "-1h")`);
}

/** Checks a request and turns it into InfluxQL statements, one per measurement and component. */
export function buildStatements(schema: HistorySchema, request: HistoryRequest): Statement[] {
  if (typeof request.twinId !== 'string' || request.twinId === '') throw new HistoryError('twin.id', 'twin.id: the twin whose history to read is required');
  if (!Array.isArray(request.names) || request.names.length === 0) throw new HistoryError('names', 'names: at least one telemetry or property name (e.g. spindle/speed) is required');
  if (!(request.from <= request.to)) throw new HistoryError('from', `from: ${new Date(request.from).toISOString()} is after to ${new Date(request.to).toISOString()}`);
  if (request.aggregate !== undefined) {
    if (!AGGREGATES.includes(request.aggregate)) throw new HistoryError('aggregate', `aggregate: "${String(request.aggregate)}" must be one of ${AGGREGATES.join(', ')}`);
    if (!request.window || !DURATION.test(request.window)) throw new HistoryError('window', `window: "${String(request.window ?? '')}" must be an InfluxQL duration like 10s, 1m or 1h`);
    const windows = (request.to - request.from) / durationMs(request.window);
    if (windows > MAX_WINDOWS) throw new HistoryError('window', `window: ${request.window} over this range gives ${Math.round(windows)} windows, more than ${MAX_WINDOWS}; choose a longer window`);
  }
  if (!Number.isInteger(request.limit) || request.limit < 1 || request.limit > 1_000_000) throw new HistoryError('limit', `limit: ${request.limit} must be a whole number from 1 to 1000000`);
  const groups = new Map<string, FieldTarget[]>();
  for (const [i, name] of request.names.entries()) {
    if (typeof name !== 'string' || name === '') throw new HistoryError(`names[${i}]`, `names[${i}]: must be a DTDL name like spindle/speed`);
    const target = schema.target(request.model, name);
    const key = `${target.measurement}\u0000${target.component ?? ''}`;
    const list = groups.get(key) ?? [];
    if (!list.some((t) => t.path === target.path)) list.push(target);
    groups.set(key, list);
  }
  const statements: Statement[] = [];
  for (const targets of groups.values()) {
    const first = targets[0] as FieldTarget;
    const columns = new Map<string, string>();
    const selections = targets.map((t) => {
      const field = quoteIdentifier(`${request.fieldPrefix ?? ''}${t.field}`);
      const alias = `v${columns.size}`;
      columns.set(alias, t.path);
      return request.aggregate ? `${request.aggregate}(${field}) AS ${quoteIdentifier(alias)}` : `${field} AS ${quoteIdentifier(alias)}`;
    });
    // Series without a component tag match an empty component value in InfluxQL. Statements sent
    // together share one parameter map, so each has its own parameter names.
    const n = statements.length;
    const where = `${quoteIdentifier('twin')} = $twin${n} AND ${quoteIdentifier('component')} = $component${n} AND time >= $from${n} AND time <= $to${n}`;
    const group = request.aggregate ? ` GROUP BY time(${request.window}) fill(none)` : '';
    statements.push({
      text: `SELECT ${selections.join(', ')} FROM ${quoteIdentifier(first.measurement)} WHERE ${where}${group} LIMIT ${request.limit}`,
      params: { [`twin${n}`]: request.twinId, [`component${n}`]: first.component ?? '', [`from${n}`]: new Date(request.from).toISOString(), [`to${n}`]: new Date(request.to).toISOString() },
      columns,
    });
  }
  return statements;
}

/** Rows { time, name, value } from the results of `buildStatements`, by time then name order. */
export function rowsOf(statements: readonly Statement[], results: readonly QueryResult[]): HistoryRow[] {
  const rows: HistoryRow[] = [];
  statements.forEach((statement, i) => {
    for (const series of results[i]?.series ?? []) {
      const timeAt = series.columns.indexOf('time');
      const picks = series.columns.map((c, k) => [k, statement.columns.get(c)] as const).filter((p): p is readonly [number, string] => p[1] !== undefined);
      for (const values of series.values) {
        const time = Number(values[timeAt]);
        for (const [k, name] of picks) {
          const value = values[k];
          if (value !== null && value !== undefined) rows.push({ time, name, value });
        }
      }
    }
  });
  const order = new Map(statements.flatMap((s) => [...s.columns.values()]).map((n, i) => [n, i]));
  rows.sort((a, b) => a.time - b.time || (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
  return rows;
}

/**
 * Dashboard 2.0 ui-chart messages: one per name, `topic` = the name (the chart's series),
 * `payload` = [{ x: ms, y }]; the first replaces what the chart showed, the others add to it.
 * With no data at all, one message with an empty array clears the chart.
 */
export function chartMessages(names: readonly string[], rows: readonly HistoryRow[]): { topic?: string; payload: { x: number; y: unknown }[]; action: 'replace' | 'append' }[] {
  const byName = new Map<string, { x: number; y: unknown }[]>(names.map((n) => [n, []]));
  for (const row of rows) byName.get(row.name)?.push({ x: row.time, y: row.value });
  const out: { topic?: string; payload: { x: number; y: unknown }[]; action: 'replace' | 'append' }[] = [];
  for (const [name, points] of byName) {
    if (points.length === 0) continue;
    out.push({ topic: name, payload: points, action: out.length === 0 ? 'replace' : 'append' });
  }
  return out.length > 0 ? out : [{ payload: [], action: 'replace' }];
}

/** Dashboard 2.0 ui-table rows: one per time, `time` as ISO 8601, one column per name. */
export function tableRows(names: readonly string[], rows: readonly HistoryRow[]): Record<string, unknown>[] {
  const byTime = new Map<number, Record<string, unknown>>();
  for (const row of rows) {
    let line = byTime.get(row.time);
    if (!line) {
      line = { time: new Date(row.time).toISOString() };
      for (const name of names) line[name] = null;
      byTime.set(row.time, line);
    }
    line[row.name] = row.value;
  }
  return [...byTime.values()];
}
