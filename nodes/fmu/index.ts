// The FMU domain in one import, for the `fmu` node adapter and for scripts. No Node-RED here.
export { FmuError, isFmuError, type FmuErrorCode } from './errors';
export { openFmu, defaultCacheDir, binaryPath, platformFolder, type FmuArchive, type OpenFmuOptions } from './fmu-archive';
export { parseModelDescription, findVariable, fixedElementCount } from './model-description';
export type { ModelDescription, ModelVariable, CoSimulationCapabilities, DefaultExperiment, UnitDefinition, VariableType, FmiVersion } from './model-description';
export { loadFmuLibrary, instantiateFmu, type LoadedInstance } from './fmu-library';
export { StepOutcome } from './cosim';
export type { CoSimInstance, FmuLibrary, Float64Port, FmuState, FmuLogMessage, InstantiateOptions, Experiment, VariableValue } from './cosim';
export { CoSimulation, runBatch } from './master';
export type {
  SystemSpec, FmuSpec, Connection, MasterOptions, MasterAlgorithm, InputChange, Limit, Violation, Trajectory,
  WhatIfRequest, WhatIfResult, InputTable, BatchRequest, BatchResult, MemberInfo,
} from './master';
export { parseInputCsv, formatCsv, type CsvTable } from './csv';
export { unitConversion, type Conversion } from './units';
