// TwinError: the one error type of the twin core. A refused operation throws it and changes nothing.

import type { DtdlErrorCode } from '../dtdl';

/** Why an operation was refused. Validation failures reuse the DTDL validator's `value-*` codes. */
export type TwinErrorCode =
  | Extract<DtdlErrorCode, `value-${string}`>
  | 'id-invalid'
  | 'twin-exists'
  | 'twin-unknown'
  | 'model-unknown'
  | 'path-unknown'
  | 'path-kind'
  | 'input-invalid'
  | 'value-limit'
  | 'not-writable'
  | 'desired-version'
  | 'ack-version'
  | 'ack-code'
  | 'relationship-name'
  | 'relationship-exists'
  | 'relationship-unknown'
  | 'relationship-target'
  | 'relationship-target-model'
  | 'relationship-multiplicity'
  | 'lifecycle-stage'
  | 'lifecycle-transition'
  | 'decommissioned'
  | 'etag-mismatch'
  | 'staleness-config'
  | 'limit-config'
  | 'query-syntax'
  | 'query-unsupported'
  | 'query-limit'
  | 'snapshot-invalid';

export interface TwinErrorInfo {
  twinId?: string;
  /** The DTDL path the error is about: `doorOpen`, `spindle/speedSetpoint`, `contains/position`. */
  path?: string;
  /** JSON pointer inside the offending value, when the validator gave one. */
  pointer?: string;
  /** 1-based column (and line) in a query text. */
  line?: number;
  column?: number;
  /** Further machine-readable detail: the validator's errors, a snapshot's problems, … */
  details?: unknown;
}

export class TwinError extends Error {
  readonly code: TwinErrorCode;
  readonly twinId?: string;
  readonly path?: string;
  readonly pointer?: string;
  readonly line?: number;
  readonly column?: number;
  readonly details?: unknown;

  constructor(code: TwinErrorCode, message: string, info: TwinErrorInfo = {}) {
    super(message);
    this.name = 'TwinError';
    this.code = code;
    if (info.twinId !== undefined) this.twinId = info.twinId;
    if (info.path !== undefined) this.path = info.path;
    if (info.pointer !== undefined) this.pointer = info.pointer;
    if (info.line !== undefined) this.line = info.line;
    if (info.column !== undefined) this.column = info.column;
    if (info.details !== undefined) this.details = info.details;
  }

  /** The field name the brief's callers look for: the same as `path`. */
  get field(): string | undefined {
    return this.path;
  }

  /** Plain JSON, for an error output or an event log. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, code: this.code, message: this.message };
    for (const key of ['twinId', 'path', 'pointer', 'line', 'column', 'details'] as const) if (this[key] !== undefined) out[key] = this[key];
    return out;
  }
}

/** JSON text of a value for a message, cut short so a huge value cannot flood a log. */
export function show(value: unknown, max = 60): string {
  if (value === undefined) return 'nothing';
  let text: string;
  if (typeof value === 'number' && !Number.isFinite(value)) text = String(value);
  else if (typeof value === 'bigint') text = `${value}n`;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
