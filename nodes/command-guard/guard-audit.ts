// The guard's audit trail: every decision appended to the shared tamper-evident log (one hash chain
// per file in this Node-RED, shared with signature-verify when they name the same file).
import { acquireAuditLog, type AuditEntry, type AuditLog } from '../lib/audit';

export interface AuditHandle {
  append(record: Record<string, unknown>): void;
  verify(): Promise<unknown>;
  close(): Promise<void>;
}

/** The guard's record in the audit log's fields; the rest goes to details. */
export function auditEntry(record: Record<string, unknown>): AuditEntry {
  const text = (v: unknown, fallback: string) => (typeof v === 'string' && v !== '' ? v : fallback);
  const { actor, action, target, decision, rule, reason, snapshot, cmdId, time: _time, ...details } = record;
  return {
    actor: text(actor, 'unknown'),
    action: text(action, 'unknown'),
    target: text(target, 'unknown'),
    decision: text(decision, 'unknown'),
    rule: text(rule, 'unknown'),
    reason: text(reason, '-'),
    snapshot: snapshot ?? null,
    cmdId: typeof cmdId === 'string' ? cmdId : null,
    ...(Object.keys(details).length > 0 ? { details: JSON.parse(JSON.stringify(details)) as Record<string, unknown> } : {}),
  };
}

/** The log of an audit-log config node (which owns it), or the file's shared log when there is none. */
export function openAudit(source: string | AuditLog, onError: (err: Error) => void): AuditHandle {
  const { log, release } = typeof source === 'string' ? acquireAuditLog(source) : { log: source, release: async () => undefined };
  return {
    append: (record) => {
      log.append(auditEntry(record)).catch(onError);
    },
    verify: () => log.verify(),
    close: () => release(),
  };
}
