// Node-RED adapter for signature-verify: checks signed commands (msg.signed or msg.payload, e.g.
// from mqtt in) against a key set in the issue's order, records the replay state and an audit record
// before anything is released, and sends verified commands on output 1 and rejections, each with its
// reason, on output 2.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { AuditLogNode } from '../audit-log/audit-log-node';
import type { KeySetNode } from '../key-set/key-set-node';
import { verify, type RejectionReason } from '../lib/signing';
import { acceptedEntry, jwsFrom, MALFORMED, rejectedEntry, verifiedMessage } from './verify-core';

interface SignatureVerifyDef extends NodeDef {
  keys: string;
  audiences: string;
  skew: number | string;
  maxLifetime: number | string;
  audit: string;
}

function seconds(value: number | string | undefined, fallback: number, field: string, max: number): number {
  const n = Number(value === '' || value === undefined ? fallback : value);
  if (!Number.isFinite(n) || n < 0 || n > max) throw new Error(`${field}: ${String(value)} is not a number of seconds between 0 and ${max}`);
  return n * 1000;
}

export = function register(RED: NodeAPI): void {
  function SignatureVerify(this: Node, config: SignatureVerifyDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const keysNode = RED.nodes.getNode(config.keys) as KeySetNode | null;
    const auditNode = config.audit ? (RED.nodes.getNode(config.audit) as unknown as AuditLogNode | null) : null;
    const audiences = (config.audiences ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
    let skewMs = 30_000;
    let maxLifetimeMs = 300_000;
    let configError: string | undefined;
    try {
      if (!keysNode) throw new Error('keys: choose a key set');
      if (keysNode.problem || !keysNode.keySet) throw new Error(`keys: ${keysNode.problem ?? 'the key set is not valid'}`);
      if (audiences.length === 0) throw new Error('audiences: the twin or asset ids this verifier accepts commands for are required');
      if (config.audit && !auditNode) throw new Error('audit: the chosen audit log is not deployed');
      if (auditNode?.problem) throw new Error(`audit: ${auditNode.problem}`);
      skewMs = seconds(config.skew, 30, 'skew', 3600);
      maxLifetimeMs = seconds(config.maxLifetime, 300, 'maxLifetime', 86_400);
      if (maxLifetimeMs === 0) throw new Error('maxLifetime: must be more than 0 seconds');
      keysNode.replay();
    } catch (err) {
      configError = (err as Error).message;
      node.error(`signature-verify: ${configError}`);
    }

    let accepted = 0;
    let rejected = 0;
    let lastReason: RejectionReason | undefined;
    const showStatus = () => {
      if (configError) return node.status({ fill: 'red', shape: 'ring', text: configError });
      const audit = auditNode ? '' : ' · no audit log';
      node.status({ fill: rejected > 0 ? 'yellow' : 'green', shape: 'dot', text: `${accepted} verified · ${rejected} rejected${lastReason ? ` (last: ${lastReason})` : ''}${audit}` });
    };
    showStatus();

    node.on('input', (msg: NodeMessageInFlow & Record<string, unknown>, send, done) => {
      if (msg.action === 'verify-audit') {
        if (!auditNode?.auditLog) {
          done(new Error('signature-verify: action verify-audit: no audit log is configured'));
          return;
        }
        auditNode.auditLog.verify().then((result) => {
          send([null, { ...msg, payload: result.ok ? `audit log intact: ${result.records} records` : `audit log broken: ${result.problem.message}`, auditVerification: result }]);
          done();
        }, (err: Error) => done(new Error(`signature-verify: cannot verify the audit log: ${err.message}`)));
        return;
      }
      if (configError || !keysNode?.keySet) {
        done(new Error(`signature-verify: ${configError ?? 'not configured'}`));
        return;
      }
      let store;
      try {
        store = keysNode.replay();
      } catch (err) {
        done(new Error(`signature-verify: ${(err as Error).message}`));
        return;
      }
      const result = verify(jwsFrom(msg), keysNode.keySet, store.state, Date.now(), { audiences, skewMs, maxLifetimeMs });
      const log = auditNode?.auditLog;
      if (result.ok) {
        // Released only once the replay state and the audit record are on disk: a crash can then
        // neither reopen a replay nor lose the record of an accepted command.
        Promise.all([store.record(result.replay), log?.append(acceptedEntry(result.envelope, node.id))]).then(([, record]) => {
          accepted++;
          showStatus();
          const out = verifiedMessage(msg, result.envelope);
          if (record) out.audit = { seq: record.seq, hash: record.hash };
          send([out, null]);
          done();
        }, (err: Error) => {
          rejected++;
          showStatus();
          done(new Error(`signature-verify: command ${result.envelope.cmdId} verified but could not be recorded, so it is not released: ${err.message}`));
        });
        return;
      }
      rejected++;
      lastReason = result.reason;
      showStatus();
      const rejection = { reason: result.reason, message: result.message };
      const entry = rejectedEntry(result, node.id, audiences[0] ?? '');
      const finish = (auditError?: Error) => {
        send([null, { ...msg, rejection }]);
        const text = `signature-verify: rejected (${result.reason}): ${result.message}${auditError ? `; and the rejection could not be audited: ${auditError.message}` : ''}`;
        if (MALFORMED.has(result.reason) || auditError) {
          done(new Error(text));
        } else {
          node.warn(text);
          done();
        }
      };
      if (log) log.append(entry).then(() => finish(), (err: Error) => finish(err));
      else finish();
    });

    node.on('close', (done: () => void) => {
      done();
    });
  }

  RED.nodes.registerType('signature-verify', SignatureVerify as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
