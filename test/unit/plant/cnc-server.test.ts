// The simulated CNC machine over real OPC UA: a node-opcua client against the server on a free
// loopback port.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  AttributeIds,
  ClientMonitoredItem,
  ClientSubscription,
  DataType,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  TimestampsToReturn,
  UserTokenType,
  makeBrowsePath,
  type ClientSession,
  type DataValue,
  type UserIdentityInfo,
} from 'node-opcua';
import { BEARING_FAILURE_VIBRATION_RMS } from '../../../plant/cnc-model';
import { NAMESPACE_URI, startCncServer, type CncServer } from '../../../plant/cnc-server';
import { freePort } from '../../support/ports';

const temporaryDirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  temporaryDirs.push(dir);
  return dir;
}

interface Connection {
  client: OPCUAClient;
  session: ClientSession;
  certificateManager: OPCUACertificateManager;
  close(): Promise<void>;
}

/** A client whose own certificate lives in a temp dir (node-opcua's default is the user's config). */
function makeClient(options: { securityMode?: MessageSecurityMode; securityPolicy?: SecurityPolicy } = {}) {
  const certificateManager = new OPCUACertificateManager({ rootFolder: tempDir('twinflow-client-pki-'), automaticallyAcceptUnknownCertificate: true });
  const client = OPCUAClient.create({
    applicationName: 'twinflow-plant-test',
    endpointMustExist: false,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    securityMode: options.securityMode ?? MessageSecurityMode.None,
    securityPolicy: options.securityPolicy ?? SecurityPolicy.None,
    clientCertificateManager: certificateManager,
  });
  return { client, certificateManager };
}

async function connect(
  endpointUrl: string,
  options: { identity?: UserIdentityInfo; securityMode?: MessageSecurityMode; securityPolicy?: SecurityPolicy } = {},
): Promise<Connection> {
  const { client, certificateManager } = makeClient(options);
  try {
    await client.connect(endpointUrl);
    const session = await client.createSession(options.identity);
    return {
      client,
      session,
      certificateManager,
      close: async () => {
        await session.close().catch(() => undefined);
        await client.disconnect();
        await certificateManager.dispose();
      },
    };
  } catch (err) {
    await client.disconnect().catch(() => undefined);
    await certificateManager.dispose().catch(() => undefined);
    throw err;
  }
}

const id = (name: string) => `ns=1;s=${name}`;

async function read(session: ClientSession, name: string): Promise<DataValue> {
  return session.read({ nodeId: id(name), attributeId: AttributeIds.Value });
}

async function readValue(session: ClientSession, name: string): Promise<unknown> {
  const dataValue = await read(session, name);
  assert.equal(dataValue.statusCode.name, 'Good', `${name}: ${dataValue.statusCode.name}`);
  return dataValue.value.value as unknown;
}

async function writeValue(session: ClientSession, name: string, dataType: DataType, value: unknown) {
  return session.write({ nodeId: id(name), attributeId: AttributeIds.Value, value: { value: { dataType, value } } });
}

async function call(session: ClientSession, objectName: string, method: string, args: string[] = []) {
  return session.call({
    objectId: id(objectName),
    methodId: id(`${objectName}.${method}`),
    inputArguments: args.map((value) => ({ dataType: DataType.String, value })),
  });
}

