// The "Limits and exclusions" of each specification that need the linked model: complex-schema
// nesting depth, contents counts (v2: 300; v3/v4: 100,000 elements in the hierarchy), DTDL v2's
// exclusion of Array from Property schemas, and the 1 MiB text limit of an Interface.

import type { ErrorSink } from './errors';
import { elementOf, subject, type ElementNode, type MemberValue } from './nodes';

const COMPLEX = new Set(['Array', 'Enum', 'Map', 'Object']);
const HIERARCHY_MEMBERS = ['contents', 'fields', 'enumValues', 'request', 'response', 'properties', 'schema', 'elementSchema', 'mapValue'];
/** Elements whose schema is the root of a schema hierarchy. */
const SCHEMA_HOLDERS = new Set(['Telemetry', 'Property', 'CommandRequest', 'CommandResponse', 'CommandPayload']);

export function checkLimits(
  sink: ErrorSink,
  nodes: readonly ElementNode[],
  interfaces: readonly ElementNode[],
  contents: ReadonlyMap<ElementNode, ReadonlyMap<string, ElementNode>>,
): void {
  checkSchemaDepth(sink, nodes);
  checkContentCounts(sink, interfaces, contents);
  checkV2PropertySchemas(sink, nodes);
  checkInterfaceSize(sink, interfaces);
}

/**
 * Levels a standard schema adds to a schema hierarchy: the reference metamodel defines the
 * geospatial schemas as Objects holding nested Arrays of positions, and scaledDecimal as an Object.
 */
const STANDARD_DEPTH: Readonly<Record<string, number>> = {
  point: 2,
  multiPoint: 3,
  lineString: 3,
  multiLineString: 4,
  polygon: 4,
  multiPolygon: 5,
  scaledDecimal: 1,
};

/** The schema values one complex-schema level down: elementSchema, each field's schema, mapValue's schema. */
function nestedSchemaValues(node: ElementNode): MemberValue[] {
  const out: MemberValue[] = [];
  const push = (value: MemberValue | undefined): void => {
    if (value) out.push(value);
  };
  if (node.cls === 'Array') push(node.values('elementSchema')[0]);
  else if (node.cls === 'Object') for (const f of node.values('fields')) push(elementOf(f)?.values('schema')[0]);
  else if (node.cls === 'Map') push(elementOf(node.values('mapValue')[0])?.values('schema')[0]);
  return out;
}

function checkSchemaDepth(sink: ErrorSink, nodes: readonly ElementNode[]): void {
  const memo = new Map<ElementNode, number>();
  const onPath = new Set<ElementNode>();
  // Levels of complex schemas from a schema value down; a schema that refers back to one on the
  // current path (allowed in v4) ends that path.
  const depthOf = (value: MemberValue): number => {
    if (value.kind === 'standard') return STANDARD_DEPTH[value.schema.kind === 'scaledDecimal' ? 'scaledDecimal' : value.schema.type] ?? 0;
    const node = elementOf(value);
    if (!node || !COMPLEX.has(node.cls)) return 0;
    const known = memo.get(node);
    if (known !== undefined) return known;
    if (onPath.has(node)) return 0;
    onPath.add(node);
    let deepest = 0;
    for (const child of nestedSchemaValues(node)) deepest = Math.max(deepest, depthOf(child));
    onPath.delete(node);
    memo.set(node, deepest + 1);
    return deepest + 1;
  };
  const check = (holder: ElementNode, value: MemberValue): void => {
    const levels = depthOf(value);
    const max = holder.ctx.limits.schemaDepth;
    if (levels > max) {
      sink.add(
        'schema-depth',
        value.source,
        `${subject(holder)}: its schema nests ${levels} levels of complex schemas (Array, Enum, Map, Object; geospatial schemas count as 2 to 5); DTDL v${holder.version} allows at most ${max}`,
        holder.nearestId,
      );
    }
  };
  for (const node of nodes) {
    if (SCHEMA_HOLDERS.has(node.cls)) {
      const value = node.values('schema')[0];
      if (value) check(node, value);
    } else if (node.cls === 'Interface') {
      for (const value of node.values('schemas')) {
        const root = elementOf(value);
        if (root) check(root, value);
      }
    }
  }
}

