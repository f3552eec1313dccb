// settings.ts switches for real: adminAuth from environment variables protects the editor and the
// Admin API; HTTPS from two PEM files serves the editor over TLS; a bad setting stops with a clear message.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import https from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { packageRoot, startNodeRed, type NodeRedProcess } from '../support/node-red-process';

describe('settings from environment variables', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'twinflow-settings-'));
  let nodeRed: NodeRedProcess | undefined;

  after(async () => {
    await nodeRed?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('turns on adminAuth: the Admin API needs a token, which the configured user gets', async () => {
    nodeRed = await startNodeRed({ env: { TWINFLOW_ADMIN_USER: 'integrator', TWINFLOW_ADMIN_PASSWORD: 'correct horse' } });
    assert.equal((await nodeRed.request('GET', '/flows')).status, 401);
    const refused = await fetch(`${nodeRed.url}/auth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: '*', username: 'integrator', password: 'wrong' }),
    });
    assert.equal(refused.status, 403);
    const granted = await fetch(`${nodeRed.url}/auth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: '*', username: 'integrator', password: 'correct horse' }),
    });
    assert.equal(granted.status, 200);
    const { access_token: token } = (await granted.json()) as { access_token: string };
    assert.equal((await nodeRed.request('GET', '/flows', undefined, { Authorization: `Bearer ${token}` })).status, 200);
    await nodeRed.stop();
    nodeRed = undefined;
  });

  it('turns on HTTPS from a key and a certificate', async () => {
    const key = path.join(tmp, 'key.pem');
    const cert = path.join(tmp, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    nodeRed = await startNodeRed({ env: { TWINFLOW_HTTPS_KEY: key, TWINFLOW_HTTPS_CERT: cert } });
    assert.match(nodeRed.log, /Server now running at https:\/\/127\.0\.0\.1:/);
    const status = await new Promise<number>((resolve, reject) => {
      https.get(`https://127.0.0.1:${nodeRed!.port}/settings`, { rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    assert.equal(status, 200);
    await nodeRed.stop();
    nodeRed = undefined;
  });

  it('refuses half a configuration with a message naming the variables', () => {
    const settingsFile = path.join(packageRoot, 'dist', 'settings.js');
    const check = (env: Record<string, string>) => spawnSync(process.execPath, ['-e', `require(${JSON.stringify(settingsFile)})`], { env: { ...process.env, ...env }, encoding: 'utf8' });
    assert.match(check({ TWINFLOW_HTTPS_KEY: '/tmp/key.pem' }).stderr, /HTTPS needs both TWINFLOW_HTTPS_KEY and TWINFLOW_HTTPS_CERT/);
    assert.match(check({ TWINFLOW_ADMIN_USER: 'someone' }).stderr, /TWINFLOW_ADMIN_USER is set: set TWINFLOW_ADMIN_PASSWORD_HASH \(bcrypt\) or TWINFLOW_ADMIN_PASSWORD too/);
    assert.match(check({ TWINFLOW_PORT: 'eighty' }).stderr, /TWINFLOW_PORT: "eighty" is not a TCP port/);
    assert.equal(check({}).status, 0);
  });
});
