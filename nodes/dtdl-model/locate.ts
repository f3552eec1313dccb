// Puts parser errors next to the pasted text: a document index and JSON pointer become a line and column.
import { findNodeAtLocation, parseTree, type Node as JsonNode } from 'jsonc-parser';

export interface TextLocation {
  line: number;
  column: number;
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

/**
 * Where `pointer` (inside document `document` of the pasted text, which is one document or an
 * array of documents) starts in the text. Falls back to the nearest existing parent.
 */
export function locate(text: string, document: number | undefined, pointer: string, pastedArray: boolean): TextLocation | undefined {
  const tree = parseTree(text);
  if (!tree) return undefined;
  const segments: (string | number)[] = pointer === '' ? [] : pointer.split('/').slice(1).map(unescapePointer).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  if (pastedArray && document !== undefined) segments.unshift(document);
  let node: JsonNode | undefined;
  for (let n = segments.length; n >= 0 && !node; n--) node = findNodeAtLocation(tree, segments.slice(0, n));
  if (!node) return undefined;
  // The property's key is where a person looks, not its value.
  const start = node.parent?.type === 'property' ? node.parent.offset : node.offset;
  const before = text.slice(0, start);
  const line = before.split('\n').length;
  return { line, column: start - before.lastIndexOf('\n') };
}
