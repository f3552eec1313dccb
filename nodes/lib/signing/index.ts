// Command signing and verification: Ed25519 compact JWS over canonical JSON envelopes, key sets with
// validity windows, revocation and rotation, and replay protection that survives restarts.
// Pure TypeScript on Node's own crypto; no Node-RED. See README.md for the envelope and the checks.
export { canonicalJson, CanonicalJsonError } from './canonical';
export { decodeBase64url, encodeBase64url } from './base64url';
export { ALG, ENVELOPE_VERSION, JWS_TYPE, assertEnvelope, envelopeAction, envelopeProblem, payloadProblem, type CommandEnvelope, type EnvelopePayload } from './envelope';
export { signCompact, splitCompact, verifySignature, type JwsHeader, type JwsParts } from './jws';
export { KeyError, KeySet, generateKeyPair, loadPrivateKey, loadPublicKey, parseTime, thumbprint, type GeneratedKeyPair, type KeyCheck, type KeyText, type TimeInput, type TrustedKey, type TrustedKeyInput } from './keys';
export { REPLAY_FORMAT, ReplayState, type ReplayEntry, type ReplaySnapshot } from './replay';
export { SigningKeyRing, createEnvelope, sign, type EnvelopeInput, type RotatingKeyInput, type SigningKey } from './sign';
export { CHECK_OF_REASON, verify, type RejectionReason, type VerifyOptions, type VerifyResult } from './verify';
export { ReplayStore, SeqCounter, acquireSeqCounter, type ReplayLoadReport } from './store';
