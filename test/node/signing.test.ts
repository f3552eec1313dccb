// key-set, audit-log, command-sign and signature-verify inside a real Node-RED runtime: signed
// commands and desired changes verified end to end, every rejection on output 2 with its reason and
// audited, replay protection and the signer's seq surviving a redeploy, and signed commands carried
// by Node-RED's own mqtt nodes through a real mosquitto, where a tampered copy is refused.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import helper from 'node-red-node-test-helper';
import mqtt from 'mqtt';
import { verifyAuditLog, type AuditRecord } from '../../nodes/lib/audit';
import { generateKeyPair, type GeneratedKeyPair } from '../../nodes/lib/signing';
import { startMosquitto, type Mosquitto } from '../support/mosquitto';
import { collector, eventually, loadFlow, onCall, statusOf, type Collector, type Message, nodeRedSuite } from '../support/node-helpers';
import keySetNode = require('../../nodes/key-set/key-set');
import auditLogNode = require('../../nodes/audit-log/audit-log');
import commandSignNode = require('../../nodes/command-sign/command-sign');
import signatureVerifyNode = require('../../nodes/signature-verify/signature-verify');

helper.init(require.resolve('node-red'));

const mqttNodes = require(path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core', 'network', '10-mqtt.js')) as unknown;
const nodes = [keySetNode, auditLogNode, commandSignNode, signatureVerifyNode];

let key: GeneratedKeyPair;
let verified: Collector;
let rejected: Collector;
let errors: string[];
let warnings: string[];

function flow(options: { keys?: unknown[]; verify?: Record<string, unknown>; sign?: Record<string, unknown>; extra?: unknown[] } = {}) {
  return [
    { id: 'keys', type: 'key-set', keys: options.keys ?? [{ kid: key.kid, publicKey: JSON.stringify(key.publicJwk) }] },
    { id: 'audit', type: 'audit-log', file: 'twinflow/audit/commands.jsonl' },
    { id: 'sign', type: 'command-sign', issuer: 'operator-console', audience: '', ttl: 30, kid: key.kid, wires: [['verify']], ...options.sign },
    { id: 'verify', type: 'signature-verify', keys: 'keys', audiences: 'cnc-1, cnc-2', skew: 30, maxLifetime: 300, audit: 'audit', wires: [['ok'], ['no']], ...options.verify },
    { id: 'ok', type: 'helper' },
    { id: 'no', type: 'helper' },
    ...(options.extra ?? []),
  ];
}

async function load(flowNodes: unknown[], extraNodes: unknown[] = []): Promise<void> {
  await loadFlow(helper, [...nodes, ...extraNodes], flowNodes, { sign: { privateKey: key.privatePem } });
  verified = collector(helper.getNode('ok'));
  rejected = collector(helper.getNode('no'));
  errors = [];
  warnings = [];
  onCall(helper.getNode('verify'), 'error', (args) => errors.push(String((args[0] as Error)?.message ?? args[0])));
  onCall(helper.getNode('verify'), 'warn', (args) => warnings.push(String(args[0])));
}

let counter = 0;
function inject(node: string, msg: Record<string, unknown>): string {
  const id = `m${++counter}`;
  helper.getNode(node).receive({ ...msg, _msgid: id });
  return id;
}

async function outcome(id: string): Promise<{ ok?: Message; no?: Message }> {
  return Promise.race([
    verified.waitFor((m) => m._msgid === id).then((m) => ({ ok: m })),
    rejected.waitFor((m) => m._msgid === id).then((m) => ({ no: m })),
  ]);
}

function auditRecords(): AuditRecord[] {
  return readFileSync(path.join(currentUserDir(), 'twinflow', 'audit', 'commands.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord);
}

/** Signs `msg` with command-sign wired to the 'signed' helper only (flows with SIGN_ONLY). */
async function signOnly(msg: Record<string, unknown>): Promise<Message> {
  const signed = collector(helper.getNode('signed'));
  const id = inject('sign', msg);
  return signed.waitFor((m) => m._msgid === id);
}

const SIGN_ONLY = { sign: { wires: [['signed']] }, extra: [{ id: 'signed', type: 'helper' }] };

// Hooks for every test of the file: the helper's server, and a fresh user directory per test.
const currentUserDir = nodeRedSuite(helper, 'signing');

describe('signing nodes', () => {
  before(() => {
    key = generateKeyPair();
  });

  it('signs a command and verifies it into the command contract, audited', async () => {
    await load(flow());
    const id = inject('sign', { command: { name: 'setSpindleSpeed', request: { rpm: 8000 }, id: 'cmd-1' }, twin: { id: 'cnc-1', model: 'dtmi:twinflow:cnc:CNCMachine;1' } });
    const { ok } = await outcome(id);
    assert.ok(ok, 'verified');
    const command = ok.command as { name: string; request: unknown; id: string; issuer: string; issuedAt: number };
    assert.deepEqual({ ...command, issuedAt: 0 }, { name: 'setSpindleSpeed', request: { rpm: 8000 }, id: 'cmd-1', issuer: 'operator-console', issuedAt: 0 });
    assert.ok(Math.abs(command.issuedAt - Date.now()) < 60_000);
    assert.deepEqual(ok.verified, { kid: key.kid, iss: 'operator-console', aud: 'cnc-1', seq: 1, cmdId: 'cmd-1' });
    assert.deepEqual(ok.twin, { id: 'cnc-1', model: 'dtmi:twinflow:cnc:CNCMachine;1' });
    assert.equal(ok.signed, undefined, 'the JWS is consumed');
    const records = auditRecords();
    assert.equal(records.length, 1);
    assert.deepEqual([records[0]!.decision, records[0]!.actor, records[0]!.action, records[0]!.target, records[0]!.cmdId], ['accepted', 'operator-console', 'setSpindleSpeed', 'cnc-1', 'cmd-1']);
    assert.deepEqual(ok.audit, { seq: 1, hash: records[0]!.hash });
    await eventually(() => /^1 verified · 0 rejected/.test(statusOf(helper.getNode('verify'))?.text ?? ''), 'status counts the verified command');
  });

  it('signs a desired change and verifies it back into topic, payload and desired', async () => {
    await load(flow({ sign: { audience: 'cnc-2' } }));
    const id = inject('sign', { topic: 'spindle/speedSetpoint', payload: 9000, desired: { version: 1, issuer: 'x' } });
    const { ok } = await outcome(id);
    assert.ok(ok);
    assert.equal(ok.topic, 'spindle/speedSetpoint');
    assert.equal(ok.payload, 9000);
    assert.equal((ok.desired as { issuer: string }).issuer, 'operator-console');
    assert.equal((ok.desired as { version: number }).version, 1);
    assert.equal(ok.command, undefined);
    assert.deepEqual(ok.twin, { id: 'cnc-2' });
  });

  it('rejects tampered, misaddressed and replayed commands on output 2 with the reason, audited; malformed input also reaches Catch', async () => {
    await load(flow(SIGN_ONLY));
    const good = await signOnly({ command: { name: 'start' }, twin: { id: 'cnc-1' } });
    const jws = good.signed as string;
    const [h, p, s] = jws.split('.') as [string, string, string];
    const tampered = `${h}.${Buffer.from(Buffer.from(p, 'base64url').toString().replace('"start"', '"stop"')).toString('base64url')}.${s}`;

    const t = await outcome(inject('verify', { payload: tampered }));
    assert.deepEqual((t.no!.rejection as { reason: string }).reason, 'bad-signature');

    const okFirst = await outcome(inject('verify', { payload: Buffer.from(jws) }));
    assert.ok(okFirst.ok, 'a Buffer payload (as mqtt in gives) is verified');
    const replay = await outcome(inject('verify', { signed: jws }));
    assert.equal((replay.no!.rejection as { reason: string }).reason, 'replayed-seq');

    const wrong = await signOnly({ command: { name: 'start' }, twin: { id: 'cnc-9' } });
    const misaddressed = await outcome(inject('verify', { signed: wrong.signed }));
    assert.equal((misaddressed.no!.rejection as { reason: string; message: string }).reason, 'wrong-audience');
    assert.match((misaddressed.no!.rejection as { message: string }).message, /addressed to cnc-9 \(this verifier serves cnc-1, cnc-2\)/);

    const malformed = await outcome(inject('verify', { payload: 'hello' }));
    assert.equal((malformed.no!.rejection as { reason: string }).reason, 'malformed');
    await eventually(() => errors.some((e) => /rejected \(malformed\)/.test(e)), 'malformed input reached Catch');
    assert.ok(warnings.some((w) => /rejected \(bad-signature\)/.test(w)), 'expected rejections are warnings');
    assert.ok(!errors.some((e) => /bad-signature|replayed-seq|wrong-audience/.test(e)), 'expected rejections are not errors');

    const records = auditRecords();
    assert.deepEqual(records.map((r) => `${r.decision}:${r.rule}`), ['rejected:bad-signature', 'accepted:signature-verify', 'rejected:replayed-seq', 'rejected:wrong-audience', 'rejected:malformed']);
    assert.equal(records[2]!.actor, 'operator-console');
    assert.equal(records[0]!.details?.authenticated, false, 'a forged command\'s claims are marked unauthenticated');
    assert.ok((await verifyAuditLog(path.join(currentUserDir(), 'twinflow', 'audit', 'commands.jsonl'))).ok);

    const report = await outcome(inject('verify', { action: 'verify-audit' }));
    assert.match(String(report.no!.payload), /^audit log intact: 5 records/);
  });

  it('a replay after a redeploy is still refused, and the signer never reuses a seq', async () => {
    await load(flow(SIGN_ONLY));
    const first = await signOnly({ command: { name: 'start' }, twin: { id: 'cnc-1' } });
    assert.ok((await outcome(inject('verify', { signed: first.signed }))).ok);
    await helper.unload();
    await load(flow(SIGN_ONLY));
    const replay = await outcome(inject('verify', { signed: first.signed }));
    assert.equal((replay.no!.rejection as { reason: string }).reason, 'replayed-seq');
    const second = await signOnly({ command: { name: 'start' }, twin: { id: 'cnc-1' } });
    assert.ok((second.envelope as { seq: number }).seq > (first.envelope as { seq: number }).seq, 'the seq continues after the restart');
    assert.ok((await outcome(inject('verify', { signed: second.signed }))).ok);
    // The audit chain continued across the redeploy.
    assert.deepEqual(auditRecords().map((r) => r.seq), [1, 2, 3]);
    assert.ok((await verifyAuditLog(path.join(currentUserDir(), 'twinflow', 'audit', 'commands.jsonl'))).ok);
  });

  it('rotation: a command signed with the next key after the switch verifies once the key set trusts it', async () => {
    const next = generateKeyPair();
    const keys = [
      { kid: key.kid, publicKey: JSON.stringify(key.publicJwk) },
      { kid: next.kid, publicKey: next.publicPem, notBefore: '2020-01-01T00:00:00Z' },
    ];
    await loadFlow(helper, nodes, flow({ keys, sign: { nextKid: next.kid, switchAt: '2020-06-01T00:00:00Z' } }), { sign: { privateKey: key.privatePem, nextPrivateKey: next.privatePem } });
    verified = collector(helper.getNode('ok'));
    rejected = collector(helper.getNode('no'));
    const { ok } = await outcome(inject('sign', { command: { name: 'start' }, twin: { id: 'cnc-1' } }));
    assert.equal((ok!.verified as { kid: string }).kid, next.kid);
  });

  it('configuration errors are named in the status and the log, and every input is refused', async () => {
    await loadFlow(helper, nodes, flow({ keys: [{ kid: 'k', publicKey: 'not a key' }] }), { sign: { privateKey: key.privatePem } });
    const verify = helper.getNode('verify');
    assert.match(statusOf(verify)?.text ?? '', /keys: key 1 \(k\): publicKey: not a public key/);
    await helper.unload();
    await loadFlow(helper, nodes, flow(), {});
    assert.match(statusOf(helper.getNode('sign'))?.text ?? '', /private key: none in the credentials/);
    const signErrors: string[] = [];
    onCall(helper.getNode('sign'), 'error', (args) => signErrors.push(String((args[0] as Error)?.message ?? args[0])));
    helper.getNode('sign').receive({ command: { name: 'start' }, twin: { id: 'cnc-1' } });
    await eventually(() => signErrors.some((e) => /private key: none/.test(e)), 'the input was refused with the reason');
  });

  it('command-sign refuses messages without a command or target, naming the field', async () => {
    await load(flow(SIGN_ONLY));
    const signErrors: string[] = [];
    onCall(helper.getNode('sign'), 'error', (args) => signErrors.push(String((args[0] as Error)?.message ?? args[0])));
    helper.getNode('sign').receive({ command: { name: 'start' } });
    helper.getNode('sign').receive({ command: { name: '' }, twin: { id: 'cnc-1' } });
    helper.getNode('sign').receive({ payload: 1, twin: { id: 'cnc-1' } });
    await eventually(() => signErrors.length === 3, 'three errors');
    assert.match(signErrors[0]!, /twin\.id: no audience/);
    assert.match(signErrors[1]!, /command\.name: must be a non-empty string/);
    assert.match(signErrors[2]!, /nothing to sign/);
  });

  it('the dialog route generates a key pair whose private key signs what its public key verifies', async () => {
    await load(flow());
    const res = await helper.request().post('/twinflow/signing/generate-key').send({}).expect(200);
    const pair = res.body as { kid: string; publicKey: string; privateKey: string };
    assert.match(pair.privateKey, /BEGIN PRIVATE KEY/);
    await helper.unload();
    key = { kid: pair.kid, publicJwk: JSON.parse(pair.publicKey), publicPem: '', privatePem: pair.privateKey };
    await load(flow());
    const { ok } = await outcome(inject('sign', { command: { name: 'start' }, twin: { id: 'cnc-1' } }));
    assert.equal((ok!.verified as { kid: string }).kid, pair.kid);
  });

  it('the audit-log dialog route verifies the chain of the deployed log', async () => {
    await load(flow());
    await outcome(inject('sign', { command: { name: 'start' }, twin: { id: 'cnc-1' } }));
    const res = await helper.request().get('/twinflow/audit/audit/verify').expect(200);
    assert.equal(res.body.ok, true);
    assert.equal(res.body.records, 1);
    await helper.request().get('/twinflow/audit/nope/verify').expect(404);
  });

  it('an unreadable replay state refuses every command (fail closed) and names the file', async () => {
    mkdirSync(path.join(currentUserDir(), 'twinflow', 'signing'), { recursive: true });
    writeFileSync(path.join(currentUserDir(), 'twinflow', 'signing', 'replay-keys.json'), '{"format":');
    await load(flow());
    assert.match(statusOf(helper.getNode('verify'))?.text ?? '', /replay state in .*replay-keys\.json\/\.journal cannot be read/);
    inject('sign', { command: { name: 'start' }, twin: { id: 'cnc-1' } });
    await eventually(() => errors.some((e) => /cannot be read/.test(e) && !/^signature-verify: keys/.test(e)), 'the command was refused with the reason');
    assert.equal(verified.messages.length, 0);
  });

  describe('over MQTT through a real mosquitto', () => {
    let broker: Mosquitto;
    before(async () => { broker = await startMosquitto(); });
    after(async () => { await broker?.stop(); });

    it('signed commands pass command-sign → mqtt out → mosquitto → mqtt in → signature-verify; a tampered copy injected by another client is refused', async () => {
      const topic = 'plant/cnc-1/commands';
      await load(flow({
        sign: { wires: [['mqout', 'signed']] },
        extra: [
          { id: 'signed', type: 'helper' },
          { id: 'broker', type: 'mqtt-broker', broker: '127.0.0.1', port: String(broker.port), clientid: '', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true },
          { id: 'mqout', type: 'mqtt out', broker: 'broker', topic, qos: '1', retain: 'false' },
          { id: 'mqin', type: 'mqtt in', broker: 'broker', topic, qos: '1', datatype: 'utf8', wires: [['verify']] },
        ],
      }), [mqttNodes]);
      // Node-RED's mqtt out drops (does not queue) what it gets before its broker connection is up.
      await eventually(() => (helper.getNode('mqout') as unknown as { brokerConn?: { connected?: boolean } }).brokerConn?.connected === true, 'the mqtt broker connection is up', 20_000);
      await eventually(() => /connected/.test(statusOf(helper.getNode('mqin'))?.text ?? ''), 'mqtt in connected', 20_000);
      for (let i = 0; i < 5; i++) helper.getNode('sign').receive({ command: { name: 'setSpindleSpeed', request: { rpm: 1000 * (i + 1) }, id: `mq-${i}` }, twin: { id: 'cnc-1' } });
      await eventually(() => verified.messages.length === 5, 'five commands verified after the broker', 20_000);
      assert.deepEqual(verified.messages.map((m) => (m.command as { request: { rpm: number } }).request.rpm), [1000, 2000, 3000, 4000, 5000]);

      // Another client on the broker sees a genuine command go by, publishes a tampered copy, then replays it.
      const intruder = await mqtt.connectAsync(broker.url);
      try {
        const seen = new Promise<string>((resolve) => intruder.on('message', (_t, bytes) => resolve(bytes.toString())));
        await intruder.subscribeAsync(topic, { qos: 1 });
        await signOnly({ command: { name: 'setSpindleSpeed', request: { rpm: 100 } }, twin: { id: 'cnc-1' } });
        const genuine = await seen;
        await eventually(() => verified.messages.length === 6, 'the genuine command passed', 20_000);
        const [h, p, s] = genuine.split('.') as [string, string, string];
        const raised = Buffer.from(Buffer.from(p, 'base64url').toString().replace('"rpm":100', '"rpm":99000')).toString('base64url');
        assert.notEqual(raised, p);
        await intruder.publishAsync(topic, `${h}.${raised}.${s}`, { qos: 1 });
        await eventually(() => rejected.messages.some((m) => (m.rejection as { reason: string }).reason === 'bad-signature'), 'the tampered command was refused', 20_000);
        await intruder.publishAsync(topic, genuine, { qos: 1 });
        await eventually(() => rejected.messages.some((m) => (m.rejection as { reason: string }).reason === 'replayed-seq'), 'the replayed command was refused', 20_000);
      } finally {
        await intruder.endAsync();
      }
      assert.equal(verified.messages.length, 6);
      assert.equal((verified.messages[5]!.command as { request: { rpm: number } }).request.rpm, 100);
      assert.ok(!verified.messages.some((m) => (m.command as { request: { rpm: number } }).request.rpm === 99000), 'the tampered value never got through');
      assert.deepEqual(auditRecords().map((r) => r.decision), ['accepted', 'accepted', 'accepted', 'accepted', 'accepted', 'accepted', 'rejected', 'rejected']);
    });
  });
});
