// Ed25519 keys: loading public and private keys from JWK or PEM, generating key pairs, and the key
// set a verifier trusts (by kid, with validity windows, revocation and optional issuer binding).
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';

export class KeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyError';
  }
}

/** A public or private key as a person pastes it: PEM text, a JWK object, or JWK JSON text. */
export type KeyText = string | JsonWebKey;

function asJwk(text: KeyText): JsonWebKey | undefined {
  if (typeof text !== 'string') return text;
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    return JSON.parse(trimmed) as JsonWebKey;
  } catch (err) {
    throw new KeyError(`not valid JWK JSON (${(err as Error).message})`);
  }
}

function requireEd25519(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') throw new KeyError(`${what} is a ${key.asymmetricKeyType ?? key.type} key, not Ed25519`);
  return key;
}

/** An Ed25519 public key from PEM (SPKI) or JWK ({ kty: 'OKP', crv: 'Ed25519', x }). Private keys are refused. */
export function loadPublicKey(text: KeyText): KeyObject {
  let key: KeyObject;
  try {
    const jwk = asJwk(text);
    if (jwk) {
      if (jwk.d !== undefined) throw new KeyError('this JWK holds a private key ("d"); give the public key only');
      key = createPublicKey({ key: jwk, format: 'jwk' });
    } else {
      if (/PRIVATE KEY/.test(text as string)) throw new KeyError('this PEM is a private key; give the public key only');
      key = createPublicKey(text as string);
    }
  } catch (err) {
    if (err instanceof KeyError) throw err;
    throw new KeyError(`not a public key in PEM or JWK form (${(err as Error).message})`);
  }
  return requireEd25519(key, 'the public key');
}

/** An Ed25519 private key from PEM (PKCS#8) or JWK (with "d"). */
export function loadPrivateKey(text: KeyText): KeyObject {
  let key: KeyObject;
  try {
    const jwk = asJwk(text);
    if (jwk && jwk.d === undefined) throw new KeyError('this JWK has no private part ("d")');
    key = jwk ? createPrivateKey({ key: jwk, format: 'jwk' }) : createPrivateKey(text as string);
  } catch (err) {
    if (err instanceof KeyError) throw err;
    throw new KeyError(`not a private key in PEM or JWK form (${(err as Error).message})`);
  }
  return requireEd25519(key, 'the private key');
}

/** The RFC 7638 JWK thumbprint (SHA-256, base64url) of an Ed25519 public key: a kid anyone can recompute. */
export function thumbprint(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  return createHash('sha256').update(`{"crv":"Ed25519","kty":"OKP","x":"${jwk.x as string}"}`).digest('base64url');
}

export interface GeneratedKeyPair {
  kid: string;
  /** The public key as a JWK (not secret: goes into key sets). */
  publicJwk: JsonWebKey;
  publicPem: string;
  /** The private key as PKCS#8 PEM (secret: only into credentials). */
  privatePem: string;
}

/** A fresh Ed25519 key pair; the kid is the public key's thumbprint unless one is given. */
export function generateKeyPair(kid?: string): GeneratedKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const publicJwk = publicKey.export({ format: 'jwk' });
  return {
    kid: kid ?? thumbprint(publicKey),
    publicJwk: { kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x },
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }) as string,
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
  };
}

/** A time as configured: milliseconds since the epoch or an ISO 8601 text; empty means unbounded. */
export type TimeInput = number | string | null | undefined;

export function parseTime(value: TimeInput, field: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new KeyError(`${field}: ${value} is not a time`);
    return value;
  }
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(ms)) throw new KeyError(`${field}: ${JSON.stringify(value)} is not an ISO 8601 time (e.g. 2026-11-25T10:00:00Z)`);
  return ms;
}

/** One trusted key as configured. */
export interface TrustedKeyInput {
  kid: string;
  publicKey: KeyText;
  notBefore?: TimeInput;
  notAfter?: TimeInput;
  /** true: refused from now on. */
  revoked?: boolean;
  /** Refused from this time on (a revocation planned or recorded with its time). */
  revokedAt?: TimeInput;
  /** When given, the key may only sign for these issuers. */
  issuers?: readonly string[] | string;
}

