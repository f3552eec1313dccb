// Builds our own FMUs from native/: for every model spec (native/models/**/<name>.json) it generates
// the C variable header, compiles the model with the FMI 2.0 and the FMI 3.0 wrapper (gcc -O2 -fPIC
// -shared), writes modelDescription.xml and zips native/build/<name>-fmi<2|3>.fmu (test models go to
// native/build/test/). It also builds the FMI 2.0 logger shim, deliberately broken FMUs for the
// tests, and the C master loop of the FMU benchmark.
//
// Idempotent and fast when nothing changed: every output has a stamp holding the hash of its inputs
// (sources, spec, flags, compiler version), and every file is written to a temporary name and
// renamed, so two builds running at once (parallel test files) never see half-written files.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yazl from 'yazl';

/** Bump when the generated code, XML or zip layout changes, so stamps from older builds are ignored. */
const GENERATOR_VERSION = '1';
/** A fixed timestamp inside the zips: the same inputs give byte-identical .fmu files (and cache hits). */
const ZIP_MTIME = new Date('2024-01-01T00:00:00Z');

export type FmiVersion = 2 | 3;

const VARIABLE_TYPES = ['Float64', 'Float32', 'Int8', 'UInt8', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Int64', 'UInt64', 'Boolean', 'String', 'Binary'] as const;
type VariableType = (typeof VARIABLE_TYPES)[number];
const CAUSALITIES = ['parameter', 'calculatedParameter', 'input', 'output', 'local', 'independent'] as const;
const VARIABILITIES = ['constant', 'fixed', 'tunable', 'discrete', 'continuous'] as const;
const INITIALS = ['exact', 'approx', 'calculated'] as const;

interface VariableSpec {
  name: string;
  type: VariableType;
  causality: (typeof CAUSALITIES)[number];
  variability?: (typeof VARIABILITIES)[number];
  initial?: (typeof INITIALS)[number];
  start?: number | boolean | string | number[];
  unit?: string;
  description?: string;
  min?: number;
  max?: number;
  dimensions?: number[];
  dependencies?: string[];
  fmi3Only?: boolean;
}

interface ModelSpec {
  modelIdentifier: string;
  modelName: string;
  description: string;
  fmiVersions: FmiVersion[];
  capabilities: {
    canHandleVariableCommunicationStepSize?: boolean;
    canGetAndSetFMUState?: boolean;
    canSerializeFMUState?: boolean;
    hasEventMode?: boolean;
    mightReturnEarlyFromDoStep?: boolean;
  };
  defaultExperiment?: { startTime?: number; stopTime?: number; stepSize?: number; tolerance?: number };
  variables: VariableSpec[];
}

type UnitTable = Record<string, Record<string, number> & { factor?: number; offset?: number }>;

export interface BuildOptions {
  /** repository root (default: found from this file) */
  root?: string;
  /** C compiler (default: $CC or gcc) */
  cc?: string;
  /** print what is built */
  verbose?: boolean;
}

export interface BuildReport {
  built: string[];
  upToDate: string[];
  buildDir: string;
}

export class BuildNativeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BuildNativeError';
  }
}

export function findRepositoryRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && existsSync(path.join(dir, 'native'))) {
      try {
        if (JSON.parse(readFileSync(manifest, 'utf8')).name === 'node-red-contrib-twinflow') return dir;
      } catch {
        // not ours: keep looking
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new BuildNativeError(`build-native: no node-red-contrib-twinflow checkout with native/ above ${from}`);
    dir = parent;
  }
}

/** Where an FMU built from native/models/<group>/<name>.json lands. */
export function builtFmuPath(root: string, name: string, version: FmiVersion, group: '' | 'test' = ''): string {
  return path.join(root, 'native', 'build', group, `${name}-fmi${version}.fmu`);
}

// ---- small helpers ------------------------------------------------------------------------------

