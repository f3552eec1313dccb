// Runs the test layers in order (unit, node, e2e, browser) on Node's built-in runner.
// `npm test -- <layer> [filter]` narrows the run; a layer that hangs is killed and fails.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

interface Layer {
  name: string;
  concurrency: number;
  /** Wall-clock bound for the whole layer, so a leaked handle can never hang CI. */
  timeoutMinutes: number;
}

const layers: Layer[] = [
  { name: 'unit', concurrency: 2, timeoutMinutes: 10 },
  { name: 'node', concurrency: 1, timeoutMinutes: 15 },
  { name: 'e2e', concurrency: 1, timeoutMinutes: 25 },
  { name: 'browser', concurrency: 1, timeoutMinutes: 10 },
];

const distTest = path.join(__dirname, '..', 'test');
// Tests start Node-RED and the simulator as processes again and again; Node's compile cache saves
// recompiling node-opcua and Node-RED each time (a third of their start-up here).
const compileCache = path.join(__dirname, '..', '..', 'node_modules', '.cache', 'twinflow-compile');

function testFiles(layer: string, filter: string | undefined): string[] {
  const dir = path.join(distTest, layer);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.js'))
    .filter((f) => !filter || f.includes(filter))
    .sort()
    .map((f) => path.join(dir, f));
}

function runLayer(layer: Layer, files: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    console.log(`\n=== ${layer.name}: ${files.length} file(s) ===`);
    const child = spawn(
      process.execPath,
      ['--test', `--test-concurrency=${layer.concurrency}`, '--test-reporter=spec', ...files],
      { stdio: 'inherit', env: { NODE_COMPILE_CACHE: compileCache, ...process.env, TWINFLOW_TEST_LAYER: layer.name } },
    );
    const timer = setTimeout(() => {
      console.error(`\n${layer.name}: still running after ${layer.timeoutMinutes} minutes; killing it`);
      child.kill('SIGKILL');
    }, layer.timeoutMinutes * 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code === 0 && signal === null);
    });
  });
}

async function main(): Promise<void> {
  const [only, filter] = process.argv.slice(2);
  if (only && !layers.some((l) => l.name === only)) {
    console.error(`run-tests: unknown layer "${only}"; choose one of ${layers.map((l) => l.name).join(', ')}`);
    process.exit(2);
  }
  const failed: string[] = [];
  for (const layer of layers) {
    if (only && layer.name !== only) continue;
    const files = testFiles(layer.name, filter);
    if (files.length === 0) continue;
    if (!(await runLayer(layer, files))) failed.push(layer.name);
  }
  if (failed.length > 0) {
    console.error(`\nFailed layers: ${failed.join(', ')}`);
    process.exit(1);
  }
  console.log('\nAll test layers passed.');
}

void main();
