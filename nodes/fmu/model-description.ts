// modelDescription.xml of FMI 2.0 and FMI 3.0, parsed into one shape: variables with their type,
// causality, variability, initial, start, unit and (FMI 3.0) dimensions; Co-Simulation
// capabilities; DefaultExperiment; unit definitions; and which inputs each output depends on.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { FmuError } from './errors';

export type FmiVersion = '2.0' | '3.0';

/** FMI 3.0 type names; FMI 2.0 Real is Float64 and Integer is Int32. */
export type VariableType =
  | 'Float32' | 'Float64' | 'Int8' | 'UInt8' | 'Int16' | 'UInt16' | 'Int32' | 'UInt32' | 'Int64' | 'UInt64'
  | 'Boolean' | 'String' | 'Binary' | 'Enumeration' | 'Clock';

/** The getter/setter family a variable is read and written with. */
export type AccessType = Exclude<VariableType, 'Enumeration'>;

export type Causality = 'parameter' | 'calculatedParameter' | 'structuralParameter' | 'input' | 'output' | 'local' | 'independent';
export type Variability = 'constant' | 'fixed' | 'tunable' | 'discrete' | 'continuous';
export type Initial = 'exact' | 'approx' | 'calculated';
export type ScalarValue = number | bigint | boolean | string | Uint8Array;

export interface Dimension {
  /** fixed size */
  start?: number;
  /** size given by a structural parameter */
  valueReference?: number;
}

export interface ModelVariable {
  name: string;
  valueReference: number;
  /** 1-based position in ModelVariables (what FMI 2.0 ModelStructure refers to) */
  index: number;
  type: VariableType;
  /** what the FMI getters and setters of this FMU call it: Enumeration is Int32 in FMI 2.0 and Int64 in FMI 3.0 */
  accessType: AccessType;
  causality: Causality;
  variability: Variability;
  initial?: Initial;
  description?: string;
  declaredType?: string;
  quantity?: string;
  unit?: string;
  displayUnit?: string;
  min?: number | bigint;
  max?: number | bigint;
  nominal?: number;
  /** a scalar, or for arrays (FMI 3.0) one value per element in row-major order */
  start?: ScalarValue | ScalarValue[];
  /** FMI 3.0 arrays */
  dimensions?: Dimension[];
}

export interface BaseUnit {
  kg: number; m: number; s: number; A: number; K: number; mol: number; cd: number; rad: number;
  factor: number;
  offset: number;
}

export interface UnitDefinition {
  name: string;
  /** absent: the unit has no SI definition and is only compatible with itself */
  baseUnit?: BaseUnit;
  displayUnits: { name: string; factor: number; offset: number; inverse: boolean }[];
}

export interface OutputDependencies {
  variable: ModelVariable;
  /** the inputs this output depends on directly, or 'all' when the FMU does not say (then it may depend on every input) */
  inputs: ModelVariable[] | 'all';
  /** the declared dependency list (inputs, states, parameters), when given */
  dependencies?: ModelVariable[];
  dependenciesKind?: string[];
}

export interface CoSimulationCapabilities {
  modelIdentifier: string;
  needsExecutionTool: boolean;
  canBeInstantiatedOnlyOncePerProcess: boolean;
  canHandleVariableCommunicationStepSize: boolean;
  canGetAndSetFMUState: boolean;
  canSerializeFMUState: boolean;
  providesDirectionalDerivatives: boolean;
  maxOutputDerivativeOrder: number;
  /** FMI 2.0 */
  canInterpolateInputs: boolean;
  canNotUseMemoryManagementFunctions: boolean;
  /** FMI 3.0 */
  hasEventMode: boolean;
  mightReturnEarlyFromDoStep: boolean;
  canReturnEarlyAfterIntermediateUpdate: boolean;
  providesIntermediateUpdate: boolean;
  providesEvaluateDiscreteStates: boolean;
  fixedInternalStepSize?: number;
}

export interface DefaultExperiment {
  startTime?: number;
  stopTime?: number;
  tolerance?: number;
  stepSize?: number;
}

