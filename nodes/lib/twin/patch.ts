// JSON Patch (RFC 6902) and JSON Pointer (RFC 6901) helpers. The graph builds its patches directly
// on the hot path; applyPatch is for consumers (an event log replaying events, tests).

import type { PatchOperation } from './types';

/** One reference token, escaped for a JSON pointer: `spindle/speed` → `spindle~1speed`. */
export function escapePointerToken(token: string): string {
  if (token.indexOf('~') < 0 && token.indexOf('/') < 0) return token;
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function unescapePointerToken(token: string): string {
  if (token.indexOf('~') < 0) return token;
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

export function pointer(...tokens: string[]): string {
  let out = '';
  for (const token of tokens) out += `/${escapePointerToken(token)}`;
  return out;
}

export function parsePointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new Error(`JSON pointer ${JSON.stringify(path)} must be empty or start with "/"`);
  return path.slice(1).split('/').map(unescapePointerToken);
}

/**
 * Sets an own member, also one named `__proto__` (a DTDL Map may have such a key; a plain
 * assignment would change the object's prototype instead and lose the member).
 */
export function setMember(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}

/** Deep copy of a JSON value (faster than structuredClone for the small objects of a twin). */
export function cloneJson<T>(value: T): T {
  if (value === null || typeof value !== 'object') return (value === 0 ? 0 : value) as T;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = cloneJson(value[i]);
    return out as T;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) setMember(out, key, cloneJson((value as Record<string, unknown>)[key]));
  return out as T;
}

export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => jsonEqual(item, other[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((key) => Object.prototype.hasOwnProperty.call(b, key) && jsonEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  return value !== null && typeof value === 'object';
}

function arrayIndex(token: string, length: number, forAdd: boolean, path: string): number {
  if (forAdd && token === '-') return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new Error(`${path}: "${token}" is not an array index`);
  const index = Number(token);
  if (index > length || (!forAdd && index === length)) throw new Error(`${path}: index ${index} is out of bounds`);
  return index;
}

function parentOf(doc: unknown, tokens: string[], path: string): Record<string, unknown> | unknown[] {
  let node = doc;
  for (let i = 0; i < tokens.length - 1; i++) {
    const token = tokens[i] as string;
    if (!isContainer(node)) throw new Error(`${path}: no container at "${token}"`);
    node = Array.isArray(node) ? node[arrayIndex(token, node.length, false, path)] : Object.prototype.hasOwnProperty.call(node, token) ? node[token] : undefined;
  }
  if (!isContainer(node)) throw new Error(`${path}: the parent does not exist`);
  return node;
}

function get(doc: unknown, path: string): unknown {
  let node = doc;
  for (const token of parsePointer(path)) {
    if (!isContainer(node)) throw new Error(`${path}: does not exist`);
    if (Array.isArray(node)) node = node[arrayIndex(token, node.length, false, path)];
    else if (Object.prototype.hasOwnProperty.call(node, token)) node = node[token];
    else throw new Error(`${path}: does not exist`);
  }
  return node;
}

function add(doc: unknown, path: string, value: unknown): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return value;
  const parent = parentOf(doc, tokens, path);
  const last = tokens[tokens.length - 1] as string;
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, true, path), 0, value);
  else setMember(parent, last, value);
  return doc;
}

/** Replaces in place, so an object member keeps its position among the keys. */
function replace(doc: unknown, path: string, value: unknown): unknown {
  get(doc, path);
  const tokens = parsePointer(path);
  if (tokens.length === 0) return value;
  const parent = parentOf(doc, tokens, path);
  const last = tokens[tokens.length - 1] as string;
  if (Array.isArray(parent)) parent[arrayIndex(last, parent.length, false, path)] = value;
  else setMember(parent, last, value);
  return doc;
}

function remove(doc: unknown, path: string): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) throw new Error('cannot remove the whole document');
  const parent = parentOf(doc, tokens, path);
  const last = tokens[tokens.length - 1] as string;
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, false, path), 1);
  else {
    if (!Object.prototype.hasOwnProperty.call(parent, last)) throw new Error(`${path}: does not exist`);
    delete parent[last];
  }
  return doc;
}

/**
 * Applies RFC 6902 operations to a copy of `document` (which is left alone) and returns the result.
 * Throws on an operation that does not apply (missing target, failed `test`, bad index).
 */
export function applyPatch<T = unknown>(document: unknown, operations: readonly PatchOperation[]): T {
  let doc = cloneJson(document);
  for (const op of operations) {
    switch (op.op) {
      case 'add':
        doc = add(doc, op.path, cloneJson(op.value));
        break;
      case 'remove':
        doc = remove(doc, op.path);
        break;
      case 'replace':
        doc = replace(doc, op.path, cloneJson(op.value));
        break;
      case 'move': {
        const value = get(doc, op.from);
        if (op.path.startsWith(`${op.from}/`)) throw new Error(`${op.path}: cannot move a value into itself`);
        doc = add(remove(doc, op.from), op.path, value);
        break;
      }
      case 'copy':
        doc = add(doc, op.path, cloneJson(get(doc, op.from)));
        break;
      case 'test':
        if (!jsonEqual(get(doc, op.path), op.value)) throw new Error(`${op.path}: test failed`);
        break;
      default:
        throw new Error(`unknown JSON Patch operation ${JSON.stringify((op as { op: unknown }).op)}`);
    }
  }
  return doc as T;
}
