// koffi declarations of the FMI 2.0 and 3.0 C APIs, made once per process (koffi type names are
// process-wide), plus the process-wide log callbacks that route FMU messages to their instance.
//
// Pointer arguments are declared `void *` so the hot path can pass BigInt addresses of native
// scratch memory (koffi.alloc + koffi.view), which costs less per call than marshalling typed
// arrays, while the convenience paths may still pass typed arrays.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import koffi from 'koffi';

export type KoffiFunction = (...args: any[]) => any; // eslint-disable-line @typescript-eslint/no-explicit-any
export type Library = ReturnType<typeof koffi.load>;

/** A function's name, return type and argument types, as koffi type strings. */
export type Signature = readonly [name: string, result: string, args: readonly string[]];

const P = 'void *';
/** Hot-path pointers: koffi converts a Number to uintptr_t faster than a BigInt to void *. */
const A = 'uintptr_t';

export const FMI2_SIGNATURES = {
  getVersion: ['fmi2GetVersion', 'const char *', []],
  getTypesPlatform: ['fmi2GetTypesPlatform', 'const char *', []],
  setDebugLogging: ['fmi2SetDebugLogging', 'int', [P, 'int', 'size_t', 'const char **']],
  instantiate: ['fmi2Instantiate', P, ['const char *', 'int', 'const char *', 'const char *', P, 'int', 'int']],
  freeInstance: ['fmi2FreeInstance', 'void', [P]],
  setupExperiment: ['fmi2SetupExperiment', 'int', [P, 'int', 'double', 'double', 'int', 'double']],
  enterInitializationMode: ['fmi2EnterInitializationMode', 'int', [P]],
  exitInitializationMode: ['fmi2ExitInitializationMode', 'int', [P]],
  terminate: ['fmi2Terminate', 'int', [P]],
  reset: ['fmi2Reset', 'int', [P]],
  getReal: ['fmi2GetReal', 'int', [P, P, 'size_t', P]],
  getInteger: ['fmi2GetInteger', 'int', [P, P, 'size_t', P]],
  getBoolean: ['fmi2GetBoolean', 'int', [P, P, 'size_t', P]],
  getString: ['fmi2GetString', 'int', [P, P, 'size_t', P]],
  setReal: ['fmi2SetReal', 'int', [P, P, 'size_t', P]],
  setInteger: ['fmi2SetInteger', 'int', [P, P, 'size_t', P]],
  setBoolean: ['fmi2SetBoolean', 'int', [P, P, 'size_t', P]],
  setString: ['fmi2SetString', 'int', [P, P, 'size_t', 'const char **']],
  getFMUstate: ['fmi2GetFMUstate', 'int', [P, P]],
  setFMUstate: ['fmi2SetFMUstate', 'int', [P, P]],
  freeFMUstate: ['fmi2FreeFMUstate', 'int', [P, P]],
  serializedFMUstateSize: ['fmi2SerializedFMUstateSize', 'int', [P, P, P]],
  serializeFMUstate: ['fmi2SerializeFMUstate', 'int', [P, P, P, 'size_t']],
  deSerializeFMUstate: ['fmi2DeSerializeFMUstate', 'int', [P, P, 'size_t', P]],
  doStep: ['fmi2DoStep', 'int', [P, 'double', 'double', 'int']],
  cancelStep: ['fmi2CancelStep', 'int', [P]],
  getStatus: ['fmi2GetStatus', 'int', [P, 'int', P]],
  getRealStatus: ['fmi2GetRealStatus', 'int', [P, 'int', P]],
  getBooleanStatus: ['fmi2GetBooleanStatus', 'int', [P, 'int', P]],
  // The same functions, declared for the hot path (addresses as Numbers).
  doStepFast: ['fmi2DoStep', 'int', [A, 'double', 'double', 'int']],
  getRealFast: ['fmi2GetReal', 'int', [A, A, 'size_t', A]],
  setRealFast: ['fmi2SetReal', 'int', [A, A, 'size_t', A]],
} as const satisfies Record<string, Signature>;

/** Functions an FMI 2.0 Co-Simulation importer cannot do without. */
export const FMI2_REQUIRED = [
  'getVersion', 'instantiate', 'freeInstance', 'setupExperiment', 'enterInitializationMode', 'exitInitializationMode',
  'terminate', 'getReal', 'getInteger', 'getBoolean', 'getString', 'setReal', 'setInteger', 'setBoolean', 'setString', 'doStep',
] as const;