export interface ModelDescription {
  fmiVersion: FmiVersion;
  /** as written, e.g. "2.0" or "3.0" */
  fmiVersionText: string;
  modelName: string;
  /** guid (FMI 2.0) or instantiationToken (FMI 3.0) */
  instantiationToken: string;
  description?: string;
  generationTool?: string;
  coSimulation?: CoSimulationCapabilities;
  modelExchange?: { modelIdentifier: string };
  scheduledExecution?: { modelIdentifier: string };
  defaultExperiment: DefaultExperiment;
  units: Map<string, UnitDefinition>;
  logCategories: { name: string; description?: string }[];
  variables: ModelVariable[];
  variablesByName: Map<string, ModelVariable>;
  outputs: OutputDependencies[];
}

// ---- a small ordered element tree over fast-xml-parser's preserveOrder output -----------------

interface XmlElement {
  tag: string;
  attributes: Record<string, string>;
  children: XmlElement[];
}

type OrderedNode = Record<string, unknown> & { ':@'?: Record<string, string> };

function toElements(nodes: OrderedNode[]): XmlElement[] {
  const elements: XmlElement[] = [];
  for (const node of nodes) {
    const tag = Object.keys(node).find((key) => key !== ':@');
    if (!tag || tag.startsWith('?') || tag === '#text' || tag === '#comment') continue;
    elements.push({ tag, attributes: node[':@'] ?? {}, children: toElements((node[tag] as OrderedNode[]) ?? []) });
  }
  return elements;
}

function child(element: XmlElement, tag: string): XmlElement | undefined {
  return element.children.find((c) => c.tag === tag);
}

function children(element: XmlElement | undefined, tag?: string): XmlElement[] {
  if (!element) return [];
  return tag === undefined ? element.children : element.children.filter((c) => c.tag === tag);
}

// ---- attribute readers that say where a bad value is --------------------------------------------

class Reader {
  constructor(readonly source: string) {}

  fail(message: string): never {
    throw new FmuError('FMU_DESCRIPTION_INVALID', `${this.source}: ${message}`);
  }

  required(element: XmlElement, name: string, where: string): string {
    const value = element.attributes[name];
    if (value === undefined || value === '') this.fail(`${where} has no ${name} attribute`);
    return value;
  }

  bool(element: XmlElement, name: string, where: string, fallback = false): boolean {
    const value = element.attributes[name];
    if (value === undefined) return fallback;
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    return this.fail(`${where}: ${name}="${value}" is not a boolean (true or false)`);
  }

  number(element: XmlElement, name: string, where: string): number | undefined {
    const value = element.attributes[name];
    if (value === undefined || value === '') return undefined;
    const parsed = parseReal(value);
    if (parsed === undefined) this.fail(`${where}: ${name}="${value}" is not a number`);
    return parsed;
  }

  integer(element: XmlElement, name: string, where: string): number | undefined {
    const value = element.attributes[name];
    if (value === undefined || value === '') return undefined;
    if (!/^[+-]?\d+$/.test(value.trim())) this.fail(`${where}: ${name}="${value}" is not an integer`);
    return Number(value);
  }

  choice<T extends string>(element: XmlElement, name: string, where: string, allowed: readonly T[]): T | undefined {
    const value = element.attributes[name];
    if (value === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(value)) this.fail(`${where}: ${name}="${value}" is not one of ${allowed.join(', ')}`);
    return value as T;
  }
}

function parseReal(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^[+-]?inf(inity)?$/i.test(trimmed)) return trimmed.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(trimmed)) return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed)) return undefined;
  return Number(trimmed);
}

