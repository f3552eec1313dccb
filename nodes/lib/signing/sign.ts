// Signing: build an envelope, sign its canonical JSON as a compact JWS, and pick the signing key
// during a rotation (the signer switches to the next key at a configured time, while verifiers
// trust both keys over an overlap period).
import { randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical';
import { ALG, ENVELOPE_VERSION, assertEnvelope, payloadProblem, type CommandEnvelope, type EnvelopePayload } from './envelope';
import { signCompact } from './jws';
import { KeyError, loadPrivateKey, parseTime, type KeyText, type TimeInput } from './keys';

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
}

/** Signs `envelope` with `key`. Throws a TypeError naming the field when the envelope is not valid. */
export function sign(envelope: CommandEnvelope, key: SigningKey): string {
  assertEnvelope(envelope);
  if (envelope.kid !== key.kid) throw new TypeError(`kid: the envelope names ${envelope.kid}, but the signing key is ${key.kid}`);
  return signCompact(key.kid, canonicalJson(envelope), key.privateKey);
}

export interface EnvelopeInput {
  iss: string;
  aud: string;
  seq: number;
  payload: EnvelopePayload;
  /** Defaults to a random UUID. */
  cmdId?: string;
  /** Milliseconds the command stays valid; default 30 s. */
  ttlMs?: number;
  /** Defaults to 16 random bytes, base64url. */
  nonce?: string;
}

/** A complete envelope for `kid`, issued at `now`. Throws a TypeError naming the field on bad input. */
export function createEnvelope(input: EnvelopeInput, kid: string, now: number): CommandEnvelope {
  const ttl = input.ttlMs ?? 30_000;
  if (!Number.isSafeInteger(ttl) || ttl < 1) throw new TypeError(`ttlMs: ${String(ttl)} is not a positive number of milliseconds`);
  const problem = payloadProblem(input.payload);
  if (problem) throw new TypeError(problem);
  const envelope: CommandEnvelope = {
    v: ENVELOPE_VERSION,
    kid,
    alg: ALG,
    iss: input.iss,
    aud: input.aud,
    cmdId: input.cmdId ?? randomUUID(),
    seq: input.seq,
    iat: Math.floor(now),
    exp: Math.floor(now) + ttl,
    nonce: input.nonce ?? randomBytes(16).toString('base64url'),
    payload: input.payload,
  };
  assertEnvelope(envelope);
  return envelope;
}

export interface RotatingKeyInput {
  kid: string;
  privateKey: KeyText;
  /** The signer uses this key from this time on (until a later key's time); empty: from the start. */
  from?: TimeInput;
}

/** The signer's keys over a rotation: at any time the one with the latest `from` not after now. */
export class SigningKeyRing {
  readonly #keys: { kid: string; privateKey: KeyObject; from: number }[];

  constructor(keys: readonly RotatingKeyInput[]) {
    if (keys.length === 0) throw new KeyError('no signing key: give a kid and a private key');
    this.#keys = keys.map((k, i) => {
      const where = `signing key ${i + 1}`;
      if (typeof k.kid !== 'string' || k.kid.trim() === '') throw new KeyError(`${where}: kid is required`);
      let privateKey: KeyObject;
      let from: number | undefined;
      try {
        privateKey = loadPrivateKey(k.privateKey);
        from = parseTime(k.from, 'from');
      } catch (err) {
        throw new KeyError(`${where} (${k.kid}): ${(err as Error).message}`);
      }
      return { kid: k.kid, privateKey, from: from ?? Number.NEGATIVE_INFINITY };
    }).sort((a, b) => a.from - b.from);
    const kids = new Set(this.#keys.map((k) => k.kid));
    if (kids.size !== this.#keys.length) throw new KeyError('signing keys: the same kid appears twice');
  }

  /** The key to sign with at `now`; undefined before the first key's `from`. */
  current(now: number): SigningKey | undefined {
    let found: SigningKey | undefined;
    for (const k of this.#keys) if (k.from <= now) found = { kid: k.kid, privateKey: k.privateKey };
    return found;
  }
}
