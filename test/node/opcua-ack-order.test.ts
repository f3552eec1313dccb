// The connection makes a publish cycle's samples only after node-opcua has sent the publish request
// that acknowledges the response they came in. The server keeps every notification until it is
// acknowledged, so per-value work done first held those acknowledgements up (and grew the
// server's garbage); see OpcuaConnection's #deliver and #flush. Checked against the simulator by
// watching node-opcua's session publish calls (a private module of node-opcua-client: what is
// under test is the order of our work against its requests).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClientSessionImpl } from 'node-opcua-client/dist/private/client_session_impl';
import { startCncServer, type CncServer } from '../../plant/cnc-server';
import { OpcuaConnection } from '../../nodes/opcua-endpoint/opcua-connection';
import { freePort } from '../support/ports';

const TAGS = 500;
const dir = mkdtempSync(path.join(os.tmpdir(), 'twinflow-ack-order-'));
let server: CncServer;
let connection: OpcuaConnection | undefined;

type PublishCallback = (err: Error | null, response?: { notificationMessage?: { notificationData?: unknown[] | null } }) => void;
const session = ClientSessionImpl.prototype as unknown as { publish(request: unknown, callback: PublishCallback): void };
const originalPublish = session.publish;

before(async () => {
  server = await startCncServer({ pkiDir: path.join(dir, 'server-pki'), port: await freePort(), host: '127.0.0.1', benchTags: TAGS, tickMs: 100 });
});

after(async () => {
  session.publish = originalPublish;
  await connection?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('each data-carrying publish response is acknowledged before any sample is made from it', async () => {
  // What happened, in order: a publish request sent, a response with data received, a sample made.
  const events: ('request' | 'response' | 'sample')[] = [];
  session.publish = function (this: unknown, request: unknown, callback: PublishCallback) {
    events.push('request');
    originalPublish.call(this, request, (err, response) => {
      if ((response?.notificationMessage?.notificationData?.length ?? 0) > 0) events.push('response');
      callback(err, response);
    });
  };
  connection = new OpcuaConnection({
    endpointUrl: server.endpointUrl,
    securityMode: 'None',
    securityPolicy: 'None',
    identity: { type: 'anonymous' },
    pkiDir: path.join(dir, 'client-pki'),
    acceptUnknownServerCertificate: true,
  });
  let cycles = 0;
  const itemErrors: string[] = [];
  connection.monitor({
    items: Array.from({ length: TAGS }, (_, i) => ({
      nodeId: `ns=1;s=Bench.Tag${String(i).padStart(5, '0')}`,
      name: `tag${i}`,
      samplingInterval: 100,
      deadbandType: 'none' as const,
      deadbandValue: 0,
      queueSize: 1,
    })),
    publishingInterval: 100,
    makeChange: (index) => {
      events.push('sample');
      return index;
    },
    onChanges: () => {
      cycles++;
    },
    onItemError: (_item, index, message) => itemErrors.push(`${index}: ${message}`),
  });
  const deadline = Date.now() + 30_000;
  while (cycles < 15 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(itemErrors, []);
  assert.ok(cycles >= 15, `15 publish cycles delivered within 30 s (got ${cycles})`);

  // After each response with data, the next request must come before the next sample.
  let checked = 0;
  for (let i = 0; i < events.length; i++) {
    if (events[i] !== 'response') continue;
    const nextSample = events.indexOf('sample', i + 1);
    if (nextSample === -1) continue;
    const nextRequest = events.indexOf('request', i + 1);
    assert.ok(nextRequest !== -1 && nextRequest < nextSample, `response at event ${i}: its acknowledging request (event ${nextRequest}) comes before its first sample (event ${nextSample})`);
    checked++;
  }
  assert.ok(checked >= 10, `${checked} data-carrying responses checked`);
});
