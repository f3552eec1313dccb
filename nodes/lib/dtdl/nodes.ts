// The parser's internal representation of DTDL elements between parsing and building the ModelSet.

import type { ActiveContext } from './context';
import { at, type SourceRef } from './errors';
import type { AdjunctTypeDef } from './extensions';
import type { LanguageMap } from './literals';
import type { ClassName, DtdlVersion, StandardSchema } from './versions';

/** One value of an element-valued member: an inline element, a reference, or a standard schema string. */
export type MemberValue =
  | { readonly kind: 'element'; readonly node: ElementNode; readonly source: SourceRef }
  | RefValue
  | { readonly kind: 'standard'; readonly schema: StandardSchema; readonly text: string; readonly source: SourceRef }
  | { readonly kind: 'unitType'; readonly unitType: string; readonly units: readonly string[]; readonly source: SourceRef };

/** A dependent reference: a DTMI standing in for an element defined elsewhere. */
export interface RefValue {
  readonly kind: 'ref';
  readonly dtmi: string;
  readonly source: SourceRef;
  /** Set by the linker when the reference resolves to an acceptable element. */
  target?: ElementNode;
}

/** A literal member value kept with where it was written, for later checks. */
export interface SourcedValue<T> {
  readonly value: T;
  readonly source: SourceRef;
}

const NO_VALUES: readonly MemberValue[] = Object.freeze([]);
const EMPTY_MAP: ReadonlyMap<string, never> = new Map<string, never>();

export class ElementNode {
  /** Nearest structural Interface (itself for an Interface): DTDL's "partition". */
  readonly partition: ElementNode;
  /** Recognised co-types (semantic types, extension adjunct types). */
  adjuncts: AdjunctTypeDef[] = [];
  /** Co-types that no known definition explains (v2 open world, or undefined extensions). */
  undefinedTypes: string[] = [];
  informallyCotyped = false;
  /** Element-valued members by term: contents, extends, schemas, schema, request, response, … (created on first use). */
  private memberMap: Map<string, MemberValue[]> | undefined;
  /** Members added by co-types (unit, annotates, index, …) by term (created on first use). */
  private extensionMap: Map<string, SourcedValue<unknown>> | undefined;
  /** Members nobody defines, kept on informally co-typed elements. */
  undefinedProperties: Record<string, unknown> | undefined;

  id?: string;
  name?: string;
  displayName?: LanguageMap;
  description?: LanguageMap;
  comment?: string;
  writable?: boolean;
  nullable?: boolean;
  minMultiplicity?: number;
  maxMultiplicity?: number;
  target?: string;
  valueSchema?: 'integer' | 'string';
  enumValue?: SourcedValue<unknown>;
  commandType?: 'synchronous' | 'asynchronous';
  /** The semantic-type co-type, when the element has one. */
  semanticType?: AdjunctTypeDef;
  unit?: string;

  constructor(
    readonly cls: ClassName,
    readonly ctx: ActiveContext,
    readonly source: SourceRef,
    readonly raw: Readonly<Record<string, unknown>>,
    readonly parent: ElementNode | undefined,
    readonly parentMember: string | undefined,
  ) {
    this.partition = cls === 'Interface' || !parent ? this : parent.partition;
  }

  get version(): DtdlVersion {
    return this.ctx.version;
  }

  get topLevel(): boolean {
    return this.parent === undefined;
  }

  /** Values of a member, or an empty list. */
  values(member: string): readonly MemberValue[] {
    return this.memberMap?.get(member) ?? NO_VALUES;
  }

  setValues(member: string, values: MemberValue[]): void {
    (this.memberMap ??= new Map()).set(member, values);
  }

  /** Element-valued members and their values. */
  memberEntries(): Iterable<[string, MemberValue[]]> {
    return this.memberMap ?? [];
  }

  get extensionValues(): ReadonlyMap<string, SourcedValue<unknown>> {
    return this.extensionMap ?? EMPTY_MAP;
  }

  setExtensionValue(term: string, value: SourcedValue<unknown>): void {
    (this.extensionMap ??= new Map()).set(term, value);
  }

  /** Where a member was written, found from its term (or any IRI spelling of it); for error reports. */
  memberSource(term: string): SourceRef {
    if (term in this.raw) return at(this.source, term);
    for (const key of Object.keys(this.raw)) {
      if (key.endsWith(`:${term}`) || key.startsWith(`dtmi:dtdl:property:${term};`)) return at(this.source, key);
    }
    return this.source;
  }

  /** The nearest explicit @id at or above this element, for error reports. */
  get nearestId(): string | undefined {
    for (let node: ElementNode | undefined = this; node; node = node.parent) if (node.id) return node.id;
    return undefined;
  }

  hasCotype(term: string): boolean {
    return this.adjuncts.some((a) => a.term === term);
  }
}

/** The element a member value stands for, when it is (or resolves to) an element. */
export function elementOf(value: MemberValue | undefined): ElementNode | undefined {
  if (value === undefined) return undefined;
  if (value.kind === 'element') return value.node;
  if (value.kind === 'ref') return value.target;
  return undefined;
}

function base(node: ElementNode): string {
  if (node.name !== undefined) return `${node.cls} "${node.name}"`;
  if (node.id !== undefined) return `${node.cls} ${node.id}`;
  return node.cls;
}

/** Where an element sits, for the middle of a sentence: `Field "x" in Object in Telemetry "t" in dtmi:ex:A;1`. */
export function where(node: ElementNode): string {
  if (node.cls === 'Interface') return node.id ?? `the Interface at ${node.source.pointer || '/'}`;
  return node.parent ? `${base(node)} in ${where(node.parent)}` : base(node);
}

/** How a message names its subject: `Property "speed" in dtmi:ex:Spindle;1`, `Interface dtmi:ex:A;1`. */
export function subject(node: ElementNode): string {
  if (node.cls === 'Interface') return `Interface ${node.id ?? `at ${node.source.pointer || '/'}`}`;
  return where(node);
}
