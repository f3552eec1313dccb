// The published artefact: `npm pack` gives a package that installs into an empty Node-RED user
// directory and loads every node with no warning in the log.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { packageRoot, startNodeRed, type NodeRedProcess } from '../support/node-red-process';

// Node-RED's own start-up notices, which appear whatever is installed.
const NODE_RED_NOTICES = [/Projects disabled/, /Encrypted credentials not found/];

describe('npm pack', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'twinflow-pack-'));
  let nodeRed: NodeRedProcess | undefined;

  after(async () => {
    await nodeRed?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('installs into an empty user directory and loads every node without a warning', async () => {
    // dist/ is already built by `npm test`; --ignore-scripts keeps prepack from rebuilding under the running tests.
    const packed = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: packageRoot, encoding: 'utf8' })) as { filename: string; files: { path: string }[] }[];
    const tarball = path.join(work, packed[0]!.filename);
    const files = packed[0]!.files.map((f) => f.path);
    const pkg = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
    for (const [name, file] of Object.entries(pkg['node-red'].nodes)) {
      assert.ok(files.includes(file), `the package holds ${file}`);
      assert.ok(files.includes(file.replace(/\.js$/, '.html')), `the package holds the editor file of ${name}`);
    }
    assert.ok(files.some((f) => f.startsWith('examples/')), 'the package holds examples/');
    assert.ok(!files.some((f) => f.startsWith('dist/test/') || f.startsWith('test/')), 'tests are not packaged');

    const userDir = path.join(work, 'user');
    execFileSync('mkdir', ['-p', userDir]);
    writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'empty-node-red-user-dir', version: '0.0.0', private: true }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--omit=dev', tarball], { cwd: userDir, stdio: 'pipe', timeout: 600_000 });

    nodeRed = await startNodeRed({ userDir, linkPackage: false, keepUserDir: true });
    await nodeRed.waitForLog(/Started flows/);
    const res = await nodeRed.request('GET', '/nodes', undefined, { Accept: 'application/json' });
    const sets = (await res.json()) as { module: string; name: string; enabled: boolean; err?: string; types: string[] }[];
    const ours = sets.filter((s) => s.module === 'node-red-contrib-twinflow');
    assert.deepEqual(ours.map((s) => s.name).sort(), Object.keys(pkg['node-red'].nodes).sort());
    for (const set of ours) {
      assert.equal(set.err, undefined, `${set.name} loaded without error`);
      assert.equal(set.enabled, true, `${set.name} is enabled`);
      assert.deepEqual(set.types, [set.name], `${set.name} registered its type`);
    }
    const warnings = nodeRed.log.split('\n').filter((line) => /\[(warn|error)\]/.test(line) && !NODE_RED_NOTICES.some((n) => n.test(line)));
    assert.deepEqual(warnings, [], 'no warning or error in the log');
  });
});
