// Phase 1 of parsing: walks each JSON document and turns every DTDL element into an ElementNode,
// checking everything that can be checked locally: @context, @type and co-types, @id, each member's
// presence, spelling and value form, names, strings, units. References between elements are only
// recorded here; the linker resolves and checks them.

import { allMemberTerms, classDef, classesDefining, type MemberDef } from './classes';
import { parseContext, type ActiveContext } from './context';
import { hasReservedPrefix, isDtmiSyntax, MAX_INTERFACE_DTMI_LENGTH, whyNotUserDtmi } from './dtmi';
import { at, ErrorSink, type SourceRef } from './errors';
import { V2_NATIVE_QUANTITIES, type AdjunctTypeDef, type ExtensionPropertyDef } from './extensions';
import { describe, literal, localizable } from './literals';
import { ElementNode, subject, where, type MemberValue, type RefValue } from './nodes';
import type { QuantityVocabulary } from './units';
import {
  classDtmi,
  classesOf,
  isReserved,
  numericSchemasOf,
  propertyDtmi,
  standardSchema,
  type ClassName,
  type DtdlVersion,
} from './versions';

export interface ParseOptions {
  readonly allowUndefinedExtensions: boolean;
}

/** A dependent reference found while parsing, kept for the linker. */
export interface RefSite {
  readonly value: RefValue;
  readonly from: ElementNode;
  readonly member: MemberDef;
}

/** Terms an active context defines: classes, co-types, co-type members and unit-type schemas. */
interface Vocabulary {
  readonly classByName: ReadonlyMap<string, ClassName>;
  readonly adjunctByName: ReadonlyMap<string, AdjunctTypeDef>;
  /** Extension member spelling (term or IRI) -> term. */
  readonly extensionMembers: ReadonlyMap<string, string>;
  /** Vocabulary for unit-type schemas such as "TemperatureUnit" (QuantitativeTypes only). */
  readonly quantities: QuantityVocabulary | undefined;
}

const vocabularies = new WeakMap<ActiveContext, Vocabulary>();

function vocabularyOf(ctx: ActiveContext): Vocabulary {
  let vocabulary = vocabularies.get(ctx);
  if (vocabulary) return vocabulary;
  const classByName = new Map<string, ClassName>();
  for (const cls of classesOf(ctx.version)) {
    classByName.set(cls, cls);
    classByName.set(classDtmi(cls, ctx.version), cls);
  }
  const adjuncts: AdjunctTypeDef[] = ctx.version === 2 ? [...V2_NATIVE_QUANTITIES.adjuncts] : [];
  // In v2 the native semantic types come first and so win over QuantitativeTypes terms of the same name.
  for (const ext of ctx.extensions) adjuncts.push(...ext.adjuncts);
  const adjunctByName = new Map<string, AdjunctTypeDef>();
  const extensionMembers = new Map<string, string>();
  for (const adjunct of adjuncts) {
    if (!adjunctByName.has(adjunct.term)) adjunctByName.set(adjunct.term, adjunct);
    adjunctByName.set(adjunct.dtmi, adjunct);
    for (const property of adjunct.properties) {
      extensionMembers.set(property.term, property.term);
      extensionMembers.set(property.dtmi, property.term);
    }
  }
  const quantities = ctx.version === 2 ? undefined : ctx.extensions.find((ext) => ext.quantities)?.quantities;
  vocabulary = { classByName, adjunctByName, extensionMembers, quantities };
  vocabularies.set(ctx, vocabulary);
  return vocabulary;
}

const NAME = /^[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?$/;
const DURATION = /^P(?!$)(?:\d+(?:[.,]\d+)?Y)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?W)?(?:\d+(?:[.,]\d+)?D)?(?:T(?=\d)(?:\d+(?:[.,]\d+)?H)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?S)?)?$/;
const PAYLOAD_FORMATS_V1 = ['avro', 'cbor', 'json', 'proto2', 'proto3', 'raw'];
const TOPIC_LITERAL = /^[!$-*,-.0-z|~]+$/;
const TOPIC_TOKEN = /^\{(?:[A-Za-z]+:)?[A-Za-z]+\}$/;
const SERVICE_GROUP_ID = /^[!$-*,-.0-z|~]+$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why a name breaks the name rule, or undefined when it keeps it. */
export function whyBadName(name: string): string | undefined {
  if (NAME.test(name)) return undefined;
  if (name.length === 0) return 'must not be empty';
  if (!/^[A-Za-z]/.test(name)) return 'must start with a letter';
  if (!/^[A-Za-z0-9_]*$/.test(name)) return 'may contain only letters, digits and underscores';
  return 'must not end with an underscore';
}

