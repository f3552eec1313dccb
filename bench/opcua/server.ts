// Child process of the OPC UA benchmark: the simulated CNC machine with bench tags, alone in its
// process so that its CPU is measured apart from the client's. Started with fork() and an IPC
// channel; says `{ ready, endpointUrl }` once it accepts connections and stops on `stop`,
// SIGTERM or when the parent goes away.
import { startCncServer, type AcknowledgementTimer, type CncServer } from '../../plant/cnc-server';
import { GcPauses, summarise, type ServerWindowStats } from './gc-pauses';

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
  // Over the client's window (the parent passes its window-start and window-end on): how long the
  // client took to acknowledge each publish response, and the simulator's own collection pauses.
  let acknowledgements: AcknowledgementTimer | undefined;
  let pauses: GcPauses | undefined;
  process.on('message', (message: unknown) => {
    switch ((message as { type?: string }).type) {
      case 'stop':
        void stop(0);
        break;
      case 'window-start':
        acknowledgements?.stop();
        pauses?.stop();
        acknowledgements = server?.timeAcknowledgements();
        pauses = new GcPauses();
        break;
      case 'window-end': {
        const stats: ServerWindowStats = {
          acknowledgementMs: summarise(acknowledgements?.delaysMs() ?? []),
          gc: pauses?.stop() ?? null,
        };
        acknowledgements?.stop();
        acknowledgements = undefined;
        pauses = undefined;
        process.send?.({ type: 'window-stats', stats });
        break;
      }
    }
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
