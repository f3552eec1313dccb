// The guard's audit trail: every decision appended to a tamper-evident log. A thin seam over the
// shared audit library so the adapter does not depend on its file format.
export interface AuditHandle {
  append(record: Record<string, unknown>): void;
  verify(): unknown;
  close(): Promise<void>;
}

export function openAudit(_file: string, _onError: (err: Error) => void): AuditHandle {
  return { append: () => undefined, verify: () => ({ ok: false, message: 'audit log not connected yet' }), close: async () => undefined };
}
