// The members each DTDL element class may or must have, per DTDL version: the "DTDL element"
// section of each specification, reduced to a table the element parser walks.

import type { ClassName, DtdlVersion } from './versions';

export type MemberKind =
  | 'name'
  | 'comment'
  | 'displayName'
  | 'description'
  | 'boolean'
  | 'integer'
  | 'target'
  | 'valueSchema'
  | 'mapKeySchema'
  | 'enumValue'
  | 'commandType'
  /** Inline elements or DTMI references. */
  | 'elements'
  /** Like elements, but strings may also name standard schemas. */
  | 'schema';

export interface MemberDef {
  readonly term: string;
  readonly kind: MemberKind;
  readonly required: boolean;
  /** For element-valued members: exactly one value, at most one, or any number. */
  readonly cardinality: 'one' | 'atMostOne' | 'many';
  /** Classes an included or referenced element must have. */
  readonly targets: readonly ClassName[];
  /** Class of an inline element that has no @type (only where @type is optional). */
  readonly inferred?: (version: DtdlVersion) => ClassName;
}

export interface ClassDef {
  readonly cls: ClassName;
  /** Whether @type must be present (it is optional where the class is implied by the member). */
  readonly typeRequired: boolean;
  readonly members: ReadonlyMap<string, MemberDef>;
}

const COMPLEX_SCHEMAS: readonly ClassName[] = ['Array', 'Enum', 'Map', 'Object'];
const CONTENTS: readonly ClassName[] = ['Command', 'Component', 'Property', 'Relationship', 'Telemetry'];

function m(term: string, kind: MemberKind, required = false, extra: Partial<MemberDef> = {}): MemberDef {
  const cardinality = kind === 'elements' ? 'many' : 'one';
  return { term, kind, required, cardinality, targets: [], ...extra };
}

const payload = (v: DtdlVersion, response: boolean): ClassName => (v === 2 ? 'CommandPayload' : response ? 'CommandResponse' : 'CommandRequest');

function membersFor(cls: ClassName, version: DtdlVersion): MemberDef[] {
  const common = [m('comment', 'comment'), m('description', 'description'), m('displayName', 'displayName')];
  const name = m('name', 'name', true);
  const schema = m('schema', 'schema', true, { targets: COMPLEX_SCHEMAS });
  switch (cls) {
    case 'Interface':
      return [
        ...common,
        m('contents', 'elements', false, { targets: CONTENTS }),
        m('extends', 'elements', false, { targets: ['Interface'] }),
        m('schemas', 'elements', false, { targets: COMPLEX_SCHEMAS }),
      ];
    case 'Telemetry':
      return [...common, name, schema];
    case 'Property':
      return [...common, name, schema, m('writable', 'boolean')];
    case 'Command':
      return [
        ...common,
        name,
        m('request', 'elements', false, { cardinality: 'atMostOne', targets: [payload(version, false)], inferred: (v) => payload(v, false) }),
        m('response', 'elements', false, { cardinality: 'atMostOne', targets: [payload(version, true)], inferred: (v) => payload(v, true) }),
        m('commandType', 'commandType'),
      ];
    case 'CommandPayload':
      return [...common, name, schema];
    case 'CommandRequest':
    case 'CommandResponse':
      return version === 4 ? [...common, name, schema, m('nullable', 'boolean')] : [...common, name, schema];
    case 'Relationship':
      return [
        ...common,
        name,
        m('maxMultiplicity', 'integer'),
        m('minMultiplicity', 'integer'),
        m('properties', 'elements', false, { targets: ['Property'] }),
        m('target', 'target'),
        m('writable', 'boolean'),
      ];
    case 'Component':
      return [...common, name, m('schema', 'elements', true, { cardinality: 'one', targets: ['Interface'] })];
    case 'Array':
      return [...common, m('elementSchema', 'schema', true, { targets: COMPLEX_SCHEMAS })];
    case 'Enum':
      return [
        ...common,
        m('valueSchema', 'valueSchema', true),
        m('enumValues', 'elements', version === 2, { targets: ['EnumValue'], inferred: () => 'EnumValue' }),
      ];
    case 'EnumValue':
      return [...common, name, m('enumValue', 'enumValue', true)];
    case 'Map':
      return [
        ...common,
        m('mapKey', 'elements', true, { cardinality: 'one', targets: ['MapKey'], inferred: () => 'MapKey' }),
        m('mapValue', 'elements', true, { cardinality: 'one', targets: ['MapValue'], inferred: () => 'MapValue' }),
      ];
    case 'MapKey':
      return [...common, name, m('schema', 'mapKeySchema', true)];
    case 'MapValue':
      return [...common, name, schema];
    case 'Object':
      return [...common, m('fields', 'elements', version === 2, { targets: ['Field'], inferred: () => 'Field' })];
    case 'Field':
      return [...common, name, schema];
  }
}

const TYPE_OPTIONAL: ReadonlySet<ClassName> = new Set(['CommandPayload', 'CommandRequest', 'CommandResponse', 'EnumValue', 'MapKey', 'MapValue', 'Field']);

const cache = new Map<string, ClassDef>();

export function classDef(cls: ClassName, version: DtdlVersion): ClassDef {
  const key = `${cls};${version}`;
  let def = cache.get(key);
  if (!def) {
    def = { cls, typeRequired: !TYPE_OPTIONAL.has(cls), members: new Map(membersFor(cls, version).map((d) => [d.term, d])) };
    cache.set(key, def);
  }
  return def;
}

/** Every core member term any class of a version defines: used to tell "irrelevant" from "undefined". */
export function allMemberTerms(version: DtdlVersion): ReadonlySet<string> {
  const terms = new Set<string>();
  const classes: ClassName[] = [
    'Interface', 'Telemetry', 'Property', 'Command', 'CommandRequest', 'CommandResponse', 'CommandPayload', 'Relationship',
    'Component', 'Array', 'Enum', 'EnumValue', 'Map', 'MapKey', 'MapValue', 'Object', 'Field',
  ];
  for (const cls of classes) for (const term of classDef(cls, version).members.keys()) terms.add(term);
  return terms;
}

/** Which classes define a member, for "writable applies to Property and Relationship" style hints. */
export function classesDefining(term: string, version: DtdlVersion): ClassName[] {
  const classes: ClassName[] = [
    'Interface', 'Telemetry', 'Property', 'Command', 'Relationship', 'Component', 'Array', 'Enum', 'EnumValue', 'Map', 'MapKey',
    'MapValue', 'Object', 'Field', ...(version === 2 ? (['CommandPayload'] as const) : (['CommandRequest', 'CommandResponse'] as const)),
  ];
  return classes.filter((cls) => classDef(cls, version).members.has(term));
}
