// Messages in and out of the command guard: what an input is, the request it carries, and each
// verdict as the message for its output and the record for the audit log.
import { randomUUID } from 'node:crypto';
import { GuardError, type GuardRequest, type Hold, type Verdict } from './guard-core';

type Msg = Record<string, unknown>;

export type GuardInput = 'approval' | 'what-if' | 'action' | 'command' | 'desired' | 'sample';

export function inputKind(msg: Msg): GuardInput {
  if (msg.approval !== undefined) return 'approval';
  const guard = msg.guard as { hold?: unknown } | undefined;
  if (msg.whatIf !== undefined && typeof guard?.hold === 'string') return 'what-if';
  if (msg.action !== undefined) return 'action';
  if (msg.command !== undefined) return 'command';
  if (msg.desired !== undefined) return 'desired';
  return 'sample';
}

function twinId(msg: Msg, fallback: string): string {
  const twin = msg.twin as { id?: unknown } | undefined;
  const verified = msg.verified as { aud?: unknown } | undefined;
  const id = typeof twin?.id === 'string' && twin.id ? twin.id : typeof verified?.aud === 'string' && verified.aud ? verified.aud : fallback;
  if (!id) throw new GuardError('twin.id: the message names no twin and the guard has no default twin');
  return id;
}

/**
 * The request a command or desired message carries. After signature-verify the verified issuer is
 * the issuer: a message claiming someone else is refused, never silently trusted.
 */
export function requestFrom(msg: Msg, defaultTwin: string, now: number): GuardRequest {
  const verified = msg.verified as { iss?: unknown; cmdId?: unknown } | undefined;
  const verifiedIssuer = typeof verified?.iss === 'string' ? verified.iss : undefined;
  const twin = twinId(msg, defaultTwin);
  const issuerOf = (claimed: unknown, field: string): string => {
    if (claimed !== undefined && typeof claimed !== 'string') throw new GuardError(`${field}: must be a text naming who sends the request`);
    if (verifiedIssuer !== undefined && claimed !== undefined && claimed !== verifiedIssuer) {
      throw new GuardError(`${field}: ${JSON.stringify(claimed)} is not the verified issuer ${JSON.stringify(verifiedIssuer)}`);
    }
    const issuer = verifiedIssuer ?? claimed;
    if (!issuer) throw new GuardError(`${field}: who sends the request is required (every decision is audited by issuer)`);
    return issuer;
  };
  if (msg.command !== undefined) {
    const c = msg.command as { name?: unknown; request?: unknown; id?: unknown; issuer?: unknown } | null;
    if (!c || typeof c !== 'object' || typeof c.name !== 'string' || c.name === '') throw new GuardError('command.name: a command needs a name (command = { name, request, id, issuer, issuedAt })');
    if (c.id !== undefined && (typeof c.id !== 'string' || c.id === '')) throw new GuardError('command.id: must be a non-empty text');
    return { id: (c.id as string | undefined) ?? (typeof verified?.cmdId === 'string' ? verified.cmdId : randomUUID()), kind: 'command', target: c.name, value: c.request, issuer: issuerOf(c.issuer, 'command.issuer'), twin, receivedAt: now };
  }
  const d = msg.desired as { issuer?: unknown; id?: unknown } | null;
  if (!d || typeof d !== 'object') throw new GuardError('desired: must be { issuer, version? }');
  if (typeof msg.topic !== 'string' || msg.topic === '') throw new GuardError('topic: the desired property path (e.g. spindle/speedSetpoint) is required');
  if (msg.payload === undefined) throw new GuardError(`payload: the desired value of ${msg.topic} is missing`);
  const id = typeof verified?.cmdId === 'string' ? verified.cmdId : typeof d.id === 'string' && d.id ? d.id : randomUUID();
  return { id, kind: 'desired', target: msg.topic, value: msg.payload, issuer: issuerOf(d.issuer, 'desired.issuer'), twin, receivedAt: now };
}

/** The audit record of a verdict, in the audit log's vocabulary. */
export function auditRecord(verdict: Verdict, time: number): Record<string, unknown> {
  const r = verdict.request;
  return {
    time,
    actor: r.issuer,
    action: r.kind === 'command' ? `command ${r.target}` : `desired ${r.target}`,
    target: r.twin,
    decision: verdict.decision,
    rule: verdict.rule,
    reason: verdict.reason,
    snapshot: verdict.snapshot,
    cmdId: r.id,
    value: r.value === undefined ? null : r.value,
    ...(verdict.approvals ? { approvals: verdict.approvals } : {}),
  };
}

/** The guard's view of a request on the message it came with. */
export function guardInfo(verdict: Verdict, extra: Msg = {}): Msg {
  return {
    id: verdict.request.id,
    decision: verdict.decision,
    rule: verdict.rule,
    reason: verdict.reason,
    ...(verdict.approvals ? { approvals: verdict.approvals } : {}),
    ...extra,
  };
}

/** Rows for a Dashboard 2.0 table of requests waiting for approval. */
export function pendingRows(holds: Hold[], now: number): Msg[] {
  return holds
    .filter((h) => h.stage === 'approval')
    .sort((a, b) => a.heldAt - b.heldAt)
    .map((h) => ({
      id: h.request.id,
      twin: h.request.twin,
      request: h.request.kind === 'command' ? `${h.request.target}${h.request.value === undefined ? '' : ` ${JSON.stringify(h.request.value)}`}` : `${h.request.target} = ${JSON.stringify(h.request.value)}`,
      issuer: h.request.issuer,
      why: h.text,
      approvals: `${h.approvals.length} of ${h.needed}${h.approvals.length ? ` (${h.approvals.map((a) => a.by).join(', ')})` : ''}`,
      expiresIn: `${Math.max(0, Math.round((h.deadline - now) / 1000))} s`,
    }));
}