function sha256(...parts: (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex');
}

function writeAtomically(file: string, data: string | Buffer): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(temporary, data);
  renameSync(temporary, file);
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function cString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** Shortest text that reads back as the same double, always with a '.' or exponent for C. */
function cDouble(value: number): string {
  if (!Number.isFinite(value)) throw new BuildNativeError(`start value ${value} is not finite`);
  const text = String(value);
  return /[.eE]/.test(text) ? text : `${text}.0`;
}

function runCompiler(cc: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cc, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(new BuildNativeError(err.code === 'ENOENT' ? compilerMissing(cc) : `build-native: ${cc} failed to start: ${err.message}`));
    });
    child.on('exit', (code) => {
      if (code === 0) resolve();
      else reject(new BuildNativeError(`build-native: ${cc} ${args.join(' ')}\nexited with ${code}:\n${output}`));
    });
  });
}

function compilerMissing(cc: string): string {
  return `build-native: the C compiler "${cc}" was not found on PATH. Our FMUs and the FMI 2.0 logger shim are C; ` +
    'install gcc (Debian/Ubuntu: apt-get install gcc) or point CC at a compiler.';
}

function compilerIdentity(cc: string): string {
  const result = spawnSync(cc, ['--version'], { encoding: 'utf8' });
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    throw new BuildNativeError(code === 'ENOENT' ? compilerMissing(cc) : `build-native: ${cc} --version failed: ${result.error.message}`);
  }
  if (result.status !== 0) throw new BuildNativeError(`build-native: ${cc} --version exited with ${result.status}: ${result.stderr}`);
  return result.stdout.split('\n')[0] ?? cc;
}

