// `npm start`: the simulated CNC machine and Node-RED with our settings, together, until Ctrl-C.
// On first start the CNC dashboard flow is deployed, so the dashboard shows live values at once.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { prepareUserDir } from './user-dir';

const root = path.join(__dirname, '..', '..');
export const FIRST_FLOW = 'cnc-live-dashboard.json';

async function main(): Promise<void> {
  // Node-RED and node-opcua compile a lot of code at start; cache it between runs (Node >= 22.1).
  const compileCache = path.join(root, 'node_modules', '.cache', 'twinflow-compile');
  process.env.NODE_COMPILE_CACHE ??= compileCache;
  (require('node:module') as { enableCompileCache?: (dir: string) => unknown }).enableCompileCache?.(compileCache);
  const settingsFile = path.join(__dirname, '..', 'settings.js');
  const settings = require(settingsFile) as { userDir: string; uiHost: string; uiPort: number; https?: unknown };
  prepareUserDir(settings.userDir, root);
  const { startCncServer } = require('../plant/cnc-server') as typeof import('../plant/cnc-server');
  const plantPort = Number(process.env.TWINFLOW_PLANT_PORT ?? 4840);
  const plant = await startCncServer({ port: plantPort, host: '127.0.0.1', autoCycle: true });
  console.log(`twinflow: simulated CNC machine at ${plant.endpointUrl}`);

  const flowsFile = path.join(settings.userDir, 'flows.json');
  if (!existsSync(flowsFile)) {
    writeFileSync(flowsFile, JSON.stringify(firstFlow(plant.endpointUrl), null, 2));
    console.log(`twinflow: first start: deployed flows/${FIRST_FLOW}`);
  }

  const redJs = require.resolve('node-red/red.js');
  const nodeRed = spawn(process.execPath, [redJs, '--settings', settingsFile], { stdio: 'inherit', env: process.env });
  const scheme = settings.https ? 'https' : 'http';
  console.log(`twinflow: editor at ${scheme}://${settings.uiHost}:${settings.uiPort}/ and dashboard at ${scheme}://${settings.uiHost}:${settings.uiPort}/dashboard`);

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (nodeRed.exitCode === null && nodeRed.signalCode === null) {
      nodeRed.kill('SIGINT');
      await new Promise((resolve) => nodeRed.once('exit', resolve));
    }
    await plant.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  nodeRed.on('exit', (code) => void stop(code ?? 0));
}

/** The first reference flow, pointed at the simulator actually started (its port is configurable). */
function firstFlow(endpointUrl: string): Record<string, unknown>[] {
  const flow = JSON.parse(readFileSync(path.join(root, 'flows', FIRST_FLOW), 'utf8')) as Record<string, unknown>[];
  return flow.map((node) => (node.type === 'opcua-endpoint' ? { ...node, endpointUrl } : node));
}

main().catch((err: unknown) => {
  console.error(`twinflow: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
