// Errors reported by the DTDL parser and the instance validator, and the helpers that build them.

/**
 * Machine-readable reason for a {@link DtdlError}. Parser codes name the DTDL rule that was broken;
 * `value-*` and `target-*` codes come from {@link validateInstance}.
 */
export type DtdlErrorCode =
  // documents and @context
  | 'document-root'
  | 'json-syntax'
  | 'context-missing'
  | 'context-invalid'
  | 'context-version'
  | 'context-order'
  | 'extension-undefined'
  | 'top-level-not-interface'
  // @type
  | 'type-missing'
  | 'type-invalid'
  | 'type-material'
  | 'type-undefined'
  | 'type-irrelevant'
  | 'cotype-not-allowed'
  | 'cotype-conflict'
  | 'cotype-requires'
  // members
  | 'member-keyword'
  | 'member-undefined'
  | 'member-irrelevant'
  | 'member-duplicate'
  | 'member-required'
  | 'member-value'
  | 'member-count'
  // identifiers
  | 'id-invalid'
  | 'id-reserved'
  | 'id-too-long'
  | 'id-duplicate'
  | 'id-required'
  | 'dtmi-invalid'
  // names and strings
  | 'name-invalid'
  | 'name-too-long'
  | 'name-duplicate'
  | 'string-too-long'
  | 'langstring-invalid'
  // schemas and references
  | 'schema-invalid'
  | 'reference-unresolved'
  | 'reference-partition'
  | 'reference-type'
  | 'version-mismatch'
  // limits and exclusions
  | 'extends-count'
  | 'extends-depth'
  | 'cycle'
  | 'component-nested'
  | 'schema-depth'
  | 'contents-count'
  | 'interface-size'
  | 'property-array'
  | 'multiplicity'
  | 'integer-range'
  // semantic types and units
  | 'semantic-type-schema'
  | 'unit-missing'
  | 'unit-invalid'
  // Enum, Object, Relationship
  | 'enum-value-type'
  | 'enum-value-duplicate'
  | 'element-count'
  // extensions
  | 'annotates-unknown'
  | 'overrides-invalid'
  | 'index-duplicate'
  | 'extension-value'
  // instance validation
  | 'value-type'
  | 'value-range'
  | 'value-format'
  | 'value-enum'
  | 'value-required'
  | 'value-unknown-field'
  | 'value-null'
  | 'value-invalid'
  | 'target-unknown'
  | 'target-invalid';

/**
 * One broken rule. For the parser, `path` is a JSON pointer (RFC 6901) into document number
 * `document` (its index in the array given to {@link parseModels}; documents fetched through the
 * `resolve` option are numbered after them, in the order they were fetched). For the validator,
 * `path` is a JSON pointer into the validated value and `document` is absent.
 */
export interface DtdlError {
  code: DtdlErrorCode;
  /** The DTMI of the nearest element with an `@id` (usually the Interface), when there is one. */
  dtmi?: string;
  /** Index of the offending document; see the interface comment. */
  document?: number;
  /** JSON pointer to the offending value. */
  path: string;
  /** A sentence a person understands, naming the element and the rule. */
  message: string;
}

/** Where a JSON value sits: which document, and the JSON pointer inside it. */
export interface SourceRef {
  readonly document: number;
  readonly pointer: string;
}

/** Appends one reference token to a JSON pointer, escaping `~` and `/` (RFC 6901). */
export function pointerJoin(pointer: string, token: string | number): string {
  const text = typeof token === 'number' ? String(token) : token.replace(/~/g, '~0').replace(/\//g, '~1');
  return `${pointer}/${text}`;
}

export function at(source: SourceRef, token: string | number): SourceRef {
  return { document: source.document, pointer: pointerJoin(source.pointer, token) };
}

/** Collects errors in the order they are found. */
export class ErrorSink {
  readonly errors: DtdlError[] = [];

  add(code: DtdlErrorCode, source: SourceRef, message: string, dtmi?: string): void {
    const error: DtdlError = { code, document: source.document, path: source.pointer, message };
    if (dtmi !== undefined) error.dtmi = dtmi;
    this.errors.push(error);
  }

  get count(): number {
    return this.errors.length;
  }
}

/** JSON text of a value for a message, cut short so a huge value cannot flood a log. */
export function show(value: unknown, max = 60): string {
  let text: string;
  if (value === undefined) return 'nothing';
  if (typeof value === 'bigint') text = `${value}n`;
  else if (typeof value === 'number' && !Number.isFinite(value)) text = String(value);
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
