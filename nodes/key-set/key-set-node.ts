// What signature-verify nodes may ask of a deployed key-set config node.
import type { Node } from 'node-red';
import type { KeySet, ReplayStore } from '../lib/signing';

export interface KeySetNode extends Node {
  /** The trusted keys, absent when the configuration is not valid (see `problem`). */
  keySet?: KeySet;
  problem?: string;
  /**
   * The replay state shared by every verifier using this key set, opened on first use and kept
   * under the user directory. Throws when the saved state cannot be read (verifiers fail closed).
   */
  replay(): ReplayStore;
}
