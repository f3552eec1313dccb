// A versioned set of DTDL models. Interfaces are added, never changed: once `dtmi:...;1` is loaded,
// a document that says something else under that DTMI is refused (publish it as `;2`), so twins
// built on a version keep meaning what they meant. Each successful load yields a new immutable ModelSet.
import { EventEmitter } from 'node:events';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseModels, type DtdlError, type ModelSet } from '../lib/dtdl';

/** A parser error, or the registry's own refusal (`versionChanged`), located by document and JSON pointer. */
export interface RegistryError {
  code: DtdlError['code'] | 'versionChanged';
  dtmi?: string;
  document?: number;
  path: string;
  message: string;
}

export interface LoadResult {
  ok: boolean;
  errors: RegistryError[];
  /** Interface DTMIs this load added. */
  added: string[];
  /** DTMIs referenced but neither given nor already loaded. */
  unresolved: string[];
}

/** Where a document came from, for error messages: a file name, "dialog" or "message". */
export interface SourcedDocument {
  source: string;
  document: unknown;
}

function interfacesOf(document: unknown): { id: string; body: unknown }[] {
  const items = Array.isArray(document) ? document : [document];
  return items.flatMap((item) => {
    const id = typeof item === 'object' && item !== null ? (item as Record<string, unknown>)['@id'] : undefined;
    return typeof id === 'string' ? [{ id, body: item }] : [];
  });
}

/** JSON with object keys sorted, so the same interface written in another key order counts as the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export class ModelRegistry extends EventEmitter {
  #documents: SourcedDocument[] = [];
  #fingerprints = new Map<string, string>();
  #model: ModelSet | undefined;

  constructor(private readonly options: { allowUndefinedExtensions?: boolean } = {}) {
    super();
  }

  get model(): ModelSet | undefined {
    return this.#model;
  }

  /** Interface DTMIs loaded so far, sorted: `CNCMachine;1` and `CNCMachine;2` side by side. */
  get interfaces(): string[] {
    return [...this.#fingerprints.keys()].sort();
  }

  /**
   * Adds documents. All or nothing: when any document is invalid, conflicts with a loaded version
   * or leaves a reference unresolved, nothing is added and the current ModelSet stays.
   */
  load(documents: SourcedDocument[]): LoadResult {
    const errors: RegistryError[] = [];
    const fresh: SourcedDocument[] = [];
    const freshPrints = new Map<string, string>();
    documents.forEach((sourced, index) => {
      const found = interfacesOf(sourced.document);
      let unchanged = found.length > 0;
      for (const { id, body } of found) {
        const print = canonical(body);
        const known = this.#fingerprints.get(id) ?? freshPrints.get(id);
        if (known === undefined) {
          freshPrints.set(id, print);
          unchanged = false;
        } else if (known !== print) {
          errors.push({
            code: 'versionChanged',
            dtmi: id,
            document: index,
            path: '',
            message: `${id} (${sourced.source}) is already loaded with different content: a loaded version is never changed; publish the change under a new version number`,
          });
        }
      }
      if (!unchanged) fresh.push(sourced);
    });
    if (errors.length > 0) return { ok: false, errors, added: [], unresolved: [] };
    if (fresh.length === 0) return { ok: true, errors: [], added: [], unresolved: [] };

    const all = [...this.#documents, ...fresh];
    const result = parseModels(all.map((d) => d.document), { allowUndefinedExtensions: this.options.allowUndefinedExtensions ?? false });
    if (!result.valid || !result.model) {
      // Report errors against the new documents' own numbering and name their source.
      const offset = this.#documents.length;
      const located = result.errors.map((e): RegistryError => {
        const source = e.document !== undefined ? all[e.document]?.source : undefined;
        // Errors in this load's documents are numbered from 0; those in earlier loads carry only their source.
        const { document, ...rest } = e;
        return { ...rest, ...(document !== undefined && document >= offset ? { document: document - offset } : {}), message: source ? `${source}: ${e.message}` : e.message };
      });
      return { ok: false, errors: located, added: [], unresolved: result.unresolved };
    }
    this.#documents = all;
    for (const [id, print] of freshPrints) this.#fingerprints.set(id, print);
    this.#model = result.model;
    const added = [...freshPrints.keys()].sort();
    this.emit('change', this.#model, added);
    return { ok: true, errors: [], added, unresolved: [] };
  }
}

/** Every `.json` file below a folder (sorted), each parsed as one DTDL document. */
export function documentsFromFolder(folder: string): SourcedDocument[] {
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new Error(`folder: "${folder}" is not a folder`);
  const files = readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.json'))
    .sort();
  if (files.length === 0) throw new Error(`folder: "${folder}" holds no .json files`);
  return files.map((file) => ({ source: file, document: parseJson(readFileSync(path.join(folder, file), 'utf8'), file) }));
}

/** Documents pasted as text: one document, or an array of documents (each an Interface or an array of them). */
export function documentsFromText(text: string, source = 'dialog'): SourcedDocument[] {
  const parsed = parseJson(text, source);
  const items = Array.isArray(parsed) ? parsed : [parsed];
  return items.map((document, i) => ({ source: items.length > 1 ? `${source}[${i}]` : source, document }));
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${source}: not valid JSON (${(err as Error).message})`);
  }
}

/** The CNC machine and plant models this package ships (describing the simulator). */
export const BUILTIN_MODELS_DIR = path.join(__dirname, '..', '..', '..', 'models');
