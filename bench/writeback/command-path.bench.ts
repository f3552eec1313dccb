// The safe command path on one core. On the machine's side, per command: the verifier checks key, signature, audience, times, seq and replay, and the guard checks role,
// rate limit, interlocks, range and rate of change against twin state; commands are signed
// beforehand (the issuer's side is measured on its own). Throughput and per-command latency (p50,
// p99), beside the floor a user would hand-roll: Node's raw Ed25519 verify of a JSON body, with no
// envelope checks, no replay protection and no guard.
// The optimizer repeats its setpoint (a change of 0 passes the rate-of-change check at any pace).
// Targets: at least 5,000 verified and guarded commands/s, p99 under 1 ms.
import { createPrivateKey, createPublicKey, sign as rawSign, verify as rawVerify } from 'node:crypto';
import os from 'node:os';
import { CommandGuard, type GuardSettings } from '../../nodes/command-guard/guard-core';
import { KeySet, ReplayState, createEnvelope, generateKeyPair, sign, verify, type KeyText } from '../../nodes/lib/signing';

const COMMANDS = Number(process.env.TWINFLOW_BENCH_COMMANDS ?? 20_000);
const ROUNDS = 3;

const settings: GuardSettings = {
  roles: [{ role: 'optimizer', issuers: ['optimizer'], allow: ['spindle/speedSetpoint'] }],
  rateLimits: [{ target: '*', perIssuer: true, max: 1_000_000, windowMs: 1000 }],
  interlocks: [{ target: '*', path: 'machineState', op: '!=', value: 'emergencyStop', text: 'no changes in an emergency stop' }],
  ranges: [{ target: 'spindle/speedSetpoint', min: 0, max: { path: 'spindle/maxSpeed' } }],
  ramps: [{ target: 'spindle/speedSetpoint', ratePerSecond: 1e9, mode: 'reject', periodMs: 1000 }],
  approvals: [],
  whatIf: [],
  whatIfTimeoutMs: 10_000,
};
const twinState: Record<string, unknown> = { machineState: 'running', 'spindle/maxSpeed': 12000, 'spindle/speedSetpoint': 1000 };

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Result { perSecond: number; p50: number; p99: number }

function measure(one: (i: number) => void): Result {
  const latencies = new Float64Array(COMMANDS);
  for (let i = 0; i < 500; i++) one(-1 - i); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < COMMANDS; i++) {
    const t0 = process.hrtime.bigint();
    one(i);
    latencies[i] = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  latencies.sort();
  return { perSecond: COMMANDS / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** The issuer's side, measured on its own: envelope + canonical JSON + Ed25519 compact JWS. */
function signer(): { sign: (i: number) => string; kid: string; publicJwk: JsonWebKey } {
  const pair = generateKeyPair('optimizer-2026');
  const signingKey = { kid: pair.kid, privateKey: createPrivateKey(pair.privatePem) };
  let seq = 0;
  return {
    kid: pair.kid,
    publicJwk: pair.publicJwk,
    sign: () => sign(createEnvelope({ iss: 'optimizer', aud: 'cnc-1', seq: ++seq, payload: { desired: { topic: 'spindle/speedSetpoint', value: 1000 } } }, pair.kid, Date.now()), signingKey),
  };
}

/** The machine's side: verify (key, signature, audience, times, seq, replay) and guard, per command. */
function verifyAndGuard(): (i: number) => void {
  const issuer = signer();
  const signed = Array.from({ length: COMMANDS + 500 }, (_, i) => issuer.sign(i));
  const keys = new KeySet([{ kid: issuer.kid, publicKey: issuer.publicJwk as KeyText }]);
  const replay = new ReplayState();
  const guard = new CommandGuard(settings, (_twin, p) => twinState[p]);
  let next = 0;
  return () => {
    const now = Date.now();
    const checked = verify(signed[next++], keys, replay, now, { audiences: ['cnc-1'] });
    if (!checked.ok) throw new Error(`verify refused a good command: ${checked.message}`);
    const d = (checked.envelope.payload as { desired: { topic: string; value: number } }).desired;
    const verdict = guard.check({ id: checked.envelope.cmdId, kind: 'desired', target: d.topic, value: d.value, issuer: checked.envelope.iss, twin: checked.envelope.aud, receivedAt: now }, now);
    if (verdict.decision !== 'passed') throw new Error(`guard refused a good command: ${verdict.reason}`);
  };
}

/** The hand-rolled floor: raw Ed25519 verify of a signed JSON body, then JSON.parse. */
function rawVerifyOnly(): (i: number) => void {
  const pair = generateKeyPair();
  const privateKey = createPrivateKey(pair.privatePem);
  const publicKey = createPublicKey(pair.publicPem);
  const signed = Array.from({ length: COMMANDS + 500 }, (_, i) => {
    const body = Buffer.from(JSON.stringify({ topic: 'spindle/speedSetpoint', value: 1000, iss: 'optimizer', n: i }));
    return { body, signature: rawSign(null, body, privateKey) };
  });
  let next = 0;
  return () => {
    const { body, signature } = signed[next++]!;
    if (!rawVerify(null, body, publicKey, signature)) throw new Error('raw verify failed');
    JSON.parse(body.toString());
  };
}

function rawSignOnly(): (i: number) => void {
  const privateKey = createPrivateKey(generateKeyPair().privatePem);
  return (i) => { rawSign(null, Buffer.from(JSON.stringify({ topic: 'spindle/speedSetpoint', value: 1000, iss: 'optimizer', n: i })), privateKey); };
}

function main(): void {
  console.log(`command path: sign + verify + guard, ${COMMANDS} commands x ${ROUNDS} rounds, one core`);
  console.log(`${new Date().toISOString().slice(0, 10)} · ${os.cpus()[0]?.model.trim()} · ${os.cpus().length} cores · Node ${process.version}`);
  const best = (make: () => (i: number) => void): Result => {
    const runs = Array.from({ length: ROUNDS }, () => measure(make()));
    return runs.sort((a, b) => b.perSecond - a.perSecond)[Math.floor(ROUNDS / 2)]!;
  };
  const ours = best(verifyAndGuard);
  const floor = best(rawVerifyOnly);
  const signing = best(() => signer().sign);
  const rawSigning = best(rawSignOnly);
  const ms = (x: number) => `${(x * 1000).toFixed(0)} µs`;
  const row = (name: string, r: Result) => console.log(`| ${name} | ${Math.round(r.perSecond).toLocaleString('en')} | ${ms(r.p50)} | ${ms(r.p99)} |`);
  console.log('| per command | commands/s | p50 | p99 |');
  console.log('|---|---:|---:|---:|');
  row('Twinflow verify (key, signature, audience, times, seq, replay) + guard', ours);
  row('raw Ed25519 verify + JSON.parse (no checks, no guard)', floor);
  row('Twinflow sign (envelope, canonical JSON, compact JWS)', signing);
  row('raw Ed25519 sign over JSON.stringify', rawSigning);
  console.log(`ratio verify+guard / raw verify: ${(ours.perSecond / floor.perSecond).toFixed(2)}×; sign / raw sign: ${(signing.perSecond / rawSigning.perSecond).toFixed(2)}×`);
  console.log(`targets (>= 5,000 verified and guarded commands/s, p99 < 1 ms): ${ours.perSecond >= 5000 && ours.p99 < 1 ? 'met' : 'NOT met'}`);
}

main();
