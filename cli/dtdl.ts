// `twinflow dtdl validate <file|folder>... [--json] [--allow-undefined-extensions]`: parses DTDL
// files (folders recursively, *.json) together as one model set and reports every broken rule.
// Exit codes: 0 valid, 1 invalid, 2 usage error or unreadable file.

import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseModels } from '../nodes/lib/dtdl';
import type { Subcommand } from './twinflow';

const USAGE = `Usage: twinflow dtdl validate <file|folder>... [--json] [--allow-undefined-extensions]

Parses the DTDL v2/v3/v4 files given (folders are searched recursively for *.json) together as one
model set, resolving references between them, and prints each broken rule as

  file: /json/pointer: message

Options:
  --json                          print one JSON object instead of text
  --allow-undefined-extensions    accept extension contexts this parser does not know
  -h, --help                      show this help

Exit status: 0 when the models are valid, 1 when they are not, 2 on a usage error or an unreadable file.`;

interface FileError {
  file: string;
  path: string;
  code: string;
  dtmi?: string;
  message: string;
}

class UsageError extends Error {}

async function jsonFilesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await jsonFilesUnder(full)));
    else if (entry.isFile() && entry.name.toLowerCase().endsWith('.json')) found.push(full);
  }
  return found;
}

async function collectFiles(inputs: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    const info = await stat(input);
    if (info.isDirectory()) files.push(...(await jsonFilesUnder(input)));
    else files.push(input);
  }
  return [...new Set(files)];
}

function parseArgs(argv: readonly string[]): { inputs: string[]; json: boolean; allowUndefinedExtensions: boolean } {
  const inputs: string[] = [];
  let json = false;
  let allowUndefinedExtensions = false;
  for (const arg of argv) {
    if (arg === '--json') json = true;
    else if (arg === '--allow-undefined-extensions') allowUndefinedExtensions = true;
    else if (arg.startsWith('-')) throw new UsageError(`unknown option "${arg}"`);
    else inputs.push(arg);
  }
  if (inputs.length === 0) throw new UsageError('give at least one file or folder to validate');
  return { inputs, json, allowUndefinedExtensions };
}

async function validate(argv: readonly string[]): Promise<number> {
  let options: ReturnType<typeof parseArgs>;
  try {
    options = parseArgs(argv);
  } catch (err) {
    console.error(`twinflow dtdl: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }

  let files: string[];
  const texts: string[] = [];
  try {
    files = await collectFiles(options.inputs);
    for (const file of files) texts.push(await readFile(file, 'utf8'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    console.error(`twinflow dtdl: cannot read ${e.path ?? 'input'}: ${e.code ?? e.message}`);
    return 2;
  }
  if (files.length === 0) {
    console.error(`twinflow dtdl: no .json files found in ${options.inputs.join(', ')}`);
    return 2;
  }

  const errors: FileError[] = [];
  const documents: unknown[] = [];
  const documentFiles: string[] = [];
  files.forEach((file, i) => {
    try {
      documents.push(JSON.parse(texts[i] as string));
      documentFiles.push(file);
    } catch (err) {
      errors.push({ file, path: '', code: 'json-syntax', message: `not valid JSON: ${(err as Error).message}` });
    }
  });

  const result = parseModels(documents, { allowUndefinedExtensions: options.allowUndefinedExtensions });
  for (const error of result.errors) {
    const entry: FileError = { file: documentFiles[error.document ?? -1] ?? '(resolver)', path: error.path, code: error.code, message: error.message };
    if (error.dtmi !== undefined) entry.dtmi = error.dtmi;
    errors.push(entry);
  }
  const valid = errors.length === 0;
  const interfaces = result.model ? [...result.model.interfaces.keys()] : [];

  if (options.json) {
    console.log(JSON.stringify({ valid, files, interfaces, errors, unresolved: result.unresolved }, null, 2));
  } else {
    for (const error of errors) console.log(`${error.file}: ${error.path || '/'}: ${error.message}`);
    if (valid) console.log(`valid: ${interfaces.length} interface${interfaces.length === 1 ? '' : 's'} in ${files.length} file${files.length === 1 ? '' : 's'}`);
    else {
      const bad = new Set(errors.map((e) => e.file)).size;
      console.log(`invalid: ${errors.length} error${errors.length === 1 ? '' : 's'} in ${bad} of ${files.length} file${files.length === 1 ? '' : 's'}`);
    }
  }
  return valid ? 0 : 1;
}

async function runDtdl(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  if (action === '--help' || action === '-h' || (action === 'validate' && (rest.includes('--help') || rest.includes('-h')))) {
    console.log(USAGE);
    return 0;
  }
  if (action !== 'validate') {
    console.error(`twinflow dtdl: ${action ? `unknown action "${action}"` : 'missing action'}\n\n${USAGE}`);
    return 2;
  }
  return validate(rest);
}

export const command: Subcommand = {
  summary: 'validate DTDL v2/v3/v4 model files',
  run: runDtdl,
};
