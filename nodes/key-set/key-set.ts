// Node-RED adapter for the key-set config node: the public keys a verifier trusts, by kid, and the
// replay state (per-issuer seq, recent nonces and cmdIds) shared by every verifier that uses them.
import path from 'node:path';
import type { NodeAPI, NodeDef } from 'node-red';
import { KeySet, ReplayStore, type TrustedKeyInput } from '../lib/signing';
import type { KeySetNode } from './key-set-node';

interface KeySetDef extends NodeDef {
  keys: unknown;
}

export = function register(RED: NodeAPI): void {
  function KeySetConfig(this: KeySetNode, config: KeySetDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    try {
      if (!Array.isArray(config.keys)) throw new Error('keys: must be a list of trusted keys');
      node.keySet = new KeySet(config.keys as TrustedKeyInput[]);
      if (node.keySet.size === 0) node.warn('key-set: no trusted keys yet; every signed command will be refused as unknown-key');
    } catch (err) {
      node.problem = (err as Error).message;
      node.error(`key-set: ${node.problem}`);
    }
    const base = path.join(RED.settings.userDir ?? process.cwd(), 'twinflow', 'signing', `replay-${node.id}`);
    let store: ReplayStore | undefined;
    let storeError: Error | undefined;
    node.replay = () => {
      if (store) return store;
      if (storeError) throw storeError;
      try {
        store = ReplayStore.open(base, Date.now());
      } catch (err) {
        // Starting empty would let every still-valid command be replayed: refuse instead.
        storeError = new Error(`the replay state in ${base}.json/.journal cannot be read (${(err as Error).message}); every command is refused until it is repaired or moved away (moving it away allows replays of commands that have not expired yet)`);
        node.error(`key-set: ${storeError.message}`);
        throw storeError;
      }
      if (store.report.tornTail !== undefined) node.warn(`key-set: the replay journal ended in a cut-off entry (a crash while recording a command that was therefore never released); it was dropped`);
      return store;
    };
    node.on('close', (done: () => void) => {
      const closing = store?.close();
      store = undefined;
      (closing ?? Promise.resolve()).then(() => done(), (err: Error) => {
        node.error(`key-set: cannot save the replay state: ${err.message}`);
        done();
      });
    });
  }

  RED.nodes.registerType('key-set', KeySetConfig as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
