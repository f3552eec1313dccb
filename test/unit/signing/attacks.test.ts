// The attack suite: every forged, tampered, replayed, mistimed or misaddressed command is refused
// with its own reason, and none is accepted. Plus the accepted edges (within skew, rotation overlap).
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, createHmac, sign as cryptoSign } from 'node:crypto';
import { describe, test } from 'node:test';
import { canonicalJson, createEnvelope, loadPrivateKey, ReplayState, sign, signCompact, type CommandEnvelope } from '../../../nodes/lib/signing';
import { AUD, b64, check, COMMAND, ISS, keySetOf, newKey, OPTIONS, parts, signed, T0, type TestKey } from './helpers';

const key = newKey('key-2026');
const keys = keySetOf({ kid: key.kid, publicKey: key.publicJwk });

function refused(result: ReturnType<typeof check>, reason: string, message?: RegExp): void {
  assert.equal(result.ok, false, `expected a refusal (${reason}), but the command was accepted`);
  if (result.ok) return;
  assert.equal(result.reason, reason, result.message);
  if (message) assert.match(result.message, message);
}

function accepted(result: ReturnType<typeof check>): CommandEnvelope {
  assert.ok(result.ok, result.ok ? '' : `${result.reason}: ${result.message}`);
  return result.envelope;
}

/** Re-signs header and payload texts exactly as given, with `signer`'s private key. */
function rawSign(headerText: string, payloadText: string, signer: TestKey): string {
  const input = `${b64(headerText)}.${b64(payloadText)}`;
  return `${input}.${cryptoSign(null, Buffer.from(input), createPrivateKey(signer.privatePem)).toString('base64url')}`;
}

describe('signature-verify: a good command', () => {
  test('is accepted once, with its envelope, and recorded for replay protection', () => {
    const state = new ReplayState();
    const { jws, envelope } = signed(key);
    const result = check(jws, keys, state);
    assert.deepEqual(accepted(result), envelope);
    assert.equal(state.lastSeq(ISS), envelope.seq);
    assert.ok(state.hasNonce(envelope.nonce, T0) && state.hasCmdId(envelope.cmdId, T0));
    assert.deepEqual(envelope.payload, COMMAND);
  });

  test('a desired change is signed and verified the same way', () => {
    const env = createEnvelope({ iss: ISS, aud: AUD, seq: 1, payload: { desired: { topic: 'spindle/speedSetpoint', value: 9000 } } }, key.kid, T0);
    const jws = sign(env, { kid: key.kid, privateKey: loadPrivateKey(key.privatePem) });
    assert.deepEqual(accepted(check(jws, keys)).payload, { desired: { topic: 'spindle/speedSetpoint', value: 9000 } });
  });

  test('keys load from PEM as well as JWK', () => {
    const pemKeys = keySetOf({ kid: key.kid, publicKey: key.publicPem });
    accepted(check(signed(key).jws, pemKeys));
  });
});