export interface TrustedKey {
  kid: string;
  key: KeyObject;
  notBefore?: number;
  /** Exclusive: the key is valid while now < notAfter. */
  notAfter?: number;
  revoked: boolean;
  revokedAt?: number;
  issuers?: ReadonlySet<string>;
}

export type KeyCheck =
  | { ok: true; key: TrustedKey }
  | { ok: false; reason: 'unknown-key' | 'key-not-yet-valid' | 'key-expired' | 'key-revoked'; message: string };

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The public keys a verifier trusts, by kid. Immutable: build a new set to change it. */
export class KeySet {
  readonly #keys = new Map<string, TrustedKey>();

  /** Throws a KeyError naming the entry and the field for every kind of bad input. */
  constructor(entries: readonly TrustedKeyInput[]) {
    entries.forEach((entry, i) => {
      const where = `key ${i + 1}${typeof entry?.kid === 'string' && entry.kid ? ` (${entry.kid})` : ''}`;
      if (typeof entry?.kid !== 'string' || entry.kid.trim() === '') throw new KeyError(`${where}: kid is required`);
      if (entry.kid.length > 256) throw new KeyError(`${where}: kid is longer than 256 characters`);
      if (this.#keys.has(entry.kid)) throw new KeyError(`${where}: kid ${entry.kid} appears twice`);
      let key: KeyObject;
      try {
        key = loadPublicKey(entry.publicKey);
      } catch (err) {
        throw new KeyError(`${where}: publicKey: ${(err as Error).message}`);
      }
      let notBefore: number | undefined;
      let notAfter: number | undefined;
      let revokedAt: number | undefined;
      try {
        notBefore = parseTime(entry.notBefore, 'notBefore');
        notAfter = parseTime(entry.notAfter, 'notAfter');
        revokedAt = parseTime(entry.revokedAt, 'revokedAt');
      } catch (err) {
        throw new KeyError(`${where}: ${(err as Error).message}`);
      }
      if (notBefore !== undefined && notAfter !== undefined && notAfter <= notBefore) throw new KeyError(`${where}: notAfter ${iso(notAfter)} is not after notBefore ${iso(notBefore)}`);
      const issuerList = typeof entry.issuers === 'string' ? entry.issuers.split(',') : (entry.issuers ?? []);
      const issuers = issuerList.map((s) => s.trim()).filter((s) => s !== '');
      this.#keys.set(entry.kid, {
        kid: entry.kid,
        key,
        ...(notBefore !== undefined ? { notBefore } : {}),
        ...(notAfter !== undefined ? { notAfter } : {}),
        revoked: entry.revoked === true,
        ...(revokedAt !== undefined ? { revokedAt } : {}),
        ...(issuers.length > 0 ? { issuers: new Set(issuers) } : {}),
      });
    });
  }

  get size(): number {
    return this.#keys.size;
  }

  kids(): string[] {
    return [...this.#keys.keys()];
  }

  get(kid: string): TrustedKey | undefined {
    return this.#keys.get(kid);
  }

  /** Whether `kid` is known and usable at `now`: revocation first, then the validity window. */
  check(kid: string, now: number): KeyCheck {
    const key = this.#keys.get(kid);
    if (!key) return { ok: false, reason: 'unknown-key', message: `key ${kid} is not in the key set` };
    if (key.revoked) return { ok: false, reason: 'key-revoked', message: `key ${kid} is revoked` };
    if (key.revokedAt !== undefined && now >= key.revokedAt) return { ok: false, reason: 'key-revoked', message: `key ${kid} is revoked since ${iso(key.revokedAt)}` };
    if (key.notBefore !== undefined && now < key.notBefore) return { ok: false, reason: 'key-not-yet-valid', message: `key ${kid} is valid only from ${iso(key.notBefore)}, now is ${iso(now)}` };
    if (key.notAfter !== undefined && now >= key.notAfter) return { ok: false, reason: 'key-expired', message: `key ${kid} expired at ${iso(key.notAfter)}, now is ${iso(now)}` };
    return { ok: true, key };
  }
}
