// The DTDL language extensions this parser knows: their context specifiers, adjunct types (co-types),
// the members those co-types add, and limit extensions. A model that names any other extension
// context is "contextually incomplete" and is refused unless allowUndefinedExtensions is set.

import type { ClassName, DtdlVersion, Limits } from './versions';
import { DTDL_V2_QUANTITIES, QUANTITATIVE_TYPES_V1, QUANTITATIVE_TYPES_V2, type QuantityVocabulary } from './units';

/** How an extension member's value is checked. */
export type ExtensionValueKind =
  | 'unit' // a unit of the element's semantic type
  | 'contentName' // the name of a sibling Property or Telemetry (ValueAnnotation.annotates)
  | 'extensionProperty' // the term or IRI of an extension property (Override.overrides)
  | 'positiveInteger' // Indexed.index
  | 'duration' // Cacheable.ttl
  | 'string'
  | 'payloadFormatV1'
  | 'topicPattern'
  | 'serviceGroupId';

export interface ExtensionPropertyDef {
  readonly term: string;
  /** The member may also be spelt as this IRI. */
  readonly dtmi: string;
  readonly required: boolean;
  readonly kind: ExtensionValueKind;
}

export interface AdjunctTypeDef {
  readonly term: string;
  readonly dtmi: string;
  /** The extension (or "DTDL v2" for native semantic types) that defines it, for messages. */
  readonly definedBy: string;
  /** DTDL versions of the elements the co-type may be applied to. */
  readonly dtdlVersions: readonly DtdlVersion[];
  /** Material classes the co-type may be applied to. */
  readonly appliesTo: readonly ClassName[];
  /** Another co-type the element must also carry (Override needs ValueAnnotation). */
  readonly requiresCotype?: string;
  readonly properties: readonly ExtensionPropertyDef[];
  /** Set for semantic types: the vocabulary that says which units fit. */
  readonly quantities?: QuantityVocabulary;
}

export interface ExtensionDef {
  /** The context specifier, e.g. "dtmi:dtdl:extension:historization;1". */
  readonly context: string;
  readonly title: string;
  readonly adjuncts: readonly AdjunctTypeDef[];
  /** Semantic types and unit-type schemas (QuantitativeTypes). */
  readonly quantities?: QuantityVocabulary;
  /** Limit extensions raise core limits; they follow "dtmi:dtdl:context;4#limitless". */
  readonly limits?: Partial<Limits>;
}

const QUANTITY_TARGETS_V3: readonly ClassName[] = ['CommandRequest', 'CommandResponse', 'Field', 'MapValue', 'Property', 'Telemetry'];
const QUANTITY_TARGETS_V2: readonly ClassName[] = ['Property', 'Telemetry'];

function semanticTypes(
  vocabulary: QuantityVocabulary,
  appliesTo: readonly ClassName[],
  classDtmi: (term: string) => string,
  dtdlVersions: readonly DtdlVersion[],
): AdjunctTypeDef[] {
  const unit: ExtensionPropertyDef = { term: 'unit', dtmi: vocabulary.unitPropertyDtmi, required: true, kind: 'unit' };
  return [...vocabulary.unitsBySemanticType.keys()].map((term) => ({
    term,
    dtmi: classDtmi(term),
    definedBy: vocabulary.source,
    dtdlVersions,
    appliesTo,
    properties: [unit],
    quantities: vocabulary,
  }));
}

function quantitativeTypes(version: 1 | 2): ExtensionDef {
  const vocabulary = version === 1 ? QUANTITATIVE_TYPES_V1 : QUANTITATIVE_TYPES_V2;
  const prefix = `dtmi:dtdl:extension:quantitativeTypes:v${version}`;
  return {
    context: `dtmi:dtdl:extension:quantitativeTypes;${version}`,
    title: `QuantitativeTypes v${version}`,
    adjuncts: semanticTypes(vocabulary, QUANTITY_TARGETS_V3, (term) => `${prefix}:class:${term}`, [version === 1 ? 3 : 4]),
    quantities: vocabulary,
  };
}

/** An adjunct type whose IRIs follow the feature extensions' pattern "<prefix>:<Type>[:<property>]". */
function adjunct(
  prefix: string,
  title: string,
  dtdlVersions: readonly DtdlVersion[],
  term: string,
  appliesTo: readonly ClassName[],
  properties: ReadonlyArray<Omit<ExtensionPropertyDef, 'dtmi'>> = [],
  requiresCotype?: string,
): AdjunctTypeDef {
  const def: AdjunctTypeDef = {
    term,
    dtmi: `${prefix}:${term}`,
    definedBy: title,
    dtdlVersions,
    appliesTo,
    properties: properties.map((p) => ({ ...p, dtmi: `${prefix}:${term}:${p.term}` })),
  };
  return requiresCotype === undefined ? def : { ...def, requiresCotype };
}

