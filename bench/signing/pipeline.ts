// The sign → verify (→ guard) pipeline as the benchmark measures it, exported so that later stages
// (the command guard) are measured the same way: pass `guard` and it runs on every verified command
// inside the timed section.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AuditLog } from '../../nodes/lib/audit';
import { createEnvelope, generateKeyPair, KeySet, loadPrivateKey, ReplayState, ReplayStore, sign, verify, type CommandEnvelope, type SigningKey, type VerifyOptions } from '../../nodes/lib/signing';

export interface LatencyStats {
  /** Commands per second over the whole run. */
  perSecond: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  count: number;
}

export interface PipelineOptions {
  count: number;
  /** Runs on each verified envelope, inside the timed section; throw to fail the run. */
  guard?: (envelope: CommandEnvelope, now: number) => unknown;
  /** Twins addressed, round robin (default 10). */
  twins?: number;
}

export function nowNs(): bigint {
  return process.hrtime.bigint();
}

export function stats(samplesNs: Float64Array, totalNs: number): LatencyStats {
  const sorted = Float64Array.from(samplesNs).sort();
  const at = (q: number) => (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number) / 1000;
  return { perSecond: samplesNs.length / (totalNs / 1e9), p50Us: at(0.5), p99Us: at(0.99), maxUs: (sorted[sorted.length - 1] as number) / 1000, count: samplesNs.length };
}

export interface Fixture {
  key: SigningKey;
  keys: KeySet;
  options: VerifyOptions;
  twins: string[];
}

export function fixture(twinCount = 10): Fixture {
  const pair = generateKeyPair();
  const twins = Array.from({ length: twinCount }, (_, i) => `cnc-${i + 1}`);
  return {
    key: { kid: pair.kid, privateKey: loadPrivateKey(pair.privatePem) },
    keys: new KeySet([{ kid: pair.kid, publicKey: pair.publicJwk }]),
    options: { audiences: twins, skewMs: 30_000, maxLifetimeMs: 300_000 },
    twins,
  };
}

function request(i: number): { name: string; request: { rpm: number } } {
  return { name: 'setSpindleSpeed', request: { rpm: 1000 + (i % 20) * 500 } };
}

/** Sign, verify (and guard) one command at a time, in memory: per-command latency and throughput on this thread. */
export function measureSignVerify(options: PipelineOptions, fx = fixture(options.twins)): LatencyStats {
  const state = new ReplayState();
  const samples = new Float64Array(options.count);
  let seq = 0;
  const start = nowNs();
  for (let i = 0; i < options.count; i++) {
    const t0 = nowNs();
    const now = Date.now();
    const envelope = createEnvelope({ iss: 'operator-console', aud: fx.twins[i % fx.twins.length] as string, seq: ++seq, payload: { command: request(i) } }, fx.key.kid, now);
    const jws = sign(envelope, fx.key);
    const result = verify(jws, fx.keys, state, now, fx.options);
    if (!result.ok) throw new Error(`benchmark command refused: ${result.reason}: ${result.message}`);
    if (options.guard) options.guard(result.envelope, now);
    samples[i] = Number(nowNs() - t0);
  }
  return stats(samples, Number(nowNs() - start));
}

/** Commands signed ahead of time (as the issuer's side would), for measuring the verifying side alone. */
export function presign(count: number, fx: Fixture): string[] {
  const signed: string[] = [];
  for (let i = 0; i < count; i++) {
    const envelope = createEnvelope({ iss: 'operator-console', aud: fx.twins[i % fx.twins.length] as string, seq: i + 1, payload: { command: request(i) } }, fx.key.kid, Date.now());
    signed.push(sign(envelope, fx.key));
  }
  return signed;
}

/**
 * The receiving side alone, in memory: verify (all checks, replay state) and the guard, per command.
 * This is the number the target (verified and guarded commands per second) is about.
 */
export function measureVerify(options: PipelineOptions, fx = fixture(options.twins), signed = presign(options.count, fx)): LatencyStats {
  const state = new ReplayState();
  const samples = new Float64Array(options.count);
  const start = nowNs();
  for (let i = 0; i < options.count; i++) {
    const t0 = nowNs();
    const now = Date.now();
    const result = verify(signed[i], fx.keys, state, now, fx.options);
    if (!result.ok) throw new Error(`benchmark command refused: ${result.reason}: ${result.message}`);
    if (options.guard) options.guard(result.envelope, now);
    samples[i] = Number(nowNs() - t0);
  }
  return stats(samples, Number(nowNs() - start));
}

/**
 * As signature-verify runs it: commands arrive `perTurn` per event-loop turn (Node-RED delivers
 * messages one per turn), each is verified, its replay entry journaled and its audit record
 * appended, and it is released once both are on disk. Appends group-commit: while one write (and
 * fdatasync) is in flight, the commands verified meanwhile queue for the next. Latency is from the
 * start of a command's verification to its release.
 */
export async function measureDurable(options: PipelineOptions & { perTurn?: number; sync?: boolean }, fx = fixture(options.twins)): Promise<LatencyStats> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'twinflow-bench-signing-'));
  const store = ReplayStore.open(path.join(dir, 'replay'), Date.now(), { sync: options.sync !== false });
  const audit = AuditLog.open(path.join(dir, 'audit.jsonl'), { sync: options.sync !== false });
  const samples = new Float64Array(options.count);
  const perTurn = options.perTurn ?? 1;
  try {
    const signed = presign(options.count, fx);
    const released: Promise<void>[] = [];
    const start = nowNs();
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      const turn = () => {
        try {
          for (let k = 0; k < perTurn && next < options.count; k++, next++) {
            const index = next;
            const t0 = nowNs();
            const now = Date.now();
            const result = verify(signed[index], fx.keys, store.state, now, fx.options);
            if (!result.ok) throw new Error(`benchmark command refused: ${result.reason}: ${result.message}`);
            if (options.guard) options.guard(result.envelope, now);
            released.push(Promise.all([
              store.record(result.replay),
              audit.append({ actor: result.envelope.iss, action: 'setSpindleSpeed', target: result.envelope.aud, decision: 'accepted', rule: 'signature-verify', reason: 'verified', snapshot: null, cmdId: result.envelope.cmdId }),
            ]).then(() => { samples[index] = Number(nowNs() - t0); }));
          }
          if (next < options.count) setImmediate(turn);
          else resolve();
        } catch (err) {
          reject(err as Error);
        }
      };
      turn();
    });
    await Promise.all(released);
    return stats(samples, Number(nowNs() - start));
  } finally {
    await store.close();
    await audit.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