describe('signature-verify: forged and tampered commands', () => {
  test('forged signature: signed with another key under our kid', () => {
    const attacker = newKey(key.kid);
    refused(check(signed(attacker).jws, keys), 'bad-signature', /does not verify with key key-2026/);
  });

  test('tampered payload: one byte of the payload changed', () => {
    const { jws } = signed(key);
    const [h, p, s] = parts(jws);
    const payload = Buffer.from(p, 'base64url').toString('utf8').replace('"rpm":8000', '"rpm":9000');
    refused(check(`${h}.${b64(payload)}.${s}`, keys), 'bad-signature');
    // A single flipped byte anywhere in the payload, too.
    const bytes = Buffer.from(p, 'base64url');
    for (const i of [0, 7, bytes.length >> 1, bytes.length - 1]) {
      const copy = Buffer.from(bytes);
      copy[i] = copy[i]! ^ 0x01;
      const result = check(`${h}.${copy.toString('base64url')}.${s}`, keys);
      assert.equal(result.ok, false, `flipped byte ${i} accepted`);
      assert.ok(['bad-signature', 'malformed'].includes((result as { reason: string }).reason));
    }
  });

  test('tampered payload with the same meaning: re-serialised JSON is not the signed bytes', () => {
    const { jws, envelope } = signed(key);
    const [h, , s] = parts(jws);
    // Same object, other key order and spacing: a verifier that re-serialised would accept it.
    const { payload, ...rest } = envelope;
    const reordered = JSON.stringify({ payload, ...rest }, null, 1);
    refused(check(`${h}.${b64(reordered)}.${s}`, keys), 'bad-signature');
  });

  test('tampered header: another typ, or an extra header field, under the original signature', () => {
    const { jws } = signed(key);
    const [, p, s] = parts(jws);
    refused(check(`${b64(canonicalJson({ alg: 'EdDSA', kid: key.kid, typ: 'JWT' }))}.${p}.${s}`, keys), 'malformed', /typ "JWT"/);
    // The same header fields in another order: not the bytes that were signed.
    refused(check(`${b64(JSON.stringify({ typ: 'twinflow-cmd+jws', kid: key.kid, alg: 'EdDSA' }))}.${p}.${s}`, keys), 'bad-signature');
    refused(check(`${b64(canonicalJson({ alg: 'EdDSA', kid: key.kid, typ: 'twinflow-cmd+jws', jku: 'http://evil' }))}.${p}.${s}`, keys), 'malformed', /"jku"/);
  });

  test('tampered signature: one bit flipped, truncated, extended, or empty', () => {
    const { jws } = signed(key);
    const [h, p, s] = parts(jws);
    const sig = Buffer.from(s, 'base64url');
    const flipped = Buffer.from(sig);
    flipped[10] = flipped[10]! ^ 0x80;
    refused(check(`${h}.${p}.${flipped.toString('base64url')}`, keys), 'bad-signature');
    refused(check(`${h}.${p}.${sig.subarray(0, 63).toString('base64url')}`, keys), 'bad-signature');
    refused(check(`${h}.${p}.${Buffer.concat([sig, Buffer.from([0])]).toString('base64url')}`, keys), 'bad-signature');
    refused(check(`${h}.${p}.`, keys), 'bad-signature');
  });

  test('alg "none" and unsigned tokens are refused before any key is looked up', () => {
    const { jws } = signed(key);
    const [, p] = parts(jws);
    refused(check(`${b64(JSON.stringify({ alg: 'none', kid: key.kid, typ: 'twinflow-cmd+jws' }))}.${p}.`, keys), 'unsupported-alg', /"none"/);
    refused(check(`${b64(JSON.stringify({ alg: 'NONE', kid: key.kid }))}.${p}.`, keys), 'unsupported-alg');
    refused(check(`${b64(JSON.stringify({ kid: key.kid, typ: 'twinflow-cmd+jws' }))}.${p}.`, keys), 'unsupported-alg');
  });

  test('alg confusion: HS256 with the public key as the HMAC secret, and ES256/RS256 headers', () => {
    const { envelope } = signed(key);
    const payload = b64(canonicalJson(envelope));
    for (const secret of [key.publicPem, JSON.stringify(key.publicJwk), (key.publicJwk as { x: string }).x]) {
      const header = b64(canonicalJson({ alg: 'HS256', kid: key.kid, typ: 'twinflow-cmd+jws' }));
      const mac = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
      refused(check(`${header}.${payload}.${mac}`, keys), 'unsupported-alg', /HS256/);
    }
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const header = b64(canonicalJson({ alg: 'ES256', kid: key.kid, typ: 'twinflow-cmd+jws' }));
    const sig = cryptoSign('sha256', Buffer.from(`${header}.${payload}`), { key: ec.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    refused(check(`${header}.${payload}.${sig}`, keys), 'unsupported-alg', /ES256/);
  });

  test('a key set refuses keys that are not Ed25519 (no RSA/EC key can stand in for a kid)', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'pem', type: 'spki' }) as string;
    assert.throws(() => keySetOf({ kid: 'rsa', publicKey: rsa }), /key 1 \(rsa\): publicKey: the public key is a rsa key, not Ed25519/);
    assert.throws(() => keySetOf({ kid: 'priv', publicKey: key.privatePem }), /private key; give the public key only/);
  });

  test('the envelope kid must be the header kid (a key cannot speak for another)', () => {
    const other = newKey('other');
    const both = keySetOf({ kid: key.kid, publicKey: key.publicJwk }, { kid: other.kid, publicKey: other.publicJwk });
    const env = createEnvelope({ iss: ISS, aud: AUD, seq: 5, payload: COMMAND }, other.kid, T0);
    const jws = signCompact(key.kid, canonicalJson(env), loadPrivateKey(key.privatePem));
    refused(check(jws, both), 'malformed', /names key other but the JWS header names key-2026/);
  });

  test('a signed payload that is not a valid envelope is refused as malformed, naming the field', () => {
    refused(check(rawSign(canonicalJson({ alg: 'EdDSA', kid: key.kid, typ: 'twinflow-cmd+jws' }), '{"v":1', key), keys), 'malformed', /not JSON/);
    const { envelope } = signed(key);
    const bad = { ...envelope, seq: -1 };
    refused(check(rawSign(canonicalJson({ alg: 'EdDSA', kid: key.kid, typ: 'twinflow-cmd+jws' }), JSON.stringify(bad), key), keys), 'malformed', /seq: -1 is not a positive integer/);
    const both = { ...envelope, payload: { command: { name: 'x' }, desired: { topic: 'a', value: 1 } } };
    refused(check(rawSign(canonicalJson({ alg: 'EdDSA', kid: key.kid, typ: 'twinflow-cmd+jws' }), JSON.stringify(both), key), keys), 'malformed', /exactly one of "command" or "desired"/);
    const extra = { ...envelope, admin: true };
    refused(check(rawSign(canonicalJson({ alg: 'EdDSA', kid: key.kid, typ: 'twinflow-cmd+jws' }), JSON.stringify(extra), key), keys), 'malformed', /unexpected field "admin"/);
  });

  test('malformed input: not a string, wrong number of parts, bad base64url, header not JSON', () => {
    refused(check(undefined, keys), 'malformed', /not undefined/);
    refused(check({ jws: 'x' }, keys), 'malformed', /not object/);
    refused(check('', keys), 'malformed');
    refused(check('a.b', keys), 'malformed', /three base64url parts/);
    refused(check('a.b.c.d', keys), 'malformed');
    const { jws } = signed(key);
    const [h, p, s] = parts(jws);
    refused(check(`${h}=.${p}.${s}`, keys), 'malformed', /header is not base64url/);
    refused(check(`${h}.${p}+.${s}`, keys), 'malformed', /payload is not base64url/);
    refused(check(`${b64('{alg:EdDSA}')}.${p}.${s}`, keys), 'malformed', /header is not JSON/);
    refused(check(`${b64('[1]')}.${p}.${s}`, keys), 'malformed', /not a JSON object/);
  });

  test('oversized input is refused before it is parsed', () => {
    const { jws } = signed(key);
    refused(check(jws + 'A'.repeat(20_000), keys), 'too-large', /more than the 16384 allowed/);
    const big = { command: { name: 'upload', request: { blob: 'x'.repeat(20_000) } } };
    const env = createEnvelope({ iss: ISS, aud: AUD, seq: 99, payload: big }, key.kid, T0);
    refused(check(sign(env, { kid: key.kid, privateKey: loadPrivateKey(key.privatePem) }), keys), 'too-large');
    refused(check('x'.repeat(10_000_000), keys), 'too-large');
  });
});

