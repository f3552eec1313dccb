// Verification of a signed command, checking in a fixed order and stopping at the first failure:
//   0. the input is a compact JWS of acceptable size with an EdDSA header   malformed, too-large, unsupported-alg
//   1. the key is known and valid now                                       unknown-key, key-revoked, key-not-yet-valid, key-expired
//   2. the signature verifies over the exact bytes received                  bad-signature
//      (only then is the payload parsed: unauthenticated JSON is never read) malformed
//      and the key may sign for the issuer                                  issuer-not-allowed
//   3. the audience is one this verifier serves                              wrong-audience
//   4. issued-at and expiry, within the allowed clock skew                    not-yet-valid, expired, lifetime-too-long
//   5. seq is above the issuer's last accepted seq                            replayed-seq
//   6. nonce and cmdId were not seen within their window                     replayed-nonce, replayed-cmdId
// An accepted envelope is recorded in the replay state at once, so the same command can never pass twice.
import { envelopeProblem, ALG, JWS_TYPE, type CommandEnvelope } from './envelope';
import { splitCompact, verifySignature } from './jws';
import type { KeySet } from './keys';
import type { ReplayEntry, ReplayState } from './replay';

export type RejectionReason =
  | 'malformed'
  | 'too-large'
  | 'unsupported-alg'
  | 'unknown-key'
  | 'key-not-yet-valid'
  | 'key-expired'
  | 'key-revoked'
  | 'bad-signature'
  | 'issuer-not-allowed'
  | 'wrong-audience'
  | 'not-yet-valid'
  | 'expired'
  | 'lifetime-too-long'
  | 'replayed-seq'
  | 'replayed-nonce'
  | 'replayed-cmdId'
  | 'replay-state-full';

/** The check each reason comes from, in the order they run (audit records name it as the rule). */
export const CHECK_OF_REASON: Record<RejectionReason, string> = {
  malformed: 'format',
  'too-large': 'format',
  'unsupported-alg': 'format',
  'unknown-key': 'key',
  'key-not-yet-valid': 'key',
  'key-expired': 'key',
  'key-revoked': 'key',
  'bad-signature': 'signature',
  'issuer-not-allowed': 'signature',
  'wrong-audience': 'audience',
  'not-yet-valid': 'time',
  expired: 'time',
  'lifetime-too-long': 'time',
  'replayed-seq': 'seq',
  'replayed-nonce': 'nonce',
  'replayed-cmdId': 'cmdId',
  'replay-state-full': 'nonce',
};

export interface VerifyOptions {
  /** The audiences (twin or asset ids) this verifier accepts; a function for open-ended sets. */
  audiences: readonly string[] | ((aud: string) => boolean);
  /** Allowed clock difference between signer and verifier, ms; default 30,000. */
  skewMs?: number;
  /** Longest allowed exp - iat, ms; bounds the replay memory; default 300,000 (5 min). */
  maxLifetimeMs?: number;
  /** Largest accepted JWS, characters; default 16,384. */
  maxLength?: number;
}

export type VerifyResult =
  | { ok: true; envelope: CommandEnvelope; replay: ReplayEntry }
  | {
    ok: false;
    reason: RejectionReason;
    message: string;
    /** What could be read of the claimed sender (untrusted unless the reason comes after the signature check). */
    kid?: string;
    envelope?: CommandEnvelope;
  };

const HEADER_FIELDS = new Set(['alg', 'kid', 'typ']);

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function seconds(ms: number): string {
  return `${(ms / 1000).toLocaleString('en', { maximumFractionDigits: 3 })} s`;
}

