// Representational literals ("hello", {"@value": "hello", "@type": "xsd:string"}) and localizable
// strings (string, array of strings and language-tagged values, or language map), as the
// "Representational literal" and "Localizable string" sections of the specifications define them.

import type { DtdlVersion } from './versions';

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const fail = (reason: string): Checked<never> => ({ ok: false, reason });

type LiteralKind = 'string' | 'integer' | 'boolean';
const XSD: Record<LiteralKind, readonly string[]> = {
  string: ['xsd:string', 'http://www.w3.org/2001/XMLSchema#string'],
  integer: ['xsd:integer', 'http://www.w3.org/2001/XMLSchema#integer'],
  boolean: ['xsd:boolean', 'http://www.w3.org/2001/XMLSchema#boolean'],
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** 32-bit signed: the specifications' meaning of "integer". */
export function isInt32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= -2147483648 && value <= 2147483647;
}

function matchesKind(value: unknown, kind: LiteralKind): boolean {
  if (kind === 'string') return typeof value === 'string';
  if (kind === 'boolean') return typeof value === 'boolean';
  return typeof value === 'number' && Number.isInteger(value);
}

/** A bare literal or a value object {"@value": …, "@type": …}. */
function representational(value: unknown, kind: LiteralKind, version: DtdlVersion): Checked<string | number | boolean> {
  if (matchesKind(value, kind)) {
    if (kind === 'integer' && !isInt32(value)) return fail(`${value} is outside the 32-bit integer range`);
    return ok(value as string | number | boolean);
  }
  if (!isPlainObject(value)) return fail(`must be a ${kind} or a {"@value": …} object, not ${describe(value)}`);
  for (const key of Object.keys(value)) {
    if (!key.startsWith('@')) return fail(`a value object may only have "@" members, but has "${key}"`);
    if (version === 2 ? ['@id', '@context', '@graph'].includes(key) : !['@value', '@type'].includes(key)) {
      return fail(`a value object may only have "@value" and "@type", but has "${key}"`);
    }
  }
  if (!('@value' in value)) return fail('a value object must have "@value"');
  const inner = value['@value'];
  if (!matchesKind(inner, kind)) return fail(`"@value" must be a ${kind}, not ${describe(inner)}`);
  if (kind === 'integer' && !isInt32(inner)) return fail(`${inner as number} is outside the 32-bit integer range`);
  const type = value['@type'];
  if (type !== undefined && !(typeof type === 'string' && XSD[kind].includes(type))) {
    return fail(`"@type" of a ${kind} value object must be "${XSD[kind][0]}"`);
  }
  return ok(inner as string | number | boolean);
}

/**
 * A member value that is a representational literal or an array of them. `cardinality` "one"
 * requires exactly one value; "atMostOne" allows an empty array (returns undefined).
 */
export function literal(
  value: unknown,
  kind: LiteralKind,
  version: DtdlVersion,
  cardinality: 'one' | 'atMostOne',
): Checked<string | number | boolean | undefined> {
  if (Array.isArray(value)) {
    if (value.length > 1) return fail(`has ${value.length} values but only one is allowed`);
    if (value.length === 0) return cardinality === 'one' ? fail('is an empty array but a value is required') : ok(undefined);
    return representational(value[0], kind, version);
  }
  return representational(value, kind, version);
}

const LANGUAGE_TAG = /^[a-z]{2,4}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$/;

/** Language code -> text. The default language of DTDL documents is English ("en"). */
export type LanguageMap = Readonly<Record<string, string>>;

/** Parses a localizable string into a language map, checking each text against `maxLength`. */
export function localizable(value: unknown, version: DtdlVersion, maxLength: number): Checked<LanguageMap> {
  const map: Record<string, string> = {};
  const tooLong = (text: string): string | undefined =>
    text.length > maxLength ? `has a text of ${text.length} characters; the limit is ${maxLength}` : undefined;
  if (typeof value === 'string') {
    const reason = tooLong(value);
    if (reason) return fail(reason);
    map['en'] = value;
    return ok(map);
  }
  if (Array.isArray(value)) {
    let defaults = 0;
    for (const item of value) {
      let language: string;
      let text: string;
      if (typeof item === 'string') {
        language = 'en';
        text = item;
        defaults += 1;
      } else if (isPlainObject(item)) {
        for (const key of Object.keys(item)) {
          if (!key.startsWith('@')) return fail(`a language-tagged value may only have "@value" and "@language", but has "${key}"`);
          if (version !== 2 && key !== '@value' && key !== '@language') {
            return fail(`a language-tagged value may only have "@value" and "@language", but has "${key}"`);
          }
          if (version === 2 && ['@id', '@context', '@graph'].includes(key)) return fail(`a language-tagged value must not have "${key}"`);
        }
        const inner = item['@value'];
        if (typeof inner !== 'string') return fail('a language-tagged value must have a string "@value"');
        const tag = item['@language'];
        if (tag === undefined) {
          language = 'en';
          defaults += 1;
        } else if (typeof tag !== 'string' || !LANGUAGE_TAG.test(tag)) {
          return fail(`"@language" ${describe(tag)} is not a language code such as "en" or "de-CH"`);
        } else {
          language = tag;
          if (tag === 'en') defaults += 1;
        }
        text = inner;
      } else {
        return fail(`array items must be strings or {"@value", "@language"} objects, not ${describe(item)}`);
      }
      if (defaults > 1) return fail('has more than one default-language (English) text');
      if (language in map) return fail(`has more than one text for language "${language}"`);
      const reason = tooLong(text);
      if (reason) return fail(reason);
      map[language] = text;
    }
    return ok(map);
  }
  if (isPlainObject(value)) {
    for (const [language, text] of Object.entries(value)) {
      if (!LANGUAGE_TAG.test(language)) return fail(`key "${language}" is not a language code such as "en" or "de-CH"`);
      if (typeof text !== 'string') return fail(`text for language "${language}" must be a string, not ${describe(text)}`);
      const reason = tooLong(text);
      if (reason) return fail(reason);
      map[language] = text;
    }
    return ok(map);
  }
  return fail(`must be a string, an array or a language map object, not ${describe(value)}`);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 39)}…` : value)}`;
  return `${typeof value} ${String(value)}`;
}
