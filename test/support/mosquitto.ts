// A real mosquitto broker for tests: /usr/sbin/mosquitto with a temporary config, listening on a free
// loopback port, anonymous, no persistence; started, waited for, and stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports';

export const MOSQUITTO = '/usr/sbin/mosquitto';

export interface Mosquitto {
  port: number;
  /** mqtt://127.0.0.1:<port> */
  url: string;
  pid: number;
  /** Everything the broker printed so far (its log goes to stderr). */
  readonly log: string;
  /** Stops the broker (SIGTERM, then SIGKILL after 5 s) and removes its temporary folder. */
  stop(): Promise<void>;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts mosquitto on 127.0.0.1 (on `port`, or a free one) and resolves once it accepts connections. */
export async function startMosquitto(options: { port?: number; extraConfig?: string[] } = {}): Promise<Mosquitto> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'twinflow-mosquitto-'));
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(conf, [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    ...(options.extraConfig ?? []),
    '',
  ].join('\n'));
  const child: ChildProcess = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => { log += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { log += d.toString(); });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));
  const spawnError = new Promise<never>((_, reject) => child.once('error', (err) => reject(new Error(`cannot start ${MOSQUITTO}: ${err.message}`))));
  spawnError.catch(() => undefined);

  const stop = async (): Promise<void> => {
    if (!exited && child.pid !== undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 5000);
      await exit;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 15_000;
  try {
    for (;;) {
      if (exited) throw new Error(`mosquitto exited before accepting connections:\n${log}`);
      if (await Promise.race([canConnect(port), spawnError])) break;
      if (Date.now() > deadline) throw new Error(`mosquitto did not accept connections on 127.0.0.1:${port} within 15 s:\n${log}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    pid: child.pid as number,
    get log() { return log; },
    stop,
  };
}