/** Verifies `jws` at time `now` (ms) against `keys` and the replay `state`; records it in `state` when accepted. */
export function verify(jws: unknown, keys: KeySet, state: ReplayState, now: number, options: VerifyOptions): VerifyResult {
  const skew = options.skewMs ?? 30_000;
  const maxLifetime = options.maxLifetimeMs ?? 300_000;
  const maxLength = options.maxLength ?? 16_384;

  // 0. format
  if (typeof jws !== 'string') return { ok: false, reason: 'malformed', message: `a signed command is a compact JWS string, not ${jws === null ? 'null' : typeof jws}` };
  if (jws.length > maxLength) return { ok: false, reason: 'too-large', message: `the signed command has ${jws.length} characters, more than the ${maxLength} allowed` };
  const parts = splitCompact(jws);
  if (typeof parts === 'string') return { ok: false, reason: 'malformed', message: parts };
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(parts.headerText) as Record<string, unknown>;
  } catch {
    return { ok: false, reason: 'malformed', message: 'the JWS header is not JSON' };
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) return { ok: false, reason: 'malformed', message: 'the JWS header is not a JSON object' };
  if (header.alg !== ALG) return { ok: false, reason: 'unsupported-alg', message: `the JWS header names alg ${JSON.stringify(header.alg)}; only ${ALG} (Ed25519) is accepted` };
  if (typeof header.kid !== 'string' || header.kid === '') return { ok: false, reason: 'malformed', message: 'the JWS header has no kid' };
  const kid = header.kid;
  if (header.typ !== JWS_TYPE) return { ok: false, reason: 'malformed', message: `the JWS header names typ ${JSON.stringify(header.typ)}, not ${JWS_TYPE}`, kid };
  const extra = Object.keys(header).find((k) => !HEADER_FIELDS.has(k));
  if (extra !== undefined) return { ok: false, reason: 'malformed', message: `the JWS header has the field ${JSON.stringify(extra)}; only alg, kid and typ are accepted`, kid };

  // 1. key
  const keyCheck = keys.check(kid, now);
  if (!keyCheck.ok) return { ok: false, reason: keyCheck.reason, message: keyCheck.message, kid };

  // 2. signature, over the bytes as received
  if (!verifySignature(parts, keyCheck.key.key)) return { ok: false, reason: 'bad-signature', message: `the signature does not verify with key ${kid}: the command was changed or signed with another key`, kid };
  let envelope: CommandEnvelope;
  try {
    envelope = JSON.parse(parts.payloadText) as CommandEnvelope;
  } catch {
    return { ok: false, reason: 'malformed', message: 'the signed payload is not JSON', kid };
  }
  const problem = envelopeProblem(envelope);
  if (problem) return { ok: false, reason: 'malformed', message: `the signed envelope is not valid: ${problem}`, kid };
  if (envelope.kid !== kid) return { ok: false, reason: 'malformed', message: `the envelope names key ${envelope.kid} but the JWS header names ${kid}`, kid, envelope };
  const issuers = keyCheck.key.issuers;
  if (issuers && !issuers.has(envelope.iss)) return { ok: false, reason: 'issuer-not-allowed', message: `key ${kid} may sign only for ${[...issuers].join(', ')}, not for issuer ${envelope.iss}`, kid, envelope };

  // 3. audience
  const audienceOk = typeof options.audiences === 'function' ? options.audiences(envelope.aud) : options.audiences.includes(envelope.aud);
  if (!audienceOk) {
    const expected = typeof options.audiences === 'function' ? '' : ` (this verifier serves ${options.audiences.length ? options.audiences.join(', ') : 'no audience'})`;
    return { ok: false, reason: 'wrong-audience', message: `the command is addressed to ${envelope.aud}${expected}`, kid, envelope };
  }

  // 4. time
  if (envelope.iat > now + skew) return { ok: false, reason: 'not-yet-valid', message: `issued at ${iso(envelope.iat)}, ${seconds(envelope.iat - now)} in the future (allowed clock skew ${seconds(skew)})`, kid, envelope };
  if (now > envelope.exp + skew) return { ok: false, reason: 'expired', message: `expired at ${iso(envelope.exp)}, ${seconds(now - envelope.exp)} ago (allowed clock skew ${seconds(skew)})`, kid, envelope };
  if (envelope.exp - envelope.iat > maxLifetime) return { ok: false, reason: 'lifetime-too-long', message: `valid for ${seconds(envelope.exp - envelope.iat)} (iat to exp), longer than the ${seconds(maxLifetime)} allowed`, kid, envelope };

  // 5. per-issuer sequence
  const last = state.lastSeq(envelope.iss);
  if (envelope.seq <= last) return { ok: false, reason: 'replayed-seq', message: `seq ${envelope.seq} of issuer ${envelope.iss} is not above the last accepted seq ${last}`, kid, envelope };

  // 6. nonce and cmdId
  if (state.hasNonce(envelope.nonce, now)) return { ok: false, reason: 'replayed-nonce', message: `nonce ${envelope.nonce} was already used by an accepted command`, kid, envelope };
  if (state.hasCmdId(envelope.cmdId, now)) return { ok: false, reason: 'replayed-cmdId', message: `command ${envelope.cmdId} was already accepted`, kid, envelope };
  if (state.isFull(now)) return { ok: false, reason: 'replay-state-full', message: `the replay memory is full (${state.maxEntries} ids); commands are refused until older ones expire`, kid, envelope };

  const replay: ReplayEntry = { iss: envelope.iss, seq: envelope.seq, nonce: envelope.nonce, cmdId: envelope.cmdId, forgetAt: envelope.exp + skew };
  state.accept(replay);
  return { ok: true, envelope, replay };
}
