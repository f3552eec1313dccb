// The `plant` command as a user runs it: a process, its output, its exit code.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AttributeIds, OPCUACertificateManager, OPCUAClient } from 'node-opcua';
import { parsePlantArgs } from '../../../plant/cli';
import { freePort } from '../../support/ports';

const cliPath = path.join(__dirname, '..', '..', '..', 'plant', 'cli.js');
const temporaryDirs: string[] = [];
after(() => {
  for (const dir of temporaryDirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  temporaryDirs.push(dir);
  return dir;
}

interface Run {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  exit: Promise<number | null>;
}

function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, [cliPath, ...args], { env: { ...process.env, ...env } });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exit };
}

test('--help prints the options and exits 0', async () => {
  const run = runCli(['--help']);
  assert.equal(await run.exit, 0);
  for (const option of ['--port', '--host', '--seed', '--time-scale', '--bench-tags', '--auto-cycle', '--fault']) {
    assert.ok(run.output().includes(option), `help mentions ${option}`);
  }
});

test('bad options are a clear message and exit code 2', async () => {
  const cases: Array<[string[], RegExp, NodeJS.ProcessEnv?]> = [
    [['--bogus'], /Unknown option '--bogus'/],
    [['--port', 'abc'], /--port: "abc" must be an integer from 0 to 65535/],
    [['--time-scale=-3'], /--time-scale: -3 must be above 0/],
    [['--time-scale', '0'], /--time-scale: 0 must be above 0/],
    [['--bench-tags', '1.5'], /--bench-tags: "1.5" must be an integer/],
    [['--fault', 'gremlins'], /--fault gremlins: fault: "gremlins" is not a known fault/],
    [['--fault', 'sensorDropout:spindle.colour'], /is not a sensor/],
    [['extra'], /Unexpected argument 'extra'/],
    [[], /TWINFLOW_PLANT_PORT\): "nope" must be an integer/, { TWINFLOW_PLANT_PORT: 'nope' }],
  ];
  for (const [args, message, env] of cases) {
    const run = runCli(args, env);
    assert.equal(await run.exit, 2, `${args.join(' ')}: ${run.output()}`);
    assert.match(run.output(), message);
  }
});

test('options are read into a command, with defaults and the port from the environment', () => {
  const command = parsePlantArgs(['--seed', '9', '--auto-cycle', '--fault', 'bearingWear:600', '--fault', 'stuckSensor:coolant.flow'], {
    TWINFLOW_PLANT_PORT: '4999',
  });
  assert.equal(command.port, 4999);
  assert.equal(command.host, '127.0.0.1');
  assert.equal(command.seed, 9);
  assert.equal(command.timeScale, 1);
  assert.equal(command.autoCycle, true);
  assert.deepEqual(command.faults, [
    { kind: 'bearingWear', target: '', options: { timeToFailureSeconds: 600 } },
    { kind: 'stuckSensor', target: 'coolant.flow', options: {} },
  ]);
  assert.equal(parsePlantArgs([], {}).port, 4840);
  assert.equal(parsePlantArgs(['--port', '5000'], { TWINFLOW_PLANT_PORT: '4999' }).port, 5000);
});

test('serves the machine with the asked faults and stops cleanly on SIGTERM', async () => {
  const port = await freePort();
  const run = runCli(['--port', String(port), '--seed', '3', '--fault', 'sensorDropout:coolant.flow', '--pki-dir', tempDir('twinflow-plant-pki-')]);
  try {
    const endpointUrl = `opc.tcp://127.0.0.1:${port}`;
    const until = Date.now() + 30000;
    // The banner is two lines, and they may reach the pipe apart: wait for its end.
    while (!run.output().includes(endpointUrl) || !run.output().includes('Ctrl-C stops it')) {
      if (Date.now() > until || run.child.exitCode !== null) assert.fail(`no endpoint URL and faults printed: ${run.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.match(run.output(), /faults sensorDropout:coolant\.flow/);
    const certificateManager = new OPCUACertificateManager({ rootFolder: tempDir('twinflow-client-pki-') });
    const client = OPCUAClient.create({ endpointMustExist: false, clientCertificateManager: certificateManager, connectionStrategy: { maxRetry: 0 } });
    try {
      await client.connect(endpointUrl);
      const session = await client.createSession();
      const [flow, state] = await session.read([
        { nodeId: 'ns=1;s=CNC.coolant.flow', attributeId: AttributeIds.Value },
        { nodeId: 'ns=1;s=CNC.machineState', attributeId: AttributeIds.Value },
      ]);
      assert.equal(flow.statusCode.name, 'BadNoCommunication');
      assert.equal(state.value.value, 'idle');
      await session.close();
    } finally {
      await client.disconnect();
      await certificateManager.dispose();
    }
    run.child.kill('SIGTERM');
    assert.equal(await run.exit, 0, run.output());
    assert.match(run.output(), /SIGTERM, stopping/);
  } finally {
    if (run.child.exitCode === null) run.child.kill('SIGKILL');
  }
});
