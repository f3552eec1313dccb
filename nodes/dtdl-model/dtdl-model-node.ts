// What twin nodes may ask of a deployed dtdl-model config node.
import type { Node } from 'node-red';
import type { LoadResult, ModelRegistry } from './model-registry';

export interface DtdlModelNode extends Node {
  registry: ModelRegistry;
  /** Why the configured documents could not be loaded, if they could not. */
  loadError?: string;
  /** Adds documents from a message (all or nothing; loaded versions never change). */
  loadDocuments(documents: unknown[], source?: string): LoadResult;
}
