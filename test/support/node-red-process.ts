// Node-RED started as its own process with our compiled settings, in a temporary user directory,
// on a free loopback port; driven over the Admin HTTP API and the editor's /comms websocket.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prepareUserDir } from '../../scripts/user-dir';
import { freePort } from './ports';

export const packageRoot = path.join(__dirname, '..', '..', '..');
const settingsFile = path.join(packageRoot, 'dist', 'settings.js');

export interface FlowNode {
  id: string;
  type: string;
  z?: string;
  [key: string]: unknown;
}

export interface StartOptions {
  /** Flows written to flows.json before start (deployed at start-up). */
  flows?: FlowNode[];
  env?: Record<string, string>;
  /** Link this package into the user directory (default true); false for the npm-pack test. */
  linkPackage?: boolean;
  userDir?: string;
  /** Keep the user directory after stop (for restart tests). */
  keepUserDir?: boolean;
}

export interface CommsMessage {
  topic: string;
  data: unknown;
}

export class NodeRedProcess {
  readonly url: string;
  #log = '';
  #child: ChildProcess;
  #exited: Promise<number | null>;

  constructor(readonly port: number, readonly userDir: string, child: ChildProcess, private readonly keepUserDir: boolean) {
    this.url = `http://127.0.0.1:${port}`;
    this.#child = child;
    child.stdout?.on('data', (d: Buffer) => { this.#log += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { this.#log += d.toString(); });
    this.#exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  get log(): string {
    return this.#log;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async waitForLog(pattern: RegExp, timeoutMs = 30_000, from = 0): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this.#log.slice(from).match(pattern);
      if (match) return match;
      if (!this.running) throw new Error(`Node-RED exited before ${pattern} appeared:\n${this.#log}`);
      if (Date.now() > deadline) throw new Error(`${pattern} did not appear in ${timeoutMs} ms:\n${this.#log.slice(-4000)}`);
      await delay(100);
    }
  }

  async request(method: string, route: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${this.url}${route}`, {
      method,
      headers: { ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), 'Node-RED-API-Version': 'v2', ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  }

  async getFlows(): Promise<{ rev: string; flows: FlowNode[] }> {
    const res = await this.request('GET', '/flows');
    if (!res.ok) throw new Error(`GET /flows: ${res.status} ${await res.text()}`);
    return (await res.json()) as { rev: string; flows: FlowNode[] };
  }

  /** Deploys flows (full deployment) and waits until Node-RED has started them. */
  async deploy(flows: FlowNode[]): Promise<void> {
    const mark = this.#log.length;
    const res = await this.request('POST', '/flows', { flows }, { 'Node-RED-Deployment-Type': 'full' });
    if (!res.ok) throw new Error(`POST /flows: ${res.status} ${await res.text()}`);
    await this.waitForLog(/Started flows/, 30_000, mark);
  }

  /** Subscribes to the editor's comms socket: node status and debug messages, as the editor sees them. */
  async comms(topics: string[] = ['status/#', 'debug', 'notification/#']): Promise<Comms> {
    const socket = new WebSocket(`ws://127.0.0.1:${this.port}/comms`);
    const comms = new Comms(socket);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve(), { once: true });
      socket.addEventListener('error', () => reject(new Error('comms websocket failed')), { once: true });
    });
    for (const topic of topics) socket.send(JSON.stringify({ subscribe: topic }));
    return comms;
  }

  async stop(): Promise<void> {
    if (this.running) {
      this.#child.kill('SIGINT');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 10_000);
      await this.#exited;
      clearTimeout(timer);
    }
    if (!this.keepUserDir) rmSync(this.userDir, { recursive: true, force: true });
  }

  /** Kills Node-RED as a crash or power cut would. */
  async kill(): Promise<void> {
    if (this.running) {
      this.#child.kill('SIGKILL');
      await this.#exited;
    }
  }
}

export class Comms {
  readonly messages: CommsMessage[] = [];
  #waiters = new Set<() => void>();

  constructor(private readonly socket: WebSocket) {
    socket.addEventListener('message', (event) => {
      const batch = JSON.parse(String(event.data)) as CommsMessage | CommsMessage[];
      for (const message of Array.isArray(batch) ? batch : [batch]) this.messages.push(message);
      for (const wake of this.#waiters) wake();
    });
  }

  /** Status updates of one node, oldest first. */
  statuses(nodeId: string): { fill?: string; shape?: string; text?: string }[] {
    return this.messages.filter((m) => m.topic === `status/${nodeId}`).map((m) => m.data as { text?: string });
  }

  debug(nodeId?: string): { id: string; msg: string; format: string; topic?: string; property?: string }[] {
    return this.messages
      .filter((m) => m.topic === 'debug')
      .map((m) => m.data as { id: string; msg: string; format: string; topic?: string })
      .filter((d) => !nodeId || d.id === nodeId);
  }

  /** Waits until `check` returns something other than undefined/false, re-checking on every message. */
  async waitFor<T>(check: () => T | undefined | false, timeoutMs = 20_000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const result = check();
      if (result !== undefined && result !== false) return result;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const wake = () => { clearTimeout(timer); this.#waiters.delete(wake); resolve(); };
        const timer = setTimeout(wake, Math.min(remaining, 500));
        this.#waiters.add(wake);
      });
    }
  }

  close(): void {
    this.socket.close();
  }
}

export async function startNodeRed(options: StartOptions = {}): Promise<NodeRedProcess> {
  const userDir = options.userDir ?? mkdtempSync(path.join(os.tmpdir(), 'twinflow-nr-'));
  if (options.linkPackage !== false) prepareUserDir(userDir, packageRoot);
  if (options.flows) writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(options.flows, null, 2));
  const port = await freePort();
  const child = spawn(process.execPath, [require.resolve('node-red/red.js'), '--settings', settingsFile], {
    env: {
      ...process.env,
      TWINFLOW_USER_DIR: userDir,
      TWINFLOW_PORT: String(port),
      TWINFLOW_CREDENTIAL_SECRET: 'twinflow-test-secret',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const nodeRed = new NodeRedProcess(port, userDir, child, options.keepUserDir ?? false);
  try {
    await nodeRed.waitForLog(/Server now running at/, 60_000);
    if (options.flows) await nodeRed.waitForLog(/Started flows/, 60_000);
  } catch (err) {
    await nodeRed.stop();
    throw err;
  }
  return nodeRed;
}

/** Loads a reference flow from flows/ and rewrites its OPC UA endpoint URLs to the given server. */
export function referenceFlow(file: string, rewrite: { opcuaUrl?: string } = {}): FlowNode[] {
  const flows = JSON.parse(require('node:fs').readFileSync(path.join(packageRoot, 'flows', file), 'utf8')) as FlowNode[];
  return flows.map((node) => {
    if (node.type === 'opcua-endpoint' && rewrite.opcuaUrl) return { ...node, endpointUrl: rewrite.opcuaUrl };
    return node;
  });
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
