// `twinflow fmu` end to end: the compiled CLI spawned with this Node, real FMUs, real files.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureBuilt, fmuPath, privateCache, root, testFmuPath, thermalExact } from './helpers';

privateCache();
const work = mkdtempSync(path.join(os.tmpdir(), 'twinflow-fmu-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));
const cli = path.join(root, 'dist', 'cli', 'twinflow.js');
const fixtures = path.join(root, 'test', 'fixtures', 'fmu');

function twinflow(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [cli, 'fmu', ...args], { encoding: 'utf8', env: process.env, timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function rows(csv: string): string[][] {
  return csv.trim().split('\n').map((line) => line.split(','));
}

describe('twinflow fmu', () => {
  before(ensureBuilt);

  it('simulate writes a CSV with time and the outputs in full precision', () => {
    const output = path.join(work, 'thermal.csv');
    const run = twinflow('simulate', fmuPath('thermal', 2), '--stop-time', '100', '--step-size', '0.5', '--set', 'current=14', '--output', output);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /201 rows \(2 outputs, t=0\.\.100\) written to/);
    const table = rows(readFileSync(output, 'utf8'));
    assert.deepEqual(table[0], ['time', 'temperature', 'copperLosses']);
    assert.equal(table.length, 202);
    for (const row of table.slice(1)) for (const cell of row) assert.equal(String(Number(cell)), cell, `${cell} reads back as itself`);
    const last = table.at(-1)!.map(Number);
    assert.equal(last[0], 100);
    assert.ok(Math.abs(last[1]! - thermalExact(100, 14)) < 1e-10);
  });

  it('simulate takes start, stop and step from the DefaultExperiment and writes to stdout', () => {
    const run = twinflow('simulate', fmuPath('spindle', 3), '--set', 'speedSetpoint=3000');
    assert.equal(run.status, 0, run.stderr);
    const table = rows(run.stdout);
    assert.deepEqual(table[0], ['time', 'speed', 'motorCurrent', 'bearingTemperature', 'acceleration']);
    assert.equal(table.length, 6002); // 0..60 s in 10 ms
    assert.equal(table.at(-1)![0], '60');
    assert.equal(Number(table.at(-1)![1]), 3000);
  });

  it('simulate holds input values between the rows of --input', () => {
    const run = twinflow('simulate', fmuPath('thermal', 3), '--stop-time', '20', '--step-size', '1', '--input', path.join(fixtures, 'thermal-current.csv'));
    assert.equal(run.status, 0, run.stderr);
    const table = rows(run.stdout).slice(1).map((row) => row.map(Number));
    assert.equal(table[10]![1], 298.15);
    assert.equal(table[10]![2], 3 * 0.7 * 20 * 20, 'the new current shows at its own row');
    for (const k of [11, 15, 20]) assert.ok(Math.abs(table[k]![1]! - thermalExact(k - 10, 20)) < 1e-10);
  });

  it('info lists the variables', () => {
    const run = twinflow('info', fmuPath('controller', 3));
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /Twinflow\.Motor\.Controller \(FMI 3\.0\)/);
    assert.match(run.stdout, /hasEventMode/);
    assert.match(run.stdout, /input\s+temperature\s+Float64\s+degC/);
  });

  it('fails with exit code 1 and a clear message when the simulation cannot run', () => {
    const missing = twinflow('simulate', path.join(work, 'nothing.fmu'));
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /nothing\.fmu: no such file \[FMU_ARCHIVE_INVALID\]/);
    const platform = twinflow('simulate', testFmuPath('no-linux-binary'));
    assert.equal(platform.status, 1);
    assert.match(platform.stderr, /has no binary for linux x64 .* it has binaries for darwin64, win64 \[FMU_PLATFORM_MISSING\]/);
    const column = twinflow('simulate', fmuPath('thermal', 2), '--input', path.join(fixtures, 'unknown-column.csv'));
    assert.equal(column.status, 1);
    assert.match(column.stderr, /unknown-column\.csv: column "voltage" is not an input of Twinflow\.Motor\.Thermal; its inputs are current, ambientTemperature/);
    const faulty = twinflow('simulate', testFmuPath('faulty', 2), '--stop-time', '2', '--step-size', '0.5');
    assert.equal(faulty.status, 1);
    assert.match(faulty.stderr, /fmi2DoStep returned Error at t=1 \(step 0\.5\): failing on purpose/);
  });

  it('fails with exit code 2 on wrong usage', () => {
    for (const args of [['simulate'], ['simulate', 'a.fmu', '--step-size', 'fast'], ['simulate', 'a.fmu', '--bogus'], ['launch'], []]) {
      const run = twinflow(...args);
      assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    }
    const negative = twinflow('simulate', fmuPath('thermal', 2), '--step-size=-1');
    assert.equal(negative.status, 2);
    assert.match(negative.stderr, /--step-size: -1 must be above 0/);
  });
});
