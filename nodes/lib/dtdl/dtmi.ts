// Digital Twin Model Identifiers: syntax, reserved prefixes and length limits (DTMI spec and the
// "Digital Twin Model Identifier" sections of DTDL v2/v3/v4).

import type { DtdlVersion } from './versions';

/** User segment: a letter, then letters, digits or underscores, not ending with an underscore. */
const SEGMENT = '[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?';
/** System segments start with underscores; they are valid DTMI syntax but never allowed in a model. */
const ANY_SEGMENT = '(?:_+[A-Za-z0-9]|[A-Za-z])(?:[A-Za-z0-9_]*[A-Za-z0-9])?';

/** DTDL v2: version required, one part only. */
const USER_DTMI_V2 = new RegExp(`^dtmi:${SEGMENT}(?::${SEGMENT})*;[1-9][0-9]{0,8}$`);
/** DTDL v3 and v4: version optional, one or two parts. */
const USER_DTMI_V3 = new RegExp(`^dtmi:${SEGMENT}(?::${SEGMENT})*(?:;[1-9][0-9]{0,8}(?:\\.[1-9][0-9]{0,5})?)?$`);
/** Any DTMI, user or system, with an optional one- or two-part version (the DTMI spec's general form). */
const ANY_DTMI = new RegExp(`^dtmi:${ANY_SEGMENT}(?::${ANY_SEGMENT})*(?:;[1-9][0-9]{0,8}(?:\\.[1-9][0-9]{0,5})?)?$`);

export const MAX_DTMI_LENGTH = 4096;
export const MAX_USER_DTMI_LENGTH = 2048;
export const MAX_INTERFACE_DTMI_LENGTH = 128;
export const RESERVED_DTMI_PREFIXES: readonly string[] = ['dtmi:dtdl:', 'dtmi:standard:'];

/** True when `text` has DTMI syntax at all (user or system, any version form). */
export function isDtmiSyntax(text: string): boolean {
  return text.length <= MAX_DTMI_LENGTH && ANY_DTMI.test(text);
}

/** True when `text` is a user DTMI acceptable in a model of the given DTDL version. */
export function isUserDtmi(text: string, version: DtdlVersion): boolean {
  if (text.length > MAX_USER_DTMI_LENGTH) return false;
  return version === 2 ? USER_DTMI_V2.test(text) : USER_DTMI_V3.test(text);
}

export function hasReservedPrefix(dtmi: string): boolean {
  return RESERVED_DTMI_PREFIXES.some((prefix) => dtmi.startsWith(prefix));
}

/**
 * Explains why `text` is not a user DTMI for `version`, or returns undefined when it is one.
 * The sentence completes "… is not a valid DTMI: <reason>".
 */
export function whyNotUserDtmi(text: string, version: DtdlVersion): string | undefined {
  if (isUserDtmi(text, version)) return undefined;
  if (!text.startsWith('dtmi:')) return 'a DTMI starts with "dtmi:"';
  if (text.length > MAX_USER_DTMI_LENGTH) return `it is longer than ${MAX_USER_DTMI_LENGTH} characters`;
  const semi = text.indexOf(';');
  const path = semi < 0 ? text.slice(5) : text.slice(5, semi);
  const versionText = semi < 0 ? undefined : text.slice(semi + 1);
  for (const segment of path.split(':')) {
    if (segment.length === 0) return 'path segments must not be empty';
    if (segment.startsWith('_')) return `segment "${segment}" is a system segment (starts with "_"), which models must not use`;
    if (/^[0-9]/.test(segment)) return `segment "${segment}" starts with a digit`;
    if (!/^[A-Za-z0-9_]+$/.test(segment)) return `segment "${segment}" may contain only letters, digits and underscores`;
    if (segment.endsWith('_')) return `segment "${segment}" ends with an underscore`;
  }
  if (versionText === undefined) return version === 2 ? 'DTDL v2 requires a version suffix such as ";1"' : 'its syntax is invalid';
  if (version === 2 && versionText.includes('.')) return 'DTDL v2 allows only a one-part version';
  const [major, minor, ...rest] = versionText.split('.');
  if (rest.length > 0 || major === undefined) return `version "${versionText}" has too many parts`;
  if (!/^[1-9][0-9]{0,8}$/.test(major)) return `version "${major}" must be 1 to 9 digits without a leading zero`;
  if (minor !== undefined && !/^[1-9][0-9]{0,5}$/.test(minor)) return `minor version "${minor}" must be 1 to 6 digits without a leading zero`;
  return 'its syntax is invalid';
}

/** The part left of the semicolon: "dtmi:ex:foo;3" -> "dtmi:ex:foo". */
export function deversioned(dtmi: string): string {
  const semi = dtmi.indexOf(';');
  return semi < 0 ? dtmi : dtmi.slice(0, semi);
}

/** The version suffix as text ("3", "1.2"), or undefined. */
export function dtmiVersion(dtmi: string): string | undefined {
  const semi = dtmi.indexOf(';');
  return semi < 0 ? undefined : dtmi.slice(semi + 1);
}

/**
 * Path of a model in a models repository laid out by the IoT Models Repository convention:
 * "dtmi:com:example:Thermostat;1" -> "dtmi/com/example/thermostat-1.json".
 */
export function dtmiToRepositoryPath(dtmi: string): string {
  const [path = '', version] = dtmi.toLowerCase().split(';');
  const file = path.replace(/:/g, '/');
  return `${file}${version === undefined ? '' : `-${version}`}.json`;
}