/** Polls until the check passes; the deadline only guards against a hang. */
async function eventually<T>(what: string, probe: () => Promise<T>, check: (value: T) => boolean, deadlineMs = 20000): Promise<T> {
  const until = Date.now() + deadlineMs;
  let last: T = await probe();
  while (!check(last)) {
    if (Date.now() > until) assert.fail(`${what}: still ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    last = await probe();
  }
  return last;
}

function subscribeEvery100ms(session: ClientSession): ClientSubscription {
  return ClientSubscription.create(session, {
    requestedPublishingInterval: 100,
    requestedMaxKeepAliveCount: 10,
    requestedLifetimeCount: 100,
    publishingEnabled: true,
  });
}

after(() => {
  for (const dir of temporaryDirs) rmSync(dir, { recursive: true, force: true });
});

describe('CNC server: address space, writes, methods, faults', () => {
  let server: CncServer;
  let connection: Connection;
  let session: ClientSession;

  before(async () => {
    server = await startCncServer({
      pkiDir: tempDir('twinflow-plant-pki-'),
      seed: 7,
      benchTags: 25,
      users: [{ username: 'operator', password: 'correct horse' }],
      securityModes: ['None', 'SignAndEncrypt'],
      securityPolicies: ['Basic256Sha256', 'Aes256_Sha256_RsaPss'],
    });
    connection = await connect(server.endpointUrl);
    session = connection.session;
  });

  after(async () => {
    await connection?.close();
    await server?.stop();
  });

  test('listens on loopback and publishes the simulated clock as source timestamps', async () => {
    assert.match(server.endpointUrl, /^opc\.tcp:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(server.endpointUrl, `opc.tcp://127.0.0.1:${server.port}`);
    assert.ok(server.sessionCount() >= 1);
    const before = Date.now();
    const speed = await read(session, 'CNC.spindle.speed');
    const simulated = (await readValue(session, 'Simulation.simulatedTime')) as Date;
    // At timeScale 1 the simulated clock is the wall clock, to within a tick or two.
    assert.ok(Math.abs(simulated.getTime() - before) < 1500, `simulated ${simulated.toISOString()}`);
    assert.ok(speed.sourceTimestamp !== null && Math.abs(speed.sourceTimestamp.getTime() - before) < 1500);
  });

  test('namespace 1 is the simulator namespace', async () => {
    const namespaces = await session.readNamespaceArray();
    assert.equal(namespaces[1], NAMESPACE_URI);
  });

  test('every NodeId is readable with its type and DTDL browse name', async () => {
    const expected: Array<[string, DataType, boolean?]> = [
      ['CNC.spindle.speed', DataType.Double],
      ['CNC.spindle.speedSetpoint', DataType.Double],
      ['CNC.spindle.motorCurrent', DataType.Double],
      ['CNC.spindle.vibrationRms', DataType.Double],
      ['CNC.spindle.bearingTemperature', DataType.Double],
      ['CNC.spindle.maxSpeed', DataType.Double],
      ['CNC.coolant.temperature', DataType.Double],
      ['CNC.coolant.flow', DataType.Double],
      ['CNC.positionX', DataType.Double],
      ['CNC.positionY', DataType.Double],
      ['CNC.positionZ', DataType.Double],
      ['CNC.doorOpen', DataType.Boolean],
      ['CNC.machineState', DataType.String],
      ['CNC.activeProgram', DataType.String],
      ['Simulation.activeFaults', DataType.String, true],
      ['Simulation.timeScale', DataType.Double],
      ['Simulation.simulatedTime', DataType.DateTime],
      ['Bench.Tag00000', DataType.Double],
      ['Bench.Tag00024', DataType.Double],
    ];
    for (const [name, dataType, isArray] of expected) {
      const dataValue = await read(session, name);
      assert.equal(dataValue.statusCode.name, 'Good', name);
      assert.equal(dataValue.value.dataType, dataType, `${name} is ${DataType[dataValue.value.dataType]}`);
      assert.equal(Array.isArray(dataValue.value.value), isArray === true, name);
      const browseName = await session.read({ nodeId: id(name), attributeId: AttributeIds.BrowseName });
      assert.equal(browseName.value.value.toString(), `1:${name.split('.').pop()}`);
    }
    for (const name of ['CNC', 'CNC.spindle', 'CNC.coolant', 'Simulation', 'Bench', 'CNC.startCycle', 'CNC.emergencyStop', 'CNC.resetAlarm', 'Simulation.injectFault', 'Simulation.clearFault']) {
      const browseName = await session.read({ nodeId: id(name), attributeId: AttributeIds.BrowseName });
      assert.equal(browseName.statusCode.name, 'Good', name);
      assert.equal(browseName.value.value.toString(), `1:${name.split('.').pop()}`);
    }
    assert.equal(await readValue(session, 'CNC.spindle.maxSpeed'), 12000);
    assert.equal(await readValue(session, 'CNC.machineState'), 'idle');
    assert.equal(await readValue(session, 'CNC.activeProgram'), '');
    assert.equal((await read(session, 'Bench.Tag00025')).statusCode.name, 'BadNodeIdUnknown');
  });

  test('the CNC objects hang under Objects and analog values carry engineering units', async () => {
    const [cnc, units, range] = await session.translateBrowsePath([
      makeBrowsePath('i=85', '/1:CNC/1:spindle/1:speed'),
      makeBrowsePath(id('CNC.spindle.vibrationRms'), '.EngineeringUnits'),
      makeBrowsePath(id('CNC.spindle.speed'), '.EURange'),
    ]);
    assert.equal(cnc.targets?.[0].targetId.toString(), id('CNC.spindle.speed'));
    const eu = await session.read({ nodeId: units.targets?.[0].targetId, attributeId: AttributeIds.Value });
    assert.equal(eu.value.value.displayName.text, 'cm/s');
    const euRange = await session.read({ nodeId: range.targets?.[0].targetId, attributeId: AttributeIds.Value });
    assert.deepEqual([euRange.value.value.low, euRange.value.value.high], [0, 12000]);
  });

  test('a written speed setpoint is followed by the spindle; out-of-range writes are refused', async () => {
    server.setTimeScale(10);
    try {
      assert.equal((await writeValue(session, 'CNC.spindle.speedSetpoint', DataType.Double, 6000)).name, 'Good');
      assert.equal(await readValue(session, 'CNC.spindle.speedSetpoint'), 6000);
      await eventually('speed', () => readValue(session, 'CNC.spindle.speed'), (v) => typeof v === 'number' && Math.abs(v - 6000) < 30);
      assert.equal((await writeValue(session, 'CNC.spindle.speedSetpoint', DataType.Double, 20000)).name, 'BadOutOfRange');
      assert.equal((await writeValue(session, 'CNC.spindle.speedSetpoint', DataType.Double, -1)).name, 'BadOutOfRange');
      assert.equal((await writeValue(session, 'CNC.spindle.speedSetpoint', DataType.String, 'fast')).name, 'BadTypeMismatch');
      assert.equal(await readValue(session, 'CNC.spindle.speedSetpoint'), 6000, 'a refused write changes nothing');
      // Bench tags state read-only role permissions, so node-opcua answers with the user check.
      assert.equal((await writeValue(session, 'Bench.Tag00001', DataType.Double, 1)).name, 'BadUserAccessDenied');
      for (const readOnly of ['CNC.spindle.speed', 'CNC.spindle.maxSpeed', 'CNC.coolant.flow', 'CNC.positionX', 'Simulation.simulatedTime']) {
        const dataType = readOnly === 'Simulation.simulatedTime' ? DataType.DateTime : DataType.Double;
        const value = dataType === DataType.DateTime ? new Date() : 1;
        assert.equal((await writeValue(session, readOnly, dataType, value)).name, 'BadNotWritable', readOnly);
      }
      assert.equal((await writeValue(session, 'CNC.machineState', DataType.String, 'running')).name, 'BadNotWritable');
      assert.equal((await writeValue(session, 'CNC.spindle.speedSetpoint', DataType.Double, 0)).name, 'Good');
    } finally {
      server.setTimeScale(1);
    }
  });

  test('methods: start a cycle, interlocks, emergency stop and reset', async () => {
    const started = await call(session, 'CNC', 'startCycle', ['P1000']);
    assert.equal(started.statusCode.name, 'Good');
    assert.equal(started.outputArguments?.[0].value, 'started');
    assert.equal(await readValue(session, 'CNC.machineState'), 'running');
    assert.equal(await readValue(session, 'CNC.activeProgram'), 'P1000');
    assert.equal((await call(session, 'CNC', 'startCycle', ['P2000'])).outputArguments?.[0].value, 'rejected: already running');

    const stopped = await call(session, 'CNC', 'emergencyStop');
    assert.equal(stopped.statusCode.name, 'Good');
    assert.equal(stopped.outputArguments?.[0].value, true);
    assert.equal(stopped.outputArguments?.[0].dataType, DataType.Boolean);
    assert.equal(await readValue(session, 'CNC.machineState'), 'emergencyStop');
    assert.equal(await readValue(session, 'CNC.activeProgram'), '');
    assert.equal((await call(session, 'CNC', 'startCycle', ['P1000'])).outputArguments?.[0].value, 'rejected: emergency stop active');
    assert.equal((await writeValue(session, 'CNC.spindle.speedSetpoint', DataType.Double, 1000)).name, 'BadInvalidState');

    const reset = await call(session, 'CNC', 'resetAlarm');
    assert.equal(reset.statusCode.name, 'Good');
    assert.deepEqual(reset.outputArguments ?? [], []);
    assert.equal(await readValue(session, 'CNC.machineState'), 'idle');
    assert.equal((await call(session, 'CNC', 'startCycle', ['P9'])).outputArguments?.[0].value, 'rejected: unknown program P9');

    // The door: written over OPC UA, interlocks the start, raises an alarm during a cycle.
    assert.equal((await writeValue(session, 'CNC.doorOpen', DataType.Boolean, true)).name, 'Good');
    assert.equal(await readValue(session, 'CNC.doorOpen'), true);
    assert.equal((await call(session, 'CNC', 'startCycle', ['P3000'])).outputArguments?.[0].value, 'rejected: door open');
    await writeValue(session, 'CNC.doorOpen', DataType.Boolean, false);
    assert.equal((await call(session, 'CNC', 'startCycle', ['P3000'])).outputArguments?.[0].value, 'started');
    await writeValue(session, 'CNC.doorOpen', DataType.Boolean, true);
    assert.equal(await readValue(session, 'CNC.machineState'), 'alarm');
    assert.equal((await call(session, 'CNC', 'startCycle', ['P3000'])).outputArguments?.[0].value, 'rejected: alarm active');
    await writeValue(session, 'CNC.doorOpen', DataType.Boolean, false);
    await call(session, 'CNC', 'resetAlarm');
    assert.equal(await readValue(session, 'CNC.machineState'), 'idle');
  });

  test('bearing wear injected over OPC UA shows in the vibration at a high time scale, and clears', async () => {
    assert.equal((await writeValue(session, 'CNC.spindle.speedSetpoint', DataType.Double, 8000)).name, 'Good');
    assert.equal((await writeValue(session, 'Simulation.timeScale', DataType.Double, 300)).name, 'Good');
    try {
      assert.equal(await readValue(session, 'Simulation.timeScale'), 300);
      assert.equal(server.timeScale, 300);
      const injected = await call(session, 'Simulation', 'injectFault', ['bearingWear', '600']);
      assert.equal(injected.statusCode.name, 'Good');
      assert.deepEqual(await readValue(session, 'Simulation.activeFaults'), ['bearingWear']);
      await eventually(
        'vibration',
        () => readValue(session, 'CNC.spindle.vibrationRms'),
        (v) => typeof v === 'number' && v > BEARING_FAILURE_VIBRATION_RMS,
      );
      assert.equal((await call(session, 'Simulation', 'clearFault', ['bearingWear', ''])).statusCode.name, 'Good');
      assert.deepEqual(await readValue(session, 'Simulation.activeFaults'), []);
      const healthy = (await readValue(session, 'CNC.spindle.vibrationRms')) as number;
      assert.ok(healthy < 0.2, `vibration after a new bearing: ${healthy}`);
    } finally {
      assert.equal((await writeValue(session, 'Simulation.timeScale', DataType.Double, 1)).name, 'Good');
      await writeValue(session, 'CNC.spindle.speedSetpoint', DataType.Double, 0);
    }
    assert.equal((await writeValue(session, 'Simulation.timeScale', DataType.Double, 0)).name, 'BadOutOfRange');
  });

  test('a sensor in dropout has a bad status and no new value; a stuck one repeats itself with good status', async () => {
    const before = await read(session, 'CNC.coolant.flow');
    assert.equal((await call(session, 'Simulation', 'injectFault', ['sensorDropout', 'coolant.flow'])).statusCode.name, 'Good');
    const dropped = await read(session, 'CNC.coolant.flow');
    assert.equal(dropped.statusCode.name, 'BadNoCommunication');
    await new Promise((resolve) => setTimeout(resolve, 350));
    const stillDropped = await read(session, 'CNC.coolant.flow');
    assert.equal(stillDropped.statusCode.name, 'BadNoCommunication');
    assert.equal(stillDropped.sourceTimestamp?.getTime(), dropped.sourceTimestamp?.getTime(), 'nothing new arrives');
    assert.ok((dropped.sourceTimestamp?.getTime() ?? 0) >= (before.sourceTimestamp?.getTime() ?? 0));
    assert.deepEqual(await readValue(session, 'Simulation.activeFaults'), ['sensorDropout:coolant.flow']);
    assert.equal((await call(session, 'Simulation', 'clearFault', ['sensorDropout', 'coolant.flow'])).statusCode.name, 'Good');
    assert.equal(typeof (await readValue(session, 'CNC.coolant.flow')), 'number');

    assert.equal((await call(session, 'Simulation', 'injectFault', ['stuckSensor', 'spindle.motorCurrent'])).statusCode.name, 'Good');
    const stuck = await readValue(session, 'CNC.spindle.motorCurrent');
    await new Promise((resolve) => setTimeout(resolve, 350));
    const later = await read(session, 'CNC.spindle.motorCurrent');
    assert.equal(later.statusCode.name, 'Good');
    assert.equal(later.value.value, stuck);
    assert.equal((await call(session, 'Simulation', 'clearFault', ['stuckSensor', 'spindle.motorCurrent'])).statusCode.name, 'Good');
    await eventually('current', () => readValue(session, 'CNC.spindle.motorCurrent'), (v) => v !== stuck);
  });

  test('unknown faults and targets are BadInvalidArgument; the server API injects too', async () => {
    assert.equal((await call(session, 'Simulation', 'injectFault', ['gremlins', ''])).statusCode.name, 'BadInvalidArgument');
    assert.equal((await call(session, 'Simulation', 'injectFault', ['stuckSensor', 'spindle.colour'])).statusCode.name, 'BadInvalidArgument');
    assert.equal((await call(session, 'Simulation', 'clearFault', ['gremlins', ''])).statusCode.name, 'BadInvalidArgument');
    assert.deepEqual(await readValue(session, 'Simulation.activeFaults'), []);

    server.injectFault('spindleDriveFault');
    assert.deepEqual(await readValue(session, 'Simulation.activeFaults'), ['spindleDriveFault']);
    await eventually('machine state', () => readValue(session, 'CNC.machineState'), (v) => v === 'alarm');
    assert.equal((await call(session, 'CNC', 'resetAlarm')).statusCode.name, 'Good');
    assert.equal(await readValue(session, 'CNC.machineState'), 'alarm', 'the active drive fault holds the alarm');
    assert.equal(server.clearFault('spindleDriveFault'), true);
    await call(session, 'CNC', 'resetAlarm');
    assert.equal(await readValue(session, 'CNC.machineState'), 'idle');
    assert.throws(() => server.setTimeScale(-1), /timeScale: -1 must be a number above 0/);
  });

  test('bench tags change on every tick, read and monitored', async () => {
    const names = Array.from({ length: 25 }, (_, i) => `Bench.Tag${String(i).padStart(5, '0')}`);
    const first = await Promise.all(names.map((name) => readValue(session, name)));
    const firstTime = (await read(session, names[0])).sourceTimestamp?.getTime();
    await eventually('bench tick', async () => (await read(session, names[0])).sourceTimestamp?.getTime(), (t) => t !== firstTime);
    const second = await Promise.all(names.map((name) => readValue(session, name)));
    names.forEach((name, i) => assert.notEqual(second[i], first[i], `${name} did not change`));

    const subscription = subscribeEvery100ms(session);
    try {
      for (const samplingInterval of [100, 0]) {
        const item = ClientMonitoredItem.create(
          subscription,
          { nodeId: id('Bench.Tag00003'), attributeId: AttributeIds.Value },
          { samplingInterval, queueSize: 10, discardOldest: true },
          TimestampsToReturn.Both,
        );
        const seen = new Set<number>();
        item.on('changed', (dataValue: DataValue) => seen.add(dataValue.value.value as number));
        await eventually(`distinct values at samplingInterval ${samplingInterval}`, async () => seen.size, (n) => n >= 4);
        await item.terminate();
      }
    } finally {
      await subscription.terminate();
    }
  });

  test('times the acknowledgement of each publish response that carried data, until stopped', async () => {
    const timer = server.timeAcknowledgements();
    const subscription = subscribeEvery100ms(session);
    try {
      const item = ClientMonitoredItem.create(
        subscription,
        { nodeId: id('Bench.Tag00001'), attributeId: AttributeIds.Value },
        { samplingInterval: 100, queueSize: 1, discardOldest: true },
        TimestampsToReturn.Both,
      );
      let changes = 0;
      item.on('changed', () => changes++);
      const delays = await eventually('acknowledgements timed', async () => timer.delaysMs(), (d) => d.length >= 3);
      for (const delay of delays) assert.ok(delay >= 0 && delay < 5000, `an acknowledgement delay of ${delay} ms`);
      // Each timed response had data the client saw, and was acknowledged once.
      assert.ok(changes >= delays.length, `${delays.length} acknowledgements timed for ${changes} changes`);
      timer.stop();
      const timed = timer.delaysMs().length;
      const changesAtStop = changes;
      await eventually('more data after stop', async () => changes, (n) => n >= changesAtStop + 3);
      assert.equal(timer.delaysMs().length, timed, 'a stopped timer times nothing more');
    } finally {
      timer.stop();
      await subscription.terminate();
    }
  });

  test('username and password: accepted when right, rejected when wrong', async () => {
    const user = await connect(server.endpointUrl, { identity: { type: UserTokenType.UserName, userName: 'operator', password: 'correct horse' } });
    try {
      assert.equal(await readValue(user.session, 'CNC.machineState'), 'idle');
    } finally {
      await user.close();
    }
    await assert.rejects(
      connect(server.endpointUrl, { identity: { type: UserTokenType.UserName, userName: 'operator', password: 'wrong' } }),
      /BadUserAccessDenied|BadIdentityTokenRejected|BadIdentityTokenInvalid/,
    );
  });

  test('SignAndEncrypt endpoints are offered as configured, and work', async () => {
    const probe = makeClient();
    let endpoints;
    try {
      await probe.client.connect(server.endpointUrl);
      endpoints = await probe.client.getEndpoints();
    } finally {
      await probe.client.disconnect();
      await probe.certificateManager.dispose();
    }
    const offered = endpoints.map((e) => `${MessageSecurityMode[e.securityMode]} ${(e.securityPolicyUri ?? '').split('#')[1]}`).sort();
    assert.deepEqual(offered, ['None None', 'SignAndEncrypt Aes256_Sha256_RsaPss', 'SignAndEncrypt Basic256Sha256']);

    const secure = await connect(server.endpointUrl, {
      securityMode: MessageSecurityMode.SignAndEncrypt,
      securityPolicy: SecurityPolicy.Basic256Sha256,
      identity: { type: UserTokenType.UserName, userName: 'operator', password: 'correct horse' },
    });
    try {
      assert.equal(await readValue(secure.session, 'CNC.spindle.maxSpeed'), 12000);
    } finally {
      await secure.close();
    }
  });
});

