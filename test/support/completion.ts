// Waits for Node-RED to report a message complete (a node called done()), through the runtime's
// onComplete hook, with the error done() was given if any. For node tests in the test helper.
import { hooks } from '@node-red/util';

const waiting = new Map<string, (error: Error | undefined) => void>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  hooks.add('onComplete.twinflowTest', (event: { msg?: { _msgid?: string }; error?: unknown }) => {
    const id = event.msg?._msgid;
    const wake = id === undefined ? undefined : waiting.get(id);
    if (!wake) return;
    waiting.delete(id as string);
    wake(event.error === undefined || event.error === null ? undefined : event.error instanceof Error ? event.error : new Error(String(event.error)));
  });
}

let counter = 0;

/**
 * Hands `msg` to the node (as if it arrived on a wire) and resolves once the node completes it:
 * with undefined on done(), with the error on done(err).
 */
export function deliver(node: { receive(msg: unknown): void }, msg: Record<string, unknown>, timeoutMs = 30_000): Promise<Error | undefined> {
  install();
  const id = `t${process.pid}-${++counter}`;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error(`message ${id} was not completed within ${timeoutMs} ms`));
    }, timeoutMs);
    waiting.set(id, (error) => {
      clearTimeout(timer);
      resolve(error);
    });
    node.receive({ ...msg, _msgid: id });
  });
}