function list(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

export class ElementParser {
  readonly nodes: ElementNode[] = [];
  readonly refs: RefSite[] = [];
  readonly topLevel: ElementNode[] = [];

  constructor(
    private readonly sink: ErrorSink,
    private readonly options: ParseOptions,
  ) {}

  /** Parses one JSON document: an object or an array of objects, each a top-level Interface. */
  parseDocument(doc: unknown, document: number): void {
    const root: SourceRef = { document, pointer: '' };
    const items: Array<[unknown, SourceRef]> = Array.isArray(doc) ? doc.map((item, i) => [item, at(root, i)]) : [[doc, root]];
    if (!Array.isArray(doc) && !isPlainObject(doc)) {
      this.sink.add('document-root', root, `A DTDL document must be a JSON object or an array of objects, not ${describe(doc)}`);
      return;
    }
    for (const [item, source] of items) {
      if (!isPlainObject(item)) {
        this.sink.add('document-root', source, `Each item of a DTDL document array must be a JSON object (an Interface), not ${describe(item)}`);
        continue;
      }
      const node = this.parseElement(item, source, undefined, undefined);
      if (node) this.topLevel.push(node);
    }
  }

  private parseElement(raw: Record<string, unknown>, source: SourceRef, parent: ElementNode | undefined, via: MemberDef | undefined): ElementNode | undefined {
    const sink = this.sink;
    let ctx: ActiveContext | undefined;
    if (raw['@context'] !== undefined) ctx = parseContext(raw['@context'], source, parent?.ctx, sink, this.options);
    else if (parent) ctx = parent.ctx;
    else {
      sink.add('context-missing', source, 'A top-level element must have an @context naming its DTDL version, e.g. "dtmi:dtdl:context;3" (DTDL context rule)');
      return undefined;
    }
    if (!ctx) return undefined;
    const version = ctx.version;
    const vocabulary = vocabularyOf(ctx);
    const place = (): string => (parent && via ? `member "${via.term}" of ${where(parent)}` : 'the document');

    if (parent && version > parent.version) {
      sink.add(
        'version-mismatch',
        at(source, '@context'),
        `${capitalize(place())} holds an element written in DTDL v${version}, but an element written in DTDL v${parent.version} may only contain elements of DTDL v${parent.version} or earlier`,
        parent.nearestId,
      );
    }

    // @type: find the one material class.
    const typeValue = raw['@type'];
    let types: string[];
    if (typeValue === undefined) types = [];
    else if (typeof typeValue === 'string') types = [typeValue];
    else if (Array.isArray(typeValue) && typeValue.length > 0 && typeValue.every((t) => typeof t === 'string')) types = typeValue as string[];
    else {
      sink.add('type-invalid', at(source, '@type'), `@type of the element in ${place()} must be a string or a non-empty array of strings`, parent?.nearestId);
      return undefined;
    }
    const materials = [...new Set(types.map((t) => vocabulary.classByName.get(t)).filter((c): c is ClassName => c !== undefined))];
    let cls: ClassName | undefined = materials[0];
    if (materials.length > 1) {
      sink.add('type-material', at(source, '@type'), `@type of the element in ${place()} names several element types (${materials.join(', ')}); an element has exactly one`, parent?.nearestId);
      return undefined;
    }
    if (!cls) {
      if (typeValue === undefined && via?.inferred) cls = via.inferred(version);
      else if (typeValue === undefined) {
        sink.add('type-missing', source, `The element in ${place()} has no @type; it must say which DTDL element it is${via ? ` (${list(via.targets)})` : ' (Interface)'}`, parent?.nearestId);
        return undefined;
      } else {
        const expected = via ? list(via.targets) : 'Interface';
        sink.add('type-material', at(source, '@type'), `@type ${JSON.stringify(typeValue)} of the element in ${place()} names no DTDL v${version} element type; expected ${expected}`, parent?.nearestId);
        return undefined;
      }
    }
    if (!parent && cls !== 'Interface') {
      sink.add('top-level-not-interface', source, `A top-level element must be an Interface, but this one is a ${cls}`);
      return undefined;
    }
    if (via && !via.targets.includes(cls)) {
      sink.add('type-material', source, `${capitalize(place())} accepts ${list(via.targets)}, but this element is a ${cls}`, parent?.nearestId);
      return undefined;
    }

    const node = new ElementNode(cls, ctx, source, raw, parent, via?.term);
    node.name = peekName(raw, version);
    this.nodes.push(node);
    const def = classDef(cls, version);

    // @id
    const rawId = raw['@id'];
    if (rawId !== undefined) {
      if (typeof rawId !== 'string') {
        sink.add('id-invalid', at(source, '@id'), `${subject(node)}: @id must be a string DTMI, not ${describe(rawId)}`, parent?.nearestId);
      } else {
        const reason = whyNotUserDtmi(rawId, version);
        if (reason) sink.add('id-invalid', at(source, '@id'), `${subject(node)}: @id "${rawId}" is not a valid DTDL v${version} DTMI: ${reason}`, parent?.nearestId);
        else if (hasReservedPrefix(rawId)) {
          sink.add('id-reserved', at(source, '@id'), `${subject(node)}: @id "${rawId}" starts with a reserved prefix ("dtmi:dtdl:" and "dtmi:standard:" belong to the DTDL language)`, parent?.nearestId);
        } else if (cls === 'Interface' && rawId.length > MAX_INTERFACE_DTMI_LENGTH) {
          sink.add('id-too-long', at(source, '@id'), `Interface ${rawId}: the @id of an Interface must be at most ${MAX_INTERFACE_DTMI_LENGTH} characters, but it has ${rawId.length}`);
        } else node.id = rawId;
      }
    } else if (cls === 'Interface') {
      sink.add('id-required', source, `${subject(node)} has no @id; every Interface must have a DTMI as @id`, parent?.nearestId);
    } else if (via?.term === 'schemas') {
      sink.add('id-required', source, `${subject(node)} has no @id; every schema in an Interface's "schemas" must have one`, parent?.nearestId);
    }

    // Co-types.
    const undefinedAllowed = this.options.allowUndefinedExtensions && ctx.undefinedExtensions.length > 0;
    types.forEach((type, index) => {
      const typeSource = Array.isArray(typeValue) ? at(at(source, '@type'), index) : at(source, '@type');
      const material = vocabulary.classByName.get(type);
      if (material) return;
      const adjunct = vocabulary.adjunctByName.get(type);
      if (adjunct) {
        if (!node.adjuncts.includes(adjunct)) node.adjuncts.push(adjunct);
        return;
      }
      const informal = (): void => {
        node.informallyCotyped = true;
        node.undefinedTypes.push(type);
      };
      if (type.startsWith('dtmi:') && !isDtmiSyntax(type)) {
        sink.add('type-invalid', typeSource, `${subject(node)}: @type "${type}" starts with "dtmi:" but is not a valid DTMI`, node.nearestId);
      } else if (isDtmiSyntax(type)) {
        if (undefinedAllowed) informal();
        else sink.add('type-irrelevant', typeSource, `${subject(node)}: @type "${type}" is neither a DTDL v${version} element type nor a co-type defined by an extension in @context`, node.nearestId);
      } else if (type.includes(':')) {
        if (version === 2) informal();
        else sink.add('type-invalid', typeSource, `${subject(node)}: @type "${type}" contains ":" but is not a DTMI (DTDL v${version} @type rule)`, node.nearestId);
      } else if (isReserved(type, version)) {
        sink.add('type-irrelevant', typeSource, `${subject(node)}: @type "${type}" is a DTDL term that cannot co-type a ${cls}`, node.nearestId);
      } else if (version === 2 || undefinedAllowed) informal();
      else {
        sink.add(
          'type-undefined',
          typeSource,
          `${subject(node)}: @type "${type}" is not defined by DTDL v${version} nor by an extension named in @context${hintForTerm(type)}`,
          node.nearestId,
        );
      }
    });
    const semanticTypes = node.adjuncts.filter((a) => a.quantities);
    if (semanticTypes.length > 1) {
      sink.add(
        'cotype-conflict',
        at(source, '@type'),
        `${subject(node)}: @type has semantic types ${semanticTypes.map((a) => a.term).join(' and ')}; an element may have only one, since each adds member "unit"`,
        node.nearestId,
      );
    }
    const applicable = node.adjuncts.filter((adjunct) => {
      if (!adjunct.dtdlVersions.includes(version)) {
        sink.add(
          'cotype-not-allowed',
          at(source, '@type'),
          `${subject(node)}: co-type "${adjunct.term}" (${adjunct.definedBy}) can only be applied to elements written in DTDL v${adjunct.dtdlVersions.join(' or v')}, and this one is DTDL v${version}`,
          node.nearestId,
        );
        return false;
      }
      if (!adjunct.appliesTo.includes(cls as ClassName)) {
        sink.add(
          'cotype-not-allowed',
          at(source, '@type'),
          `${subject(node)}: co-type "${adjunct.term}" (${adjunct.definedBy}) can only be applied to ${list(adjunct.appliesTo)}, not to a ${cls}`,
          node.nearestId,
        );
        return false;
      }
      if (adjunct.requiresCotype && !node.hasCotype(adjunct.requiresCotype)) {
        sink.add(
          'cotype-requires',
          at(source, '@type'),
          `${subject(node)}: co-type "${adjunct.term}" (${adjunct.definedBy}) requires the element to be co-typed "${adjunct.requiresCotype}" too`,
          node.nearestId,
        );
      }
      return true;
    });
    node.semanticType = applicable.find((a) => a.quantities);

    // Members.
    const seen = new Map<string, string>();
    const vocabularyMembers = vocabulary.extensionMembers;
    for (const [key, value] of Object.entries(raw)) {
      if (key === '@context' || key === '@id' || key === '@type') continue;
      const memberSource = at(source, key);
      if (key.startsWith('@')) {
        if (version === 2 && key !== '@graph') continue; // v2: SHOULD NOT, not MUST NOT
        sink.add('member-keyword', memberSource, `${subject(node)}: member "${key}" is not allowed; the only JSON-LD keywords an element may use are @context, @id and @type`, node.nearestId);
        continue;
      }
      const coreTerm = def.members.has(key) ? key : dtmiMemberTerm(key, version, def.members);
      const extensionTerm = coreTerm ? undefined : vocabularyMembers.get(key);
      const extension = extensionTerm ? findExtensionProperty(applicable, extensionTerm) : undefined;
      const term = coreTerm ?? (extension ? extensionTerm : undefined);
      if (term !== undefined) {
        const earlier = seen.get(term);
        if (earlier !== undefined) {
          sink.add('member-duplicate', memberSource, `${subject(node)}: member "${term}" is given twice, as "${earlier}" and as "${key}"`, node.nearestId);
          continue;
        }
        seen.set(term, key);
        if (coreTerm) this.readMember(node, def.members.get(coreTerm) as MemberDef, value, memberSource);
        else if (extension) this.readExtensionMember(node, extension[0], extension[1], value, memberSource);
        continue;
      }
      // A member of a co-type already refused above needs no second error.
      if (extensionTerm !== undefined && node.adjuncts.some((a) => !applicable.includes(a) && a.properties.some((p) => p.term === extensionTerm))) continue;
      this.reportUnknownMember(node, key, value, memberSource, extensionTerm !== undefined);
    }

    for (const member of def.members.values()) {
      if (member.required && !seen.has(member.term)) {
        const what = member.kind === 'elements' && member.cardinality === 'many' ? `at least one value in member "${member.term}"` : `member "${member.term}"`;
        sink.add('member-required', source, `${subject(node)} is missing ${what}, which a DTDL v${version} ${cls} requires`, node.nearestId);
      }
    }
    for (const adjunct of applicable) {
      for (const property of adjunct.properties) {
        if (!property.required || node.extensionValues.has(property.term) || seen.has(property.term)) continue;
        if (adjunct.quantities) {
          const units = adjunct.quantities.unitsBySemanticType.get(adjunct.term) ?? [];
          sink.add(
            'unit-missing',
            source,
            `${subject(node)}: semantic type ${adjunct.term} requires member "unit" (one of ${units.slice(0, 6).join(', ')}${units.length > 6 ? ', …' : ''})`,
            node.nearestId,
          );
        } else {
          sink.add('member-required', source, `${subject(node)}: co-type "${adjunct.term}" (${adjunct.definedBy}) requires member "${property.term}"`, node.nearestId);
        }
      }
    }

    if (node.semanticType && def.members.has('schema')) {
      const schema = node.values('schema')[0];
      const numeric = numericSchemasOf(version);
      const isNumeric = schema?.kind === 'standard' && schema.schema.kind === 'primitive' && numeric.includes(schema.schema.type);
      if (schema && !isNumeric) {
        sink.add(
          'semantic-type-schema',
          node.memberSource('schema'),
          `${subject(node)}: semantic type ${node.semanticType.term} requires a numeric schema (${numeric.join(', ')}), but the schema is ${describeSchemaValue(schema)}`,
          node.nearestId,
        );
      }
    }
    return node;
  }

  private reportUnknownMember(node: ElementNode, key: string, value: unknown, source: SourceRef, isExtensionMember: boolean): void {
    const version = node.version;
    const v3Strict = version !== 2 && (key.includes(':') && (!key.startsWith('dtmi:') || !isDtmiSyntax(key)));
    if (node.informallyCotyped && !v3Strict) {
      (node.undefinedProperties ??= {})[key] = value;
      return;
    }
    const sink = this.sink;
    const who = (): string => subject(node);
    if (key.startsWith('dtmi:') && !isDtmiSyntax(key)) {
      sink.add('member-undefined', source, `${who()}: member name "${key}" starts with "dtmi:" but is not a valid DTMI`, node.nearestId);
      return;
    }
    const coreTerm = allMemberTerms(version).has(key) ? key : /^dtmi:dtdl:property:([A-Za-z]+);[0-9]+$/.exec(key)?.[1];
    if (coreTerm && allMemberTerms(version).has(coreTerm)) {
      const owners = classesDefining(coreTerm, version);
      sink.add(
        'member-irrelevant',
        source,
        `${who()}: member "${key}" is not allowed on a ${node.cls}${owners.length > 0 ? ` ("${coreTerm}" belongs to ${list(owners)})` : ''}`,
        node.nearestId,
      );
      return;
    }
    if (isExtensionMember) {
      const hint = key === 'unit' || key.endsWith(':unit') || key.endsWith('property:unit')
        ? 'a semantic type such as Temperature'
        : 'a co-type that defines it';
      sink.add('member-irrelevant', source, `${who()}: member "${key}" is only allowed on an element co-typed with ${hint}, and this ${node.cls} has none`, node.nearestId);
      return;
    }
    if (isReserved(key, version) || isDtmiSyntax(key)) {
      sink.add('member-irrelevant', source, `${who()}: member "${key}" is not a member of a DTDL v${version} ${node.cls}`, node.nearestId);
      return;
    }
    if (key.includes(':')) {
      sink.add('member-undefined', source, `${who()}: member name "${key}" contains ":" but is not a DTMI`, node.nearestId);
      return;
    }
    sink.add(
      'member-undefined',
      source,
      `${who()}: member "${key}" is not defined for a ${node.cls} in DTDL v${version}, nor by a co-type of this element`,
      node.nearestId,
    );
  }

  private readMember(node: ElementNode, member: MemberDef, value: unknown, source: SourceRef): void {
    const sink = this.sink;
    const version = node.version;
    const limits = node.ctx.limits;
    const who = (): string => subject(node);
    const bad = (reason: string): void => sink.add('member-value', source, `${who()}: ${member.term} ${reason}`, node.nearestId);
    switch (member.kind) {
      case 'name': {
        const r = literal(value, 'string', version, 'one');
        if (!r.ok) return bad(r.reason);
        const name = r.value as string;
        node.name = name;
        if (name.length > limits.nameLength) {
          sink.add('name-too-long', source, `${who()}: name is ${name.length} characters long; DTDL v${version} allows at most ${limits.nameLength}`, node.nearestId);
          return;
        }
        const why = whyBadName(name);
        if (why) sink.add('name-invalid', source, `${who()}: name "${name}" ${why} (DTDL v${version} name rule)`, node.nearestId);
        return;
      }
      case 'comment': {
        const r = literal(value, 'string', version, 'atMostOne');
        if (!r.ok) return bad(r.reason);
        const text = r.value as string | undefined;
        if (text !== undefined && text.length > limits.commentLength) {
          sink.add('string-too-long', source, `${who()}: comment is ${text.length} characters long; the limit is ${limits.commentLength}`, node.nearestId);
        } else if (text !== undefined) node.comment = text;
        return;
      }
      case 'displayName':
      case 'description': {
        const max = member.kind === 'displayName' ? limits.displayNameLength : limits.descriptionLength;
        const r = localizable(value, version, max);
        if (!r.ok) {
          const code = r.reason.startsWith('has a text of') ? 'string-too-long' : 'langstring-invalid';
          sink.add(code, source, `${who()}: ${member.term} ${r.reason}`, node.nearestId);
        } else node[member.kind] = r.value;
        return;
      }
      case 'boolean': {
        const r = literal(value, 'boolean', version, 'atMostOne');
        if (!r.ok) return bad(r.reason);
        if (member.term === 'writable') node.writable = r.value as boolean | undefined;
        else if (member.term === 'nullable') node.nullable = r.value as boolean | undefined;
        return;
      }
      case 'integer': {
        const r = literal(value, 'integer', version, 'atMostOne');
        if (!r.ok) return bad(r.reason);
        const number = r.value as number | undefined;
        if (number === undefined) return;
        if (member.term === 'minMultiplicity') {
          if (number !== 0) sink.add('multiplicity', source, `${who()}: minMultiplicity must be 0, not ${number} (DTDL Relationship rule)`, node.nearestId);
          else node.minMultiplicity = 0;
        } else if (member.term === 'maxMultiplicity') {
          if (number < 1) sink.add('multiplicity', source, `${who()}: maxMultiplicity must be at least 1, not ${number} (DTDL Relationship rule)`, node.nearestId);
          else if (number > limits.maxMultiplicity) {
            sink.add('multiplicity', source, `${who()}: maxMultiplicity must be at most ${limits.maxMultiplicity} in DTDL v${version}, not ${number}`, node.nearestId);
          } else node.maxMultiplicity = number;
        }
        return;
      }
      case 'target': {
        const r = literal(value, 'string', version, 'atMostOne');
        if (!r.ok) return bad(r.reason);
        const target = r.value as string | undefined;
        if (target === undefined) return;
        const why = whyNotUserDtmi(target, version);
        if (why) sink.add('dtmi-invalid', source, `${who()}: target "${target}" is not a valid DTDL v${version} DTMI: ${why}`, node.nearestId);
        else node.target = target;
        return;
      }
      case 'valueSchema':
      case 'mapKeySchema': {
        const r = literal(value, 'string', version, 'one');
        const allowed = member.kind === 'valueSchema' ? ['integer', 'string'] : ['string'];
        const text = r.ok ? (r.value as string) : undefined;
        const term = text === undefined ? undefined : schemaTermOf(text, version, allowed);
        if (!term) {
          const rule = member.kind === 'valueSchema' ? 'the valueSchema of an Enum must be integer or string' : 'the schema of a MapKey must be string';
          sink.add('schema-invalid', source, `${who()}: ${r.ok ? `"${text}" is not allowed; ${rule}` : `${member.term} ${r.reason}`}`, node.nearestId);
          return;
        }
        if (member.kind === 'valueSchema') node.valueSchema = term as 'integer' | 'string';
        return;
      }
      case 'enumValue': {
        if (Array.isArray(value)) {
          if (value.length !== 1) return bad(`must have exactly one value, not ${value.length}`);
          node.enumValue = { value: value[0], source: at(source, 0) };
        } else node.enumValue = { value, source };
        return;
      }
      case 'commandType': {
        const r = literal(value, 'string', version, 'atMostOne');
        if (!r.ok) return bad(r.reason);
        const text = r.value as string | undefined;
        if (text === undefined) return;
        const match = /^(?:dtmi:dtdl:instance:CommandType:)?(synchronous|asynchronous)(?:;([0-9]+))?$/.exec(text);
        const ok = match && (match[2] === undefined ? !text.startsWith('dtmi:') : Number(match[2]) === version);
        if (!ok) bad(`must be "synchronous" or "asynchronous" (deprecated), not "${text}"`);
        else node.commandType = match[1] as 'synchronous' | 'asynchronous';
        return;
      }
      case 'elements':
      case 'schema':
        this.readElements(node, member, value, source);
        return;
    }
  }

  private readElements(node: ElementNode, member: MemberDef, value: unknown, source: SourceRef): void {
    const sink = this.sink;
    const version = node.version;
    const who = (): string => subject(node);
    const items: Array<[unknown, SourceRef]> = Array.isArray(value) ? value.map((item, i) => [item, at(source, i)]) : [[value, source]];
    const single = member.kind === 'schema' || member.cardinality !== 'many';
    if (single && items.length > 1) {
      sink.add('member-count', source, `${who()}: ${member.term} has ${items.length} values, but only one is allowed`, node.nearestId);
      return;
    }
    if ((member.kind === 'schema' || member.cardinality === 'one') && items.length === 0) {
      sink.add('member-count', source, `${who()}: ${member.term} is an empty array, but exactly one value is required`, node.nearestId);
      return;
    }
    const values: MemberValue[] = [];
    for (const [item, itemSource] of items) {
      if (isPlainObject(item)) {
        const child = this.parseElement(item, itemSource, node, member);
        if (child) values.push({ kind: 'element', node: child, source: itemSource });
        continue;
      }
      if (typeof item !== 'string') {
        sink.add('member-value', itemSource, `${who()}: each value of ${member.term} must be an element object or a DTMI string, not ${describe(item)}`, node.nearestId);
        continue;
      }
      if (member.kind === 'schema') {
        const standard = standardSchema(item, version);
        if (standard) {
          values.push({ kind: 'standard', schema: standard, text: item, source: itemSource });
          continue;
        }
        const quantities = vocabularyOf(node.ctx).quantities;
        const unitType = quantities?.unitTypeTerm(item);
        if (quantities && unitType) {
          values.push({ kind: 'unitType', unitType, units: quantities.unitsByUnitType.get(unitType) ?? [], source: itemSource });
          continue;
        }
        if (!item.startsWith('dtmi:')) {
          sink.add(
            'schema-invalid',
            itemSource,
            `${who()}: ${member.term} "${item}" is neither a DTDL v${version} schema (${schemaTermsHint(version)}) nor the DTMI of a schema element`,
            node.nearestId,
          );
          continue;
        }
      }
      const why = whyNotUserDtmi(item, version);
      if (why) {
        sink.add('dtmi-invalid', itemSource, `${who()}: ${member.term} value "${item}" is not a valid DTDL v${version} DTMI: ${why}`, node.nearestId);
        continue;
      }
      const ref: RefValue = { kind: 'ref', dtmi: item, source: itemSource };
      values.push(ref);
      this.refs.push({ value: ref, from: node, member });
    }
    node.setValues(member.term, values);
    this.checkCount(node, member, values.length, source);
  }

  private checkCount(node: ElementNode, member: MemberDef, count: number, source: SourceRef): void {
    const limits = node.ctx.limits;
    const who = (): string => subject(node);
    const max =
      member.term === 'enumValues' ? limits.enumValues
      : member.term === 'fields' ? limits.fields
      : member.term === 'properties' ? limits.relationshipProperties
      : member.term === 'extends' ? limits.extendsDirect
      : Number.MAX_SAFE_INTEGER;
    if (count > max) {
      const code = member.term === 'extends' ? 'extends-count' : 'element-count';
      this.sink.add(code, source, `${who()}: ${member.term} has ${count} values; DTDL v${node.version} allows at most ${max}`, node.nearestId);
    }
    if (member.required && member.cardinality === 'many' && count === 0) {
      this.sink.add('element-count', source, `${who()}: ${member.term} is empty; DTDL v${node.version} requires at least one value`, node.nearestId);
    }
  }

  private readExtensionMember(node: ElementNode, adjunct: AdjunctTypeDef, property: ExtensionPropertyDef, value: unknown, source: SourceRef): void {
    const sink = this.sink;
    const version = node.version;
    const who = (): string => subject(node);
    const bad = (reason: string): void =>
      sink.add('extension-value', source, `${who()}: ${property.term} ${reason} (${adjunct.definedBy} ${adjunct.term} rule)`, node.nearestId);
    if (property.kind === 'positiveInteger') {
      const r = literal(value, 'integer', version, 'one');
      if (!r.ok) return bad(r.reason);
      if ((r.value as number) < 1) return bad(`must be at least 1, not ${r.value as number}`);
      node.setExtensionValue(property.term, { value: r.value, source });
      return;
    }
    const r = literal(value, 'string', version, 'one');
    if (!r.ok) return bad(r.reason);
    const text = r.value as string;
    switch (property.kind) {
      case 'unit': {
        const quantities = adjunct.quantities as QuantityVocabulary;
        const units = quantities.unitsBySemanticType.get(adjunct.term) ?? [];
        const unit = quantities.unitTerm(text);
        if (unit === undefined || !units.includes(unit)) {
          sink.add(
            'unit-invalid',
            source,
            `${who()}: unit "${text}" is not a unit of ${adjunct.term}; ${quantities.source} allows ${units.join(', ')}`,
            node.nearestId,
          );
          return;
        }
        node.unit = unit;
        break;
      }
      case 'contentName':
        if (whyBadName(text)) return bad(`"${text}" is not a valid name`);
        break;
      case 'extensionProperty':
        break;
      case 'duration':
        if (!DURATION.test(text)) return bad(`"${text}" is not an ISO 8601 duration such as "PT15S"`);
        break;
      case 'payloadFormatV1':
        if (!PAYLOAD_FORMATS_V1.includes(text)) return bad(`"${text}" is not one of ${PAYLOAD_FORMATS_V1.join(', ')}`);
        break;
      case 'topicPattern': {
        const why = whyBadTopic(text);
        if (why) return bad(`"${text}" is not a valid topic pattern: ${why}`);
        break;
      }
      case 'serviceGroupId':
        if (!SERVICE_GROUP_ID.test(text)) return bad(`"${text}" must be non-empty printable ASCII without space, ", +, #, {, } or /`);
        break;
      case 'string':
        break;
    }
    node.setExtensionValue(property.term, { value: text, source });
  }
}

function whyBadTopic(topic: string): string | undefined {
  const labels = topic.split('/');
  if (labels[0]?.startsWith('$')) return 'the first label must not start with "$"';
  for (const label of labels) {
    if (label.startsWith('{')) {
      if (!TOPIC_TOKEN.test(label)) return `"${label}" is not a token such as "{name}" or "{prefix:name}"`;
    } else if (!TOPIC_LITERAL.test(label)) return `label "${label}" must be non-empty printable ASCII without space, ", +, #, { or }`;
  }
  return undefined;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The name of an element, read leniently before validation so messages can name it. */
function peekName(raw: Record<string, unknown>, version: DtdlVersion): string | undefined {
  let value = raw['name'] ?? raw[propertyDtmi('name', version)];
  if (Array.isArray(value)) value = value[0];
  if (typeof value === 'string') return value;
  if (isPlainObject(value) && typeof value['@value'] === 'string') return value['@value'];
  return undefined;
}

/** "dtmi:dtdl:property:schema;3" -> "schema" when the class has that member and the version matches. */
function dtmiMemberTerm(key: string, version: DtdlVersion, members: ReadonlyMap<string, MemberDef>): string | undefined {
  const match = /^dtmi:dtdl:property:([A-Za-z]+);([0-9]+)$/.exec(key);
  if (!match || Number(match[2]) !== version) return undefined;
  const term = match[1] ?? '';
  return members.has(term) ? term : undefined;
}

function findExtensionProperty(adjuncts: readonly AdjunctTypeDef[], term: string): [AdjunctTypeDef, ExtensionPropertyDef] | undefined {
  for (const adjunct of adjuncts) {
    const property = adjunct.properties.find((p) => p.term === term);
    if (property) return [adjunct, property];
  }
  return undefined;
}

/** Accepts a term from `allowed` or its DTMI form of any DTDL version up to `version`. */
function schemaTermOf(text: string, version: DtdlVersion, allowed: readonly string[]): string | undefined {
  if (allowed.includes(text)) return text;
  const match = /^dtmi:dtdl:instance:Schema:([A-Za-z]+);([0-9]+)$/.exec(text);
  if (match && allowed.includes(match[1] ?? '') && Number(match[2]) >= 2 && Number(match[2]) <= version) return match[1];
  return undefined;
}

function schemaTermsHint(version: DtdlVersion): string {
  return version === 4 ? 'a primitive such as double, a geospatial schema or scaledDecimal' : 'a primitive such as double or a geospatial schema';
}

function describeSchemaValue(value: MemberValue): string {
  switch (value.kind) {
    case 'standard':
      return value.schema.kind === 'primitive' ? value.schema.type : value.schema.kind === 'geospatial' ? value.schema.type : 'scaledDecimal';
    case 'unitType':
      return value.unitType;
    case 'element':
      return `an inline ${value.node.cls}`;
    case 'ref':
      return `the complex schema ${value.dtmi}`;
  }
}

/** Suggests the QuantitativeTypes context when an undefined term is one of its semantic types. */
function hintForTerm(term: string): string {
  if (V2_NATIVE_QUANTITIES.adjuncts.some((a) => a.term === term) || term === 'Concentration' || term === 'EnergyRate') {
    return ` (semantic types need the QuantitativeTypes extension in @context, e.g. "dtmi:dtdl:extension:quantitativeTypes;1" for DTDL v3)`;
  }
  return '';
}
