// Shared set-up for the signing tests: keys, a key set, and a signer with sensible defaults.
import { generateKeyPair, KeySet, loadPrivateKey, ReplayState, createEnvelope, sign, verify, type CommandEnvelope, type EnvelopePayload, type TrustedKeyInput, type VerifyOptions } from '../../../nodes/lib/signing';

export const T0 = Date.parse('2026-11-25T10:00:00Z');
export const AUD = 'cnc-1';
export const ISS = 'operator-console';

export interface TestKey {
  kid: string;
  publicJwk: TrustedKeyInput['publicKey'];
  publicPem: string;
  privatePem: string;
}

export function newKey(kid?: string): TestKey {
  return generateKeyPair(kid);
}

export function keySetOf(...entries: TrustedKeyInput[]): KeySet {
  return new KeySet(entries);
}

export const COMMAND: EnvelopePayload = { command: { name: 'setSpindleSpeed', request: { rpm: 8000 } } };

let seq = 0;
/** A signed command; every field can be overridden. */
export function signed(key: TestKey, overrides: Partial<CommandEnvelope> = {}, now = T0): { jws: string; envelope: CommandEnvelope } {
  const envelope = { ...createEnvelope({ iss: ISS, aud: AUD, seq: ++seq, payload: COMMAND }, key.kid, now), ...overrides } as CommandEnvelope;
  return { jws: sign(envelope, { kid: key.kid, privateKey: loadPrivateKey(key.privatePem) }), envelope };
}

export const OPTIONS: VerifyOptions = { audiences: [AUD], skewMs: 30_000, maxLifetimeMs: 300_000 };

export function check(jws: unknown, keys: KeySet, state = new ReplayState(), now = T0, options: VerifyOptions = OPTIONS) {
  return verify(jws, keys, state, now, options);
}

/** base64url of text. */
export function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

export function parts(jws: string): [string, string, string] {
  return jws.split('.') as [string, string, string];
}
