// Unit conversion between connected variables, from the FMUs' own unit definitions:
// value_in_base = factor * value + offset (FMI BaseUnit), so converting from unit A to unit B is
// y = (fA * x + oA - oB) / fB, allowed only when both have the same SI exponents.
import { FmuError } from './errors';
import type { BaseUnit, ModelDescription, ModelVariable } from './model-description';

export interface Conversion {
  /** y = scale * x + offset */
  scale: number;
  offset: number;
  /** no conversion at all (bit-identical values) */
  identity: boolean;
}

const EXPONENTS = ['kg', 'm', 's', 'A', 'K', 'mol', 'cd', 'rad'] as const;
export const IDENTITY: Conversion = { scale: 1, offset: 0, identity: true };

function describeExponents(base: BaseUnit): string {
  const parts = EXPONENTS.filter((key) => base[key] !== 0).map((key) => (base[key] === 1 ? key : `${key}^${base[key]}`));
  return parts.length > 0 ? parts.join('.') : '1';
}

/**
 * The conversion for a connection from `fromVar` (in `fromFmu`) to `toVar` (in `toFmu`).
 * `where` names the connection in errors, e.g. "motor.speed -> controller.speed".
 */
export function unitConversion(
  fromFmu: ModelDescription,
  fromVar: ModelVariable,
  toFmu: ModelDescription,
  toVar: ModelVariable,
  where: string,
): Conversion {
  const fromUnit = fromVar.unit;
  const toUnit = toVar.unit;
  // Either side without a unit: nothing to check against, pass the number through.
  if (fromUnit === undefined || toUnit === undefined) return IDENTITY;
  const fromBase = fromFmu.units.get(fromUnit)?.baseUnit;
  const toBase = toFmu.units.get(toUnit)?.baseUnit;
  if (!fromBase || !toBase) {
    if (fromUnit === toUnit) return IDENTITY;
    const missing = !fromBase ? `${fromUnit} (no BaseUnit in the source FMU)` : `${toUnit} (no BaseUnit in the target FMU)`;
    throw new FmuError('MASTER_UNIT_MISMATCH', `${where}: cannot convert ${fromUnit} to ${toUnit}: ${missing}`);
  }
  const mismatch = EXPONENTS.some((key) => fromBase[key] !== toBase[key]);
  if (mismatch) {
    throw new FmuError(
      'MASTER_UNIT_MISMATCH',
      `${where}: incompatible units ${fromUnit} (${describeExponents(fromBase)}) and ${toUnit} (${describeExponents(toBase)})`,
    );
  }
  if (fromBase.factor === toBase.factor && fromBase.offset === toBase.offset) return IDENTITY;
  return {
    scale: fromBase.factor / toBase.factor,
    offset: (fromBase.offset - toBase.offset) / toBase.factor,
    identity: false,
  };
}
