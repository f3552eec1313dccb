// Canonical JSON in the style of RFC 8785 (JCS): object keys sorted by UTF-16 code units, no
// whitespace, strings and numbers exactly as ECMAScript's JSON.stringify writes them. The same value
// always gives the same bytes, so a signature or a hash over it can be recomputed by anyone.

/** Thrown for values that have no canonical JSON form (NaN, Infinity, undefined in arrays, cycles …). */
export class CanonicalJsonError extends Error {
  constructor(readonly pointer: string, message: string) {
    super(`${pointer || '/'}: ${message}`);
    this.name = 'CanonicalJsonError';
  }
}

const MAX_DEPTH = 64;

function escapeToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function write(value: unknown, pointer: string, depth: number, out: string[]): void {
  if (value === null) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(pointer, `${value} is not a finite number, and JSON has no form for it`);
      // ECMAScript's Number serialisation is the one JCS prescribes (-0 becomes 0).
      out.push(JSON.stringify(value));
      return;
    case 'object':
      break;
    default:
      throw new CanonicalJsonError(pointer, `a ${typeof value} is not JSON data`);
  }
  if (depth >= MAX_DEPTH) throw new CanonicalJsonError(pointer, `nested deeper than ${MAX_DEPTH} levels (or a cycle)`);
  if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',');
      const item: unknown = value[i];
      if (item === undefined) throw new CanonicalJsonError(`${pointer}/${i}`, 'undefined is not JSON data');
      write(item, `${pointer}/${i}`, depth + 1, out);
    }
    out.push(']');
    return;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    throw new CanonicalJsonError(pointer, `a ${(value as object).constructor?.name ?? 'non-plain object'} is not JSON data; convert it first`);
  }
  const record = value as Record<string, unknown>;
  // Default sort compares UTF-16 code units, which is what JCS asks for.
  const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort();
  out.push('{');
  keys.forEach((key, i) => {
    if (i > 0) out.push(',');
    out.push(JSON.stringify(key), ':');
    write(record[key], `${pointer}/${escapeToken(key)}`, depth + 1, out);
  });
  out.push('}');
}

/**
 * The canonical JSON text of `value`. Object members whose value is undefined are left out (as
 * JSON.stringify does); everything else that JSON cannot carry is refused with a CanonicalJsonError
 * naming where it is.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, '', 0, out);
  return out.join('');
}
