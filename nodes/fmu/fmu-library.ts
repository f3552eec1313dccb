// One entry point for both FMI versions: open an archive, load a private copy of its binary,
// instantiate Co-Simulation instances.
import { openFmu, type FmuArchive, type OpenFmuOptions } from './fmu-archive';
import type { CoSimInstance, FmuLibrary, InstantiateOptions } from './cosim';
import { Fmi2Library } from './fmi2';
import { Fmi3Library } from './fmi3';

/** Loads the FMU's binary for this platform (a private copy: see fmu-archive.ts, instance sets). */
export function loadFmuLibrary(archive: FmuArchive): FmuLibrary {
  return archive.description.fmiVersion === '2.0' ? Fmi2Library.load(archive) : Fmi3Library.load(archive);
}

/** A single instance with its own library; freeing the instance does not unload: call unload(). */
export interface LoadedInstance {
  archive: FmuArchive;
  library: FmuLibrary;
  instance: CoSimInstance;
  /** frees the instance and unloads its library */
  unload(): void;
}

export async function instantiateFmu(
  fmu: string | FmuArchive,
  instanceName: string,
  options: InstantiateOptions & OpenFmuOptions = {},
): Promise<LoadedInstance> {
  const archive = typeof fmu === 'string' ? await openFmu(fmu, options) : fmu;
  const library = loadFmuLibrary(archive);
  try {
    const instance = library.instantiate(instanceName, options);
    return { archive, library, instance, unload: () => library.unload() };
  } catch (err) {
    library.unload();
    throw err;
  }
}
