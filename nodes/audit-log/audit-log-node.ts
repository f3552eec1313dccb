// What nodes that record decisions may ask of a deployed audit-log config node.
import type { Node } from 'node-red';
import type { AuditLog } from '../lib/audit';

export interface AuditLogNode extends Node {
  /** The open log, absent when it cannot be used (see `problem`): decisions must then fail closed. */
  auditLog?: AuditLog;
  problem?: string;
  /** The file, absolute. */
  file: string;
}