function zipFiles(entries: { name: string; data: Buffer }[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const zip = new yazl.ZipFile();
    for (const entry of entries) zip.addBuffer(entry.data, entry.name, { mtime: ZIP_MTIME, mode: 0o100644 });
    zip.end();
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(workers);
}

// ---- model specs ---------------------------------------------------------------------------------

function defaultVariability(variable: VariableSpec): NonNullable<VariableSpec['variability']> {
  if (variable.variability) return variable.variability;
  if (variable.causality === 'parameter' || variable.causality === 'calculatedParameter') return 'fixed';
  return variable.type === 'Float64' || variable.type === 'Float32' ? 'continuous' : 'discrete';
}

function validateSpec(spec: ModelSpec, file: string, units: UnitTable): void {
  const fail = (message: string): never => {
    throw new BuildNativeError(`build-native: ${file}: ${message}`);
  };
  if (!/^[A-Za-z_]\w*$/.test(spec.modelIdentifier ?? '')) fail(`modelIdentifier "${spec.modelIdentifier}" must be a C identifier`);
  if (!Array.isArray(spec.fmiVersions) || spec.fmiVersions.some((v) => v !== 2 && v !== 3)) fail('fmiVersions must list 2 and/or 3');
  const names = new Set<string>(['time']);
  for (const [index, variable] of spec.variables.entries()) {
    const where = `variables[${index}] (${variable.name})`;
    if (!/^[A-Za-z_]\w*$/.test(variable.name ?? '')) fail(`${where}: name must be a C identifier`);
    if (names.has(variable.name)) fail(`${where}: name is used twice (time is reserved)`);
    names.add(variable.name);
    if (!VARIABLE_TYPES.includes(variable.type)) fail(`${where}: type "${variable.type}" is not one of ${VARIABLE_TYPES.join(', ')}`);
    if (!CAUSALITIES.includes(variable.causality)) fail(`${where}: causality "${variable.causality}" is not one of ${CAUSALITIES.join(', ')}`);
    if (variable.unit !== undefined && !(variable.unit in units)) fail(`${where}: unit "${variable.unit}" is not in native/models/units.json`);
    const needsStart = variable.causality === 'input' || variable.causality === 'parameter';
    if (needsStart && variable.start === undefined) fail(`${where}: ${variable.causality} needs a start value`);
    const fmi2Type = ['Float64', 'Int32', 'Boolean', 'String'].includes(variable.type);
    if ((!fmi2Type || variable.dimensions) && !variable.fmi3Only && spec.fmiVersions.includes(2)) {
      fail(`${where}: ${variable.dimensions ? 'arrays' : variable.type} cannot be expressed in FMI 2.0: set "fmi3Only": true`);
    }
    if (variable.causality === 'output' && !Array.isArray(variable.dependencies)) fail(`${where}: outputs must list their dependencies (inputs, possibly none)`);
    if (variable.type === 'Binary' && variable.dimensions) fail(`${where}: binary arrays are not supported`);
  }
  for (const variable of spec.variables) {
    for (const dependency of variable.dependencies ?? []) {
      const input = spec.variables.find((v) => v.name === dependency);
      if (!input || input.causality !== 'input') fail(`${variable.name}: dependency "${dependency}" is not an input`);
    }
  }
}

/** All variables, time first (value reference 0); value reference = position. */
function allVariables(spec: ModelSpec): VariableSpec[] {
  return [{ name: 'time', type: 'Float64', causality: 'independent', variability: 'continuous', unit: 's', description: 'simulation time' }, ...spec.variables];
}

function instantiationToken(specText: string): string {
  const hex = sha256('twinflow-fmu', specText);
  return `{${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}}`;
}

function elementCount(variable: VariableSpec): number {
  return (variable.dimensions ?? []).reduce((product, size) => product * size, 1);
}

// ---- generated C header --------------------------------------------------------------------------

const C_TYPES: Record<VariableType, string> = {
  Float64: 'double', Float32: 'float', Int8: 'int8_t', UInt8: 'uint8_t', Int16: 'int16_t', UInt16: 'uint16_t',
  Int32: 'int32_t', UInt32: 'uint32_t', Int64: 'int64_t', UInt64: 'uint64_t', Boolean: 'bool', String: 'char', Binary: 'uint8_t',
};

function cLiteral(variable: VariableSpec, value: number | boolean | string): string {
  switch (variable.type) {
    case 'Float64': return cDouble(Number(value));
    case 'Float32': return `${cDouble(Number(value))}f`;
    case 'Boolean': return value === true || value === 'true' ? 'true' : 'false';
    case 'Int64': return `INT64_C(${BigInt(value as string | number).toString()})`;
    case 'UInt64': return `UINT64_C(${BigInt(value as string | number).toString()})`;
    case 'UInt32': return `${BigInt(value as number).toString()}u`;
    default: return BigInt(value as number).toString();
  }
}

function generateHeader(spec: ModelSpec, token: string): string {
  const variables = allVariables(spec);
  const fields: string[] = [];
  const table: string[] = [];
  const starts: string[] = [];
  const defines: string[] = [];
  for (const [vr, variable] of variables.entries()) {
    const count = elementCount(variable);
    const array = variable.dimensions ? `[${count}]` : '';
    defines.push(`#define VR_${variable.name} ${vr}u`);
    if (variable.type === 'String') fields.push(`    char ${variable.name}${array}[TF_STRING_CAPACITY];`);
    else if (variable.type === 'Binary') fields.push(`    uint8_t ${variable.name}[TF_BINARY_CAPACITY];\n    size_t ${variable.name}_size;`);
    else fields.push(`    ${C_TYPES[variable.type]} ${variable.name}${array};`);
    const initial = variable.initial ? `TF_INITIAL_${variable.initial.toUpperCase()}` : 'TF_INITIAL_NONE';
    const sizeOffset = variable.type === 'Binary' ? `offsetof(tf_vars, ${variable.name}_size)` : '0';
    const causality = { parameter: 'TF_PARAMETER', calculatedParameter: 'TF_CALCULATED_PARAMETER', input: 'TF_INPUT', output: 'TF_OUTPUT', local: 'TF_LOCAL', independent: 'TF_INDEPENDENT' }[variable.causality];
    const typeName = `TF_${variable.type.toUpperCase()}`;
    table.push(`    { ${cString(variable.name)}, ${typeName}, ${causality}, TF_${defaultVariability(variable).toUpperCase()}, ${initial}, offsetof(tf_vars, ${variable.name}), ${count}, ${sizeOffset}, ${variable.fmi3Only ? 'true' : 'false'} },`);
    if (variable.start === undefined) continue;
    if (variable.type === 'String') {
      starts.push(`    snprintf(v->${variable.name}, TF_STRING_CAPACITY, "%s", ${cString(String(variable.start))});`);
    } else if (variable.type === 'Binary') {
      const bytes = Buffer.from(String(variable.start), 'hex');
      bytes.forEach((byte, i) => starts.push(`    v->${variable.name}[${i}] = ${byte};`));
      starts.push(`    v->${variable.name}_size = ${bytes.length};`);
    } else if (Array.isArray(variable.start)) {
      variable.start.forEach((value, i) => starts.push(`    v->${variable.name}[${i}] = ${cLiteral(variable, value)};`));
    } else {
      starts.push(`    v->${variable.name} = ${cLiteral(variable, variable.start)};`);
    }
  }
  return `/* Generated by scripts/build-native.ts from the model spec. Do not edit. */
#ifndef TF_MODEL_VARS_H
#define TF_MODEL_VARS_H

#include <stdio.h>

#define TF_MODEL_IDENTIFIER ${cString(spec.modelIdentifier)}
#define TF_INSTANTIATION_TOKEN ${cString(token)}
#define TF_HAS_EVENT_MODE ${spec.capabilities.hasEventMode ? 1 : 0}
#define TF_NUM_VARS ${variables.length}u

${defines.join('\n')}

typedef struct {
${fields.join('\n')}
} tf_vars;

__attribute__((unused)) static const tf_var_info TF_VARS[TF_NUM_VARS] = {
${table.join('\n')}
};

__attribute__((unused)) static void tf_vars_set_start(tf_vars *v) {
${starts.join('\n')}
}

#endif
`;
}

// ---- modelDescription.xml ------------------------------------------------------------------------

function unitXml(units: UnitTable, used: Set<string>): string {
  if (used.size === 0) return '';
  const lines = ['  <UnitDefinitions>'];
  for (const name of [...used].sort()) {
    const definition = units[name]!;
    const attributes = Object.entries(definition)
      .filter(([key]) => key !== 'factor' && key !== 'offset')
      .map(([key, exponent]) => `${key}="${exponent}"`);
    if (definition.factor !== undefined) attributes.push(`factor="${definition.factor}"`);
    if (definition.offset !== undefined) attributes.push(`offset="${definition.offset}"`);
    lines.push(`    <Unit name="${xmlEscape(name)}">`, `      <BaseUnit ${attributes.join(' ')}/>`, '    </Unit>');
  }
  lines.push('  </UnitDefinitions>');
  return lines.join('\n');
}

function defaultExperimentXml(spec: ModelSpec): string {
  const experiment = spec.defaultExperiment;
  if (!experiment) return '';
  const attributes = Object.entries(experiment).map(([key, value]) => `${key}="${value}"`);
  return `  <DefaultExperiment ${attributes.join(' ')}/>`;
}

function xmlStart(variable: VariableSpec): string {
  const start = variable.start;
  if (start === undefined) return '';
  if (Array.isArray(start)) return start.map(String).join(' ');
  if (variable.type === 'Boolean') return start === true || start === 'true' ? 'true' : 'false';
  return String(start);
}

function variableAttributes(variable: VariableSpec, vr: number): string[] {
  const attributes = [`name="${xmlEscape(variable.name)}"`, `valueReference="${vr}"`];
  if (variable.description) attributes.push(`description="${xmlEscape(variable.description)}"`);
  attributes.push(`causality="${variable.causality}"`, `variability="${defaultVariability(variable)}"`);
  if (variable.initial) attributes.push(`initial="${variable.initial}"`);
  return attributes;
}

function modelDescriptionXml(spec: ModelSpec, version: FmiVersion, token: string, units: UnitTable): string {
  const variables = allVariables(spec).map((variable, vr) => ({ variable, vr })).filter(({ variable }) => version === 3 || !variable.fmi3Only);
  const usedUnits = new Set(variables.map(({ variable }) => variable.unit).filter((unit): unit is string => unit !== undefined));
  const caps = spec.capabilities;
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const common = `modelName="${xmlEscape(spec.modelName)}" description="${xmlEscape(spec.description)}" generationTool="Twinflow build-native" variableNamingConvention="flat"`;
  if (version === 2) {
    lines.push(`<fmiModelDescription fmiVersion="2.0" ${common} guid="${token}" numberOfEventIndicators="0">`);
    lines.push(`  <CoSimulation modelIdentifier="${spec.modelIdentifier}" canHandleVariableCommunicationStepSize="${!!caps.canHandleVariableCommunicationStepSize}" ` +
      `canGetAndSetFMUstate="${!!caps.canGetAndSetFMUState}" canSerializeFMUstate="${!!caps.canSerializeFMUState}" canNotUseMemoryManagementFunctions="true"/>`);
  } else {
    lines.push(`<fmiModelDescription fmiVersion="3.0" ${common} instantiationToken="${token}">`);
    lines.push(`  <CoSimulation modelIdentifier="${spec.modelIdentifier}" canHandleVariableCommunicationStepSize="${!!caps.canHandleVariableCommunicationStepSize}" ` +
      `canGetAndSetFMUState="${!!caps.canGetAndSetFMUState}" canSerializeFMUState="${!!caps.canSerializeFMUState}" ` +
      `hasEventMode="${!!caps.hasEventMode}" mightReturnEarlyFromDoStep="${!!caps.mightReturnEarlyFromDoStep}" ` +
      'canReturnEarlyAfterIntermediateUpdate="false" providesIntermediateUpdate="false"/>');
  }
  const unitDefinitions = unitXml(units, usedUnits);
  if (unitDefinitions) lines.push(unitDefinitions);
  lines.push('  <LogCategories>', '    <Category name="logEvents" description="state changes and steps"/>',
    '    <Category name="logStatusDiscard" description="discarded steps"/>', '    <Category name="logStatusError" description="errors"/>', '  </LogCategories>');
  const experiment = defaultExperimentXml(spec);
  if (experiment) lines.push(experiment);
  lines.push('  <ModelVariables>');
  const indexOf = new Map<string, number>(); // FMI 2.0 ModelStructure refers to 1-based positions
  const vrOf = new Map<string, number>();
  variables.forEach(({ variable, vr }, position) => {
    indexOf.set(variable.name, position + 1);
    vrOf.set(variable.name, vr);
    const attributes = variableAttributes(variable, vr);
    const start = xmlStart(variable);
    if (version === 2) {
      const fmi2Type = { Float64: 'Real', Int32: 'Integer', Boolean: 'Boolean', String: 'String' }[variable.type as 'Float64'];
      const typeAttributes: string[] = [];
      if (variable.unit) typeAttributes.push(`unit="${xmlEscape(variable.unit)}"`);
      if (variable.min !== undefined) typeAttributes.push(`min="${variable.min}"`);
      if (variable.max !== undefined) typeAttributes.push(`max="${variable.max}"`);
      if (start !== '') typeAttributes.push(`start="${xmlEscape(start)}"`);
      lines.push(`    <ScalarVariable ${attributes.join(' ')}>`, `      <${fmi2Type}${typeAttributes.length ? ' ' + typeAttributes.join(' ') : ''}/>`, '    </ScalarVariable>');
    } else {
      if (variable.unit) attributes.push(`unit="${xmlEscape(variable.unit)}"`);
      if (variable.min !== undefined) attributes.push(`min="${variable.min}"`);
      if (variable.max !== undefined) attributes.push(`max="${variable.max}"`);
      const children: string[] = [];
      if (start !== '' && (variable.type === 'String' || variable.type === 'Binary')) children.push(`      <Start value="${xmlEscape(start)}"/>`);
      else if (start !== '') attributes.push(`start="${xmlEscape(start)}"`);
      for (const size of variable.dimensions ?? []) children.push(`      <Dimension start="${size}"/>`);
      if (children.length === 0) lines.push(`    <${variable.type} ${attributes.join(' ')}/>`);
      else lines.push(`    <${variable.type} ${attributes.join(' ')}>`, ...children, `    </${variable.type}>`);
    }
  });
  lines.push('  </ModelVariables>', '  <ModelStructure>');
  const outputs = variables.filter(({ variable }) => variable.causality === 'output');
  if (version === 2) {
    if (outputs.length) {
      lines.push('    <Outputs>');
      for (const { variable } of outputs) {
        const dependencies = (variable.dependencies ?? []).map((name) => indexOf.get(name)).join(' ');
        const kinds = (variable.dependencies ?? []).map(() => 'dependent').join(' ');
        lines.push(`      <Unknown index="${indexOf.get(variable.name)}" dependencies="${dependencies}" dependenciesKind="${kinds}"/>`);
      }
      lines.push('    </Outputs>', '    <InitialUnknowns>');
      for (const { variable } of outputs) lines.push(`      <Unknown index="${indexOf.get(variable.name)}"/>`);
      lines.push('    </InitialUnknowns>');
    }
  } else {
    for (const { variable } of outputs) {
      const dependencies = (variable.dependencies ?? []).map((name) => vrOf.get(name)).join(' ');
      const kinds = (variable.dependencies ?? []).map(() => 'dependent').join(' ');
      lines.push(`    <Output valueReference="${vrOf.get(variable.name)}" dependencies="${dependencies}" dependenciesKind="${kinds}"/>`);
    }
    for (const { variable } of outputs) lines.push(`    <InitialUnknown valueReference="${vrOf.get(variable.name)}"/>`);
  }
  lines.push('  </ModelStructure>', '</fmiModelDescription>', '');
  return lines.join('\n');
}

// ---- the build ------------------------------------------------------------------------------------

interface Target {
  /** what it is, for messages */
  label: string;
  /** files whose existence means built */
  outputs: string[];
  /** hash of everything the outputs depend on */
  fingerprint: string;
  build(): Promise<void>;
}

const PLATFORM = { 2: 'linux64', 3: 'x86_64-linux' } as const;
const BASE_FLAGS = ['-std=c11', '-O2', '-fPIC', '-shared', '-fvisibility=hidden', '-D_GNU_SOURCE', '-Wall', '-Wextra', '-Wno-unused-function', '-Wno-unused-parameter'];

export async function buildNative(options: BuildOptions = {}): Promise<BuildReport> {
  const root = options.root ?? findRepositoryRoot();
  const cc = options.cc ?? process.env.CC ?? 'gcc';
  const native = path.join(root, 'native');
  const buildDir = path.join(native, 'build');
  const compiler = compilerIdentity(cc);
  const read = (file: string): string => readFileSync(file, 'utf8');
  const include = path.join(native, 'include');
  const headers = ['tf_fmi2.h', 'tf_fmi3.h', 'tf_model.h'].map((name) => read(path.join(include, name))).join('\n');
  const wrappers = { 2: read(path.join(native, 'wrappers', 'fmi2_cs.c')), 3: read(path.join(native, 'wrappers', 'fmi3_cs.c')) };
  const core = read(path.join(native, 'wrappers', 'tf_core.h'));
  const unitsText = read(path.join(native, 'models', 'units.json'));
  const units = JSON.parse(unitsText) as UnitTable;
  delete (units as Record<string, unknown>)['$comment'];
  const common = [GENERATOR_VERSION, compiler, cc, BASE_FLAGS.join(' '), headers, core, unitsText];
  const targets: Target[] = [];
  const fmuBinaries = new Map<string, string>(); // "<name>-<version>" -> compiled .so, reused by the broken fixtures

  // The logger shim.
  const shimSource = path.join(native, 'logger', 'fmi2_logger_shim.c');
  const shim = path.join(buildDir, 'libtwinflow_fmi2_logger.so');
  targets.push({
    label: 'libtwinflow_fmi2_logger.so',
    outputs: [shim],
    fingerprint: sha256(...common, read(shimSource)),
    build: async () => {
      const temporary = `${shim}.${process.pid}.tmp.so`;
      mkdirSync(buildDir, { recursive: true });
      await runCompiler(cc, [...BASE_FLAGS, `-I${include}`, '-o', temporary, shimSource]);
      renameSync(temporary, shim);
    },
  });

  // The FMUs.
  const modelsDir = path.join(native, 'models');
  const specFiles = [
    ...readdirSync(modelsDir).filter((f) => f.endsWith('.json') && f !== 'units.json').map((f) => ({ group: '' as const, file: path.join(modelsDir, f) })),
    ...readdirSync(path.join(modelsDir, 'test')).filter((f) => f.endsWith('.json')).map((f) => ({ group: 'test' as const, file: path.join(modelsDir, 'test', f) })),
  ];
  for (const { group, file } of specFiles) {
    const name = path.basename(file, '.json');
    const specText = read(file);
    let spec: ModelSpec;
    try {
      spec = JSON.parse(specText) as ModelSpec;
    } catch (err) {
      throw new BuildNativeError(`build-native: ${file} is not valid JSON: ${(err as Error).message}`);
    }
    validateSpec(spec, path.relative(root, file), units);
    const source = path.join(path.dirname(file), `${name}.c`);
    if (!existsSync(source)) throw new BuildNativeError(`build-native: ${path.relative(root, file)} has no model source ${path.relative(root, source)}`);
    const sourceText = read(source);
    const token = instantiationToken(specText);
    const header = generateHeader(spec, token);
    for (const version of spec.fmiVersions) {
      const objectDir = path.join(buildDir, 'obj', `${name}-fmi${version}`);
      const binary = path.join(objectDir, `${spec.modelIdentifier}.so`);
      const fmu = builtFmuPath(root, name, version, group);
      fmuBinaries.set(`${name}-${version}`, binary);
      targets.push({
        label: path.relative(buildDir, fmu),
        outputs: [binary, fmu],
        fingerprint: sha256(...common, String(version), wrappers[version], specText, sourceText),
        build: async () => {
          const genDir = path.join(buildDir, 'gen', `${name}-fmi${version}`);
          writeAtomically(path.join(genDir, 'tf_model_vars.h'), header);
          mkdirSync(objectDir, { recursive: true });
          const temporary = `${binary}.${process.pid}.tmp.so`;
          await runCompiler(cc, [...BASE_FLAGS, `-DTF_FMI_VERSION=${version}`, `-I${include}`, `-I${genDir}`, `-I${path.join(native, 'wrappers')}`,
            '-o', temporary, path.join(native, 'wrappers', `fmi${version}_cs.c`), source, '-lm']);
          renameSync(temporary, binary);
          const xml = modelDescriptionXml(spec, version, token, units);
          const zip = await zipFiles([
            { name: 'modelDescription.xml', data: Buffer.from(xml) },
            { name: `binaries/${PLATFORM[version]}/${spec.modelIdentifier}.so`, data: readFileSync(binary) },
            { name: 'documentation/README.txt', data: Buffer.from(`${spec.modelName}\n\n${spec.description}\n\nBuilt by Twinflow from native/models/${group ? group + '/' : ''}${name}.c\n`) },
          ]);
          writeAtomically(fmu, zip);
        },
      });
    }
  }

  // Deliberately broken FMUs for the tests, made from the thermal FMU's parts.
  const thermalSpecText = read(path.join(modelsDir, 'thermal.json'));
  const thermalSpec = JSON.parse(thermalSpecText) as ModelSpec;
  const thermalXml = modelDescriptionXml(thermalSpec, 2, instantiationToken(thermalSpecText), units);
  const thermalBinary = fmuBinaries.get('thermal-2')!;
  const id = thermalSpec.modelIdentifier;
  const broken: { name: string; entries: () => { name: string; data: Buffer }[] | Buffer }[] = [
    {
      name: 'no-linux-binary',
      entries: () => [
        { name: 'modelDescription.xml', data: Buffer.from(thermalXml) },
        { name: `binaries/win64/${id}.dll`, data: Buffer.from('MZ not really a DLL') },
        { name: `binaries/darwin64/${id}.dylib`, data: Buffer.from('not really a dylib') },
      ],
    },
    {
      name: 'model-exchange-only',
      entries: () => [
        { name: 'modelDescription.xml', data: Buffer.from(thermalXml.replace(/<CoSimulation [^>]*\/>/, `<ModelExchange modelIdentifier="${id}"/>`)) },
        { name: `binaries/linux64/${id}.so`, data: readFileSync(thermalBinary) },
      ],
    },
    {
      name: 'malformed-xml',
      entries: () => [
        { name: 'modelDescription.xml', data: Buffer.from(thermalXml.slice(0, thermalXml.indexOf('<ModelVariables>') + 60)) },
        { name: `binaries/linux64/${id}.so`, data: readFileSync(thermalBinary) },
      ],
    },
    {
      name: 'missing-value-reference',
      entries: () => [
        { name: 'modelDescription.xml', data: Buffer.from(thermalXml.replace('name="current" valueReference="1"', 'name="current"')) },
        { name: `binaries/linux64/${id}.so`, data: readFileSync(thermalBinary) },
      ],
    },
    {
      name: 'missing-description',
      entries: () => [{ name: `binaries/linux64/${id}.so`, data: readFileSync(thermalBinary) }],
    },
    {
      name: 'corrupt-binary',
      entries: () => [
        { name: 'modelDescription.xml', data: Buffer.from(thermalXml) },
        { name: `binaries/linux64/${id}.so`, data: Buffer.from('\x7fELF but not really a shared object') },
      ],
    },
    { name: 'not-a-zip', entries: () => Buffer.from('This is a text file named .fmu, not a zip archive.\n') },
  ];
  for (const fixture of broken) {
    const file = path.join(buildDir, 'test', `${fixture.name}.fmu`);
    targets.push({
      label: path.relative(buildDir, file),
      outputs: [file],
      fingerprint: sha256(...common, fixture.name, thermalSpecText, wrappers[2], read(path.join(modelsDir, 'thermal.c'))),
      build: async () => {
        const entries = fixture.entries();
        writeAtomically(file, Buffer.isBuffer(entries) ? entries : await zipFiles(entries));
      },
    });
  }

  // The benchmark's C master loop (dlopens the same FMU binaries).
  const benchSource = path.join(root, 'bench', 'fmu', 'c_master.c');
  if (existsSync(benchSource)) {
    const executable = path.join(buildDir, 'bench', 'fmu-c-master');
    targets.push({
      label: 'bench/fmu-c-master',
      outputs: [executable],
      fingerprint: sha256(...common, read(benchSource)),
      build: async () => {
        mkdirSync(path.dirname(executable), { recursive: true });
        const temporary = `${executable}.${process.pid}.tmp`;
        await runCompiler(cc, ['-std=c11', '-O2', '-D_GNU_SOURCE', '-Wall', '-Wextra', `-I${include}`, '-o', temporary, benchSource, '-ldl', '-lm']);
        renameSync(temporary, executable);
      },
    });
  }

  // Build what is stale; FMUs first, the broken fixtures reuse the thermal binary.
  const stampDir = path.join(buildDir, '.stamps');
  const stampFile = (target: Target): string => path.join(stampDir, `${sha256(target.label).slice(0, 16)}.stamp`);
  const isCurrent = (target: Target): boolean => {
    const stamp = stampFile(target);
    return existsSync(stamp) && read(stamp) === target.fingerprint && target.outputs.every((output) => existsSync(output));
  };
  const report: BuildReport = { built: [], upToDate: [], buildDir };
  const run = async (target: Target): Promise<void> => {
    if (isCurrent(target)) {
      report.upToDate.push(target.label);
      return;
    }
    await target.build();
    writeAtomically(stampFile(target), target.fingerprint);
    report.built.push(target.label);
    if (options.verbose) console.log(`build-native: built ${target.label}`);
  };
  const brokenLabels = new Set(broken.map((b) => `test/${b.name}.fmu`));
  await inParallel(targets.filter((t) => !brokenLabels.has(t.label)), os.availableParallelism(), run);
  await inParallel(targets.filter((t) => brokenLabels.has(t.label)), 4, run);
  return report;
}

/** Removes native/build entirely (for a clean rebuild). */
export function cleanNative(root: string = findRepositoryRoot()): void {
  rmSync(path.join(root, 'native', 'build'), { recursive: true, force: true });
}

if (require.main === module) {
  const args = process.argv.slice(2);
  if (args.includes('--help')) {
    console.log('Usage: node dist/scripts/build-native.js [--clean] [--verbose]\nBuilds native/build/*.fmu, the FMI 2.0 logger shim, test FMUs and the FMU bench master with gcc ($CC).');
    process.exit(0);
  }
  if (args.includes('--clean')) cleanNative();
  const started = Date.now();
  buildNative({ verbose: args.includes('--verbose') }).then(
    (report) => {
      console.log(`build-native: ${report.built.length} built, ${report.upToDate.length} up to date in ${Date.now() - started} ms (${path.relative(process.cwd(), report.buildDir) || '.'})`);
    },
    (err: unknown) => {
      console.error(err instanceof BuildNativeError ? err.message : err);
      process.exit(1);
    },
  );
}
