// What the simulator's 10,000-tag bench mode costs the server, so a client benchmark can tell
// its own cost from the server's. Measures server CPU with nobody connected and with a client
// (a separate process) monitoring every tag, sampled at 100 ms and on change, and compares the
// tick against the obvious alternative: setValueFromSource on every tag every tick.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  AddressSpace,
  AttributeIds,
  ClientMonitoredItemGroup,
  ClientSubscription,
  DataType,
  OPCUAClient,
  StatusCodes,
  TimestampsToReturn,
  Variant,
  nodesets,
  type UAVariable,
} from 'node-opcua';
import { generateAddressSpace } from 'node-opcua-address-space/nodeJS';
import { startCncServer } from '../../plant/cnc-server';
import { CncModel } from '../../plant/cnc-model';

const TAGS = 10_000;
const INTERVAL_MS = 100;
const MEASURE_SECONDS = 10;

interface ClientReport {
  notificationsPerSecond: number;
  cpuPercent: number;
}

function cpuPercentOver<T>(work: () => Promise<T>): Promise<{ result: T; cpuPercent: number }> {
  const cpu0 = process.cpuUsage();
  const wall0 = process.hrtime.bigint();
  return work().then((result) => {
    const cpu = process.cpuUsage(cpu0);
    const wallMs = Number(process.hrtime.bigint() - wall0) / 1e6;
    return { result, cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100 };
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Child process: monitors every bench tag and reports notifications per second and its own CPU. */
async function runClient(endpointUrl: string, samplingInterval: number): Promise<void> {
  const client = OPCUAClient.create({ endpointMustExist: false, connectionStrategy: { maxRetry: 2 } });
  await client.connect(endpointUrl);
  const session = await client.createSession();
  const subscription = ClientSubscription.create(session, {
    requestedPublishingInterval: INTERVAL_MS,
    requestedMaxKeepAliveCount: 20,
    requestedLifetimeCount: 200,
    maxNotificationsPerPublish: 0,
    publishingEnabled: true,
  });
  const items = Array.from({ length: TAGS }, (_, i) => ({
    nodeId: `ns=1;s=Bench.Tag${String(i).padStart(5, '0')}`,
    attributeId: AttributeIds.Value,
  }));
  const group = ClientMonitoredItemGroup.create(subscription, items, { samplingInterval, queueSize: 1, discardOldest: true }, TimestampsToReturn.Both);
  let notifications = 0;
  group.on('changed', () => {
    notifications++;
  });
  await new Promise<void>((resolve) => group.on('initialized', () => resolve()));
  await sleep(3000);
  notifications = 0;
  process.stdout.write('measuring\n');
  const { cpuPercent } = await cpuPercentOver(() => sleep(MEASURE_SECONDS * 1000));
  const report: ClientReport = { notificationsPerSecond: notifications / MEASURE_SECONDS, cpuPercent };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  await subscription.terminate();
  await session.close();
  await client.disconnect();
}

/** Runs the client process; measures this (server) process's CPU over the client's measuring window. */
function spawnClient(endpointUrl: string, samplingInterval: number): Promise<{ client: ClientReport; serverCpuPercent: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, '--client', endpointUrl, String(samplingInterval)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let cpu0: NodeJS.CpuUsage | null = null;
    let wall0 = 0n;
    let serverCpuPercent = Number.NaN;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (cpu0 === null && out.includes('measuring')) {
        cpu0 = process.cpuUsage();
        wall0 = process.hrtime.bigint();
      }
      if (cpu0 !== null && Number.isNaN(serverCpuPercent) && out.includes('{')) {
        const cpu = process.cpuUsage(cpu0);
        const wallMs = Number(process.hrtime.bigint() - wall0) / 1e6;
        serverCpuPercent = ((cpu.user + cpu.system) / 1000 / wallMs) * 100;
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
      if (code !== 0 || line === undefined) reject(new Error(`bench client exited with ${code}: ${out}`));
      else resolve({ client: JSON.parse(line) as ClientReport, serverCpuPercent });
    });
  });
}

