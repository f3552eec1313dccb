// The audit record and its hash. Each record holds the hash of the one before it (prevHash) and its
// own hash, SHA-256 over the canonical JSON of the record without `hash`: changing, removing or
// reordering any record breaks the chain at that point.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../signing/canonical';

export const GENESIS_HASH = '0'.repeat(64);

/** What a node decides and wants recorded. */
export interface AuditEntry {
  /** Who: the issuer of the command, the operator who approved, the node that decided. */
  actor: string;
  /** What: the command name or "desired <topic>". */
  action: string;
  /** The twin or asset concerned. */
  target: string;
  /** accepted | rejected | held | approved | released | expired | ... */
  decision: string;
  /** The rule or check that decided: signature, audience, seq, a guard rule's id ... */
  rule: string;
  /** One sentence a person understands. */
  reason: string;
  /** The relevant twin state at the time of the decision, or null. */
  snapshot?: unknown;
  cmdId?: string | null;
  /** Anything else worth keeping (kid, seq, node id ...). */
  details?: Record<string, unknown>;
}

export interface AuditRecord {
  seq: number;
  /** ISO 8601, UTC, milliseconds. */
  time: string;
  actor: string;
  action: string;
  target: string;
  decision: string;
  rule: string;
  reason: string;
  snapshot: unknown;
  cmdId: string | null;
  details?: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

const STRING_FIELDS = ['actor', 'action', 'target', 'decision', 'rule', 'reason'] as const;
const RECORD_FIELDS = new Set(['seq', 'time', ...STRING_FIELDS, 'snapshot', 'cmdId', 'details', 'prevHash', 'hash']);

/** The first rule `entry` breaks, naming the field, or undefined. */
export function entryProblem(entry: unknown): string | undefined {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return 'an audit entry must be an object';
  const e = entry as Record<string, unknown>;
  for (const field of STRING_FIELDS) {
    if (typeof e[field] !== 'string' || (e[field] as string) === '') return `${field}: must be a non-empty string`;
  }
  if (e.cmdId !== undefined && e.cmdId !== null && typeof e.cmdId !== 'string') return 'cmdId: must be a string or null';
  if (e.details !== undefined && (e.details === null || typeof e.details !== 'object' || Array.isArray(e.details))) return 'details: must be an object';
  return undefined;
}

export function hashRecord(record: Omit<AuditRecord, 'hash'> & { hash?: string }): string {
  const { hash: _ignored, ...rest } = record;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

/** The complete record following (prevSeq, prevHash). Throws (naming the field) on bad input or non-JSON content. */
export function sealRecord(entry: AuditEntry, prevSeq: number, prevHash: string, time: number): AuditRecord {
  const problem = entryProblem(entry);
  if (problem) throw new TypeError(`audit entry: ${problem}`);
  const record: Omit<AuditRecord, 'hash'> = {
    seq: prevSeq + 1,
    time: new Date(time).toISOString(),
    actor: entry.actor,
    action: entry.action,
    target: entry.target,
    decision: entry.decision,
    rule: entry.rule,
    reason: entry.reason,
    snapshot: entry.snapshot ?? null,
    cmdId: entry.cmdId ?? null,
    ...(entry.details !== undefined ? { details: entry.details } : {}),
    prevHash,
  };
  // Hashing canonical JSON refuses NaN, functions, Dates … so a record always reads back as written.
  return { ...record, hash: hashRecord(record) };
}

/** The first rule a parsed line breaks as a record (shape only, not the chain), or undefined. */
export function recordShapeProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const r = value as Record<string, unknown>;
  if (!Number.isSafeInteger(r.seq) || (r.seq as number) < 1) return `seq ${JSON.stringify(r.seq)} is not a positive integer`;
  if (typeof r.time !== 'string' || Number.isNaN(Date.parse(r.time))) return `time ${JSON.stringify(r.time)} is not an ISO time`;
  for (const field of ['prevHash', 'hash'] as const) {
    if (typeof r[field] !== 'string' || !/^[0-9a-f]{64}$/.test(r[field] as string)) return `${field} is not a SHA-256 hex digest`;
  }
  const extra = Object.keys(r).find((k) => !RECORD_FIELDS.has(k));
  if (extra !== undefined) return `unexpected field ${JSON.stringify(extra)}`;
  const problem = entryProblem(r);
  return problem;
}
