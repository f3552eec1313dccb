// Opening .fmu archives: hash the file, extract it once per content hash into a cache directory
// shared by every process (os.tmpdir()/twinflow-fmu/<sha256>/), parse modelDescription.xml, and
// find the binary for this platform.
//
// Instance sets: the dynamic loader returns the same handle, and so the same global variables,
// for every dlopen of one path. FMUs that keep globals (declared with
// canBeInstantiatedOnlyOncePerProcess, or simply written that way) would then share state between
// a live twin and a what-if run. So every loaded library gets its own copy of the platform's
// binaries folder (<cache>/instances/<pid>-<n>/), removed again when the library is unloaded;
// copies left by a process that died are removed by the next process that opens an FMU.
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { FmuError } from './errors';
import { parseModelDescription, type FmiVersion, type ModelDescription } from './model-description';

export interface FmuArchive {
  /** absolute path of the .fmu file */
  readonly file: string;
  /** SHA-256 of the file's bytes */
  readonly sha256: string;
  /** the extracted archive (shared, treat as read-only) */
  readonly directory: string;
  readonly description: ModelDescription;
  /** folder names under binaries/ */
  readonly platforms: string[];
  readonly cacheDir: string;
}

export interface OpenFmuOptions {
  /** where extracted archives are cached (default: $TWINFLOW_FMU_CACHE or <os tmpdir>/twinflow-fmu) */
  cacheDir?: string;
  /** refuse archives that extract to more than this (default 2 GiB): a guard against zip bombs */
  maxExtractedBytes?: number;
}

const COMPLETE_MARKER = '.twinflow-extracted';

export function defaultCacheDir(): string {
  return process.env.TWINFLOW_FMU_CACHE || path.join(os.tmpdir(), 'twinflow-fmu');
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: true, validateEntrySizes: true, strictFileNames: false }, (err, zip) => {
      if (err || !zip) reject(err ?? new Error('no zip file'));
      else resolve(zip);
    });
  });
}

async function extract(file: string, target: string, maxBytes: number): Promise<void> {
  const name = path.basename(file);
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(file);
  } catch (err) {
    throw new FmuError('FMU_ARCHIVE_INVALID', `${name}: not a valid zip archive (${(err as Error).message})`, { cause: err });
  }
  let total = 0;
  await new Promise<void>((resolve, reject) => {
    const fail = (err: unknown): void => {
      zip.close();
      reject(err instanceof FmuError ? err : new FmuError('FMU_ARCHIVE_INVALID', `${name}: cannot be extracted: ${(err as Error).message}`, { cause: err }));
    };
    zip.on('error', fail);
    zip.on('end', () => resolve());
    zip.on('entry', (entry: yauzl.Entry) => {
      // yauzl has already refused absolute names and ".." components (zip-slip).
      const destination = path.join(target, entry.fileName);
      if (!destination.startsWith(target + path.sep)) return fail(new Error(`entry "${entry.fileName}" escapes the archive`));
      if (entry.fileName.endsWith('/')) {
        mkdirSync(destination, { recursive: true });
        zip.readEntry();
        return;
      }
      total += entry.uncompressedSize;
      if (total > maxBytes) return fail(new FmuError('FMU_ARCHIVE_INVALID', `${name}: extracts to more than ${maxBytes} bytes; refusing it`));
      mkdirSync(path.dirname(destination), { recursive: true });
      zip.openReadStream(entry, (err, stream) => {
        if (err || !stream) return fail(err ?? new Error(`cannot read ${entry.fileName}`));
        pipeline(stream, createWriteStream(destination, { mode: 0o644 })).then(() => zip.readEntry(), fail);
      });
    });
    zip.readEntry();
  });
}