describe('signature-verify: replays', () => {
  test('the same command twice: the second is refused as a replayed seq', () => {
    const state = new ReplayState();
    const { jws } = signed(key);
    accepted(check(jws, keys, state));
    refused(check(jws, keys, state), 'replayed-seq', /not above the last accepted seq/);
  });

  test('an old seq (a command held back and sent after a newer one) is refused', () => {
    const state = new ReplayState();
    const older = signed(key);
    const newer = signed(key);
    accepted(check(newer.jws, keys, state));
    refused(check(older.jws, keys, state), 'replayed-seq');
  });

  test('replayed cmdId with a new seq and nonce is refused', () => {
    const state = new ReplayState();
    const first = signed(key, { cmdId: 'cmd-42' });
    accepted(check(first.jws, keys, state));
    refused(check(signed(key, { cmdId: 'cmd-42' }).jws, keys, state), 'replayed-cmdId', /cmd-42 was already accepted/);
  });

  test('replayed nonce with a new seq and cmdId is refused', () => {
    const state = new ReplayState();
    const first = signed(key, { nonce: 'nonce-0123456789abcdef' });
    accepted(check(first.jws, keys, state));
    refused(check(signed(key, { nonce: 'nonce-0123456789abcdef' }).jws, keys, state), 'replayed-nonce');
  });

  test('seq is per issuer: another issuer starts its own sequence', () => {
    const state = new ReplayState();
    accepted(check(signed(key, { seq: 100 }).jws, keys, state));
    accepted(check(signed(key, { seq: 1, iss: 'scheduler' }).jws, keys, state));
    refused(check(signed(key, { seq: 100, iss: ISS }).jws, keys, state), 'replayed-seq');
  });

  test('a refused command changes no replay state', () => {
    const state = new ReplayState();
    const late = signed(key, { seq: 500 }, T0 - 600_000);
    refused(check(late.jws, keys, state), 'expired');
    assert.equal(state.lastSeq(ISS), 0);
    assert.equal(state.rememberedIds, 0);
    accepted(check(signed(key, { seq: 10 }).jws, keys, state));
  });

  test('seen ids are forgotten once their command has expired, and their replay is still refused (as expired)', () => {
    const state = new ReplayState();
    const cmd = signed(key, { cmdId: 'c-1' });
    accepted(check(cmd.jws, keys, state));
    const later = cmd.envelope.exp + OPTIONS.skewMs! + 1;
    state.prune(later);
    assert.equal(state.rememberedIds, 0, 'memory is bounded');
    refused(check(cmd.jws, keys, state, later), 'expired');
  });

  test('when the replay memory is full, new commands are refused (fail closed)', () => {
    const state = new ReplayState(4);
    accepted(check(signed(key).jws, keys, state));
    accepted(check(signed(key).jws, keys, state));
    refused(check(signed(key).jws, keys, state), 'replay-state-full');
  });

  test('the replay state survives a snapshot and restore', () => {
    const state = new ReplayState();
    const cmd = signed(key, { cmdId: 'c-snap' });
    accepted(check(cmd.jws, keys, state));
    const restored = ReplayState.restore(JSON.parse(JSON.stringify(state.snapshot(T0))), T0);
    refused(check(cmd.jws, keys, restored), 'replayed-seq');
    refused(check(signed(key, { cmdId: 'c-snap' }).jws, keys, restored), 'replayed-cmdId');
    assert.throws(() => ReplayState.restore({ format: 'x' }, T0), /not a twinflow\/replay-state snapshot/);
  });
});