describe('CNC server: trust and anonymous access', () => {
  test('with auto-accept off, an unknown client certificate is rejected and kept for review', async () => {
    const pkiDir = tempDir('twinflow-plant-pki-');
    const server = await startCncServer({
      pkiDir,
      port: await freePort(),
      securityModes: ['SignAndEncrypt'],
      securityPolicies: ['Basic256Sha256'],
      autoAcceptCertificates: false,
      allowAnonymous: false,
      users: [{ username: 'operator', password: 'pw' }],
    });
    try {
      await assert.rejects(
        connect(server.endpointUrl, {
          securityMode: MessageSecurityMode.SignAndEncrypt,
          securityPolicy: SecurityPolicy.Basic256Sha256,
          identity: { type: UserTokenType.UserName, userName: 'operator', password: 'pw' },
        }),
      );
      const rejectedDir = path.join(pkiDir, 'server', 'rejected');
      assert.ok(existsSync(rejectedDir) && readdirSync(rejectedDir).length > 0, 'the client certificate is in rejected/');
      assert.equal(server.sessionCount(), 0);
    } finally {
      await server.stop();
    }
  });

  test('anonymous sessions are refused when allowAnonymous is false', async () => {
    const server = await startCncServer({ pkiDir: tempDir('twinflow-plant-pki-'), allowAnonymous: false, users: [{ username: 'u', password: 'p' }] });
    try {
      // The client already finds no anonymous token policy among the endpoints.
      await assert.rejects(connect(server.endpointUrl), /Cannot find ANONYMOUS user token policy|BadIdentityTokenInvalid|BadIdentityTokenRejected/);
      const user = await connect(server.endpointUrl, { identity: { type: UserTokenType.UserName, userName: 'u', password: 'p' } });
      assert.equal(server.sessionCount(), 1);
      await user.close();
      await eventually('session count', async () => server.sessionCount(), (n) => n === 0);
    } finally {
      await server.stop();
      await server.stop(); // idempotent
    }
  });

  test('bad options are clear errors', async () => {
    await assert.rejects(startCncServer({ port: 70000 }), /port: 70000 must be an integer from 0 to 65535/);
    await assert.rejects(startCncServer({ timeScale: 0 }), /timeScale: 0 must be a number above 0/);
    await assert.rejects(startCncServer({ securityModes: ['Loose' as 'None'] }), /securityModes: "Loose" is not one of None, Sign, SignAndEncrypt/);
    await assert.rejects(startCncServer({ benchTags: -1 }), /benchTags: -1 must be an integer/);
  });

  test('a port in use is reported as such', async () => {
    const pkiDir = tempDir('twinflow-plant-pki-');
    const first = await startCncServer({ pkiDir });
    try {
      await assert.rejects(startCncServer({ pkiDir, port: first.port }), new RegExp(`port: ${first.port} on 127.0.0.1 is already in use`));
    } finally {
      await first.stop();
    }
  });
});

