// What command-sign does with a message, without Node-RED: read a command or a desired change,
// address it, and produce the envelope payload; the adapter signs and sends.
import type { EnvelopePayload } from '../lib/signing';

export interface SignRequest {
  payload: EnvelopePayload;
  /** The twin or asset addressed. */
  aud: string;
  /** The command id to sign as cmdId (msg.command.id), when the message brings one. */
  cmdId?: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The signing request in `msg`: `msg.command = { name, request?, id? }`, or a desired change
 * (`msg.topic` = writable property, `msg.payload` = target value, `msg.desired` present).
 * The audience is the configured one, or else msg.twin.id. Throws naming the field when neither fits.
 */
export function signRequestFrom(msg: Record<string, unknown>, configuredAudience: string): SignRequest {
  const twinId = isRecord(msg.twin) && typeof msg.twin.id === 'string' ? msg.twin.id : '';
  const aud = configuredAudience || twinId;
  if (!aud) throw new TypeError('twin.id: no audience; configure the target twin or send msg.twin.id');
  if (msg.command !== undefined) {
    const command = msg.command;
    if (!isRecord(command)) throw new TypeError('command: must be an object { name, request }');
    if (typeof command.name !== 'string' || command.name === '') throw new TypeError('command.name: must be a non-empty string');
    if (command.id !== undefined && (typeof command.id !== 'string' || command.id === '')) throw new TypeError('command.id: must be a non-empty string when given');
    const payload: EnvelopePayload = { command: command.request === undefined ? { name: command.name } : { name: command.name, request: command.request } };
    return { payload, aud, ...(typeof command.id === 'string' ? { cmdId: command.id } : {}) };
  }
  if (msg.desired !== undefined) {
    if (typeof msg.topic !== 'string' || msg.topic === '') throw new TypeError('topic: a desired change needs the writable property as msg.topic');
    if (msg.payload === undefined) throw new TypeError('payload: a desired change needs the target value as msg.payload');
    return { payload: { desired: { topic: msg.topic, value: msg.payload } }, aud };
  }
  throw new TypeError('command: nothing to sign; send msg.command = { name, request } or a desired change (msg.topic, msg.payload, msg.desired)');
}