const FMI3_TYPED = ['Float32', 'Float64', 'Int8', 'UInt8', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Int64', 'UInt64', 'Boolean'] as const;
export type Fmi3TypedName = (typeof FMI3_TYPED)[number];

const fmi3Typed = Object.fromEntries(
  FMI3_TYPED.flatMap((type) => [
    [`get${type}`, [`fmi3Get${type}`, 'int', [P, P, 'size_t', P, 'size_t']]],
    [`set${type}`, [`fmi3Set${type}`, 'int', [P, P, 'size_t', P, 'size_t']]],
  ]),
) as unknown as Record<`get${Fmi3TypedName}` | `set${Fmi3TypedName}`, Signature>;

export const FMI3_SIGNATURES = {
  getVersion: ['fmi3GetVersion', 'const char *', []],
  setDebugLogging: ['fmi3SetDebugLogging', 'int', [P, 'bool', 'size_t', 'const char **']],
  instantiateCoSimulation: ['fmi3InstantiateCoSimulation', P,
    ['const char *', 'const char *', 'const char *', 'bool', 'bool', 'bool', 'bool', P, 'size_t', P, P, P]],
  freeInstance: ['fmi3FreeInstance', 'void', [P]],
  enterInitializationMode: ['fmi3EnterInitializationMode', 'int', [P, 'bool', 'double', 'double', 'bool', 'double']],
  exitInitializationMode: ['fmi3ExitInitializationMode', 'int', [P]],
  enterEventMode: ['fmi3EnterEventMode', 'int', [P]],
  enterStepMode: ['fmi3EnterStepMode', 'int', [P]],
  updateDiscreteStates: ['fmi3UpdateDiscreteStates', 'int', [P, P, P, P, P, P, P]],
  terminate: ['fmi3Terminate', 'int', [P]],
  reset: ['fmi3Reset', 'int', [P]],
  ...fmi3Typed,
  getString: ['fmi3GetString', 'int', [P, P, 'size_t', P, 'size_t']],
  setString: ['fmi3SetString', 'int', [P, P, 'size_t', 'const char **', 'size_t']],
  getBinary: ['fmi3GetBinary', 'int', [P, P, 'size_t', P, P, 'size_t']],
  setBinary: ['fmi3SetBinary', 'int', [P, P, 'size_t', P, P, 'size_t']],
  getFMUState: ['fmi3GetFMUState', 'int', [P, P]],
  setFMUState: ['fmi3SetFMUState', 'int', [P, P]],
  freeFMUState: ['fmi3FreeFMUState', 'int', [P, P]],
  serializedFMUStateSize: ['fmi3SerializedFMUStateSize', 'int', [P, P, P]],
  serializeFMUState: ['fmi3SerializeFMUState', 'int', [P, P, P, 'size_t']],
  deserializeFMUState: ['fmi3DeserializeFMUState', 'int', [P, P, 'size_t', P]],
  doStep: ['fmi3DoStep', 'int', [P, 'double', 'double', 'bool', P, P, P, P]],
  // The same functions, declared for the hot path (addresses as Numbers).
  doStepFast: ['fmi3DoStep', 'int', [A, 'double', 'double', 'bool', A, A, A, A]],
  getFloat64Fast: ['fmi3GetFloat64', 'int', [A, A, 'size_t', A, 'size_t']],
  setFloat64Fast: ['fmi3SetFloat64', 'int', [A, A, 'size_t', A, 'size_t']],
} as const satisfies Record<string, Signature>;

export const FMI3_REQUIRED = [
  'getVersion', 'instantiateCoSimulation', 'freeInstance', 'enterInitializationMode', 'exitInitializationMode', 'terminate',
  'getFloat64', 'setFloat64', 'doStep',
] as const;

export type BoundFunctions<T extends Record<string, Signature>> = { [K in keyof T]?: KoffiFunction };

/** Binds every function the library exports; absent optional ones stay undefined. */
export function bindFunctions<T extends Record<string, Signature>>(library: Library, signatures: T): BoundFunctions<T> {
  declareTypes();
  const bound: BoundFunctions<T> = {};
  for (const key of Object.keys(signatures) as (keyof T)[]) {
    const [name, result, args] = signatures[key]!;
    try {
      bound[key] = library.func(name, result, [...args]) as KoffiFunction;
    } catch {
      // not exported: optional functions are checked where they are used
    }
  }
  return bound;
}

// ---- types and callbacks, once per process --------------------------------------------------------

interface ProcessWide {
  fmi2Forward: ReturnType<typeof koffi.proto>;
  fmi2FixedLogger: ReturnType<typeof koffi.proto>;
  fmi3LogMessage: ReturnType<typeof koffi.proto>;
  handlers: Map<number, LogHandler>;
  nextEnvironmentId: number;
  fmi2ForwardPointer?: bigint;
  fmi2FixedLoggerPointer?: bigint;
  fmi3LogMessagePointer?: bigint;
  shim?: { library: Library; callbacksNew: KoffiFunction; callbacksFree: KoffiFunction; logTest: KoffiFunction } | null;
  libc?: { calloc: bigint; free: bigint };
}

/** Receives one FMU log message, already formatted. */
export type LogHandler = (status: number, category: string, message: string, instanceName?: string) => void;

const PROCESS_KEY = Symbol.for('twinflow.fmu.koffi-types');

function declareTypes(): ProcessWide {
  const store = globalThis as unknown as Record<symbol, ProcessWide | undefined>;
  const existing = store[PROCESS_KEY];
  if (existing) return existing;
  const declared: ProcessWide = {
    fmi2Forward: koffi.proto('void twinflow_fmi2_forward(void *user, const char *instanceName, int status, const char *category, const char *message)'),
    // Without the shim: the fixed arguments of the variadic logger, readable on x86-64 and AArch64
    // (the format's own arguments are then lost, and the raw format string arrives).
    fmi2FixedLogger: koffi.proto('void twinflow_fmi2_fixed_logger(void *env, const char *instanceName, int status, const char *category, const char *message)'),
    fmi3LogMessage: koffi.proto('void twinflow_fmi3_log_message(void *env, int status, const char *category, const char *message)'),
    handlers: new Map(),
    nextEnvironmentId: 1,
  };
  store[PROCESS_KEY] = declared;
  return declared;
}

function dispatch(environment: unknown, status: number, category: string | null, message: string | null, instanceName?: string | null): void {
  const handler = declareTypes().handlers.get(Number(environment));
  if (!handler) return;
  try {
    handler(status, category ?? '', message ?? '', instanceName ?? undefined);
  } catch {
    // a throwing handler must not unwind through the FMU's C frames
  }
}

/** Registers a handler; the returned id is what the FMU gets as its environment pointer. */
export function registerLogHandler(handler: LogHandler): number {
  const types = declareTypes();
  const id = types.nextEnvironmentId++;
  types.handlers.set(id, handler);
  return id;
}

export function unregisterLogHandler(id: number): void {
  declareTypes().handlers.delete(id);
}

/** The koffi-registered FMI 3.0 logMessage callback (one per process). */
export function fmi3LogMessagePointer(): bigint {
  const types = declareTypes();
  types.fmi3LogMessagePointer ??= koffi.register(
    (env: unknown, status: number, category: string | null, message: string | null) => dispatch(env, status, category, message),
    koffi.pointer(types.fmi3LogMessage),
  );
  return types.fmi3LogMessagePointer;
}

// ---- FMI 2.0 callbacks: through the shim when it is built ------------------------------------------

function findPackageRoot(from: string): string | undefined {
  let dir = from;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if (JSON.parse(readFileSync(manifest, 'utf8')).name === 'node-red-contrib-twinflow') return dir;
      } catch {
        // keep looking
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Where the FMI 2.0 logger shim is expected: $TWINFLOW_FMI2_LOGGER or <package>/native/build/. */
export function fmi2LoggerShimPath(): string | undefined {
  if (process.env.TWINFLOW_FMI2_LOGGER) return process.env.TWINFLOW_FMI2_LOGGER;
  const root = findPackageRoot(__dirname);
  return root && path.join(root, 'native', 'build', 'libtwinflow_fmi2_logger.so');
}

function loadShim(types: ProcessWide): ProcessWide['shim'] {
  if (types.shim !== undefined) return types.shim;
  const file = fmi2LoggerShimPath();
  if (!file || !existsSync(file) || process.platform === 'win32') {
    types.shim = null;
    return null;
  }
  const library = koffi.load(file);
  types.shim = {
    library,
    callbacksNew: library.func('twinflow_fmi2_callbacks_new', P, [P, P]) as KoffiFunction,
    callbacksFree: library.func('twinflow_fmi2_callbacks_free', 'void', [P]) as KoffiFunction,
    logTest: library.func('twinflow_fmi2_log_test', 'void', [P, 'int', 'const char *', 'double']) as KoffiFunction,
  };
  return types.shim;
}

export interface Fmi2Callbacks {
  /** fmi2CallbackFunctions* to pass to fmi2Instantiate; valid until release() */
  readonly pointer: bigint;
  /** whether messages arrive formatted (false without the shim: raw format strings) */
  readonly formatted: boolean;
  release(): void;
}

/** An fmi2CallbackFunctions struct whose logger calls `environmentId`'s handler. */
export function createFmi2Callbacks(environmentId: number): Fmi2Callbacks {
  const types = declareTypes();
  const shim = loadShim(types);
  if (shim) {
    types.fmi2ForwardPointer ??= koffi.register(
      (user: unknown, instanceName: string | null, status: number, category: string | null, message: string | null) =>
        dispatch(user, status, category, message, instanceName),
      koffi.pointer(types.fmi2Forward),
    );
    const pointer = shim.callbacksNew(types.fmi2ForwardPointer, BigInt(environmentId)) as bigint | null;
    if (!pointer) throw new Error('twinflow_fmi2_callbacks_new returned NULL (out of memory)');
    return { pointer, formatted: true, release: () => shim.callbacksFree(pointer) };
  }
  types.fmi2FixedLoggerPointer ??= koffi.register(
    (env: unknown, instanceName: string | null, status: number, category: string | null, message: string | null) =>
      dispatch(env, status, category, message, instanceName),
    koffi.pointer(types.fmi2FixedLogger),
  );
  if (!types.libc) {
    const libc = koffi.load(process.platform === 'darwin' ? 'libc.dylib' : 'libc.so.6');
    types.libc = { calloc: libc.symbol('calloc') as bigint, free: libc.symbol('free') as bigint };
  }
  const words = koffi.alloc('uint64_t', 5) as bigint;
  const view = new BigUint64Array(koffi.view(words, 40));
  view[0] = types.fmi2FixedLoggerPointer;
  view[1] = types.libc.calloc;
  view[2] = types.libc.free;
  view[3] = 0n;
  view[4] = BigInt(environmentId);
  return { pointer: words, formatted: false, release: () => koffi.free(words) };
}

/** Calls the shim's own variadic logger (for tests of the formatting, without an FMU). */
export function fmi2ShimLogTest(callbacks: Fmi2Callbacks, value: number, text: string, number: number): void {
  const shim = loadShim(declareTypes());
  if (!shim) throw new Error('the FMI 2.0 logger shim is not built');
  shim.logTest(callbacks.pointer, value, text, number);
}

// ---- native scratch memory ---------------------------------------------------------------------------

/** Memory the FMU may read and write during a call: a stable address plus a JS view of the same bytes. */
export class NativeBlock {
  readonly pointer: bigint;
  /** the same address as a Number, for uintptr_t arguments */
  readonly address: number;
  readonly buffer: ArrayBuffer;
  private freed = false;

  constructor(readonly bytes: number) {
    this.pointer = koffi.alloc('uint8_t', Math.max(8, bytes)) as bigint;
    this.address = toAddress(this.pointer);
    this.buffer = koffi.view(this.pointer, Math.max(8, bytes));
    new Uint8Array(this.buffer).fill(0);
  }

  free(): void {
    if (this.freed) return;
    this.freed = true;
    koffi.free(this.pointer);
  }
}

/** A pointer as a Number; user-space addresses on 64-bit Linux, macOS and Windows are below 2^53. */
export function toAddress(pointer: bigint): number {
  const address = Number(pointer);
  if (!Number.isSafeInteger(address)) throw new Error(`pointer 0x${pointer.toString(16)} does not fit a JavaScript number`);
  return address;
}

export function decodeCString(pointer: bigint): string | null {
  return pointer === 0n ? null : koffi.decode.string(pointer);
}

export function copyNative(pointer: bigint, length: number): Uint8Array {
  if (length === 0) return new Uint8Array(0);
  return new Uint8Array(koffi.view(pointer, length).slice(0));
}

export function loadLibrary(file: string): Library {
  declareTypes();
  return koffi.load(file);
}
