// Helpers for node-level tests in node-red-node-test-helper: collect messages, read status, wait.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach } from 'node:test';
import type { CncServer } from '../../plant/cnc-server';

export type Message = Record<string, unknown> & { topic?: string; payload?: unknown };

interface NodeLike {
  on(event: string, listener: (...args: any[]) => void): unknown;
}

export interface Collector {
  readonly messages: Message[];
  /** Resolves with the first message (already received or future) that matches. */
  waitFor(match: (m: Message) => boolean, timeoutMs?: number): Promise<Message>;
  clear(): void;
}

/** Records every message a helper node receives. */
export function collector(node: NodeLike): Collector {
  const messages: Message[] = [];
  const waiters = new Set<(m: Message) => void>();
  node.on('input', (msg: Message) => {
    messages.push(msg);
    for (const wake of [...waiters]) wake(msg);
  });
  return {
    messages,
    clear: () => { messages.length = 0; },
    waitFor(match, timeoutMs = 15_000) {
      const found = messages.find(match);
      if (found) return Promise.resolve(found);
      return new Promise<Message>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching message within ${timeoutMs} ms; last received: ${JSON.stringify(messages.slice(-3)).slice(0, 600)}`));
        }, timeoutMs);
        const check = (m: Message) => {
          if (!match(m)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(m);
        };
        waiters.add(check);
      });
    },
  };
}

interface StatusSpy {
  getCalls(): { thisValue: unknown; args: unknown[] }[];
}

/** The last status a node set (the test helper spies on every node's status calls). */
export function statusOf(node: unknown): { fill?: string; shape?: string; text?: string } | undefined {
  const spy = (node as { status: StatusSpy }).status;
  const calls = spy.getCalls().filter((c) => c.thisValue === node);
  return calls.at(-1)?.args[0] as { text?: string } | undefined;
}

/** Polls until `check` is truthy, failing with `what` after the timeout. */
export async function eventually(check: () => unknown | Promise<unknown>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Monitored items the simulator's server holds across all sessions and subscriptions. */
export function serverMonitoredItems(plant: CncServer): number {
  return plant.monitoredItemCount();
}

type HelperLike = { load(nodes: unknown, flow: unknown, credentials?: unknown): Promise<void> };

/** helper.load with flows as plain objects (the typings only know NodeDef's fields). */
export function loadFlow(helper: HelperLike, nodes: unknown[], flow: unknown[], credentials?: Record<string, Record<string, string>>): Promise<void> {
  return helper.load(nodes, flow, credentials ?? {});
}

/** Every call a node makes to one of its methods (error, warn, status, send ...), as the test helper reports them. */
export function onCall(node: unknown, method: string, listener: (args: unknown[]) => void): void {
  (node as NodeLike).on(`call:${method}`, (call: { args: unknown[] }) => listener(call.args));
}

interface SuiteHelper {
  startServer(done: () => void): void;
  stopServer(done: () => void): void;
  settings(settings: Record<string, unknown>): unknown;
  unload(): Promise<unknown>;
}

/**
 * Registers the suite's hooks for node-red-node-test-helper: its server up for the suite, and every
 * test in a fresh user directory (so persisted state never leaks between tests), removed after it.
 * Returns the current test's user directory. Call it inside `describe`.
 */
export function nodeRedSuite(helper: SuiteHelper, prefix: string): () => string {
  let userDir = '';
  before(() => new Promise<void>((resolve) => helper.startServer(resolve)));
  beforeEach(() => {
    userDir = mkdtempSync(path.join(os.tmpdir(), `twinflow-${prefix}-`));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    rmSync(userDir, { recursive: true, force: true });
  });
  after(() => new Promise<void>((resolve) => helper.stopServer(resolve)));
  return () => userDir;
}
