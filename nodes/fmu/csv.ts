// CSV in and out of simulations: input tables with a `time` column (values held between rows),
// results with a `time` column then one column per variable, every double written so it reads
// back as the same double (JavaScript's shortest round-trip form).
import { parse } from 'csv-parse/sync';
import { FmuError } from './errors';

export interface CsvTable {
  /** column names except time, in file order */
  names: string[];
  time: number[];
  columns: Record<string, (number | boolean)[]>;
}

function parseCell(text: string, where: string): number | boolean {
  const trimmed = text.trim();
  if (trimmed === '') throw new FmuError('MASTER_USAGE', `${where} is empty`);
  if (/^(true|false)$/i.test(trimmed)) return trimmed.toLowerCase() === 'true';
  const value = /^[+-]?(inf|infinity)$/i.test(trimmed) ? (trimmed.startsWith('-') ? -Infinity : Infinity) : Number(trimmed);
  if (Number.isNaN(value) && !/^nan$/i.test(trimmed)) throw new FmuError('MASTER_USAGE', `${where}: "${trimmed}" is not a number or boolean`);
  return value;
}

/** Parses an input table; `source` names the file in errors. */
export function parseInputCsv(text: string, source: string): CsvTable {
  let rows: string[][];
  try {
    rows = parse(text, { skip_empty_lines: true, trim: true, comment: '#', relax_column_count: false }) as string[][];
  } catch (err) {
    throw new FmuError('MASTER_USAGE', `${source}: not valid CSV: ${(err as Error).message}`, { cause: err });
  }
  if (rows.length === 0) throw new FmuError('MASTER_USAGE', `${source}: is empty; expected a header row with a time column`);
  const header = rows[0]!;
  const timeIndex = header.indexOf('time');
  if (timeIndex < 0) throw new FmuError('MASTER_USAGE', `${source}: the header (${header.join(', ')}) has no "time" column`);
  const names = header.filter((_, i) => i !== timeIndex);
  const duplicate = header.find((name, i) => header.indexOf(name) !== i);
  if (duplicate !== undefined) throw new FmuError('MASTER_USAGE', `${source}: column "${duplicate}" appears twice`);
  const time: number[] = [];
  const columns: Record<string, (number | boolean)[]> = Object.fromEntries(names.map((n) => [n, []]));
  rows.slice(1).forEach((row, r) => {
    const line = r + 2;
    const t = parseCell(row[timeIndex]!, `${source}: row ${line}, column time`);
    if (typeof t !== 'number' || !Number.isFinite(t)) throw new FmuError('MASTER_USAGE', `${source}: row ${line}, column time: ${String(t)} is not a finite number`);
    if (time.length > 0 && t < time[time.length - 1]!) {
      throw new FmuError('MASTER_USAGE', `${source}: row ${line}: time ${t} is before the previous row's ${time[time.length - 1]}`);
    }
    time.push(t);
    header.forEach((name, c) => {
      if (c !== timeIndex) columns[name]!.push(parseCell(row[c]!, `${source}: row ${line}, column ${name}`));
    });
  });
  return { names, time, columns };
}

function quote(name: string): string {
  return /[",\n\r]/.test(name) ? `"${name.replace(/"/g, '""')}"` : name;
}

/** `String(x)` is the shortest text that parses back to the same double. */
function formatNumber(value: number): string {
  return String(value);
}

/** Results as CSV: time first, then the columns in `names` order (labels from `labels` when given). */
export function formatCsv(result: { time: ArrayLike<number>; names: readonly string[]; columns: Record<string, ArrayLike<number>> }, labels?: readonly string[]): string {
  const header = ['time', ...(labels ?? result.names)].map(quote).join(',');
  const lines = [header];
  const columns = result.names.map((name) => result.columns[name]!);
  for (let row = 0; row < result.time.length; row++) {
    let line = formatNumber(result.time[row]!);
    for (const column of columns) line += ',' + formatNumber(column[row]!);
    lines.push(line);
  }
  return lines.join('\n') + '\n';
}
