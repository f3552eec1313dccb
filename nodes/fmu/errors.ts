// Errors of the FMU domain: one class, a stable machine-readable code, and a message a person can act on.

export type FmuErrorCode =
  /** the .fmu file is missing, unreadable or not a zip archive */
  | 'FMU_ARCHIVE_INVALID'
  /** modelDescription.xml is missing, malformed or violates the standard */
  | 'FMU_DESCRIPTION_INVALID'
  /** the FMU has no binary for this platform */
  | 'FMU_PLATFORM_MISSING'
  /** the FMU only implements Model Exchange (or Scheduled Execution) */
  | 'FMU_NOT_COSIMULATION'
  /** the shared library cannot be loaded or lacks a required function */
  | 'FMU_BINARY_INVALID'
  /** fmiXInstantiate returned NULL */
  | 'FMU_INSTANTIATION_FAILED'
  /** an FMI function returned Error */
  | 'FMU_STATUS_ERROR'
  /** an FMI function returned Fatal */
  | 'FMU_STATUS_FATAL'
  /** a function other than Discard-capable ones returned Discard, or a step was discarded and not retried */
  | 'FMU_DISCARD'
  /** the instance returned Error or Fatal before: only freeing it is allowed */
  | 'FMU_INSTANCE_UNUSABLE'
  /** the instance (or its library) was freed */
  | 'FMU_INSTANCE_FREED'
  /** the call is not allowed in the instance's current state */
  | 'FMU_WRONG_STATE'
  /** the FMU asked to terminate the simulation */
  | 'FMU_TERMINATED'
  /** no variable of that name, or not of the type asked for */
  | 'FMU_UNKNOWN_VARIABLE'
  /** the value does not fit the variable (type, range, causality) */
  | 'FMU_INVALID_VALUE'
  /** the FMU does not support what was asked (state saving, event mode, a type) */
  | 'FMU_UNSUPPORTED'
  /** the system of connected FMUs is inconsistent */
  | 'MASTER_INVALID_SYSTEM'
  /** a connection joins variables with incompatible units */
  | 'MASTER_UNIT_MISMATCH'
  /** a cycle of direct-feedthrough dependencies */
  | 'MASTER_ALGEBRAIC_LOOP'
  /** an algebraic loop did not converge */
  | 'MASTER_NOT_CONVERGED'
  /** the master was used wrongly (freed, bad arguments) */
  | 'MASTER_USAGE';

export class FmuError extends Error {
  readonly code: FmuErrorCode;

  constructor(code: FmuErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FmuError';
    this.code = code;
  }
}

export function isFmuError(err: unknown, code?: FmuErrorCode): err is FmuError {
  return err instanceof FmuError && (code === undefined || err.code === code);
}
