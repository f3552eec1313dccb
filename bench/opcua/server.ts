// Child process of the OPC UA benchmark: the simulated CNC machine with bench tags, alone in its
// process so that its CPU is measured apart from the client's. Started with fork() and an IPC
// channel; says `{ ready, endpointUrl }` once it accepts connections and stops on `stop`,
// SIGTERM or when the parent goes away.
import { startCncServer, type CncServer } from '../../plant/cnc-server';

export interface ServerConfig {
  port: number;
  benchTags: number;
  tickMs: number;
  pkiDir: string;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as ServerConfig;
  let server: CncServer | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await server?.stop().catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));
  // A parent that died must not leave a server behind.
  process.on('disconnect', () => void stop(0));
  process.on('message', (message: unknown) => {
    if ((message as { type?: string }).type === 'stop') void stop(0);
  });
  server = await startCncServer({
    port: config.port,
    host: '127.0.0.1',
    benchTags: config.benchTags,
    tickMs: config.tickMs,
    pkiDir: config.pkiDir,
  });
  process.send?.({ type: 'ready', endpointUrl: server.endpointUrl, monitoredItems: server.monitoredItemCount() });
}

main().catch((err: unknown) => {
  console.error(`bench server: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exit(1);
});