describe('CNC server: sampled bench tags', () => {
  test('a sampled bench tag is read at the sampling instant, not served from the last tick', async () => {
    // Ticks 2 s apart, sampling every 100 ms: served from the tick, each sample would carry the
    // tick's value and stamp, and a change would arrive only every 2 s.
    const server = await startCncServer({ pkiDir: tempDir('twinflow-plant-pki-'), benchTags: 3, tickMs: 2000 });
    const connection = await connect(server.endpointUrl);
    try {
      const subscription = ClientSubscription.create(connection.session, {
        requestedPublishingInterval: 100,
        requestedMaxKeepAliveCount: 10,
        requestedLifetimeCount: 100,
        publishingEnabled: true,
      });
      const samples: { value: number; sourceMs: number }[] = [];
      const item = ClientMonitoredItem.create(
        subscription,
        { nodeId: id('Bench.Tag00002'), attributeId: AttributeIds.Value },
        { samplingInterval: 100, queueSize: 10, discardOldest: true },
        TimestampsToReturn.Both,
      );
      item.on('changed', (dataValue: DataValue) => {
        samples.push({ value: dataValue.value.value as number, sourceMs: dataValue.sourceTimestamp?.getTime() ?? Number.NaN });
      });
      await eventually('ten samples', async () => samples.length, (n) => n >= 10);
      await subscription.terminate();
      const values = new Set(samples.map((sample) => sample.value));
      const stamps = new Set(samples.map((sample) => sample.sourceMs));
      assert.ok(values.size >= 9, `distinct values: ${[...values].join(', ')}`);
      assert.ok(stamps.size >= 9, `distinct source timestamps: ${stamps.size}`);
      // Stamped when sampled: consecutive samples about 100 ms apart, not a tick (2 s) apart.
      const gaps = samples.slice(1).map((sample, i) => sample.sourceMs - samples[i].sourceMs).sort((a, b) => a - b);
      assert.ok(gaps[Math.floor(gaps.length / 2)] < 500, `median gap between source timestamps: ${gaps[Math.floor(gaps.length / 2)]} ms`);
      // The Read service keeps answering with the latest value.
      const read = await connection.session.read({ nodeId: id('Bench.Tag00002'), attributeId: AttributeIds.Value });
      assert.equal(read.statusCode.name, 'Good');
      assert.ok((read.sourceTimestamp?.getTime() ?? 0) >= Math.max(...stamps) - 2000);
    } finally {
      await connection.close();
      await server.stop();
    }
  });
});

