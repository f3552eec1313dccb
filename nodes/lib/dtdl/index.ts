// Public entry of node-red-contrib-twinflow/dtdl: a DTDL v2/v3/v4 parser and instance validator in
// pure TypeScript. parseModels turns JSON documents into an immutable ModelSet (see model.ts);
// validateInstance checks telemetry, property and command values against it.
export { parseModels, type ParseModelsOptions, type ParseModelsResult } from './parser';
export { instanceValidator, prepareValidators, validateInstance, type ValidationResult, type ValidationTarget } from './validator';
export { toJsonSchema } from './compiler';
export { dtmiToRepositoryPath, isUserDtmi } from './dtmi';
export type { DtdlError, DtdlErrorCode } from './errors';
export type * from './model';
