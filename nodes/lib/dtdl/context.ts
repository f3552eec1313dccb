// "@context": which DTDL version an element is written in, which extensions are active, and which
// limits apply. Implements the "Context" sections of the three specifications, including the
// active-context merge of nested "@context" members and v4's "#limitless" limit extensions.

import { at, ErrorSink, show, type SourceRef } from './errors';
import { deversioned, isDtmiSyntax } from './dtmi';
import { extensionUsableIn, IOTCENTRAL_CONTEXT, KNOWN_EXTENSIONS, type ExtensionDef } from './extensions';
import { CORE_LIMITS, type DtdlVersion, type Limits } from './versions';

export interface ActiveContext {
  readonly version: DtdlVersion;
  readonly limits: Limits;
  /** Known extensions in scope, in the order of their context specifiers. */
  readonly extensions: readonly ExtensionDef[];
  /** Context specifiers in scope that name no extension known here. */
  readonly undefinedExtensions: readonly string[];
  /** De-versioned specifier -> full specifier, for merging nested contexts. */
  readonly entries: ReadonlyMap<string, string>;
  /** Whether "#limitless" is in force (then `limits` come from a limit extension). */
  readonly limitless: boolean;
}

const DTDL_CONTEXT = /^dtmi:dtdl:context;([0-9]+)(#.*)?$/;

export interface ContextOptions {
  readonly allowUndefinedExtensions: boolean;
}

/**
 * Parses an element's "@context" member and merges it into the parent's active context.
 * Returns undefined only for a top-level element whose context names no DTDL version, which
 * makes the element unusable.
 */
export function parseContext(
  value: unknown,
  source: SourceRef,
  parent: ActiveContext | undefined,
  sink: ErrorSink,
  options: ContextOptions,
): ActiveContext | undefined {
  const here = at(source, '@context');
  const values: unknown[] = Array.isArray(value) ? value : [value];
  if (!Array.isArray(value) && typeof value !== 'string') {
    sink.add('context-invalid', here, `@context must be a string or an array of strings, not ${show(value)}`);
  }

  let version: DtdlVersion | undefined;
  let limitless = false;
  let coreLimitsRequested = false;
  let limitExtension: ExtensionDef | undefined;
  const specifiers: string[] = [];

  values.forEach((item, index) => {
    const itemSource = Array.isArray(value) ? at(here, index) : here;
    if (typeof item !== 'string') {
      sink.add('context-invalid', itemSource, `@context value ${show(item)} must be a string`);
      return;
    }
    const dtdl = DTDL_CONTEXT.exec(item);
    if (dtdl) {
      const number = Number(dtdl[1]);
      const fragment = dtdl[2];
      if (number !== 2 && number !== 3 && number !== 4) {
        sink.add('context-version', itemSource, `@context "${item}" names DTDL version ${dtdl[1]}, which is not DTDL v2, v3 or v4`);
        return;
      }
      if (fragment !== undefined) {
        if (number !== 4 || (fragment !== '#limitless' && fragment !== '#limits')) {
          sink.add('context-invalid', itemSource, `@context "${item}" has fragment "${fragment}"; only DTDL v4 defines "#limitless" and "#limits"`);
          return;
        }
        if (fragment === '#limits') {
          if (values[index - 1] !== 'dtmi:dtdl:context;4#limitless') {
            sink.add('context-order', itemSource, '@context "dtmi:dtdl:context;4#limits" must immediately follow "dtmi:dtdl:context;4#limitless" (DTDL v4 context rule)');
          }
          coreLimitsRequested = true;
          return;
        }
        limitless = true;
        const next = values[index + 1];
        const nextIsLimits =
          next === 'dtmi:dtdl:context;4' || next === 'dtmi:dtdl:context;4#limits' || (typeof next === 'string' && KNOWN_EXTENSIONS.get(next)?.limits !== undefined);
        if (!nextIsLimits) {
          sink.add('context-order', itemSource, '@context "dtmi:dtdl:context;4#limitless" must be immediately followed by "dtmi:dtdl:context;4#limits" or a limit extension such as "dtmi:dtdl:limits:onvif;1" (DTDL v4 context rule)');
        }
      }
      // v2 tolerates (but discourages) the IoT Central context before its own.
      const affiliate = values
        .slice(0, index)
        .find((v) => typeof v === 'string' && !v.startsWith('dtmi:dtdl:context;') && !(number === 2 && v === IOTCENTRAL_CONTEXT));
      if (affiliate !== undefined) {
        sink.add('context-order', itemSource, `@context "${item}" comes after the extension context "${String(affiliate)}"; DTDL contexts must come first (DTDL context rule)`);
      }
      version = number;
      return;
    }
    if (!item.startsWith('dtmi:')) {
      sink.add('context-invalid', itemSource, `@context value "${item}" is not a DTMI; context specifiers must be DTMIs`);
      return;
    }
    if (!isDtmiSyntax(item)) {
      sink.add('context-invalid', itemSource, `@context value "${item}" is not a valid DTMI`);
      return;
    }
    if (!item.includes(';')) {
      sink.add('context-invalid', itemSource, `@context value "${item}" has no version number; context specifiers must have one`);
      return;
    }
    specifiers.push(item);
    const known = KNOWN_EXTENSIONS.get(item);
    if (known?.limits) {
      if (values[index - 1] !== 'dtmi:dtdl:context;4#limitless') {
        sink.add('context-order', itemSource, `limit extension "${item}" must immediately follow "dtmi:dtdl:context;4#limitless" (DTDL v4 context rule)`);
      }
      limitExtension = known;
    }
  });

  if (version === undefined && parent === undefined) {
    sink.add(
      'context-missing',
      here,
      '@context of a top-level element must include "dtmi:dtdl:context;2", "dtmi:dtdl:context;3" or "dtmi:dtdl:context;4" (DTDL context rule)',
    );
    return undefined;
  }
  const effectiveVersion: DtdlVersion = version ?? (parent as ActiveContext).version;

  // Merge by de-versioned specifier: the lowest @context in the hierarchy wins, and within one
  // @context the last value wins.
  const entries = new Map(parent?.entries ?? []);
  for (const specifier of specifiers) entries.set(deversioned(specifier), specifier);

  const extensions: ExtensionDef[] = [];
  const undefinedExtensions: string[] = [];
  for (const specifier of entries.values()) {
    if (specifier === IOTCENTRAL_CONTEXT && effectiveVersion === 2) continue;
    const known = KNOWN_EXTENSIONS.get(specifier);
    if (known && extensionUsableIn(known, effectiveVersion)) extensions.push(known);
    else if (!known) undefinedExtensions.push(specifier);
  }
  const sourceOf = (specifier: string): SourceRef => (Array.isArray(value) ? at(here, values.indexOf(specifier)) : here);
  for (const specifier of specifiers) {
    const known = KNOWN_EXTENSIONS.get(specifier);
    const iotCentral = specifier === IOTCENTRAL_CONTEXT && effectiveVersion === 2;
    if (!known && !iotCentral && !options.allowUndefinedExtensions) {
      sink.add(
        'extension-undefined',
        sourceOf(specifier),
        `@context "${specifier}" names a language extension that is not defined here, so the model is incomplete (allow undefined extensions to accept it)`,
      );
    } else if (known && !extensionUsableIn(known, effectiveVersion)) {
      sink.add('context-version', sourceOf(specifier), `extension "${specifier}" (${known.title}) cannot be used with DTDL v${effectiveVersion}`);
    }
  }

  let limits = CORE_LIMITS[effectiveVersion];
  if (version !== undefined && limitless && limitExtension?.limits && !coreLimitsRequested) limits = { ...limits, ...limitExtension.limits };
  else if (version === undefined && parent) limits = parent.limits;
  const isLimitless = version !== undefined ? limitless : (parent?.limitless ?? false);

  return { version: effectiveVersion, limits, extensions, undefinedExtensions, entries, limitless: isLimitless };
}