describe('signature-verify: time', () => {
  const SKEW = OPTIONS.skewMs!;

  test('expired beyond the skew is refused; expired within the skew is accepted', () => {
    const { jws, envelope } = signed(key);
    refused(check(jws, keys, new ReplayState(), envelope.exp + SKEW + 1), 'expired', /ago \(allowed clock skew 30 s\)/);
    accepted(check(jws, keys, new ReplayState(), envelope.exp + SKEW));
  });

  test('issued in the future beyond the skew is refused; within the skew is accepted', () => {
    const future = signed(key, {}, T0 + SKEW + 1);
    refused(check(future.jws, keys, new ReplayState(), T0), 'not-yet-valid', /in the future/);
    const edge = signed(key, {}, T0 + SKEW);
    accepted(check(edge.jws, keys, new ReplayState(), T0));
  });

  test('a lifetime longer than allowed is refused (it would outlive the replay memory)', () => {
    refused(check(signed(key, { exp: T0 + 300_001 }).jws, keys), 'lifetime-too-long');
    accepted(check(signed(key, { exp: T0 + 300_000 }).jws, keys));
  });
});

describe('signature-verify: keys', () => {
  test('unknown kid', () => {
    const stranger = newKey('stranger');
    refused(check(signed(stranger).jws, keys), 'unknown-key', /stranger is not in the key set/);
  });

  test('revoked key, and a key revoked from a time on', () => {
    const revoked = keySetOf({ kid: key.kid, publicKey: key.publicJwk, revoked: true });
    refused(check(signed(key).jws, revoked), 'key-revoked');
    const planned = keySetOf({ kid: key.kid, publicKey: key.publicJwk, revokedAt: T0 + 1000 });
    accepted(check(signed(key).jws, planned, new ReplayState(), T0 + 999));
    refused(check(signed(key, {}, T0 + 1000).jws, planned, new ReplayState(), T0 + 1000), 'key-revoked', /revoked since/);
  });

  test('key outside its validity window: before notBefore, at and after notAfter', () => {
    const windowed = keySetOf({ kid: key.kid, publicKey: key.publicJwk, notBefore: '2026-11-25T09:00:00Z', notAfter: '2026-11-25T11:00:00Z' });
    const nb = Date.parse('2026-11-25T09:00:00Z');
    const na = Date.parse('2026-11-25T11:00:00Z');
    refused(check(signed(key, {}, nb - 1).jws, windowed, new ReplayState(), nb - 1), 'key-not-yet-valid', /valid only from 2026-11-25T09:00:00.000Z/);
    accepted(check(signed(key, {}, nb).jws, windowed, new ReplayState(), nb));
    accepted(check(signed(key, {}, na - 1).jws, windowed, new ReplayState(), na - 1));
    refused(check(signed(key, {}, na).jws, windowed, new ReplayState(), na), 'key-expired', /expired at 2026-11-25T11:00:00.000Z/);
  });

  test('a key bound to issuers refuses to speak for another issuer', () => {
    const bound = keySetOf({ kid: key.kid, publicKey: key.publicJwk, issuers: 'operator-console, scheduler' });
    accepted(check(signed(key).jws, bound));
    refused(check(signed(key, { iss: 'intruder' }).jws, bound), 'issuer-not-allowed', /only for operator-console, scheduler/);
  });

  test('key set entries are checked, naming the entry and field', () => {
    assert.throws(() => keySetOf({ kid: '', publicKey: key.publicJwk }), /key 1: kid is required/);
    assert.throws(() => keySetOf({ kid: 'a', publicKey: key.publicJwk }, { kid: 'a', publicKey: key.publicJwk }), /key 2 \(a\): kid a appears twice/);
    assert.throws(() => keySetOf({ kid: 'a', publicKey: 'hello' }), /key 1 \(a\): publicKey: not a public key/);
    assert.throws(() => keySetOf({ kid: 'a', publicKey: key.publicJwk, notBefore: 'tomorrow' }), /notBefore: "tomorrow" is not an ISO 8601 time/);
    assert.throws(() => keySetOf({ kid: 'a', publicKey: key.publicJwk, notBefore: T0, notAfter: T0 }), /notAfter .* is not after notBefore/);
  });
});

