// The signed command envelope. Its JSON is the JWS payload, signed over its canonical form.
//
//   { v: 1,                      format version
//     kid, alg: 'EdDSA',         the signing key and algorithm (the JWS header repeats both)
//     iss,                       the issuer: who signs (an operator console, a scheduler …)
//     aud,                       the target twin or asset id
//     cmdId,                     unique id of this command (msg.command.id downstream)
//     seq,                       per-issuer sequence number, strictly increasing (gaps allowed)
//     iat, exp,                  issued-at and expiry, milliseconds since the epoch (not JWT seconds)
//     nonce,                     random, at least 16 characters
//     payload }                  exactly one of
//        { command: { name, request? } }    a command for the twin or asset
//        { desired: { topic, value } }      a desired change of a writable property

export const ENVELOPE_VERSION = 1;
export const ALG = 'EdDSA';
export const JWS_TYPE = 'twinflow-cmd+jws';
const MAX_ID = 256;

export type EnvelopePayload =
  | { command: { name: string; request?: unknown } }
  | { desired: { topic: string; value: unknown } };

export interface CommandEnvelope {
  v: typeof ENVELOPE_VERSION;
  kid: string;
  alg: typeof ALG;
  iss: string;
  aud: string;
  cmdId: string;
  seq: number;
  iat: number;
  exp: number;
  nonce: string;
  payload: EnvelopePayload;
}

const FIELDS = new Set(['v', 'kid', 'alg', 'iss', 'aud', 'cmdId', 'seq', 'iat', 'exp', 'nonce', 'payload']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function idProblem(field: string, value: unknown, min = 1): string | undefined {
  if (typeof value !== 'string') return `${field}: ${show(value)} is not a string`;
  if (value.length < min) return min === 1 ? `${field}: must not be empty` : `${field}: must have at least ${min} characters`;
  if (value.length > MAX_ID) return `${field}: longer than ${MAX_ID} characters`;
  return undefined;
}

/** The first rule `payload` breaks, or undefined when it is a command or a desired change. */
export function payloadProblem(payload: unknown): string | undefined {
  if (!isRecord(payload)) return `payload: ${show(payload)} is not an object`;
  const keys = Object.keys(payload);
  if (keys.length !== 1 || (keys[0] !== 'command' && keys[0] !== 'desired')) return `payload: must hold exactly one of "command" or "desired", not ${show(keys)}`;
  if (keys[0] === 'command') {
    const command = payload.command;
    if (!isRecord(command)) return `payload.command: ${show(command)} is not an object`;
    const extra = Object.keys(command).filter((k) => k !== 'name' && k !== 'request');
    if (extra.length > 0) return `payload.command: unexpected field ${show(extra[0])} (only name and request)`;
    return idProblem('payload.command.name', command.name);
  }
  const desired = payload.desired;
  if (!isRecord(desired)) return `payload.desired: ${show(desired)} is not an object`;
  const extra = Object.keys(desired).filter((k) => k !== 'topic' && k !== 'value');
  if (extra.length > 0) return `payload.desired: unexpected field ${show(extra[0])} (only topic and value)`;
  if (!('value' in desired) || desired.value === undefined) return 'payload.desired.value: is missing';
  return idProblem('payload.desired.topic', desired.topic);
}

/** The first rule `value` breaks as an envelope, naming the field, or undefined when it is one. */
export function envelopeProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return `envelope: ${show(value)} is not an object`;
  for (const key of Object.keys(value)) if (!FIELDS.has(key)) return `envelope: unexpected field ${show(key)}`;
  if (value.v !== ENVELOPE_VERSION) return `v: ${show(value.v)} is not the envelope version ${ENVELOPE_VERSION}`;
  if (value.alg !== ALG) return `alg: ${show(value.alg)} is not ${ALG}`;
  for (const field of ['kid', 'iss', 'aud', 'cmdId'] as const) {
    const problem = idProblem(field, value[field]);
    if (problem) return problem;
  }
  const nonce = idProblem('nonce', value.nonce, 16);
  if (nonce) return nonce;
  if (!Number.isSafeInteger(value.seq) || (value.seq as number) < 1) return `seq: ${show(value.seq)} is not a positive integer`;
  for (const field of ['iat', 'exp'] as const) {
    if (!Number.isSafeInteger(value[field]) || (value[field] as number) < 0) return `${field}: ${show(value[field])} is not a time in milliseconds since the epoch`;
  }
  if ((value.exp as number) <= (value.iat as number)) return `exp: ${value.exp as number} is not after iat ${value.iat as number}`;
  return payloadProblem(value.payload);
}

/** Throws a TypeError naming the field when `value` is not an envelope. */
export function assertEnvelope(value: unknown): asserts value is CommandEnvelope {
  const problem = envelopeProblem(value);
  if (problem) throw new TypeError(problem);
}

/** What the envelope asks for, in words for logs and audit records: the command name or the desired topic. */
export function envelopeAction(envelope: Pick<CommandEnvelope, 'payload'>): string {
  const p = envelope.payload as Record<string, { name?: string; topic?: string }>;
  return p.command ? String(p.command.name) : `desired ${String(p.desired?.topic)}`;
}