function checkContentCounts(
  sink: ErrorSink,
  interfaces: readonly ElementNode[],
  contents: ReadonlyMap<ElementNode, ReadonlyMap<string, ElementNode>>,
): void {
  // Upper bound of the elements under a node, counting shared schemas once per use; cheap, and
  // only when it exceeds the limit is the exact union computed.
  const bound = new Map<ElementNode, number>();
  const onPath = new Set<ElementNode>();
  const boundOf = (node: ElementNode): number => {
    const known = bound.get(node);
    if (known !== undefined) return known;
    if (onPath.has(node)) return 0;
    onPath.add(node);
    let total = 0;
    for (const member of HIERARCHY_MEMBERS) {
      if (member === 'contents' && node.cls === 'Interface') continue;
      for (const value of node.values(member)) {
        total += 1;
        const child = elementOf(value);
        if (child && child.cls !== 'Interface') total += boundOf(child);
      }
    }
    onPath.delete(node);
    bound.set(node, total);
    return total;
  };
  for (const iface of interfaces) {
    const limits = iface.ctx.limits;
    const flat = contents.get(iface);
    if (!flat) continue;
    const source = iface.memberSource('contents');
    if (flat.size > limits.contents) {
      sink.add(
        'contents-count',
        source,
        `${subject(iface)} has ${flat.size} contents including inherited ones; DTDL v${iface.version} allows at most ${limits.contents}`,
        iface.id,
      );
    }
    if (limits.hierarchyElements >= Number.MAX_SAFE_INTEGER) continue;
    let estimate = flat.size;
    for (const content of flat.values()) estimate += boundOf(content);
    if (estimate <= limits.hierarchyElements) continue;
    const exact = exactHierarchyCount(flat.values());
    if (exact > limits.hierarchyElements) {
      sink.add(
        'contents-count',
        source,
        `${subject(iface)} has ${exact} elements in its contents hierarchy (inherited ones included); DTDL v${iface.version} allows at most ${limits.hierarchyElements}`,
        iface.id,
      );
    }
  }
}

function exactHierarchyCount(roots: Iterable<ElementNode>): number {
  const seen = new Set<ElementNode>();
  const stack = [...roots];
  let total = stack.length;
  while (stack.length > 0) {
    const node = stack.pop() as ElementNode;
    if (seen.has(node)) continue;
    seen.add(node);
    for (const member of HIERARCHY_MEMBERS) {
      if (member === 'contents') continue;
      for (const value of node.values(member)) {
        total += 1;
        const child = elementOf(value);
        if (child && child.cls !== 'Interface' && !seen.has(child)) stack.push(child);
      }
    }
  }
  return total;
}

/** DTDL v2: no Array, and so no geospatial schema, anywhere under a Property's schema. */
function checkV2PropertySchemas(sink: ErrorSink, nodes: readonly ElementNode[]): void {
  for (const property of nodes) {
    if (property.cls !== 'Property' || property.version !== 2) continue;
    const found = findArray(property.values('schema')[0], new Set());
    if (found) {
      sink.add(
        'property-array',
        property.memberSource('schema'),
        `${subject(property)}: DTDL v2 does not allow ${found} in a Property's schema (no Array anywhere in it, and geospatial schemas are arrays)`,
        property.nearestId,
      );
    }
  }
}

function findArray(value: MemberValue | undefined, seen: Set<ElementNode>): string | undefined {
  if (!value) return undefined;
  if (value.kind === 'standard') return value.schema.kind === 'geospatial' ? `the geospatial schema ${value.schema.type}` : undefined;
  const node = elementOf(value);
  if (!node || seen.has(node)) return undefined;
  seen.add(node);
  if (node.cls === 'Array') return 'an Array';
  if (node.cls === 'Object') {
    for (const f of node.values('fields')) {
      const field = elementOf(f);
      const found = field ? findArray(field.values('schema')[0], seen) : undefined;
      if (found) return found;
    }
  }
  if (node.cls === 'Map') {
    const mapValue = elementOf(node.values('mapValue')[0]);
    return mapValue ? findArray(mapValue.values('schema')[0], seen) : undefined;
  }
  return undefined;
}

function isInterfaceObject(value: Record<string, unknown>): boolean {
  const type = value['@type'];
  const types = Array.isArray(type) ? type : [type];
  return types.some((t) => t === 'Interface' || (typeof t === 'string' && /^dtmi:dtdl:class:Interface;[0-9]+$/.test(t)));
}

/** v3/v4: the JSON text of an Interface, without nested Interfaces, is at most 1 MiB. */
function checkInterfaceSize(sink: ErrorSink, interfaces: readonly ElementNode[]): void {
  for (const iface of interfaces) {
    const max = iface.ctx.limits.interfaceBytes;
    if (max >= Number.MAX_SAFE_INTEGER) continue;
    // Compact JSON text, measured in UTF-8 bytes; the original spacing is not available.
    const whole = JSON.stringify(iface.raw);
    if (whole.length * 3 <= max) continue; // UTF-8 needs at most 3 bytes per UTF-16 unit
    const own = JSON.stringify(iface.raw, function (this: unknown, key, value: unknown) {
      if (key !== '' && typeof value === 'object' && value !== null && !Array.isArray(value) && isInterfaceObject(value as Record<string, unknown>)) {
        return undefined;
      }
      return value;
    });
    const bytes = Buffer.byteLength(own);
    if (bytes > max) {
      sink.add('interface-size', iface.source, `${subject(iface)}: its JSON text is ${bytes} bytes; DTDL v${iface.version} allows at most ${max} bytes (1 MiB) per Interface`, iface.id);
    }
  }
}
