// Opening .fmu archives: extraction cached by content hash, a private copy of the binary per
// loaded library, and clear errors for every kind of broken FMU.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import koffi from 'koffi';
import { FmuError, type FmuErrorCode } from '../../../nodes/fmu/errors';
import { binaryPath, openFmu } from '../../../nodes/fmu/fmu-archive';
import { loadFmuLibrary } from '../../../nodes/fmu/fmu-library';
import { ensureBuilt, fmuPath, privateCache, testFmuPath } from './helpers';

const cache = privateCache();

async function rejects(file: string, code: FmuErrorCode, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(
    async () => loadFmuLibrary(await openFmu(file)),
    (err: unknown) => {
      assert.ok(err instanceof FmuError, `expected an FmuError, got ${String(err)}`);
      assert.equal(err.code, code, err.message);
      for (const pattern of patterns) assert.match(err.message, pattern);
      return true;
    },
  );
}

describe('FMU archives', () => {
  before(ensureBuilt);

  it('extracts once per content hash and reuses the extraction', async () => {
    const first = await openFmu(fmuPath('thermal', 2));
    assert.match(first.sha256, /^[0-9a-f]{64}$/);
    assert.equal(first.directory, path.join(cache, first.sha256));
    assert.deepEqual(first.platforms, ['linux64']);
    const marker = statSync(path.join(first.directory, '.twinflow-extracted')).mtimeMs;
    const second = await openFmu(fmuPath('thermal', 2));
    assert.equal(second.directory, first.directory);
    assert.equal(statSync(path.join(second.directory, '.twinflow-extracted')).mtimeMs, marker);
    const third = await openFmu(fmuPath('thermal', 3));
    assert.notEqual(third.sha256, first.sha256);
    assert.deepEqual(third.platforms, ['x86_64-linux']);
    assert.ok(binaryPath(third).endsWith(path.join('binaries', 'x86_64-linux', 'twinflow_motor_thermal.so')));
  });

  it('loads a private copy of the binary per library, so globals are not shared', async () => {
    const archive = await openFmu(fmuPath('thermal', 2));
    const a = loadFmuLibrary(archive);
    const b = loadFmuLibrary(archive);
    try {
      assert.notEqual(a.libraryPath, b.libraryPath);
      assert.ok(a.libraryPath.startsWith(path.join(cache, 'instances')));
      // The FMU's own count of live instances is a global of each copy.
      const countOf = (file: string): number => koffi.load(file).func('int twinflow_live_instances(void)')() as number;
      const x = a.instantiate('x');
      const y = a.instantiate('y');
      b.instantiate('z');
      assert.equal(countOf(a.libraryPath), 2);
      assert.equal(countOf(b.libraryPath), 1);
      x.free();
      y.free();
      assert.equal(countOf(a.libraryPath), 0);
      assert.equal(a.liveInstances, 0);
    } finally {
      a.unload();
      b.unload();
    }
    assert.equal(existsSync(a.libraryPath), false, 'the copy is deleted on unload');
    assert.deepEqual(readdirSync(path.join(cache, 'instances')), []);
  });

  it('refuses a file that is not a zip archive', () =>
    rejects(testFmuPath('not-a-zip'), 'FMU_ARCHIVE_INVALID', /^not-a-zip\.fmu: not a valid zip archive/));

  it('refuses a missing file', () => rejects(path.join(cache, 'nothing-here.fmu'), 'FMU_ARCHIVE_INVALID', /nothing-here\.fmu: no such file/));

  it('refuses an archive without modelDescription.xml', () =>
    rejects(testFmuPath('missing-description'), 'FMU_DESCRIPTION_INVALID', /missing-description\.fmu: has no modelDescription\.xml/));

  it('refuses malformed XML, naming the file, line and column', () =>
    rejects(testFmuPath('malformed-xml'), 'FMU_DESCRIPTION_INVALID', /^malformed-xml\.fmu\/modelDescription\.xml: not well-formed XML at line \d+, column \d+/));

  it('refuses a variable without a value reference', () =>
    rejects(testFmuPath('missing-value-reference'), 'FMU_DESCRIPTION_INVALID', /missing-value-reference\.fmu\/modelDescription\.xml: ScalarVariable 2 \("current"\) has no valueReference/));

  it('refuses an FMU without a binary for this platform, naming the platforms it has', () =>
    rejects(testFmuPath('no-linux-binary'), 'FMU_PLATFORM_MISSING', /no-linux-binary\.fmu: has no binary for linux x64 \(binaries\/linux64\/twinflow_motor_thermal\.so\)/, /it has binaries for darwin64, win64/));

  it('refuses a Model-Exchange-only FMU', () =>
    rejects(testFmuPath('model-exchange-only'), 'FMU_NOT_COSIMULATION', /model-exchange-only\.fmu implements only Model Exchange; Twinflow runs Co-Simulation FMUs/));

  it('refuses a binary the loader cannot load', () =>
    rejects(testFmuPath('corrupt-binary'), 'FMU_BINARY_INVALID', /corrupt-binary\.fmu: cannot load its binary binaries\/linux64\/twinflow_motor_thermal\.so/));
});