describe('signature-verify: audience', () => {
  test('a command for another twin is refused, naming both', () => {
    refused(check(signed(key, { aud: 'cnc-2' }).jws, keys), 'wrong-audience', /addressed to cnc-2 \(this verifier serves cnc-1\)/);
  });

  test('several audiences, or a predicate', () => {
    const options = { ...OPTIONS, audiences: ['cnc-1', 'cnc-2'] };
    accepted(check(signed(key, { aud: 'cnc-2' }).jws, keys, new ReplayState(), T0, options));
    const prefix = { ...OPTIONS, audiences: (aud: string) => aud.startsWith('line-a/') };
    accepted(check(signed(key, { aud: 'line-a/cnc-9' }).jws, keys, new ReplayState(), T0, prefix));
    refused(check(signed(key, { aud: 'line-b/cnc-9' }).jws, keys, new ReplayState(), T0, prefix), 'wrong-audience');
  });
});

describe('signature-verify: key rotation', () => {
  // Old key valid until 12:00, new key from 11:00: one hour of overlap; the signer switches at 11:30.
  const oldKey = newKey('k-2026-a');
  const newKey_ = newKey('k-2026-b');
  const rotation = keySetOf(
    { kid: oldKey.kid, publicKey: oldKey.publicJwk, notAfter: '2026-11-25T12:00:00Z' },
    { kid: newKey_.kid, publicKey: newKey_.publicJwk, notBefore: '2026-11-25T11:00:00Z' },
  );
  const at = (time: string) => Date.parse(time);

  test('both kids are accepted during the overlap', () => {
    const state = new ReplayState();
    const now = at('2026-11-25T11:15:00Z');
    accepted(check(signed(oldKey, {}, now).jws, rotation, state, now));
    accepted(check(signed(newKey_, {}, now).jws, rotation, state, now));
  });

  test('the old kid is refused after its notAfter; the new one before its notBefore', () => {
    const late = at('2026-11-25T12:00:00Z');
    refused(check(signed(oldKey, {}, late).jws, rotation, new ReplayState(), late), 'key-expired');
    accepted(check(signed(newKey_, {}, late).jws, rotation, new ReplayState(), late));
    const early = at('2026-11-25T10:59:59.999Z');
    refused(check(signed(newKey_, {}, early).jws, rotation, new ReplayState(), early), 'key-not-yet-valid');
    accepted(check(signed(oldKey, {}, early).jws, rotation, new ReplayState(), early));
  });

  test('the seq sequence of an issuer continues across the key switch', () => {
    const state = new ReplayState();
    const now = at('2026-11-25T11:30:00Z');
    accepted(check(signed(oldKey, { seq: 7000 }, now).jws, rotation, state, now));
    refused(check(signed(newKey_, { seq: 7000 }, now).jws, rotation, state, now), 'replayed-seq');
    accepted(check(signed(newKey_, { seq: 7001 }, now).jws, rotation, state, now));
  });

  test('a command signed with the old key just before the switch, arriving after its notAfter, is refused', () => {
    const signedAt = at('2026-11-25T11:59:59Z');
    const arrives = at('2026-11-25T12:00:01Z');
    refused(check(signed(oldKey, {}, signedAt).jws, rotation, new ReplayState(), arrives), 'key-expired');
  });
});

