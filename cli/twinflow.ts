#!/usr/bin/env node
// The `twinflow` command: one module per subcommand, loaded only when asked for.

export interface Subcommand {
  summary: string;
  run(argv: string[]): Promise<number>;
}

const subcommands: Record<string, () => Subcommand> = {
  plant: () => require('./plant').command,
  dtdl: () => require('./dtdl').command,
  fmu: () => require('./fmu').command,
  audit: () => require('./audit').command,
};

function usage(): string {
  const lines = Object.entries(subcommands).map(([name, load]) => `  twinflow ${name.padEnd(8)} ${load().summary}`);
  return ['Usage: twinflow <command> [options]', '', 'Commands:', ...lines, '', 'Run `twinflow <command> --help` for its options.'].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const load = subcommands[name];
  if (!load) {
    console.error(`twinflow: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return load().run(rest);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    console.error(`twinflow: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
