// Node-RED adapter for command-sign: signs commands and desired changes as compact JWS (EdDSA) with
// the private key held in this node's credentials, numbering them with a per-issuer seq that
// survives restarts, and switching to the next key at the configured time (rotation).
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { Request, Response } from 'express';
import { acquireSeqCounter, createEnvelope, generateKeyPair, sign, SigningKeyRing, type RotatingKeyInput } from '../lib/signing';
import { signRequestFrom } from './sign-core';

interface CommandSignDef extends NodeDef {
  kid: string;
  issuer: string;
  audience: string;
  ttl: number | string;
  nextKid: string;
  switchAt: string;
}

interface Credentials {
  privateKey?: string;
  nextPrivateKey?: string;
}

export = function register(RED: NodeAPI): void {
  function CommandSign(this: Node<Credentials>, config: CommandSignDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const credentials = node.credentials ?? {};
    const issuer = (config.issuer ?? '').trim();
    const audience = (config.audience ?? '').trim();
    const ttlSeconds = Number(config.ttl === '' || config.ttl === undefined ? 30 : config.ttl);
    let ring: SigningKeyRing | undefined;
    let counter: ReturnType<typeof acquireSeqCounter> | undefined;
    let configError: string | undefined;
    let signed = 0;

    try {
      if (!issuer) throw new Error('issuer: who signs is required (e.g. operator-console)');
      if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > 86_400) throw new Error(`ttl: ${String(config.ttl)} is not a number of seconds between 0 and 86400`);
      if (!credentials.privateKey) throw new Error('private key: none in the credentials; generate a key pair in the dialog or paste one');
      const keys: RotatingKeyInput[] = [{ kid: (config.kid ?? '').trim(), privateKey: credentials.privateKey }];
      if ((config.nextKid ?? '').trim() !== '') {
        if (!credentials.nextPrivateKey) throw new Error(`next private key: the next key ${config.nextKid} has no private key in the credentials`);
        if (!(config.switchAt ?? '').trim()) throw new Error('switchAt: the time to switch to the next key is required');
        keys.push({ kid: config.nextKid.trim(), privateKey: credentials.nextPrivateKey, from: config.switchAt });
      }
      ring = new SigningKeyRing(keys);
      const file = path.join(RED.settings.userDir ?? process.cwd(), 'twinflow', 'signing', `seq-${createHash('sha256').update(issuer).digest('hex').slice(0, 16)}.json`);
      counter = acquireSeqCounter(file, issuer);
    } catch (err) {
      configError = (err as Error).message;
      node.error(`command-sign: ${configError}`);
    }

    const showStatus = (text?: string) => {
      if (configError) return node.status({ fill: 'red', shape: 'ring', text: configError });
      const key = ring?.current(Date.now());
      node.status({ fill: 'green', shape: 'dot', text: text ?? `${issuer} · key ${key?.kid ?? '(none yet)'} · ${signed} signed` });
    };
    showStatus();

    node.on('input', (msg: NodeMessageInFlow & Record<string, unknown>, send, done) => {
      try {
        if (configError || !ring || !counter) throw new Error(`command-sign: ${configError ?? 'not configured'}`);
        const now = Date.now();
        const key = ring.current(now);
        if (!key) throw new Error(`command-sign: no signing key is valid yet at ${new Date(now).toISOString()}`);
        const request = signRequestFrom(msg, audience);
        const envelope = createEnvelope({ iss: issuer, aud: request.aud, seq: counter.counter.next(), payload: request.payload, ttlMs: Math.round(ttlSeconds * 1000), ...(request.cmdId ? { cmdId: request.cmdId } : {}) }, key.kid, now);
        const jws = sign(envelope, key);
        signed++;
        showStatus();
        send({ ...msg, signed: jws, envelope, payload: jws });
        done();
      } catch (err) {
        const message = (err as Error).message;
        done(new Error(message.startsWith('command-sign') ? message : `command-sign: ${message}`));
      }
    });

    node.on('close', (done: () => void) => {
      counter?.release();
      counter = undefined;
      done();
    });
  }

  RED.nodes.registerType('command-sign', CommandSign as unknown as Parameters<NodeAPI['nodes']['registerType']>[1], {
    credentials: {
      privateKey: { type: 'password' },
      nextPrivateKey: { type: 'password' },
    },
  });

  // A fresh Ed25519 key pair for the dialog: the private key goes straight into a credential field
  // and is never shown again; the kid (the key's RFC 7638 thumbprint) and public key go into key sets.
  RED.httpAdmin.post('/twinflow/signing/generate-key', RED.auth.needsPermission('command-sign.write'), (_req: Request, res: Response) => {
    try {
      const pair = generateKeyPair();
      res.json({ kid: pair.kid, publicKey: JSON.stringify(pair.publicJwk), privateKey: pair.privatePem });
    } catch (err) {
      res.status(500).json({ error: (err as Error).message });
    }
  });

};
