// Node-RED adapter for the audit-log config node: one hash-chained audit log file under the user
// directory, shared (refcounted, per file) by every node that records decisions: signature-verify,
// command-guard, reconciler. Also an admin route the dialog uses to verify the chain.
import path from 'node:path';
import type { NodeAPI, NodeDef } from 'node-red';
import type { Request, Response } from 'express';
import { acquireAuditLog, verifyAuditLog } from '../lib/audit';
import type { AuditLogNode } from './audit-log-node';

interface AuditLogDef extends NodeDef {
  file: string;
}

const DEFAULT_AUDIT_FILE = 'twinflow/audit/commands.jsonl';

export = function register(RED: NodeAPI): void {
  const userDir = RED.settings.userDir ?? process.cwd();
  const resolve = (file: string) => path.resolve(userDir, (file ?? '').trim() || DEFAULT_AUDIT_FILE);

  function AuditLogConfig(this: AuditLogNode, config: AuditLogDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    node.file = resolve(config.file);
    let handle: ReturnType<typeof acquireAuditLog> | undefined;
    try {
      handle = acquireAuditLog(node.file);
      node.auditLog = handle.log;
      const torn = handle.log.opened.tornTail;
      if (torn) node.warn(`audit-log: ${node.file} ended in a cut-off record (${torn.bytes} bytes, a crash while writing; never acknowledged); it was cut and kept in ${torn.keptIn}`);
    } catch (err) {
      node.problem = `${(err as Error).message}`;
      node.error(`audit-log: ${node.problem}; decisions that need this log are refused until it is repaired (see twinflow audit verify)`);
    }
    node.on('close', (done: () => void) => {
      const releasing = handle?.release();
      handle = undefined;
      (releasing ?? Promise.resolve()).then(() => done(), (err: Error) => {
        node.error(`audit-log: ${err.message}`);
        done();
      });
    });
  }

  RED.nodes.registerType('audit-log', AuditLogConfig as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);

  // Verify the chain of a deployed audit-log node's file, for the dialog's button.
  RED.httpAdmin.get('/twinflow/audit/:id/verify', RED.auth.needsPermission('audit-log.read'), (req: Request, res: Response) => {
    const node = RED.nodes.getNode(req.params.id as string) as unknown as AuditLogNode | null;
    if (!node || node.type !== 'audit-log') {
      res.status(404).json({ error: 'deploy the audit-log node first' });
      return;
    }
    const run = node.auditLog ? node.auditLog.verify() : verifyAuditLog(node.file);
    run.then((result) => res.json(result), (err: Error) => res.status(500).json({ error: err.message }));
  });
};