/** A feature extension; `build` gets an `adjunct` factory bound to its IRI prefix, title and DTDL versions. */
function feature(
  name: string,
  version: number,
  dtdlVersions: readonly DtdlVersion[],
  build: (make: (term: string, appliesTo: readonly ClassName[], properties?: ReadonlyArray<Omit<ExtensionPropertyDef, 'dtmi'>>, requiresCotype?: string) => AdjunctTypeDef) => AdjunctTypeDef[],
): ExtensionDef {
  const prefix = `dtmi:dtdl:extension:${name}:v${version}`;
  const title = `${name.charAt(0).toUpperCase()}${name.slice(1)} v${version}`;
  const make = (term: string, appliesTo: readonly ClassName[], properties: ReadonlyArray<Omit<ExtensionPropertyDef, 'dtmi'>> = [], requiresCotype?: string): AdjunctTypeDef =>
    adjunct(prefix, title, dtdlVersions, term, appliesTo, properties, requiresCotype);
  return { context: `dtmi:dtdl:extension:${name};${version}`, title, adjuncts: build(make) };
}

// Version 1 of each feature extension is for DTDL v3 elements only; later versions for v3 and v4.
const featureVersions = (version: number): readonly DtdlVersion[] => (version === 1 ? [3] : [3, 4]);

const historization = (version: number): ExtensionDef =>
  feature('historization', version, featureVersions(version), (make) => [make('Historized', ['Property', 'Telemetry'])]);

const annotation = (version: number): ExtensionDef =>
  feature('annotation', version, featureVersions(version), (make) => [
    make('ValueAnnotation', ['Property', 'Telemetry'], [{ term: 'annotates', required: true, kind: 'contentName' }]),
  ]);

const overriding = (version: number): ExtensionDef =>
  feature('overriding', version, featureVersions(version), (make) => [
    make('Override', ['Property'], [{ term: 'overrides', required: true, kind: 'extensionProperty' }], 'ValueAnnotation'),
  ]);

const requirement = (): ExtensionDef => feature('requirement', 1, [3, 4], (make) => [make('Required', ['Field'])]);

function mqtt(version: 1 | 2 | 3): ExtensionDef {
  return feature('mqtt', version, featureVersions(version), (make) => {
    const topic = version === 1 ? 'string' : 'topicPattern';
    const interfaceProps: Omit<ExtensionPropertyDef, 'dtmi'>[] = [
      { term: 'commandTopic', required: false, kind: topic },
      { term: 'payloadFormat', required: true, kind: version === 1 ? 'payloadFormatV1' : 'string' },
      { term: 'telemetryTopic', required: false, kind: topic },
    ];
    if (version >= 2) {
      interfaceProps.push({ term: 'cmdServiceGroupId', required: false, kind: 'serviceGroupId' });
      interfaceProps.push({ term: 'telemServiceGroupId', required: false, kind: 'serviceGroupId' });
    }
    const adjuncts = [
      make('Mqtt', ['Interface'], interfaceProps),
      make('Idempotent', ['Command']),
      // The reference parser requires Cacheable commands to be Idempotent as well.
      make('Cacheable', ['Command'], [{ term: 'ttl', required: true, kind: 'duration' }], 'Idempotent'),
      make('Indexed', ['EnumValue', 'Field', 'Telemetry'], [{ term: 'index', required: true, kind: 'positiveInteger' }]),
    ];
    if (version >= 2) adjuncts.push(make('Transparent', ['CommandRequest', 'CommandResponse']));
    if (version >= 3) {
      adjuncts.push(
        make('Result', ['Object']),
        make('NormalResult', ['Field']),
        make('ErrorResult', ['Field']),
        make('Error', ['Object']),
        make('ErrorMessage', ['Field']),
      );
    }
    return adjuncts;
  });
}

const ONVIF: ExtensionDef = {
  context: 'dtmi:dtdl:limits:onvif;1',
  title: 'Onvif v1 limits',
  adjuncts: [],
  limits: { descriptionLength: 4096, schemaDepth: 24 },
};

/** Known feature and limit extensions by context specifier. */
export const KNOWN_EXTENSIONS: ReadonlyMap<string, ExtensionDef> = new Map(
  [
    quantitativeTypes(1),
    quantitativeTypes(2),
    historization(1),
    historization(2),
    annotation(1),
    annotation(2),
    overriding(1),
    overriding(2),
    requirement(),
    mqtt(1),
    mqtt(2),
    mqtt(3),
    ONVIF,
  ].map((ext) => [ext.context, ext]),
);

/** The IoT Central partner extension: recognised as a context, its terms fall under v2's open world. */
export const IOTCENTRAL_CONTEXT = 'dtmi:iotcentral:context;2';

/** DTDL v2's native semantic types behave like an always-active extension on Property and Telemetry. */
export const V2_NATIVE_QUANTITIES: ExtensionDef = {
  context: 'dtmi:dtdl:context;2',
  title: 'DTDL v2',
  adjuncts: semanticTypes(DTDL_V2_QUANTITIES, QUANTITY_TARGETS_V2, (term) => `dtmi:standard:class:${term};2`, [2]),
  quantities: DTDL_V2_QUANTITIES,
};

/**
 * Whether an extension context is usable in a DTDL version. Limit extensions exist only for v4. The
 * reference parser accepts every feature extension context in every version, so this does too; in
 * v2 the native semantic types take precedence over QuantitativeTypes' terms of the same name.
 */
export function extensionUsableIn(ext: ExtensionDef, version: DtdlVersion): boolean {
  return ext.limits ? version === 4 : true;
}
