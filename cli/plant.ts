// `twinflow plant`: the simulated CNC machine on its own. Implemented in plant/cli.ts.
import type { Subcommand } from './twinflow';
export const command: Subcommand = {
  summary: 'serve the simulated CNC machine over OPC UA',
  run: (argv) => require('../plant/cli').runPlant(argv),
};
