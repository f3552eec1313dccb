#!/usr/bin/env node
// `twinflow plant` / `npm run plant`: the simulated CNC machine on its own, until Ctrl-C.
import { parseArgs } from 'node:util';
import { CncModel, FAULT_KINDS, PROGRAM_IDS, SENSOR_PATHS, faultRequestFromText } from './cnc-model';
import { DEFAULT_PLANT_PORT, MAX_TIME_SCALE, defaultPkiDir, startCncServer, type FaultRequest } from './cnc-server';

const USAGE = `Usage: twinflow plant [options]

Serves the simulated 3-axis CNC machine over OPC UA until SIGINT or SIGTERM.

Options:
  --port <n>               TCP port (default ${DEFAULT_PLANT_PORT}, or TWINFLOW_PLANT_PORT; 0 picks a free one)
  --host <address>         interface to listen on (default 127.0.0.1)
  --seed <n>               seed of all noise and random choices (default 1)
  --time-scale <x>         simulated seconds per real second, above 0 and at most ${MAX_TIME_SCALE} (default 1)
  --bench-tags <n>         extra changing Double variables under Objects/Bench (default 0)
  --auto-cycle             run programs (${PROGRAM_IDS.join(', ')}) back to back, like a production shift
  --fault <kind[:target]>  start with a fault; repeatable. Kinds: ${FAULT_KINDS.join(', ')}.
                           Sensor faults name a sensor (${SENSOR_PATHS.slice(0, 2).join(', ')}, ...);
                           bearingWear:<s> sets the time to failure in simulated seconds.
  --pki-dir <dir>          the server's certificates (default ${defaultPkiDir()})
  --help                   show this help`;

/** A mistake in the command line: reported with the usage hint and exit code 2. */
class UsageError extends Error {}

interface PlantCommand {
  help: boolean;
  port: number;
  host: string;
  seed: number;
  timeScale: number;
  benchTags: number;
  autoCycle: boolean;
  faults: FaultRequest[];
  pkiDir?: string;
}

function integerOption(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name}: "${text}" must be an integer from ${min} to ${max}`);
  }
  return value;
}

function numberOption(name: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new UsageError(`--${name}: "${text}" is not a number`);
  return value;
}

function parseFault(text: string): FaultRequest {
  const colon = text.indexOf(':');
  const kind = colon < 0 ? text : text.slice(0, colon);
  const request = faultRequestFromText(kind, colon < 0 ? '' : text.slice(colon + 1));
  try {
    // Checked on a scratch model, so a bad fault is a usage error before any socket opens.
    new CncModel().injectFault(request.kind, request.target, request.options);
  } catch (err) {
    throw new UsageError(`--fault ${text}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return request;
}

export function parsePlantArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): PlantCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        seed: { type: 'string' },
        'time-scale': { type: 'string' },
        'bench-tags': { type: 'string' },
        'auto-cycle': { type: 'boolean' },
        fault: { type: 'string', multiple: true },
        'pki-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values } = parsed;
  const portText = values.port ?? env.TWINFLOW_PLANT_PORT;
  const timeScale = values['time-scale'] === undefined ? 1 : numberOption('time-scale', values['time-scale']);
  if (timeScale <= 0 || timeScale > MAX_TIME_SCALE) {
    throw new UsageError(`--time-scale: ${timeScale} must be above 0 and at most ${MAX_TIME_SCALE}`);
  }
  const host = values.host ?? '127.0.0.1';
  if (host.trim() === '') throw new UsageError('--host: must not be empty');
  return {
    help: values.help ?? false,
    port: portText === undefined ? DEFAULT_PLANT_PORT : integerOption(values.port === undefined ? 'port (TWINFLOW_PLANT_PORT)' : 'port', portText, 0, 65535),
    host,
    seed: values.seed === undefined ? 1 : numberOption('seed', values.seed),
    timeScale,
    benchTags: values['bench-tags'] === undefined ? 0 : integerOption('bench-tags', values['bench-tags'], 0, 100000),
    autoCycle: values['auto-cycle'] ?? false,
    faults: (values.fault ?? []).map(parseFault),
    pkiDir: values['pki-dir'],
  };
}

/** Runs the simulator until SIGINT/SIGTERM; resolves to the process exit code. */
export async function runPlant(argv: string[]): Promise<number> {
  let command: PlantCommand;
  try {
    command = parsePlantArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`plant: ${err.message}\nRun with --help for the options.`);
    return 2;
  }
  if (command.help) {
    console.log(USAGE);
    return 0;
  }

  let server;
  try {
    server = await startCncServer({
      port: command.port,
      host: command.host,
      seed: command.seed,
      timeScale: command.timeScale,
      benchTags: command.benchTags,
      autoCycle: command.autoCycle,
      faults: command.faults,
      pkiDir: command.pkiDir,
    });
  } catch (err) {
    console.error(`plant: could not start: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  const faults = server.model.activeFaults().map((fault) => fault.label);
  console.log(`plant: simulated CNC machine at ${server.endpointUrl}`);
  console.log(
    `plant: seed ${command.seed}, time scale ${command.timeScale}, auto cycle ${command.autoCycle ? 'on' : 'off'}, ` +
      `bench tags ${command.benchTags}, faults ${faults.length > 0 ? faults.join(' ') : 'none'}; Ctrl-C stops it`,
  );

  const running = server;
  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      console.log(`plant: ${signal}, stopping`);
      running.stop().then(
        () => resolve(0),
        (err: unknown) => {
          console.error(`plant: stop failed: ${err instanceof Error ? err.message : String(err)}`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

if (require.main === module) {
  runPlant(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`plant: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
