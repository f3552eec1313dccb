// A generated plant ontology for the parse benchmark: N DTDL v3 Interfaces with QuantitativeTypes
// units, deep extends chains (10 levels, some with a second base), Components, Relationships,
// Enums and Objects. Deterministic, so every run parses the same documents.

type Json = Record<string, unknown>;

const QUANTITIES: Array<[string, string]> = [
  ['Temperature', 'degreeCelsius'],
  ['Pressure', 'bar'],
  ['AngularVelocity', 'revolutionPerMinute'],
  ['Current', 'ampere'],
  ['Voltage', 'volt'],
  ['Power', 'kilowatt'],
  ['Length', 'millimetre'],
  ['VolumeFlowRate', 'litrePerMinute'],
  ['Velocity', 'metrePerSecond'],
  ['Energy', 'kilowattHour'],
];

function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

/** `count` Interfaces as one JSON document each (an array of top-level objects). */
export function generateOntology(count = 800, seed = 7): Json[] {
  const random = rng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const context = ['dtmi:dtdl:context;3', 'dtmi:dtdl:extension:quantitativeTypes;1'];
  const chainLength = 10;
  const parts = Math.max(10, Math.floor(count / 20)); // component Interfaces: no Components of their own
  const docs: Json[] = [];

  for (let p = 0; p < parts; p++) {
    docs.push({
      '@context': context,
      '@id': `dtmi:bench:part:Part${p};1`,
      '@type': 'Interface',
      displayName: `Part ${p}`,
      contents: QUANTITIES.slice(0, 4).map(([semanticType, unit], i) => ({ '@type': ['Telemetry', semanticType], name: `partValue${i}`, schema: 'double', unit })),
    });
  }

  const machines = count - parts;
  for (let i = 0; i < machines; i++) {
    const level = i % chainLength;
    const chain = Math.floor(i / chainLength);
    const id = `dtmi:bench:plant:Chain${chain}:Level${level};1`;
    const contents: Json[] = [];
    for (let q = 0; q < 4; q++) {
      const [semanticType, unit] = pick(QUANTITIES);
      contents.push({ '@type': ['Telemetry', semanticType], name: `l${level}Measure${q}`, displayName: `${semanticType} ${q}`, schema: pick(['double', 'float', 'integer']), unit });
    }
    const [semanticType, unit] = pick(QUANTITIES);
    contents.push({ '@type': ['Property', semanticType], name: `l${level}Setpoint`, schema: 'double', unit, writable: true });
    contents.push({
      '@type': 'Property',
      name: `l${level}State`,
      schema: {
        '@type': 'Enum',
        valueSchema: 'string',
        enumValues: ['idle', 'running', 'alarm', 'maintenance'].map((s) => ({ name: s, enumValue: s })),
      },
    });
    contents.push({
      '@type': 'Telemetry',
      name: `l${level}Sample`,
      schema: { '@type': 'Object', fields: [{ name: 'x', schema: 'double' }, { name: 'y', schema: 'double' }, { name: 'quality', schema: 'integer' }] },
    });
    contents.push({ '@type': 'Command', name: `l${level}Reset`, request: { name: 'reason', schema: 'string' }, response: { name: 'done', schema: 'boolean' } });
    contents.push({ '@type': 'Relationship', name: `l${level}Feeds`, target: `dtmi:bench:plant:Chain${Math.floor(random() * (machines / chainLength))}:Level0;1`, properties: [{ '@type': 'Property', name: 'rate', schema: 'double' }] });
    if (level % 3 === 0) contents.push({ '@type': 'Component', name: `l${level}Part`, schema: `dtmi:bench:part:Part${Math.floor(random() * parts)};1` });

    const doc: Json = { '@context': context, '@id': id, '@type': 'Interface', displayName: `Chain ${chain} level ${level}`, contents };
    if (level > 0) {
      const bases = [`dtmi:bench:plant:Chain${chain}:Level${level - 1};1`];
      // A second, shallower base now and then (still at most 10 levels deep).
      if (level >= 2 && random() < 0.2) bases.push(`dtmi:bench:plant:Chain${chain}:Level${level - 2};1`);
      doc['extends'] = bases.length === 1 ? bases[0] : bases;
    }
    docs.push(doc);
  }
  return docs;
}
