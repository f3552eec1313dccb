// Compact JWS (RFC 7515) with EdDSA over Ed25519 (RFC 8037): header.payload.signature, each part
// base64url. The signature covers the ASCII bytes of "header.payload" exactly as they travel.
import { sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { decodeBase64url, encodeBase64url } from './base64url';
import { canonicalJson } from './canonical';
import { ALG, JWS_TYPE } from './envelope';

export interface JwsHeader {
  alg: typeof ALG;
  kid: string;
  typ: typeof JWS_TYPE;
}

/** A compact JWS split into its parts, nothing verified yet. */
export interface JwsParts {
  headerText: string;
  payloadText: string;
  signature: Buffer;
  /** The bytes the signature covers: "header.payload" as received. */
  signingInput: Buffer;
}

/** Signs `payload` (already canonical JSON text) with `privateKey` under `kid`. */
export function signCompact(kid: string, payloadJson: string, privateKey: KeyObject): string {
  const header: JwsHeader = { alg: ALG, kid, typ: JWS_TYPE };
  const input = `${encodeBase64url(canonicalJson(header))}.${encodeBase64url(payloadJson)}`;
  const signature = cryptoSign(null, Buffer.from(input, 'ascii'), privateKey);
  return `${input}.${signature.toString('base64url')}`;
}

/** Splits a compact JWS; a string naming what is wrong when it is not one. */
export function splitCompact(jws: string): JwsParts | string {
  const first = jws.indexOf('.');
  const second = first < 0 ? -1 : jws.indexOf('.', first + 1);
  if (first < 0 || second < 0 || jws.indexOf('.', second + 1) >= 0) return 'not a compact JWS (three base64url parts separated by dots)';
  const header = decodeBase64url(jws.slice(0, first));
  const payload = decodeBase64url(jws.slice(first + 1, second));
  const signature = decodeBase64url(jws.slice(second + 1));
  if (!header || header.length === 0) return 'the JWS header is not base64url';
  if (!payload || payload.length === 0) return 'the JWS payload is not base64url';
  if (!signature) return 'the JWS signature is not base64url';
  return {
    headerText: header.toString('utf8'),
    payloadText: payload.toString('utf8'),
    signature,
    signingInput: Buffer.from(jws.slice(0, second), 'ascii'),
  };
}

/** Ed25519 verification over the received bytes. Ed25519 signatures are exactly 64 bytes. */
export function verifySignature(parts: JwsParts, publicKey: KeyObject): boolean {
  if (parts.signature.length !== 64) return false;
  return cryptoVerify(null, parts.signingInput, publicKey, parts.signature);
}