describe('signature-verify: the order of checks', () => {
  test('each check runs only when the ones before it passed', () => {
    // Unknown key AND wrong audience AND expired: the key is named.
    const stranger = newKey('stranger');
    refused(check(signed(stranger, { aud: 'x' }, T0 - 3_600_000).jws, keys), 'unknown-key');
    // Forged AND wrong audience: the signature is named (the audience of a forged command is unknown).
    refused(check(signed(newKey(key.kid), { aud: 'x' }).jws, keys), 'bad-signature');
    // Wrong audience AND expired: audience first.
    refused(check(signed(key, { aud: 'x' }, T0 - 3_600_000).jws, keys), 'wrong-audience');
    // Expired AND replayed seq: time first.
    const state = new ReplayState();
    accepted(check(signed(key, { seq: 1000 }).jws, keys, state));
    refused(check(signed(key, { seq: 1000 }, T0 - 3_600_000).jws, keys, state), 'expired');
    // Replayed seq AND replayed cmdId: seq first.
    const c = signed(key, { seq: 2000, cmdId: 'dup' });
    accepted(check(c.jws, keys, state));
    refused(check(signed(key, { seq: 1500, cmdId: 'dup' }).jws, keys, state), 'replayed-seq');
  });

  test('random garbage never verifies (property)', async () => {
    const fc = (await import('fast-check')).default;
    const { jws } = signed(key);
    fc.assert(fc.property(fc.string({ maxLength: 400 }), fc.nat(jws.length - 1), (junk, at) => {
      const mutated = jws.slice(0, at) + junk + jws.slice(at + 1);
      if (mutated === jws) return;
      const result = check(mutated, keys);
      assert.equal(result.ok, false, `accepted a mutated token: ${mutated}`);
    }), { numRuns: 500 });
  });
});