describe('CNC server: clean stop', () => {
  test('a process that starts the server, serves a client and stops it exits by itself', async () => {
    const pkiDir = tempDir('twinflow-plant-pki-');
    const clientPki = tempDir('twinflow-client-pki-');
    const serverModule = path.join(__dirname, '..', '..', '..', 'plant', 'cnc-server.js');
    const script = `
      const { startCncServer } = require(${JSON.stringify(serverModule)});
      const { OPCUAClient, OPCUACertificateManager, ClientSubscription, ClientMonitoredItem, AttributeIds } = require('node-opcua');
      (async () => {
        const server = await startCncServer({ pkiDir: ${JSON.stringify(pkiDir)}, benchTags: 10, autoCycle: true });
        const certificateManager = new OPCUACertificateManager({ rootFolder: ${JSON.stringify(clientPki)} });
        const client = OPCUAClient.create({ endpointMustExist: false, clientCertificateManager: certificateManager, connectionStrategy: { maxRetry: 0 } });
        await client.connect(server.endpointUrl);
        const session = await client.createSession();
        const subscription = ClientSubscription.create(session, { requestedPublishingInterval: 100, publishingEnabled: true });
        ClientMonitoredItem.create(subscription, { nodeId: 'ns=1;s=CNC.spindle.speed', attributeId: AttributeIds.Value }, { samplingInterval: 100 });
        await new Promise((resolve) => setTimeout(resolve, 500));
        // Stop the server under the client's feet, then let the client go.
        await server.stop();
        await client.disconnect();
        await certificateManager.dispose();
        console.log('stopped');
      })().catch((err) => { console.error(err); process.exit(1); });
    `;
    const child = spawn(process.execPath, ['-e', script], { cwd: path.join(__dirname, '..', '..', '..', '..'), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exitCode = await new Promise<number | string>((resolve) => {
      // Only a guard against a hang: a clean stop exits within a second or two.
      const guard = setTimeout(() => {
        child.kill('SIGKILL');
        resolve('still running after 60 s: something holds the event loop');
      }, 60000);
      child.on('exit', (code) => {
        clearTimeout(guard);
        resolve(code ?? -1);
      });
    });
    assert.equal(exitCode, 0, output);
    assert.match(output, /stopped/);
  });
});