/** The alternative: every tag stored with setValueFromSource on every tick, as a server loop would. */
async function naiveTickMilliseconds(): Promise<number> {
  const addressSpace = AddressSpace.create();
  await generateAddressSpace(addressSpace, [nodesets.standard]);
  const namespace = addressSpace.registerNamespace('urn:bench');
  const folder = namespace.addObject({ organizedBy: addressSpace.rootFolder.objects, browseName: 'Bench' });
  const variables: UAVariable[] = [];
  for (let i = 0; i < TAGS; i++) {
    variables.push(namespace.addVariable({ componentOf: folder, browseName: `Tag${i}`, dataType: 'Double', minimumSamplingInterval: 0 }));
  }
  const ticks = 50;
  const start = process.hrtime.bigint();
  for (let tick = 0; tick < ticks; tick++) {
    const stamp = new Date();
    for (let i = 0; i < TAGS; i++) {
      variables[i].setValueFromSource(new Variant({ dataType: DataType.Double, value: (i % 100) + ((tick + i) % 600) / 6 }), StatusCodes.Good, stamp);
    }
  }
  const perTick = Number(process.hrtime.bigint() - start) / 1e6 / ticks;
  addressSpace.dispose();
  return perTick;
}

function monitoredRows(mode: string, run: { client: ClientReport; serverCpuPercent: number }): Array<[string, string]> {
  return [
    [`server CPU, 10,000 monitored, ${mode}`, `${run.serverCpuPercent.toFixed(0)} % of a core`],
    [`client CPU (own process), ${mode}`, `${run.client.cpuPercent.toFixed(0)} % of a core`],
    [`notifications per second, ${mode}`, `${run.client.notificationsPerSecond.toFixed(0)} of ${(TAGS * 1000) / INTERVAL_MS} produced`],
  ];
}

/** How much CPU the pure model needs per simulated hour, with the auto cycle running. */
function modelMillisecondsPerSimulatedHour(): number {
  const model = new CncModel({ seed: 1, autoCycle: true });
  const start = process.hrtime.bigint();
  for (let i = 0; i < 36000; i++) {
    model.step(0.1);
    model.readings();
  }
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function main(): Promise<void> {
  const pkiDir = mkdtempSync(path.join(os.tmpdir(), 'twinflow-bench-pki-'));
  const server = await startCncServer({ pkiDir, benchTags: TAGS, tickMs: INTERVAL_MS });
  try {
    await sleep(2000);
    const idle = await cpuPercentOver(() => sleep(MEASURE_SECONDS * 1000));
    const sampled = await spawnClient(server.endpointUrl, INTERVAL_MS);
    const onChange = await spawnClient(server.endpointUrl, 0);
    const naiveMs = await naiveTickMilliseconds();
    const modelMs = modelMillisecondsPerSimulatedHour();
    const naivePercent = (naiveMs / INTERVAL_MS) * 100;
    const rows: Array<[string, string]> = [
      ['server CPU, 10,000 tags, no client', `${idle.cpuPercent.toFixed(1)} % of a core`],
      ['naive setValueFromSource per tick (alternative)', `${naiveMs.toFixed(1)} ms per tick = ${naivePercent.toFixed(0)} % of a core`],
      ['ratio naive / ours (no client)', `${(naivePercent / Math.max(idle.cpuPercent, 0.1)).toFixed(0)} x`],
      ...monitoredRows('sampled at 100 ms', sampled),
      ...monitoredRows('samplingInterval 0 (on change)', onChange),
      ['pure model, 1 simulated hour with auto cycle', `${modelMs.toFixed(0)} ms CPU`],
    ];
    const width = Math.max(...rows.map(([name]) => name.length));
    for (const [name, value] of rows) console.log(`${name.padEnd(width)}  ${value}`);
  } finally {
    await server.stop();
    rmSync(pkiDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--client') {
  runClient(process.argv[3], Number(process.argv[4])).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