const CAUSALITIES: readonly Causality[] = ['parameter', 'calculatedParameter', 'structuralParameter', 'input', 'output', 'local', 'independent'];
const VARIABILITIES: readonly Variability[] = ['constant', 'fixed', 'tunable', 'discrete', 'continuous'];
const INITIALS: readonly Initial[] = ['exact', 'approx', 'calculated'];
const FMI3_TYPES: readonly VariableType[] = ['Float32', 'Float64', 'Int8', 'UInt8', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Int64', 'UInt64', 'Boolean', 'String', 'Binary', 'Enumeration', 'Clock'];
const FMI2_TYPES: Record<string, VariableType> = { Real: 'Float64', Integer: 'Int32', Boolean: 'Boolean', String: 'String', Enumeration: 'Enumeration' };
const BIGINT_TYPES: readonly VariableType[] = ['Int64', 'UInt64'];
const INTEGER_RANGES: Partial<Record<VariableType, [number, number]>> = {
  Int8: [-128, 127], UInt8: [0, 255], Int16: [-32768, 32767], UInt16: [0, 65535], Int32: [-2147483648, 2147483647], UInt32: [0, 4294967295],
};

function isFloat(type: VariableType): boolean {
  return type === 'Float32' || type === 'Float64';
}

/** The initial attribute an FMU means when it leaves it out (FMI 2.0 table 2.2.7, FMI 3.0 table 2.4.7.5). */
function defaultInitial(causality: Causality, variability: Variability): Initial | undefined {
  switch (causality) {
    case 'parameter':
    case 'structuralParameter':
      return 'exact';
    case 'calculatedParameter':
      return 'calculated';
    case 'output':
    case 'local':
      return variability === 'constant' ? 'exact' : 'calculated';
    default:
      return undefined;
  }
}

function parseScalar(reader: Reader, type: VariableType, text: string, where: string): ScalarValue {
  const trimmed = text.trim();
  switch (type) {
    case 'Float32':
    case 'Float64': {
      const value = parseReal(trimmed);
      if (value === undefined) reader.fail(`${where}: "${text}" is not a number`);
      return value;
    }
    case 'Boolean':
      if (trimmed === 'true' || trimmed === '1') return true;
      if (trimmed === 'false' || trimmed === '0') return false;
      return reader.fail(`${where}: "${text}" is not a boolean`);
    case 'String':
      return text;
    case 'Binary': {
      const hex = trimmed.replace(/^0x/i, '');
      if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) reader.fail(`${where}: "${text}" is not hexadecimal bytes`);
      return Uint8Array.from(Buffer.from(hex, 'hex'));
    }
    case 'Clock':
      return trimmed === 'true';
    default: {
      if (!/^[+-]?\d+$/.test(trimmed)) reader.fail(`${where}: "${text}" is not an integer`);
      if (BIGINT_TYPES.includes(type)) return BigInt(trimmed);
      const value = Number(trimmed);
      const range = INTEGER_RANGES[type];
      if (range && (value < range[0] || value > range[1])) reader.fail(`${where}: ${value} is outside the ${type} range ${range[0]}..${range[1]}`);
      return value;
    }
  }
}

function optionalBound(reader: Reader, type: VariableType, element: XmlElement, name: string, where: string): number | bigint | undefined {
  const text = element.attributes[name];
  if (text === undefined || type === 'Boolean' || type === 'String' || type === 'Binary' || type === 'Clock') return undefined;
  const value = parseScalar(reader, type === 'Enumeration' ? 'Int64' : type, text, `${where} ${name}`);
  return typeof value === 'bigint' && !BIGINT_TYPES.includes(type) ? Number(value) : (value as number | bigint);
}

interface TypeDefinition {
  type: VariableType;
  unit?: string;
  displayUnit?: string;
  quantity?: string;
}

// ---- the parser -----------------------------------------------------------------------------------

/**
 * Parses modelDescription.xml. `source` names the file in messages, e.g. "motor.fmu/modelDescription.xml".
 * Throws FmuError FMU_DESCRIPTION_INVALID naming the file and what is wrong.
 */
