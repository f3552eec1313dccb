// parseModels: parse every document, fetch what is still missing through the resolver, link, and
// build the ModelSet when nothing is wrong.

import { buildModelSet } from './build';
import { ElementParser } from './elements';
import { ErrorSink, type DtdlError } from './errors';
import type { ModelSet } from './model';
import { Linker } from './resolver';

export interface ParseModelsOptions {
  /**
   * Accept extension contexts this parser does not define (the model is then "incomplete with
   * indeterminate validity"); their co-types and members are kept in `undefinedTypes` and
   * `undefinedProperties`. Default false: such contexts are errors.
   */
  allowUndefinedExtensions?: boolean;
  /**
   * Supplies the JSON document (as JSON.parse returns it) that defines a DTMI the given
   * documents refer to but do not define; return undefined when it is not available.
   * Fetched documents are numbered after the given ones in `DtdlError.document`.
   */
  resolve?: (dtmi: string) => unknown | undefined;
}

export interface ParseModelsResult {
  /** True when the documents form a complete and valid model set. */
  valid: boolean;
  errors: DtdlError[];
  /** DTMIs that references point at but neither the documents nor the resolver define, sorted. */
  unresolved: string[];
  /** The parsed models; present only when `valid`. */
  model?: ModelSet;
}

/**
 * Parses DTDL v2, v3 and v4 documents (each as JSON.parse returns it: one Interface or an array
 * of them) as one model set, resolves references between them, and checks every rule of the
 * specifications. See {@link ParseModelsResult}.
 */
export function parseModels(documents: unknown[], options: ParseModelsOptions = {}): ParseModelsResult {
  const sink = new ErrorSink();
  const parser = new ElementParser(sink, { allowUndefinedExtensions: options.allowUndefinedExtensions === true });
  documents.forEach((document, index) => parser.parseDocument(document, index));
  const linker = new Linker(sink, parser.nodes, parser.refs);

  const resolve = options.resolve;
  if (resolve) {
    const attempted = new Set<string>();
    let nextDocument = documents.length;
    for (;;) {
      const missing = linker.missingReferences().filter((dtmi) => !attempted.has(dtmi));
      if (missing.length === 0) break;
      for (const dtmi of missing) {
        attempted.add(dtmi);
        let fetched: unknown;
        try {
          fetched = resolve(dtmi);
        } catch (err) {
          sink.add('reference-unresolved', { document: -1, pointer: '' }, `The resolver failed for ${dtmi}: ${err instanceof Error ? err.message : String(err)}`, dtmi);
          continue;
        }
        if (fetched !== undefined) parser.parseDocument(fetched, nextDocument++);
      }
    }
  }

  const linked = linker.link();
  const valid = sink.count === 0;
  const result: ParseModelsResult = { valid, errors: sink.errors, unresolved: [...linked.unresolved] };
  if (valid) result.model = buildModelSet(linked);
  return result;
}
