// Phase 2 of parsing: resolves dependent references across documents and checks every rule that
// needs more than one element: @id uniqueness, referenceability (partitions), type conformance of
// referenced elements, versions, cycles, extends limits, unique names among own and inherited
// contents, Components inside Components, and the extension rules that look at siblings.

import type { RefSite } from './elements';
import { at, ErrorSink, show } from './errors';
import { isInt32 } from './literals';
import { checkLimits } from './limits';
import { elementOf, subject, where, type ElementNode, type MemberValue, type RefValue } from './nodes';

/** What the linker hands to the ModelSet builder. */
export interface LinkedModel {
  readonly nodes: readonly ElementNode[];
  readonly interfaces: readonly ElementNode[];
  /** Own and inherited contents of each Interface by name. */
  readonly contents: ReadonlyMap<ElementNode, ReadonlyMap<string, ElementNode>>;
  /** All bases of each Interface, transitively, nearest first. */
  readonly ancestors: ReadonlyMap<ElementNode, readonly ElementNode[]>;
  /** Enum values as literals, once checked against their Enum's valueSchema. */
  readonly enumValues: ReadonlyMap<ElementNode, string | number>;
  readonly unresolved: readonly string[];
}

/** "an Interface", "a Telemetry". */
function withArticle(word: string): string {
  return `${/^[AEIOU]/.test(word) ? 'an' : 'a'} ${word}`;
}

