// `twinflow dtdl validate`: exit codes and output, run as a real process from the compiled CLI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { FIXTURES, ROOT } from './helpers';

const CLI = path.join(ROOT, 'dist', 'cli', 'twinflow.js');

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, 'dtdl', ...args], { cwd: FIXTURES, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('twinflow dtdl validate', () => {
  test('a valid folder (searched recursively, files referring to each other) exits 0', () => {
    const { status, stdout } = run('validate', 'valid');
    assert.equal(status, 0, stdout);
    assert.equal(stdout.trim(), 'valid: 3 interfaces in 2 files');
  });

  test('an invalid folder exits 1 and prints "file: /json/pointer: message" per error', () => {
    const { status, stdout } = run('validate', 'invalid');
    assert.equal(status, 1);
    const lines = stdout.trim().split('\n');
    assert.ok(lines.includes(`${path.join('invalid', 'spindle.json')}: /contents/0/name: Telemetry "2speed" in dtmi:com:example:Spindle;1: name "2speed" must start with a letter (DTDL v3 name rule)`), stdout);
    assert.ok(lines.some((l) => l.startsWith(`${path.join('invalid', 'spindle.json')}: /contents/1/writable: Telemetry "load"`)), stdout);
    assert.ok(lines.some((l) => l.startsWith(`${path.join('invalid', 'machine.json')}: /contents/0/schema: Component "spindle"`) && l.includes('dtmi:com:example:MissingSpindle;1')), stdout);
    assert.ok(lines.some((l) => l.startsWith(`${path.join('invalid', 'truncated.json')}: /: not valid JSON`)), stdout);
    assert.equal(lines.at(-1), 'invalid: 4 errors in 3 of 3 files');
  });

  test('--json prints one machine-readable object', () => {
    const { status, stdout } = run('validate', 'invalid', '--json');
    assert.equal(status, 1);
    const report = JSON.parse(stdout) as { valid: boolean; files: string[]; errors: Array<{ file: string; path: string; code: string }>; unresolved: string[] };
    assert.equal(report.valid, false);
    assert.equal(report.files.length, 3);
    assert.deepEqual(report.unresolved, ['dtmi:com:example:MissingSpindle;1']);
    assert.ok(report.errors.some((e) => e.code === 'name-invalid' && e.path === '/contents/0/name' && e.file.endsWith('spindle.json')));
    assert.ok(report.errors.some((e) => e.code === 'json-syntax' && e.file.endsWith('truncated.json')));
  });

  test('--json on a valid folder lists the interfaces', () => {
    const { status, stdout } = run('validate', '--json', 'valid');
    assert.equal(status, 0);
    const report = JSON.parse(stdout) as { valid: boolean; interfaces: string[] };
    assert.equal(report.valid, true);
    assert.deepEqual(report.interfaces.sort(), ['dtmi:com:example:Device;1', 'dtmi:com:example:DeviceInfo;1', 'dtmi:com:example:Thermostat;1']);
  });

  test('--allow-undefined-extensions accepts an undefined extension context', () => {
    assert.equal(run('validate', 'undefined-extension').status, 1);
    assert.equal(run('validate', 'undefined-extension', '--allow-undefined-extensions').status, 0);
  });

  test('files can be given one by one', () => {
    const { status } = run('validate', path.join('valid', 'thermostat.json'), path.join('valid', 'nested', 'device.json'));
    assert.equal(status, 0);
  });

  test('usage errors and unreadable files exit 2', () => {
    const noArgs = run('validate');
    assert.equal(noArgs.status, 2);
    assert.match(noArgs.stderr, /give at least one file or folder/);
    assert.equal(run('validate', '--frobnicate', 'valid').status, 2);
    assert.equal(run('convert', 'valid').status, 2);
    const missing = run('validate', 'no-such-folder');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /cannot read no-such-folder: ENOENT/);
  });

  test('--help exits 0 and explains the exit codes', () => {
    const { status, stdout } = run('validate', '--help');
    assert.equal(status, 0);
    assert.match(stdout, /Exit status: 0 when the models are valid, 1 when they are not, 2/);
  });
});
