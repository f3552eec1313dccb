// Memory stays flat over a million master steps: heap and RSS after warm-up vs after 1e6 steps
// (with what-ifs and instance churn in between), measured in a child process run with --expose-gc.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { ensureBuilt, privateCache } from './helpers';

privateCache();

const MiB = 1024 * 1024;

describe('memory', () => {
  before(ensureBuilt);

  for (const version of [2, 3]) {
    it(`FMI ${version}.0: heap and RSS flat over 1e6 motor steps`, () => {
      const probe = path.join(__dirname, 'memory-probe.js');
      const child = spawnSync(process.execPath, ['--expose-gc', probe, String(version)], { encoding: 'utf8', env: process.env, timeout: 300_000 });
      assert.equal(child.status, 0, child.stderr);
      const { before: start, after: end, steps, speed } = JSON.parse(child.stdout.trim().split('\n').at(-1)!);
      assert.equal(steps, 1_000_000);
      assert.ok(speed > 150, `the motor ran (${speed} rad/s)`);
      const heapGrowth = end.heap - start.heap;
      const rssGrowth = end.rss - start.rss;
      assert.ok(heapGrowth < 4 * MiB, `heap grew by ${(heapGrowth / MiB).toFixed(2)} MiB`);
      assert.ok(rssGrowth < 24 * MiB, `RSS grew by ${(rssGrowth / MiB).toFixed(2)} MiB`);
    });
  }
});
