// `twinflow fmu`: run an FMU from the command line (simulate) or show what it contains (info).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Subcommand } from './twinflow';
import { formatCsv, parseInputCsv } from '../nodes/fmu/csv';
import { FmuError } from '../nodes/fmu/errors';
import { openFmu, type FmuArchive } from '../nodes/fmu/fmu-archive';
import { runBatch, type InputTable } from '../nodes/fmu/master';
import type { ModelVariable } from '../nodes/fmu/model-description';

const USAGE = `Usage:
  twinflow fmu simulate <file.fmu> [options]
  twinflow fmu info <file.fmu>

simulate runs an FMI 2.0 or 3.0 Co-Simulation FMU and writes a CSV: a time column, then every
output at every communication point, each number written so that it reads back exactly.

Options of simulate:
  --start-time <s>     start time (default: the FMU's DefaultExperiment, else 0)
  --stop-time <s>      stop time (default: DefaultExperiment, else start + 1)
  --step-size <s>      communication step (default: DefaultExperiment, else (stop - start) / 500)
  --input <in.csv>     input table: a time column and one column per input; values hold until the next row
  --output <out.csv>   where to write the results (default: standard output)
  --set <name=value>   a parameter or input start value; repeatable
  --log                ask the FMU for debug logging and print all its messages to standard error
  --help               show this help

Booleans are written as 1 and 0; 64-bit integers above 2^53 are rounded to doubles.
Exit codes: 0 success, 1 the simulation failed, 2 wrong usage.`;

class UsageError extends Error {}

function numberOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new UsageError(`--${name}: "${text}" is not a number`);
  return value;
}

function parseSetting(text: string): [string, number | boolean | string] {
  const equals = text.indexOf('=');
  if (equals <= 0) throw new UsageError(`--set: "${text}" is not name=value`);
  const raw = text.slice(equals + 1).trim();
  const value = raw === 'true' ? true : raw === 'false' ? false : raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  return [text.slice(0, equals).trim(), value];
}

const MEMBER = 'fmu';

function recordable(variable: ModelVariable): boolean {
  return variable.causality === 'output' && !variable.dimensions &&
    ['Float64', 'Float32', 'Int8', 'UInt8', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Int64', 'UInt64', 'Boolean'].includes(variable.accessType);
}

async function simulate(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        'start-time': { type: 'string' },
        'stop-time': { type: 'string' },
        'step-size': { type: 'string' },
        input: { type: 'string' },
        output: { type: 'string' },
        set: { type: 'string', multiple: true },
        log: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'simulate: which .fmu file?' : `simulate: one .fmu file, not ${positionals.length}`);
  const startOption = numberOption('start-time', values['start-time']);
  const stopOption = numberOption('stop-time', values['stop-time']);
  const stepOption = numberOption('step-size', values['step-size']);
  const settings = (values.set ?? []).map(parseSetting);

  const archive = await openFmu(positionals[0]!);
  const experiment = archive.description.defaultExperiment;
  const startTime = startOption ?? experiment.startTime ?? 0;
  const stopTime = stopOption ?? experiment.stopTime ?? startTime + 1;
  const stepSize = stepOption ?? experiment.stepSize ?? (stopTime - startTime) / 500;
  if (!(stopTime >= startTime)) throw new UsageError(`--stop-time: ${stopTime} is before the start time ${startTime}`);
  if (!(stepSize > 0)) throw new UsageError(`--step-size: ${stepSize} must be above 0`);

  let inputs: InputTable | undefined;
  if (values.input !== undefined) inputs = readInputs(values.input, archive);

  const outputs = archive.description.variables.filter(recordable);
  const names = outputs.map((v) => `${MEMBER}.${v.name}`);
  const log = values.log === true;
  const result = await runBatch(
    {
      fmus: [{
        name: MEMBER,
        fmu: archive,
        parameters: Object.fromEntries(settings),
        instantiate: { loggingOn: log },
      }],
    },
    {
      stepSize,
      startTime,
      logger: (entry) => {
        if (log || entry.status !== 'ok') process.stderr.write(`${path.basename(archive.file)} [${entry.status}] ${entry.category}: ${entry.message}\n`);
      },
    },
    { stopTime, record: names, ...(inputs && { inputs }) },
  );
  const csv = formatCsv(result, outputs.map((v) => v.name));
  if (values.output !== undefined) {
    writeFileSync(values.output, csv);
    process.stderr.write(`twinflow fmu: ${result.time.length} rows (${outputs.length} outputs, t=${startTime}..${result.time[result.time.length - 1]}) written to ${values.output}\n`);
  } else {
    process.stdout.write(csv);
  }
  if (result.terminated) process.stderr.write(`twinflow fmu: the FMU asked to terminate at t=${result.terminated.time}\n`);
  return 0;
}

