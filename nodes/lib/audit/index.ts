// The tamper-evident audit log shared by every node that decides about commands: append-only JSON
// lines, hash-chained (SHA-256 over canonical JSON), group-committed fsync, crash-safe open, and a
// verifier that names the first broken link. Pure TypeScript; no Node-RED.
export { AuditLog, AuditLogError, acquireAuditLog, type AuditLogOptions, type AuditOpenReport } from './audit-log';
export { GENESIS_HASH, entryProblem, hashRecord, sealRecord, type AuditEntry, type AuditRecord } from './record';
export { readHeadFile, verifyAuditLog, type AuditHead, type AuditProblem, type AuditProblemKind, type AuditVerification } from './verify-log';
export { AppendFile, writeFileAtomically, type AppendFileOptions } from './durable-file';
