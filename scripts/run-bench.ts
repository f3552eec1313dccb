// Runs the benchmarks: every dist/bench/**/*.bench.js, one after another (they measure, so never in
// parallel). `npm run bench -- <filter>` runs those whose path contains the filter.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

const benchDir = path.join(__dirname, '..', 'bench');
const filter = process.argv[2];
const files = existsSync(benchDir)
  ? readdirSync(benchDir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.bench.js') && (!filter || f.includes(filter)))
    .sort()
  : [];
if (files.length === 0) {
  console.error(`run-bench: no benchmark matches ${filter ? `"${filter}"` : 'bench/**/*.bench.ts'}`);
  process.exit(2);
}
// The alternatives we compare against live in bench/deps, apart from the project, so that Node-RED
// never loads them into the Twinflow palette; install them on first use from their lock file.
const deps = path.join(__dirname, '..', '..', 'bench', 'deps');
if (!existsSync(path.join(deps, 'node_modules'))) {
  console.log('run-bench: installing the packages the benchmarks compare against (bench/deps)');
  const install = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: deps, stdio: 'inherit' });
  if (install.status !== 0) process.exit(install.status ?? 1);
}
let failed = 0;
for (const file of files) {
  console.log(`\n=== bench/${file.replace(/\.js$/, '.ts')} ===`);
  const result = spawnSync(process.execPath, ['--expose-gc', path.join(benchDir, file)], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