function list(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** Members whose values form schema paths; v4 allows cycles made only of these. */
const SCHEMA_MEMBERS: ReadonlySet<string> = new Set(['elementSchema', 'schema', 'fields', 'mapValue']);
const SCHEMA_CLASSES: ReadonlySet<string> = new Set(['Array', 'Map', 'Object', 'Field', 'MapValue']);

export class Linker {
  private readonly byId = new Map<string, ElementNode>();
  private indexed = 0;

  constructor(
    private readonly sink: ErrorSink,
    private readonly nodes: ElementNode[],
    private readonly refs: RefSite[],
  ) {}

  /** Indexes elements parsed since the last call and reports duplicate @ids. */
  indexNewElements(): void {
    for (; this.indexed < this.nodes.length; this.indexed++) {
      const node = this.nodes[this.indexed] as ElementNode;
      if (node.id === undefined) continue;
      const first = this.byId.get(node.id);
      if (first) {
        this.sink.add(
          'id-duplicate',
          at(node.source, '@id'),
          `${subject(node)}: @id ${node.id} is already used by ${where(first)} (document ${first.source.document}); every @id in a model must be unique`,
          node.id,
        );
      } else this.byId.set(node.id, node);
    }
  }

  /** DTMIs that references point at but no parsed element defines (yet). */
  missingReferences(): string[] {
    this.indexNewElements();
    const missing = new Set<string>();
    for (const site of this.refs) if (!this.byId.has(site.value.dtmi)) missing.add(site.value.dtmi);
    return [...missing];
  }

  link(): LinkedModel {
    this.indexNewElements();
    const unresolved = this.resolveReferences();
    this.breakCycles();
    const interfaces = this.nodes.filter((n) => n.cls === 'Interface');
    const ancestors = new Map<ElementNode, readonly ElementNode[]>();
    for (const iface of interfaces) ancestors.set(iface, this.ancestorsOf(iface, ancestors));
    this.checkExtends(interfaces);
    const contents = new Map<ElementNode, ReadonlyMap<string, ElementNode>>();
    for (const iface of interfaces) this.flatten(iface, contents);
    this.checkComponents(contents);
    const enumValues = this.checkContainers();
    this.checkExtensions(contents);
    checkLimits(this.sink, this.nodes, interfaces, contents);
    return { nodes: this.nodes, interfaces, contents, ancestors, enumValues, unresolved };
  }

  private resolveReferences(): string[] {
    const unresolved = new Set<string>();
    for (const { value, from, member } of this.refs) {
      const target = this.byId.get(value.dtmi);
      if (!target) {
        unresolved.add(value.dtmi);
        this.sink.add(
          'reference-unresolved',
          value.source,
          `${subject(from)}: ${member.term} refers to ${value.dtmi}, which no given document defines and no resolver supplied`,
          from.nearestId,
        );
        continue;
      }
      if (!member.targets.includes(target.cls)) {
        this.sink.add(
          'reference-type',
          value.source,
          `${subject(from)}: ${member.term} refers to ${value.dtmi}, which is ${withArticle(target.cls)}, but ${member.term} must be ${list(member.targets)}`,
          from.nearestId,
        );
        continue;
      }
      const referenceable = target.cls === 'Interface' || target.topLevel || target.partition === from.partition;
      if (!referenceable) {
        this.sink.add(
          'reference-partition',
          value.source,
          `${subject(from)}: ${member.term} refers to ${value.dtmi}, which is defined inside ${where(target.partition)}; only Interfaces, and elements of the same Interface, can be referenced`,
          from.nearestId,
        );
        continue;
      }
      if (target.version > from.version) {
        this.sink.add(
          'version-mismatch',
          value.source,
          `${subject(from)}: ${member.term} refers to ${value.dtmi}, which is written in DTDL v${target.version}; a DTDL v${from.version} element can only use elements of DTDL v${from.version} or earlier`,
          from.nearestId,
        );
        continue;
      }
      value.target = target;
    }
    return [...unresolved].sort();
  }

  /**
   * No DTDL element may contain itself through its members; v4 exempts complex schemas that refer
   * to themselves. Forbidden cycles are reported and cut at a reference, so later passes terminate.
   */
  private breakCycles(): void {
    const WHITE = 0;
    const GREY = 1;
    const BLACK = 2;
    const colour = new Map<ElementNode, number>();
    type Frame = { node: ElementNode; edges: Array<[string, MemberValue]>; next: number };
    const stack: Frame[] = [];
    const edgesOf = (node: ElementNode): Array<[string, MemberValue]> => {
      const edges: Array<[string, MemberValue]> = [];
      for (const [member, values] of node.memberEntries()) for (const value of values) if (elementOf(value)) edges.push([member, value]);
      return edges;
    };
    // A cycle needs a reference: without any, there is nothing to look for.
    if (!this.refs.some((site) => site.value.target !== undefined)) return;
    for (const root of this.nodes) {
      if ((colour.get(root) ?? WHITE) !== WHITE) continue;
      colour.set(root, GREY);
      stack.push({ node: root, edges: edgesOf(root), next: 0 });
      while (stack.length > 0) {
        const frame = stack[stack.length - 1] as Frame;
        if (frame.next >= frame.edges.length) {
          colour.set(frame.node, BLACK);
          stack.pop();
          continue;
        }
        const [, value] = frame.edges[frame.next++] as [string, MemberValue];
        const child = elementOf(value);
        if (!child) continue;
        const state = colour.get(child) ?? WHITE;
        if (state === WHITE) {
          const edges = edgesOf(child);
          if (edges.length === 0) {
            colour.set(child, BLACK); // a leaf closes no cycle
            continue;
          }
          colour.set(child, GREY);
          stack.push({ node: child, edges, next: 0 });
        } else if (state === GREY) {
          const start = stack.findIndex((f) => f.node === child);
          const cycle = stack.slice(start).map((f) => f.node);
          // Each frame's last taken edge leads to the next frame; the top frame's is the edge just taken.
          const path: Array<[ElementNode, string, MemberValue]> = stack.slice(start).map((f) => {
            const [edgeMember, edgeValue] = f.edges[f.next - 1] as [string, MemberValue];
            return [f.node, edgeMember, edgeValue];
          });
          if (this.cycleAllowed(cycle, path)) continue;
          this.reportCycle(path);
          // Cut the last reference in the cycle so nothing downstream loops forever.
          for (let i = path.length - 1; i >= 0; i--) {
            const edgeValue = (path[i] as [ElementNode, string, MemberValue])[2];
            if (edgeValue.kind === 'ref') {
              (edgeValue as RefValue).target = undefined;
              break;
            }
          }
        }
      }
    }
  }

  private cycleAllowed(cycle: readonly ElementNode[], path: ReadonlyArray<[ElementNode, string, MemberValue]>): boolean {
    return (
      cycle.every((n) => n.version === 4 && SCHEMA_CLASSES.has(n.cls)) &&
      path.every(([, member]) => SCHEMA_MEMBERS.has(member))
    );
  }

  private reportCycle(path: ReadonlyArray<[ElementNode, string, MemberValue]>): void {
    const [first] = path[0] as [ElementNode, string, MemberValue];
    const last = path[path.length - 1] as [ElementNode, string, MemberValue];
    const steps = path.map(([node, member]) => `${node.id ?? node.name ?? node.cls} -${member}->`).join(' ');
    const allExtends = path.every(([, member]) => member === 'extends');
    const message = allExtends
      ? `${subject(first)} extends itself (${steps} ${first.id}); extends must not form a cycle`
      : `${subject(first)} contains itself through its members (${steps} ${first.id ?? first.name ?? first.cls}); a DTDL element must not have a path to itself${first.version === 4 ? ' (only complex schemas may refer to themselves in DTDL v4)' : ''}`;
    this.sink.add('cycle', last[2].source, message, first.nearestId);
  }

  private ancestorsOf(iface: ElementNode, memo: Map<ElementNode, readonly ElementNode[]>): readonly ElementNode[] {
    const known = memo.get(iface);
    if (known) return known;
    const result: ElementNode[] = [];
    const seen = new Set<ElementNode>();
    // Breadth first, so nearer bases come first.
    let frontier = this.bases(iface);
    while (frontier.length > 0) {
      const next: ElementNode[] = [];
      for (const base of frontier) {
        if (seen.has(base) || base === iface) continue;
        seen.add(base);
        result.push(base);
        next.push(...this.bases(base));
      }
      frontier = next;
    }
    memo.set(iface, result);
    return result;
  }

  private bases(iface: ElementNode): ElementNode[] {
    return iface.values('extends').map(elementOf).filter((n): n is ElementNode => n !== undefined);
  }

  private checkExtends(interfaces: readonly ElementNode[]): void {
    const depthMemo = new Map<ElementNode, { depth: number; chain: ElementNode[] }>();
    const depthOf = (iface: ElementNode): { depth: number; chain: ElementNode[] } => {
      const known = depthMemo.get(iface);
      if (known) return known;
      depthMemo.set(iface, { depth: 0, chain: [] }); // guard; cycles were cut already
      let best = { depth: 0, chain: [] as ElementNode[] };
      for (const base of this.bases(iface)) {
        const d = depthOf(base);
        if (d.depth + 1 > best.depth) best = { depth: d.depth + 1, chain: [base, ...d.chain] };
      }
      depthMemo.set(iface, best);
      return best;
    };
    for (const iface of interfaces) {
      const limits = iface.ctx.limits;
      const source = iface.memberSource('extends');
      const { depth, chain } = depthOf(iface);
      if (depth > limits.extendsDepth) {
        const shown = [iface, ...chain].map((n) => n.id ?? '?');
        this.sink.add(
          'extends-depth',
          source,
          `${subject(iface)}: its extends chain is ${depth} levels deep (${shown.join(' -> ')}); DTDL v${iface.version} allows at most ${limits.extendsDepth}`,
          iface.id,
        );
      }
      if (limits.extendsTotal < Number.MAX_SAFE_INTEGER) {
        let total = 0;
        const seen = new Set<ElementNode>();
        const queue = [iface];
        while (queue.length > 0) {
          const node = queue.pop() as ElementNode;
          if (seen.has(node)) continue;
          seen.add(node);
          total += node.values('extends').length;
          queue.push(...this.bases(node));
        }
        if (total > limits.extendsTotal) {
          this.sink.add(
            'extends-count',
            source,
            `${subject(iface)}: its extends hierarchy has ${total} extends values; DTDL v${iface.version} allows at most ${limits.extendsTotal}`,
            iface.id,
          );
        }
      }
    }
  }

  /** Own and inherited contents by name; a name may stand for one element only. */
  private flatten(iface: ElementNode, memo: Map<ElementNode, ReadonlyMap<string, ElementNode>>): ReadonlyMap<string, ElementNode> {
    const known = memo.get(iface);
    if (known) return known;
    const result = new Map<string, ElementNode>();
    memo.set(iface, result); // guard against cycles that were reported and cut
    for (const value of iface.values('contents')) {
      const node = elementOf(value);
      if (!node || node.name === undefined) continue;
      const other = result.get(node.name);
      if (other && other !== node) {
        this.sink.add(
          'name-duplicate',
          at(node.source, 'name'),
          `${subject(node)}: name "${node.name}" is already used by ${where(other)}; names must be unique among an Interface's contents`,
          node.nearestId,
        );
      } else result.set(node.name, node);
    }
    for (const base of this.bases(iface)) {
      for (const [name, node] of this.flatten(base, memo)) {
        const other = result.get(name);
        if (other && other !== node) {
          this.sink.add(
            'name-duplicate',
            iface.memberSource('extends'),
            `${subject(iface)}: content name "${name}" is used by both ${where(other)} and ${where(node)} (inherited through extends); names must be unique among own and inherited contents`,
            iface.id,
          );
        } else result.set(name, node);
      }
    }
    return result;
  }

  private checkComponents(contents: ReadonlyMap<ElementNode, ReadonlyMap<string, ElementNode>>): void {
    for (const node of this.nodes) {
      if (node.cls !== 'Component') continue;
      const value = node.values('schema')[0];
      const schema = value ? elementOf(value) : undefined;
      if (!schema) continue;
      const inner = contents.get(schema);
      if (!inner) continue;
      for (const content of inner.values()) {
        if (content.cls !== 'Component') continue;
        this.sink.add(
          'component-nested',
          value?.source ?? node.source,
          `${subject(node)}: its schema ${schema.id ?? 'Interface'} contains ${where(content)}; the Interface of a Component must not contain Components (DTDL v${node.version} rule)`,
          node.nearestId,
        );
        break;
      }
    }
  }

  /** Unique names and values inside Enums, Objects and Relationships; Enum value types. */
  private checkContainers(): Map<ElementNode, string | number> {
    const enumValues = new Map<ElementNode, string | number>();
    const uniqueNames = (owner: ElementNode, member: string, what: string): ElementNode[] => {
      const seen = new Map<string, ElementNode>();
      const children: ElementNode[] = [];
      for (const value of owner.values(member)) {
        const child = elementOf(value);
        if (!child) continue;
        children.push(child);
        if (child.name === undefined) continue;
        const other = seen.get(child.name);
        if (other && other !== child) {
          this.sink.add(
            'name-duplicate',
            at(child.source, 'name'),
            `${subject(child)}: name "${child.name}" is used twice among the ${what} of ${where(owner)}; names must be unique there`,
            child.nearestId,
          );
        } else seen.set(child.name, child);
      }
      return children;
    };
    for (const node of this.nodes) {
      if (node.cls === 'Object') uniqueNames(node, 'fields', 'fields');
      else if (node.cls === 'Relationship') uniqueNames(node, 'properties', 'properties');
      else if (node.cls === 'Enum') {
        const values = uniqueNames(node, 'enumValues', 'enumValues');
        const kind = node.valueSchema;
        if (!kind) continue;
        const seenValues = new Map<string | number, ElementNode>();
        for (const child of values) {
          if (!child.enumValue) continue;
          const literalValue = representationalValue(child.enumValue.value);
          const fits = kind === 'integer' ? isInt32(literalValue) : typeof literalValue === 'string';
          if (!fits) {
            this.sink.add(
              'enum-value-type',
              child.enumValue.source,
              `${subject(child)}: enumValue ${show(child.enumValue.value)} must be ${kind === 'integer' ? 'a 32-bit integer' : 'a string'}, because the valueSchema of ${where(node)} is ${kind}`,
              child.nearestId,
            );
            continue;
          }
          const typed = literalValue as string | number;
          const other = seenValues.get(typed);
          if (other && other !== child) {
            this.sink.add(
              'enum-value-duplicate',
              child.enumValue.source,
              `${subject(child)}: enumValue ${show(typed)} is already used by ${where(other)}; enum values must be unique within an Enum`,
              child.nearestId,
            );
          } else seenValues.set(typed, child);
          enumValues.set(child, typed);
        }
      }
    }
    return enumValues;
  }

  /** Rules of extensions that look beyond one element (Annotation, Overriding, Mqtt). */
  private checkExtensions(contents: ReadonlyMap<ElementNode, ReadonlyMap<string, ElementNode>>): void {
    const sink = this.sink;
    // Indexed: index values unique among the values of the same member (inherited contents included).
    const checkIndexes = (owner: ElementNode, children: Iterable<ElementNode>, member: string): void => {
      const seen = new Map<unknown, ElementNode>();
      for (const child of children) {
        const index = child.extensionValues.get('index');
        if (!index) continue;
        const other = seen.get(index.value);
        if (other && other !== child) {
          sink.add(
            'index-duplicate',
            index.source,
            `${subject(child)}: index ${show(index.value)} is already used by ${where(other)}; indexes must be unique among the ${member} of ${where(owner)} (Mqtt Indexed rule)`,
            child.nearestId,
          );
        } else seen.set(index.value, child);
      }
    };
    for (const node of this.nodes) {
      if (node.cls === 'Interface') checkIndexes(node, contents.get(node)?.values() ?? [], 'contents');
      else if (node.cls === 'Object') checkIndexes(node, node.values('fields').map(elementOf).filter(isNode), 'fields');
      else if (node.cls === 'Enum') checkIndexes(node, node.values('enumValues').map(elementOf).filter(isNode), 'enumValues');

      const annotates = node.extensionValues.get('annotates');
      if (annotates && node.partition.cls === 'Interface') {
        const siblings = contents.get(node.partition);
        const target = siblings?.get(annotates.value as string);
        if (!target || target === node || (target.cls !== 'Property' && target.cls !== 'Telemetry')) {
          sink.add(
            'annotates-unknown',
            annotates.source,
            `${subject(node)}: annotates "${String(annotates.value)}" must be the name of another Property or Telemetry of ${where(node.partition)} (Annotation ValueAnnotation rule)`,
            node.nearestId,
          );
        } else {
          const overrides = node.extensionValues.get('overrides');
          if (overrides) {
            const name = overrides.value as string;
            const defined = target.adjuncts.some((a) => a.properties.some((p) => p.term === name || p.dtmi === name));
            if (!defined) {
              sink.add(
                'overrides-invalid',
                overrides.source,
                `${subject(node)}: overrides "${name}" must name an extension member of ${where(target)} (such as "unit" of a semantic type), but it has none by that name (Overriding rule)`,
                node.nearestId,
              );
            }
          }
        }
      }

      if (node.hasCotype('Transparent')) {
        const schema = node.values('schema')[0];
        const element = schema ? elementOf(schema) : undefined;
        if (schema && element?.cls !== 'Object') {
          sink.add(
            'cotype-not-allowed',
            schema.source,
            `${subject(node)}: co-type Transparent requires the schema to be an Object (Mqtt Transparent rule)`,
            node.nearestId,
          );
        }
      }
      if (node.cls === 'Object') this.checkResultObject(node);
      if (node.cls === 'Field') this.checkResultField(node);
    }
  }

  private checkResultObject(object: ElementNode): void {
    const fields = object.values('fields').map(elementOf).filter(isNode);
    const count = (term: string): number => fields.filter((f) => f.hasCotype(term)).length;
    const report = (message: string): void => this.sink.add('cotype-not-allowed', object.source, `${subject(object)}: ${message} (Mqtt rule)`, object.nearestId);
    if (object.hasCotype('Result')) {
      const plain = fields.find((f) => !f.hasCotype('NormalResult') && !f.hasCotype('ErrorResult'));
      if (plain) report(`every field of a Result Object must be co-typed NormalResult or ErrorResult, but ${where(plain)} is neither`);
      if (count('NormalResult') > 1) report('a Result Object may have at most one NormalResult field');
      if (count('ErrorResult') > 1) report('a Result Object may have at most one ErrorResult field');
    }
    if (object.hasCotype('Error') && count('ErrorMessage') > 1) report('an Error Object may have at most one ErrorMessage field');
  }

  private checkResultField(field: ElementNode): void {
    const owner = field.parent?.cls === 'Object' ? field.parent : undefined;
    const report = (message: string): void => this.sink.add('cotype-not-allowed', field.source, `${subject(field)}: ${message} (Mqtt rule)`, field.nearestId);
    if ((field.hasCotype('NormalResult') || field.hasCotype('ErrorResult')) && !owner?.hasCotype('Result')) {
      report('NormalResult and ErrorResult fields must belong to an Object co-typed Result');
    }
    if (field.hasCotype('ErrorMessage')) {
      if (!owner?.hasCotype('Error')) report('an ErrorMessage field must belong to an Object co-typed Error');
      const schema = field.values('schema')[0];
      if (!(schema?.kind === 'standard' && schema.schema.kind === 'primitive' && schema.schema.type === 'string')) {
        report('an ErrorMessage field must have schema string');
      }
    }
  }
}

function isNode(node: ElementNode | undefined): node is ElementNode {
  return node !== undefined;
}

/** The literal a representational value stands for: 3, "x", {"@value": 3}. */
function representationalValue(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && '@value' in value) {
    const keys = Object.keys(value);
    if (keys.every((k) => k === '@value' || k === '@type')) return (value as Record<string, unknown>)['@value'];
  }
  return value;
}
