// InfluxDB 1.x line protocol, typed: measurement,tag=value field=value timestamp. Integers keep
// their `i` suffix (never silently turned into floats), floats never get one, timestamps are
// written in the precision the write request names. Probed against influxd 1.6: in tags and keys
// only `\,` `\=` `\ ` are escapes (`\\` is not), in string fields `\"` and `\\` are.

export type FieldType = 'integer' | 'float' | 'boolean' | 'string';
export type Precision = 's' | 'ms' | 'u' | 'ns';

export const PRECISIONS: readonly Precision[] = ['s', 'ms', 'u', 'ns'];

/** A value or name that cannot be written, naming the field and the rule. */
export class HistoryError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
    this.name = 'HistoryError';
  }
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

const MEASUREMENT_SPECIAL = /[, ]/;
const KEY_SPECIAL = /[,= ]/;

export function escapeMeasurement(name: string): string {
  if (name === '') throw new HistoryError('measurement', 'measurement: must not be empty');
  if (/[\n\r]/.test(name)) throw new HistoryError('measurement', `measurement ${show(name)}: must not contain line breaks`);
  return MEASUREMENT_SPECIAL.test(name) ? name.replace(/([, ])/g, '\\$1') : name;
}

/** Tag keys and field keys. */
export function escapeKey(name: string, field = 'key'): string {
  if (name === '') throw new HistoryError(field, `${field}: a tag or field name must not be empty`);
  if (/[\n\r]/.test(name)) throw new HistoryError(field, `${field} ${show(name)}: must not contain line breaks`);
  return KEY_SPECIAL.test(name) ? name.replace(/([,= ])/g, '\\$1') : name;
}

/**
 * A tag value. Line protocol cannot carry an empty tag value, a line break, or a backslash at the
 * end or right before `,` `=` or a space (it would read as an escape), so those are refused.
 */
export function escapeTagValue(value: string, field: string): string {
  if (value === '') throw new HistoryError(field, `${field}: an empty text cannot be a tag value`);
  if (/[\n\r]/.test(value)) throw new HistoryError(field, `${field} ${show(value)}: a tag value cannot contain line breaks`);
  if (/\\$|\\[,= ]/.test(value)) throw new HistoryError(field, `${field} ${show(value)}: a tag value cannot end with a backslash or have one before a comma, equals sign or space`);
  return KEY_SPECIAL.test(value) ? value.replace(/([,= ])/g, '\\$1') : value;
}

export function quoteString(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function integerText(value: unknown, field: string): string {
  let big: bigint;
  if (typeof value === 'bigint') big = value;
  else if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new HistoryError(field, `${field}: ${show(value)} is not an integer (the model says integer)`);
    big = BigInt(value);
  } else if (typeof value === 'string' && /^-?\d+$/.test(value)) big = BigInt(value);
  else throw new HistoryError(field, `${field}: ${show(value)} is not an integer (the model says integer)`);
  if (big < INT64_MIN || big > INT64_MAX) throw new HistoryError(field, `${field}: ${big} is outside InfluxDB's 64-bit integers`);
  return `${big}i`;
}

const SCALES = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000];
/** Where |v| * 10^d stays below this, rounding it to the nearest integer finds the decimal exactly. */
const EXACT_BELOW = 2 ** 50;
/** `.0` ... `.999`: fractions of 1 to 3 decimals, by decimals and value. */
const FRACTIONS: string[][] = [[]];
for (let d = 1; d <= 3; d++) FRACTIONS.push(Array.from({ length: SCALES[d] as number }, (_, f) => `.${String(f + (SCALES[d] as number)).slice(1)}`));

/**
 * A finite number as a float field: exactly what String(value) gives (the shortest text that
 * reads back as the same double; `0` for -0), faster for values with up to 6 decimals, which
 * measured values mostly are. A value with d decimals is found as k / 10^d with k = round(v * 10^d):
 * below 2^50 that rounding cannot miss the decimal, and the fewest decimals is the shortest text.
 */
export function formatFloat(value: number): string {
  if (value === 0) return '0';
  for (let d = 0; d <= 6; d++) {
    const scale = SCALES[d] as number;
    const scaled = value * scale;
    if (!(scaled < EXACT_BELOW && scaled > -EXACT_BELOW)) break;
    const k = Math.round(scaled);
    if (k / scale !== value) continue;
    if (d === 0) return String(k);
    const magnitude = k < 0 ? -k : k;
    const whole = Math.floor(magnitude / scale);
    const fraction = magnitude - whole * scale;
    const text = d <= 3 ? `${whole}${(FRACTIONS[d] as string[])[fraction] as string}` : `${whole}.${String(fraction + scale).slice(1)}`;
    return k < 0 ? `-${text}` : text;
  }
  return String(value);
}

/** One field value in line protocol for the given type; throws naming the field when it does not fit. */
export function encodeFieldValue(value: unknown, type: FieldType, field: string): string {
  switch (type) {
    case 'integer':
      return integerText(value, field);
    case 'float':
      if (typeof value !== 'number') throw new HistoryError(field, `${field}: ${show(value)} is not a number (the model says ${type})`);
      if (!Number.isFinite(value)) throw new HistoryError(field, `${field}: ${show(value)} cannot be stored (InfluxDB takes finite numbers only)`);
      return formatFloat(value);
    case 'boolean':
      if (typeof value !== 'boolean') throw new HistoryError(field, `${field}: ${show(value)} is not a boolean (the model says boolean)`);
      return value ? 'true' : 'false';
    case 'string':
      if (typeof value === 'string') return quoteString(value);
      if (value === undefined) throw new HistoryError(field, `${field}: the value is missing`);
      return quoteString(JSON.stringify(value));
    default:
      throw new HistoryError(field, `${field}: unknown field type ${show(type)}`);
  }
}

/**
 * A time in ms since the epoch (fractions allowed) as a line-protocol timestamp in `precision`.
 * Coarser precisions truncate, as InfluxDB does; `ns` is computed exactly (beyond 2^53).
 */
export function encodeTimestamp(ms: number, precision: Precision): string {
  if (!Number.isFinite(ms)) throw new HistoryError('sourceTime', `sourceTime: ${show(ms)} is not a time in ms since the epoch`);
  switch (precision) {
    case 's':
      return String(Math.floor(ms / 1000));
    case 'ms':
      return String(Math.floor(ms));
    case 'u':
      return String(Math.floor(ms * 1000));
    case 'ns': {
      const whole = Math.floor(ms);
      const fraction = Math.round((ms - whole) * 1e6);
      return String(BigInt(whole) * 1_000_000n + BigInt(fraction));
    }
    default:
      throw new HistoryError('precision', `precision: ${show(precision)} must be s, ms, u or ns`);
  }
}

/** Quotes an InfluxQL identifier (measurement, field or tag name) so no name can change a query. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/[\\"]/g, '\\$&').replace(/\n/g, '\\n')}"`;
}
