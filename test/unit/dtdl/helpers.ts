// Shared builders and assertions for the DTDL tests.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { parseModels, type DtdlError, type DtdlErrorCode, type ParseModelsOptions, type ParseModelsResult } from '../../../nodes/lib/dtdl';

/** Repository root, from dist/test/unit/dtdl. */
export const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'dtdl');

export type Json = Record<string, unknown>;

export const V2 = 'dtmi:dtdl:context;2';
export const V3 = 'dtmi:dtdl:context;3';
export const V4 = 'dtmi:dtdl:context;4';
export const QT3 = [V3, 'dtmi:dtdl:extension:quantitativeTypes;1'];
export const QT4 = [V4, 'dtmi:dtdl:extension:quantitativeTypes;2'];

/** One Interface document `dtmi:ex:A;1` (or `id`) with the given contents and extra members. */
export function iface(context: unknown, contents: unknown[] = [], extra: Json = {}, id = 'dtmi:ex:A;1'): Json {
  return { '@context': context, '@id': id, '@type': 'Interface', contents, ...extra };
}

export const telemetry = (name: string, schema: unknown = 'double', extra: Json = {}): Json => ({ '@type': 'Telemetry', name, schema, ...extra });
export const property = (name: string, schema: unknown = 'double', extra: Json = {}): Json => ({ '@type': 'Property', name, schema, ...extra });

export function parse(documents: unknown[], options?: ParseModelsOptions): ParseModelsResult {
  return parseModels(documents, options);
}

function describeErrors(errors: readonly DtdlError[]): string {
  return errors.map((e) => `  ${e.code} [${e.document}] ${e.path}: ${e.message}`).join('\n') || '  (none)';
}

export function assertValid(documents: unknown[], options?: ParseModelsOptions): ParseModelsResult {
  const result = parse(documents, options);
  assert.ok(result.valid, `expected a valid model set, got errors:\n${describeErrors(result.errors)}`);
  assert.ok(result.model, 'a valid result carries a ModelSet');
  return result;
}

export interface ExpectedError {
  code: DtdlErrorCode;
  /** JSON pointer inside the document. */
  path: string;
  /** Document index (default 0). */
  document?: number;
  /** Substrings the message must contain: the element and the rule. */
  mentions: string[];
}

export function assertError(documents: unknown[], expected: ExpectedError, options?: ParseModelsOptions): DtdlError {
  const result = parse(documents, options);
  assert.equal(result.valid, false, 'expected the model set to be invalid');
  assert.equal(result.model, undefined, 'an invalid result carries no ModelSet');
  const match = result.errors.find((e) => e.code === expected.code && e.path === expected.path && e.document === (expected.document ?? 0));
  assert.ok(match, `expected ${expected.code} at [${expected.document ?? 0}] ${expected.path}, got:\n${describeErrors(result.errors)}`);
  for (const text of expected.mentions) assert.ok(match.message.includes(text), `message "${match.message}" should mention "${text}"`);
  return match;
}

export interface RuleCase {
  /** Documents that keep the rule. */
  valid: unknown[];
  /** Documents that break it. */
  invalid: unknown[];
  expect: ExpectedError;
  options?: ParseModelsOptions;
}

/** Two tests per rule: a model that keeps it is valid, one that breaks it reports the rule. */
export function rule(name: string, c: RuleCase): void {
  test(`${name}: kept`, () => {
    assertValid(c.valid, c.options);
  });
  test(`${name}: broken`, () => {
    assertError(c.invalid, c.expect, c.options);
  });
}
