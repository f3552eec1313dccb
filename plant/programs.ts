// The built-in part programs of the simulated CNC machine. Each program is a fixed sequence of
// segments; a segment sets the spindle speed, the cutting load and where the axes head for.

export interface AxisTarget {
  /** mm */
  x: number;
  /** mm */
  y: number;
  /** mm; the workpiece top is at about 50, the tool change height at 250 */
  z: number;
}

export interface ProgramSegment {
  name: string;
  /** simulated seconds the segment lasts (program time, not waiting for the axes) */
  durationSeconds: number;
  /** spindle speed setpoint written at the start of the segment, rpm */
  spindleSpeed: number;
  /** cutting load as a fraction of the rated spindle torque, 0..1 */
  cuttingLoad: number;
  target: AxisTarget;
  /** path feed rate toward the target, mm/s */
  feedRate: number;
}

export interface MachiningProgram {
  id: string;
  description: string;
  segments: readonly ProgramSegment[];
}

/** Where the axes park: above the table, clear of the workpiece. */
export const HOME_POSITION: Readonly<AxisTarget> = Object.freeze({ x: 0, y: 0, z: 250 });

const RAPID_FEED = 150;

function roughing(): MachiningProgram {
  const speed = 8000;
  return {
    id: 'P1000',
    description: 'roughing a pocket: three heavy passes at 8000 rpm',
    segments: [
      { name: 'rapid to start', durationSeconds: 4, spindleSpeed: speed, cuttingLoad: 0, target: { x: 50, y: 50, z: 60 }, feedRate: RAPID_FEED },
      { name: 'plunge', durationSeconds: 3, spindleSpeed: speed, cuttingLoad: 0.35, target: { x: 50, y: 50, z: 40 }, feedRate: 8 },
      { name: 'pass 1', durationSeconds: 14, spindleSpeed: speed, cuttingLoad: 0.7, target: { x: 350, y: 50, z: 40 }, feedRate: 22 },
      { name: 'step over 1', durationSeconds: 3, spindleSpeed: speed, cuttingLoad: 0.45, target: { x: 350, y: 110, z: 40 }, feedRate: 20 },
      { name: 'pass 2', durationSeconds: 14, spindleSpeed: speed, cuttingLoad: 0.75, target: { x: 50, y: 110, z: 40 }, feedRate: 22 },
      { name: 'step over 2', durationSeconds: 3, spindleSpeed: speed, cuttingLoad: 0.45, target: { x: 50, y: 170, z: 40 }, feedRate: 20 },
      { name: 'pass 3', durationSeconds: 14, spindleSpeed: speed, cuttingLoad: 0.8, target: { x: 350, y: 170, z: 40 }, feedRate: 22 },
      { name: 'retract', durationSeconds: 3, spindleSpeed: speed, cuttingLoad: 0, target: { x: 350, y: 170, z: 120 }, feedRate: 50 },
      { name: 'return home', durationSeconds: 5, spindleSpeed: 0, cuttingLoad: 0, target: { ...HOME_POSITION }, feedRate: RAPID_FEED },
    ],
  };
}

function finishing(): MachiningProgram {
  const speed = 11000;
  return {
    id: 'P2000',
    description: 'finishing the contour and floor: light cuts at 11000 rpm',
    segments: [
      { name: 'rapid to start', durationSeconds: 4, spindleSpeed: speed, cuttingLoad: 0, target: { x: 40, y: 40, z: 45 }, feedRate: RAPID_FEED },
      { name: 'contour 1', durationSeconds: 12, spindleSpeed: speed, cuttingLoad: 0.25, target: { x: 360, y: 40, z: 45 }, feedRate: 30 },
      { name: 'contour 2', durationSeconds: 10, spindleSpeed: speed, cuttingLoad: 0.25, target: { x: 360, y: 200, z: 45 }, feedRate: 30 },
      { name: 'contour 3', durationSeconds: 12, spindleSpeed: speed, cuttingLoad: 0.3, target: { x: 40, y: 200, z: 45 }, feedRate: 30 },
      { name: 'contour 4', durationSeconds: 10, spindleSpeed: speed, cuttingLoad: 0.25, target: { x: 40, y: 40, z: 45 }, feedRate: 30 },
      { name: 'floor pass', durationSeconds: 10, spindleSpeed: speed, cuttingLoad: 0.2, target: { x: 360, y: 120, z: 40 }, feedRate: 35 },
      { name: 'retract', durationSeconds: 3, spindleSpeed: speed, cuttingLoad: 0, target: { x: 360, y: 120, z: 120 }, feedRate: 50 },
      { name: 'return home', durationSeconds: 5, spindleSpeed: 0, cuttingLoad: 0, target: { ...HOME_POSITION }, feedRate: RAPID_FEED },
    ],
  };
}

function drilling(): MachiningProgram {
  const speed = 3000;
  const holes: Array<[number, number]> = [[100, 100], [300, 100], [300, 300], [100, 300]];
  const segments: ProgramSegment[] = [];
  holes.forEach(([x, y], index) => {
    const hole = index + 1;
    segments.push(
      { name: `position hole ${hole}`, durationSeconds: 3, spindleSpeed: speed, cuttingLoad: 0, target: { x, y, z: 60 }, feedRate: RAPID_FEED },
      { name: `drill hole ${hole}`, durationSeconds: 4, spindleSpeed: speed, cuttingLoad: 0.6, target: { x, y, z: 20 }, feedRate: 10 },
      { name: `retract hole ${hole}`, durationSeconds: 2, spindleSpeed: speed, cuttingLoad: 0.05, target: { x, y, z: 60 }, feedRate: 40 },
    );
  });
  segments.push({ name: 'return home', durationSeconds: 5, spindleSpeed: 0, cuttingLoad: 0, target: { ...HOME_POSITION }, feedRate: RAPID_FEED });
  return { id: 'P3000', description: 'drilling four holes at 3000 rpm', segments };
}

/** The program catalog, by id. */
export const PROGRAMS: Readonly<Record<string, MachiningProgram>> = Object.freeze({
  P1000: roughing(),
  P2000: finishing(),
  P3000: drilling(),
});

export const PROGRAM_IDS: readonly string[] = Object.freeze(Object.keys(PROGRAMS));

/** Total program time in simulated seconds. */
export function programDuration(program: MachiningProgram): number {
  return program.segments.reduce((sum, segment) => sum + segment.durationSeconds, 0);
}
