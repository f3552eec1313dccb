// What signature-verify does with a message, without Node-RED: find the JWS, turn a verified envelope
// into the message contract (msg.command or a desired change, msg.verified, msg.twin), and describe
// every decision as an audit entry.
import type { AuditEntry } from '../lib/audit';
import { CHECK_OF_REASON, envelopeAction, type CommandEnvelope, type RejectionReason } from '../lib/signing';

/** The compact JWS in `msg`: msg.signed, else msg.payload (a string, or a Buffer from mqtt in). */
export function jwsFrom(msg: Record<string, unknown>): unknown {
  const value = msg.signed !== undefined ? msg.signed : msg.payload;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  return value;
}

/** The verified message: the input with the command or desired change it carried, as downstream nodes expect. */
export function verifiedMessage(msg: Record<string, unknown>, envelope: CommandEnvelope): Record<string, unknown> {
  const { signed: _signed, envelope: _envelope, rejection: _rejection, ...rest } = msg;
  const twin = rest.twin !== null && typeof rest.twin === 'object' && (rest.twin as { id?: unknown }).id === envelope.aud ? { ...(rest.twin as object), id: envelope.aud } : { id: envelope.aud };
  const out: Record<string, unknown> = {
    ...rest,
    twin,
    verified: { kid: envelope.kid, iss: envelope.iss, aud: envelope.aud, seq: envelope.seq, cmdId: envelope.cmdId },
  };
  const payload = envelope.payload as { command?: { name: string; request?: unknown }; desired?: { topic: string; value: unknown } };
  if (payload.command) {
    out.command = { name: payload.command.name, request: payload.command.request, id: envelope.cmdId, issuer: envelope.iss, issuedAt: envelope.iat };
    out.topic = payload.command.name;
    out.payload = payload.command.request;
  } else if (payload.desired) {
    delete out.command;
    out.topic = payload.desired.topic;
    out.payload = payload.desired.value;
    // The issuer's seq is strictly increasing, so it serves as the version of the desired change.
    out.desired = { version: envelope.seq, issuer: envelope.iss, cmdId: envelope.cmdId, issuedAt: envelope.iat };
  }
  return out;
}

export function acceptedEntry(envelope: CommandEnvelope, nodeId: string): AuditEntry {
  return {
    actor: envelope.iss,
    action: envelopeAction(envelope),
    target: envelope.aud,
    decision: 'accepted',
    rule: 'signature-verify',
    reason: `signature of key ${envelope.kid} verified; audience, time, seq ${envelope.seq}, nonce and cmdId checked`,
    snapshot: null,
    cmdId: envelope.cmdId,
    details: { kid: envelope.kid, seq: envelope.seq, iat: envelope.iat, exp: envelope.exp, node: nodeId },
  };
}

/**
 * The audit entry of a rejection. Before the signature check nothing in the command is authentic,
 * so the actor and target are only what the command claims (details.authenticated says which).
 */
export function rejectedEntry(rejection: { reason: RejectionReason; message: string; kid?: string; envelope?: CommandEnvelope }, nodeId: string, fallbackTarget: string): AuditEntry {
  const envelope = rejection.envelope;
  return {
    actor: envelope?.iss ?? (rejection.kid ? `unverified key ${rejection.kid}` : 'unknown'),
    action: envelope ? envelopeAction(envelope) : 'unknown',
    target: envelope?.aud ?? (fallbackTarget || 'unknown'),
    decision: 'rejected',
    rule: rejection.reason,
    reason: rejection.message,
    snapshot: null,
    cmdId: envelope?.cmdId ?? null,
    details: { check: CHECK_OF_REASON[rejection.reason], authenticated: envelope !== undefined, ...(rejection.kid ? { kid: rejection.kid } : {}), ...(envelope ? { seq: envelope.seq } : {}), node: nodeId },
  };
}

/** Reasons that mean the input is not a signed command at all: errors for Catch nodes, not just refusals. */
export const MALFORMED: ReadonlySet<RejectionReason> = new Set(['malformed', 'too-large', 'unsupported-alg']);