export function parseModelDescription(xml: string, source: string): ModelDescription {
  // Explicitly typed, so that reader.fail() (returns never) narrows types after it.
  const reader: Reader = new Reader(source);
  const validation = XMLValidator.validate(xml);
  if (validation !== true) {
    reader.fail(`not well-formed XML at line ${validation.err.line}, column ${validation.err.col}: ${validation.err.msg}`);
  }
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: true,
    processEntities: true,
  });
  const documentElements = toElements(parser.parse(xml) as OrderedNode[]);
  const root = documentElements.find((e) => e.tag === 'fmiModelDescription');
  if (!root) reader.fail(`the root element is <${documentElements[0]?.tag ?? 'nothing'}>, not <fmiModelDescription>`);

  const fmiVersionText = reader.required(root, 'fmiVersion', '<fmiModelDescription>');
  let fmiVersion: FmiVersion;
  if (fmiVersionText.startsWith('2.')) fmiVersion = '2.0';
  else if (fmiVersionText.startsWith('3.')) fmiVersion = '3.0';
  else return reader.fail(`fmiVersion "${fmiVersionText}" is not supported (FMI 2.0 and 3.0 are)`);
  const fmi3 = fmiVersion === '3.0';

  const modelName = reader.required(root, 'modelName', '<fmiModelDescription>');
  const instantiationToken = reader.required(root, fmi3 ? 'instantiationToken' : 'guid', '<fmiModelDescription>');

  // Interfaces.
  const capabilitiesOf = (element: XmlElement): CoSimulationCapabilities => {
    const where = '<CoSimulation>';
    const b = (name: string): boolean => reader.bool(element, name, where);
    return {
      modelIdentifier: reader.required(element, 'modelIdentifier', where),
      needsExecutionTool: b('needsExecutionTool'),
      canBeInstantiatedOnlyOncePerProcess: b('canBeInstantiatedOnlyOncePerProcess'),
      canHandleVariableCommunicationStepSize: b('canHandleVariableCommunicationStepSize'),
      canGetAndSetFMUState: b(fmi3 ? 'canGetAndSetFMUState' : 'canGetAndSetFMUstate'),
      canSerializeFMUState: b(fmi3 ? 'canSerializeFMUState' : 'canSerializeFMUstate'),
      providesDirectionalDerivatives: b(fmi3 ? 'providesDirectionalDerivatives' : 'providesDirectionalDerivative'),
      maxOutputDerivativeOrder: reader.integer(element, 'maxOutputDerivativeOrder', where) ?? 0,
      canInterpolateInputs: b('canInterpolateInputs'),
      canNotUseMemoryManagementFunctions: b('canNotUseMemoryManagementFunctions'),
      hasEventMode: fmi3 && b('hasEventMode'),
      mightReturnEarlyFromDoStep: fmi3 && b('mightReturnEarlyFromDoStep'),
      canReturnEarlyAfterIntermediateUpdate: fmi3 && b('canReturnEarlyAfterIntermediateUpdate'),
      providesIntermediateUpdate: fmi3 && b('providesIntermediateUpdate'),
      providesEvaluateDiscreteStates: fmi3 && b('providesEvaluateDiscreteStates'),
      fixedInternalStepSize: reader.number(element, 'fixedInternalStepSize', where),
    };
  };
  const coSimulationElement = child(root, 'CoSimulation');
  const modelExchangeElement = child(root, 'ModelExchange');
  const scheduledElement = child(root, 'ScheduledExecution');

  // Units.
  const units = new Map<string, UnitDefinition>();
  for (const unit of children(child(root, 'UnitDefinitions'), 'Unit')) {
    const name = reader.required(unit, 'name', '<Unit>');
    if (units.has(name)) reader.fail(`unit "${name}" is defined twice`);
    const base = child(unit, 'BaseUnit');
    const where = `<Unit name="${name}"><BaseUnit>`;
    const exponent = (key: string): number => (base ? reader.integer(base, key, where) ?? 0 : 0);
    units.set(name, {
      name,
      baseUnit: base && {
        kg: exponent('kg'), m: exponent('m'), s: exponent('s'), A: exponent('A'), K: exponent('K'), mol: exponent('mol'), cd: exponent('cd'), rad: exponent('rad'),
        factor: reader.number(base, 'factor', where) ?? 1,
        offset: reader.number(base, 'offset', where) ?? 0,
      },
      displayUnits: children(unit, 'DisplayUnit').map((display) => ({
        name: reader.required(display, 'name', `<Unit name="${name}"><DisplayUnit>`),
        factor: reader.number(display, 'factor', `<DisplayUnit>`) ?? 1,
        offset: reader.number(display, 'offset', `<DisplayUnit>`) ?? 0,
        inverse: reader.bool(display, 'inverse', `<DisplayUnit>`),
      })),
    });
  }

  // Type definitions (for units and types inherited through declaredType).
  const typeDefinitions = new Map<string, TypeDefinition>();
  for (const definition of children(child(root, 'TypeDefinitions'))) {
    if (fmi3) {
      const type = definition.tag.replace(/Type$/, '') as VariableType;
      if (!FMI3_TYPES.includes(type)) continue;
      const name = reader.required(definition, 'name', `<${definition.tag}>`);
      typeDefinitions.set(name, { type, unit: definition.attributes.unit, displayUnit: definition.attributes.displayUnit, quantity: definition.attributes.quantity });
    } else if (definition.tag === 'SimpleType') {
      const name = reader.required(definition, 'name', '<SimpleType>');
      const typed = definition.children[0];
      const type = typed && FMI2_TYPES[typed.tag];
      if (!typed || !type) reader.fail(`<SimpleType name="${name}"> has no Real, Integer, Boolean, String or Enumeration element`);
      typeDefinitions.set(name, { type, unit: typed.attributes.unit, displayUnit: typed.attributes.displayUnit, quantity: typed.attributes.quantity });
    }
  }

  // Variables.
  const variables: ModelVariable[] = [];
  const variablesByName = new Map<string, ModelVariable>();
  const byValueReference = new Map<string, ModelVariable>(); // "type:vr" in FMI 2.0 (aliases share a vr), "vr" in FMI 3.0
  const variableElements = children(child(root, 'ModelVariables'));
  for (const [position, element] of variableElements.entries()) {
    const index = position + 1;
    let typed: XmlElement;
    let type: VariableType;
    if (fmi3) {
      if (!FMI3_TYPES.includes(element.tag as VariableType)) reader.fail(`<ModelVariables> element ${index} is <${element.tag}>, not a variable type`);
      typed = element;
      type = element.tag as VariableType;
    } else {
      if (element.tag !== 'ScalarVariable') reader.fail(`<ModelVariables> element ${index} is <${element.tag}>, not <ScalarVariable>`);
      const found = element.children.find((c) => c.tag in FMI2_TYPES);
      if (!found) reader.fail(`ScalarVariable ${index} ("${element.attributes.name ?? '?'}") has no Real, Integer, Boolean, String or Enumeration element`);
      typed = found;
      type = FMI2_TYPES[found.tag]!;
    }
    const name = element.attributes.name;
    const where = `${fmi3 ? `<${type}>` : 'ScalarVariable'} ${index}${name ? ` ("${name}")` : ''}`;
    if (!name) reader.fail(`${where} has no name`);
    const valueReference = reader.integer(element, 'valueReference', where);
    if (valueReference === undefined) reader.fail(`${where} has no valueReference`);
    if (valueReference < 0 || valueReference > 0xffffffff) reader.fail(`${where}: valueReference ${valueReference} is not an unsigned 32-bit integer`);
    if (variablesByName.has(name)) reader.fail(`${where}: a variable named "${name}" is declared twice`);
    const declaredType = typed.attributes.declaredType;
    const declared = declaredType !== undefined ? typeDefinitions.get(declaredType) : undefined;
    if (declaredType !== undefined && !declared) reader.fail(`${where}: declaredType "${declaredType}" is not in <TypeDefinitions>`);
    const causality = reader.choice(element, 'causality', where, CAUSALITIES) ?? 'local';
    const variability = reader.choice(element, 'variability', where, VARIABILITIES) ?? (isFloat(type) ? 'continuous' : 'discrete');
    if (variability === 'continuous' && !isFloat(type)) reader.fail(`${where}: a ${type} variable cannot be continuous`);
    const initial = reader.choice(element, 'initial', where, INITIALS) ?? defaultInitial(causality, variability);
    const accessType: AccessType = type === 'Enumeration' ? (fmi3 ? 'Int64' : 'Int32') : type;

    let dimensions: Dimension[] | undefined;
    if (fmi3) {
      const dims = children(element, 'Dimension');
      if (dims.length > 0) {
        dimensions = dims.map((dimension) => {
          const start = reader.integer(dimension, 'start', `${where} <Dimension>`);
          const vr = reader.integer(dimension, 'valueReference', `${where} <Dimension>`);
          if (start === undefined && vr === undefined) reader.fail(`${where}: <Dimension> has neither start nor valueReference`);
          return start !== undefined ? { start } : { valueReference: vr };
        });
      }
    }

    let start: ScalarValue | ScalarValue[] | undefined;
    const startElements = children(typed, 'Start');
    const startText = typed.attributes.start;
    if (fmi3 && (type === 'String' || type === 'Binary')) {
      const values = startElements.map((s) => parseScalar(reader, type, s.attributes.value ?? '', `${where} <Start>`));
      if (values.length > 0) start = dimensions ? values : values[0];
    } else if (startText !== undefined) {
      if (dimensions) {
        start = startText.trim() === '' ? [] : startText.trim().split(/\s+/).map((part) => parseScalar(reader, accessType, part, `${where} start`));
      } else {
        start = parseScalar(reader, accessType, startText, `${where} start`);
      }
    }
    const needsStart = causality === 'input' || (causality === 'parameter' && variability !== 'constant') || initial === 'exact' || initial === 'approx';
    if (needsStart && start === undefined && type !== 'Clock') {
      reader.fail(`${where}: needs a start value (causality ${causality}, initial ${initial ?? 'none'})`);
    }
    if (start !== undefined && initial === 'calculated') reader.fail(`${where}: initial="calculated" must not have a start value`);

    const variable: ModelVariable = {
      name,
      valueReference,
      index,
      type,
      accessType,
      causality,
      variability,
      ...(initial !== undefined && { initial }),
      ...(element.attributes.description !== undefined && { description: element.attributes.description }),
      ...(declaredType !== undefined && { declaredType }),
    };
    const quantity = typed.attributes.quantity ?? declared?.quantity;
    const unit = typed.attributes.unit ?? declared?.unit;
    const displayUnit = typed.attributes.displayUnit ?? declared?.displayUnit;
    if (quantity !== undefined) variable.quantity = quantity;
    if (unit !== undefined) {
      if (units.size > 0 && !units.has(unit)) reader.fail(`${where}: unit "${unit}" is not in <UnitDefinitions>`);
      variable.unit = unit;
    }
    if (displayUnit !== undefined) variable.displayUnit = displayUnit;
    const min = optionalBound(reader, type, typed, 'min', where);
    const max = optionalBound(reader, type, typed, 'max', where);
    if (min !== undefined) variable.min = min;
    if (max !== undefined) variable.max = max;
    const nominal = isFloat(type) ? reader.number(typed, 'nominal', where) : undefined;
    if (nominal !== undefined) variable.nominal = nominal;
    if (start !== undefined) variable.start = start;
    if (dimensions) variable.dimensions = dimensions;

    const key = fmi3 ? String(valueReference) : `${accessType}:${valueReference}`;
    const alias = byValueReference.get(key);
    if (alias && fmi3) reader.fail(`${where}: valueReference ${valueReference} is also used by "${alias.name}"`);
    if (!alias) byValueReference.set(key, variable);
    variables.push(variable);
    variablesByName.set(name, variable);
  }

  // Output dependencies (ModelStructure).
  const structure = child(root, 'ModelStructure');
  const knownOutputs = new Map<ModelVariable, OutputDependencies>();
  const resolve = (text: string, where: string): ModelVariable[] =>
    text.trim() === ''
      ? []
      : text.trim().split(/\s+/).map((token) => {
          if (!/^\d+$/.test(token)) reader.fail(`${where}: "${token}" is not an ${fmi3 ? 'value reference' : 'index'}`);
          const number = Number(token);
          const found = fmi3 ? byValueReference.get(token) : variables[number - 1];
          if (!found) reader.fail(`${where}: ${fmi3 ? 'value reference' : 'index'} ${number} is not a variable`);
          return found;
        });
  const outputElements = fmi3 ? children(structure, 'Output') : children(child(structure ?? { tag: '', attributes: {}, children: [] }, 'Outputs'), 'Unknown');
  for (const element of outputElements) {
    const where = fmi3 ? '<ModelStructure><Output>' : '<ModelStructure><Outputs><Unknown>';
    const variable = fmi3
      ? resolve(reader.required(element, 'valueReference', where), where)[0]!
      : resolve(reader.required(element, 'index', where), where)[0]!;
    if (variable.causality !== 'output') reader.fail(`${where}: "${variable.name}" is listed as an output but its causality is ${variable.causality}`);
    const dependencyText = element.attributes.dependencies;
    const entry: OutputDependencies = { variable, inputs: 'all' };
    if (dependencyText !== undefined) {
      const dependencies = resolve(dependencyText, `${where} for "${variable.name}" dependencies`);
      entry.dependencies = dependencies;
      entry.inputs = dependencies.filter((d) => d.causality === 'input');
      const kinds = element.attributes.dependenciesKind;
      if (kinds !== undefined && kinds.trim() !== '') {
        entry.dependenciesKind = kinds.trim().split(/\s+/);
        if (entry.dependenciesKind.length !== dependencies.length) {
          reader.fail(`${where} for "${variable.name}": dependenciesKind lists ${entry.dependenciesKind.length} kinds for ${dependencies.length} dependencies`);
        }
      }
    }
    knownOutputs.set(variable, entry);
  }
  // Outputs the structure forgot may depend on anything: stay conservative.
  const outputs = variables
    .filter((v) => v.causality === 'output')
    .map((variable) => knownOutputs.get(variable) ?? { variable, inputs: 'all' as const });

  const experimentElement = child(root, 'DefaultExperiment');
  const defaultExperiment: DefaultExperiment = {};
  if (experimentElement) {
    for (const key of ['startTime', 'stopTime', 'tolerance', 'stepSize'] as const) {
      const value = reader.number(experimentElement, key, '<DefaultExperiment>');
      if (value !== undefined) defaultExperiment[key] = value;
    }
  }

  const description: ModelDescription = {
    fmiVersion,
    fmiVersionText,
    modelName,
    instantiationToken,
    defaultExperiment,
    units,
    logCategories: children(child(root, 'LogCategories'), 'Category').map((c) => ({
      name: reader.required(c, 'name', '<Category>'),
      ...(c.attributes.description !== undefined && { description: c.attributes.description }),
    })),
    variables,
    variablesByName,
    outputs,
  };
  if (root.attributes.description !== undefined) description.description = root.attributes.description;
  if (root.attributes.generationTool !== undefined) description.generationTool = root.attributes.generationTool;
  if (coSimulationElement) description.coSimulation = capabilitiesOf(coSimulationElement);
  if (modelExchangeElement) description.modelExchange = { modelIdentifier: reader.required(modelExchangeElement, 'modelIdentifier', '<ModelExchange>') };
  if (scheduledElement) description.scheduledExecution = { modelIdentifier: reader.required(scheduledElement, 'modelIdentifier', '<ScheduledExecution>') };
  if (!coSimulationElement && !modelExchangeElement && !scheduledElement) reader.fail('declares no interface (<CoSimulation>, <ModelExchange> or <ScheduledExecution>)');
  return description;
}

/** Number of scalar elements of a variable (1 for scalars); undefined when a dimension is set by a parameter. */
export function fixedElementCount(variable: ModelVariable): number | undefined {
  if (!variable.dimensions) return 1;
  let count = 1;
  for (const dimension of variable.dimensions) {
    if (dimension.start === undefined) return undefined;
    count *= dimension.start;
  }
  return count;
}

/** The variable with this name, or an error that names the closest matches. */
export function findVariable(description: ModelDescription, name: string, context = description.modelName): ModelVariable {
  const variable = description.variablesByName.get(name);
  if (variable) return variable;
  const lower = name.toLowerCase();
  const near = description.variables
    .filter((v) => v.name.toLowerCase().includes(lower) || lower.includes(v.name.toLowerCase()))
    .slice(0, 5)
    .map((v) => v.name);
  const hint = near.length > 0 ? `; did you mean ${near.join(', ')}?` : `; it has ${description.variables.filter((v) => v.causality === 'input' || v.causality === 'output' || v.causality === 'parameter').map((v) => v.name).slice(0, 12).join(', ')}`;
  throw new FmuError('FMU_UNKNOWN_VARIABLE', `${context}: no variable "${name}"${hint}`);
}