function readInputs(file: string, archive: FmuArchive): InputTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new FmuError('MASTER_USAGE', `--input ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const table = parseInputCsv(text, path.basename(file));
  const settable = archive.description.variables.filter((v) => v.causality === 'input' || (v.causality === 'parameter' && v.variability === 'tunable'));
  for (const name of table.names) {
    if (!settable.some((v) => v.name === name)) {
      throw new FmuError('MASTER_USAGE', `${path.basename(file)}: column "${name}" is not an input of ${archive.description.modelName}; its inputs are ${settable.map((v) => v.name).join(', ') || '(none)'}`);
    }
  }
  return {
    time: table.time,
    columns: Object.fromEntries(table.names.map((name) => [`${MEMBER}.${name}`, table.columns[name]!])),
  };
}

async function info(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    console.log(USAGE);
    return 0;
  }
  if (argv.length !== 1) throw new UsageError('info: which .fmu file?');
  const archive = await openFmu(argv[0]!);
  const d = archive.description;
  const lines = [
    `${path.basename(archive.file)}: ${d.modelName} (FMI ${d.fmiVersionText})`,
    ...(d.description ? [`  ${d.description}`] : []),
    `  interfaces: ${[d.coSimulation && 'Co-Simulation', d.modelExchange && 'Model Exchange', d.scheduledExecution && 'Scheduled Execution'].filter(Boolean).join(', ')}`,
    `  binaries: ${archive.platforms.join(', ') || '(none)'}`,
  ];
  if (d.coSimulation) {
    const cs = d.coSimulation;
    const flags = Object.entries(cs).filter(([, v]) => v === true).map(([k]) => k);
    lines.push(`  modelIdentifier: ${cs.modelIdentifier}`, `  capabilities: ${flags.join(', ') || '(none)'}`);
  }
  const experiment = Object.entries(d.defaultExperiment).map(([k, v]) => `${k}=${v}`).join(' ');
  lines.push(`  default experiment: ${experiment || '(none)'}`, '', '  variables:');
  for (const v of d.variables) {
    if (v.causality === 'local' || v.causality === 'independent') continue;
    const start = v.start === undefined ? '' : ` start=${Array.isArray(v.start) ? `[${v.start.join(' ')}]` : v.start instanceof Uint8Array ? Buffer.from(v.start).toString('hex') : String(v.start)}`;
    const dims = v.dimensions ? `[${v.dimensions.map((x) => x.start ?? '?').join(',')}]` : '';
    lines.push(`    ${v.causality.padEnd(10)} ${`${v.name}${dims}`.padEnd(24)} ${v.type.padEnd(8)} ${(v.unit ?? '').padEnd(8)} ${v.variability}${start}`);
  }
  console.log(lines.join('\n'));
  return 0;
}

export const command: Subcommand = {
  summary: 'simulate an FMU or show its variables (FMI 2.0/3.0 Co-Simulation)',
  async run(argv: string[]): Promise<number> {
    const [action, ...rest] = argv;
    try {
      if (!action || action === '--help' || action === '-h') {
        console.log(USAGE);
        return action ? 0 : 2;
      }
      if (action === 'simulate') return await simulate(rest);
      if (action === 'info') return await info(rest);
      throw new UsageError(`unknown action "${action}": use simulate or info`);
    } catch (err) {
      if (err instanceof UsageError) {
        console.error(`twinflow fmu: ${err.message}\nRun \`twinflow fmu --help\` for the options.`);
        return 2;
      }
      const code = err instanceof FmuError ? ` [${err.code}]` : '';
      console.error(`twinflow fmu: ${err instanceof Error ? err.message : String(err)}${code}`);
      return 1;
    }
  },
};