/** Opens an FMU: extraction is cached by content hash, so opening the same file again is cheap. */
export async function openFmu(file: string, options: OpenFmuOptions = {}): Promise<FmuArchive> {
  const absolute = path.resolve(file);
  const name = path.basename(absolute);
  let size: number;
  try {
    const stat = statSync(absolute);
    if (!stat.isFile()) throw new Error('not a file');
    size = stat.size;
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new FmuError('FMU_ARCHIVE_INVALID', `${absolute}: ${reason}`, { cause: err });
  }
  if (size === 0) throw new FmuError('FMU_ARCHIVE_INVALID', `${name}: the file is empty`);
  const cacheDir = path.resolve(options.cacheDir ?? defaultCacheDir());
  mkdirSync(cacheDir, { recursive: true });
  removeStaleInstanceSets(cacheDir);
  const sha256 = await hashFile(absolute);
  const directory = path.join(cacheDir, sha256);
  if (!existsSync(path.join(directory, COMPLETE_MARKER))) {
    const partial = path.join(cacheDir, `${sha256}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await extract(absolute, partial, options.maxExtractedBytes ?? 2 ** 31);
      writeFileSync(path.join(partial, COMPLETE_MARKER), `${absolute}\n`);
      try {
        renameSync(partial, directory);
      } catch {
        // Another process extracted the same archive first: use theirs (unless theirs is incomplete).
        if (!existsSync(path.join(directory, COMPLETE_MARKER))) {
          rmSync(directory, { recursive: true, force: true });
          renameSync(partial, directory);
        }
      }
    } finally {
      rmSync(partial, { recursive: true, force: true });
    }
  }
  const descriptionFile = path.join(directory, 'modelDescription.xml');
  if (!existsSync(descriptionFile)) {
    throw new FmuError('FMU_DESCRIPTION_INVALID', `${name}: has no modelDescription.xml at the root of the archive`);
  }
  const description = parseModelDescription(readFileSync(descriptionFile, 'utf8'), `${name}/modelDescription.xml`);
  const binaries = path.join(directory, 'binaries');
  const platforms = existsSync(binaries)
    ? readdirSync(binaries, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()
    : [];
  return { file: absolute, sha256, directory, description, platforms, cacheDir };
}

// ---- platform binaries --------------------------------------------------------------------------

/** The binaries/ folder name for this machine, per FMI version (undefined: the standard names none). */
export function platformFolder(version: FmiVersion, platform: NodeJS.Platform = process.platform, arch: string = process.arch): string | undefined {
  if (version === '2.0') {
    const bits = arch === 'x64' ? '64' : arch === 'ia32' ? '32' : undefined;
    if (!bits) return undefined;
    return { linux: `linux${bits}`, win32: `win${bits}`, darwin: `darwin${bits}` }[platform as 'linux'];
  }
  const cpu = { x64: 'x86_64', ia32: 'x86', arm64: 'aarch64' }[arch as 'x64'];
  const system = { linux: 'linux', win32: 'windows', darwin: 'darwin' }[platform as 'linux'];
  return cpu && system ? `${cpu}-${system}` : undefined;
}

function libraryExtension(platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? '.dll' : platform === 'darwin' ? '.dylib' : '.so';
}

function platformDescription(): string {
  return `${process.platform} ${process.arch}`;
}

/** The Co-Simulation capabilities, or a clear error for Model-Exchange-only FMUs. */
export function requireCoSimulation(archive: FmuArchive): NonNullable<ModelDescription['coSimulation']> {
  const { coSimulation, modelExchange, scheduledExecution } = archive.description;
  if (coSimulation) return coSimulation;
  const has = [modelExchange && 'Model Exchange', scheduledExecution && 'Scheduled Execution'].filter(Boolean).join(' and ');
  throw new FmuError('FMU_NOT_COSIMULATION', `${path.basename(archive.file)} implements only ${has}; Twinflow runs Co-Simulation FMUs`);
}

/** Path of the shared library for this machine inside the extracted archive. */
export function binaryPath(archive: FmuArchive): string {
  const capabilities = requireCoSimulation(archive);
  const name = path.basename(archive.file);
  const folder = platformFolder(archive.description.fmiVersion);
  const library = `${capabilities.modelIdentifier}${libraryExtension()}`;
  const others = archive.platforms.length > 0 ? `it has binaries for ${archive.platforms.join(', ')}` : 'it has no binaries at all (a source-only FMU?)';
  if (!folder) {
    throw new FmuError('FMU_PLATFORM_MISSING', `${name}: FMI ${archive.description.fmiVersion} defines no binary folder for ${platformDescription()}; ${others}`);
  }
  const file = path.join(archive.directory, 'binaries', folder, library);
  if (!existsSync(file)) {
    throw new FmuError('FMU_PLATFORM_MISSING', `${name}: has no binary for ${platformDescription()} (binaries/${folder}/${library}); ${others}`);
  }
  return file;
}

// ---- instance sets ------------------------------------------------------------------------------

export interface InstanceSet {
  /** the private copy of the shared library */
  readonly libraryPath: string;
  readonly directory: string;
  /** deletes the copy (call after the library is unloaded) */
  dispose(): void;
}

let instanceSetCounter = 0;

/** A private copy of the platform binaries folder, so this library load shares no globals with another. */
export function createInstanceSet(archive: FmuArchive): InstanceSet {
  const source = binaryPath(archive);
  const directory = path.join(archive.cacheDir, 'instances', `${process.pid}-${++instanceSetCounter}-${randomBytes(3).toString('hex')}`);
  mkdirSync(directory, { recursive: true });
  // The whole folder: a binary may load sibling libraries through $ORIGIN.
  cpSync(path.dirname(source), directory, { recursive: true });
  const libraryPath = path.join(directory, path.basename(source));
  return {
    libraryPath,
    directory,
    dispose: () => rmSync(directory, { recursive: true, force: true }),
  };
}

const checkedCacheDirs = new Set<string>();

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes instance-set copies left behind by processes that are gone. */
function removeStaleInstanceSets(cacheDir: string): void {
  if (checkedCacheDirs.has(cacheDir)) return;
  checkedCacheDirs.add(cacheDir);
  const instances = path.join(cacheDir, 'instances');
  if (!existsSync(instances)) return;
  for (const entry of readdirSync(instances)) {
    const pid = Number(entry.split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !processIsAlive(pid)) {
      rmSync(path.join(instances, entry), { recursive: true, force: true });
    }
  }
  for (const entry of readdirSync(cacheDir)) {
    // Half-extracted archives of dead processes.
    const match = /\.partial-(\d+)-/.exec(entry);
    if (match && !processIsAlive(Number(match[1]))) rmSync(path.join(cacheDir, entry), { recursive: true, force: true });
  }
}
