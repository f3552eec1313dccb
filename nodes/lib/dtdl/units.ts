// Semantic types, unit types and units: native in DTDL v2 ("Semantic types" table of the v2
// specification) and defined by the QuantitativeTypes extension for v3 (v1) and v4 (v2).

/** Units of each unit type in QuantitativeTypes v1 and v2 (the two versions define the same table). */
const QT_UNIT_TYPES: Readonly<Record<string, readonly string[]>> = {
  AccelerationUnit: ['centimetrePerSecondSquared', 'gForce', 'metrePerSecondSquared'],
  AngleUnit: ['degreeOfArc', 'minuteOfArc', 'radian', 'secondOfArc', 'turn'],
  AngularAccelerationUnit: ['radianPerSecondSquared'],
  AngularVelocityUnit: ['degreePerSecond', 'radianPerSecond', 'revolutionPerMinute', 'revolutionPerSecond'],
  ApparentEnergyUnit: ['gigavoltAmpereHour', 'kilovoltAmpereHour', 'megavoltAmpereHour', 'voltAmpereHour'],
  ApparentPowerUnit: ['gigavoltAmpere', 'kilovoltAmpere', 'megavoltAmpere', 'millivoltAmpere', 'voltAmpere'],
  AreaUnit: ['acre', 'hectare', 'squareCentimetre', 'squareFoot', 'squareInch', 'squareKilometre', 'squareMetre', 'squareMillimetre'],
  CapacitanceUnit: ['farad', 'microfarad', 'millifarad', 'nanofarad', 'picofarad'],
  ChargeUnit: ['ampereHour', 'coulomb', 'milliampereHour'],
  CurrentUnit: ['ampere', 'kiloampere', 'microampere', 'milliampere'],
  DataRateUnit: [
    'bitPerSecond', 'bytePerSecond', 'exbibitPerSecond', 'exbibytePerSecond', 'gibibitPerSecond', 'gibibytePerSecond',
    'kibibitPerSecond', 'kibibytePerSecond', 'mebibitPerSecond', 'mebibytePerSecond', 'tebibitPerSecond', 'tebibytePerSecond',
    'yobibitPerSecond', 'yobibytePerSecond', 'zebibitPerSecond', 'zebibytePerSecond',
  ],
  DataSizeUnit: [
    'bit', 'byte', 'exbibit', 'exbibyte', 'gibibit', 'gibibyte', 'kibibit', 'kibibyte', 'mebibit', 'mebibyte', 'tebibit',
    'tebibyte', 'yobibit', 'yobibyte', 'zebibit', 'zebibyte',
  ],
  DensityUnit: ['gramPerCubicMetre', 'kilogramPerCubicMetre', 'microgramPerCubicMetre', 'milligramPerCubicMetre'],
  EnergyUnit: [
    'britishThermalUnit', 'electronvolt', 'gigajoule', 'gigawattHour', 'joule', 'kiloBritishThermalUnit', 'kilojoule',
    'kilowattHour', 'megaelectronvolt', 'megajoule', 'megawattHour', 'milliwattHour', 'terawattHour', 'wattHour',
  ],
  ForceUnit: ['newton', 'ounce', 'pound', 'ton'],
  FrequencyUnit: ['gigahertz', 'hertz', 'kilohertz', 'megahertz', 'millihertz'],
  IlluminanceUnit: ['footcandle', 'lux'],
  InductanceUnit: ['henry', 'microhenry', 'millihenry'],
  IonizingRadiationDoseUnit: ['gray', 'microgray', 'microsievert', 'milligray', 'millisievert', 'sievert'],
  IrradianceUnit: ['wattPerSquareMetre'],
  LengthUnit: [
    'astronomicalUnit', 'centimetre', 'foot', 'inch', 'kilometre', 'metre', 'micrometre', 'mile', 'millimetre', 'nanometre',
    'nauticalMile',
  ],
  LuminanceUnit: ['candelaPerSquareMetre'],
  LuminousFluxUnit: ['lumen'],
  LuminousIntensityUnit: ['candela'],
  MagneticFluxUnit: ['maxwell', 'weber'],
  MagneticInductionUnit: ['gauss', 'tesla'],
  MassFlowRateUnit: ['gramPerHour', 'gramPerSecond', 'kilogramPerHour', 'kilogramPerSecond', 'massPoundPerHour'],
  MassUnit: ['gram', 'kilogram', 'massPound', 'microgram', 'milligram', 'slug', 'tonne'],
  PowerUnit: [
    'britishThermalUnitPerHour', 'gigajoulePerHour', 'gigawatt', 'horsepower', 'joulePerHour', 'joulePerSecond',
    'kiloBritishThermalUnitPerHour', 'kilojoulePerHour', 'kilojoulePerSecond', 'kilowatt', 'kilowattHourPerYear',
    'megajoulePerHour', 'megawatt', 'microwatt', 'milliwatt', 'tonOfRefrigeration', 'watt',
  ],
  PressureUnit: [
    'bar', 'decapascal', 'hectopascal', 'inchesOfMercury', 'inchesOfWater', 'kilopascal', 'millibar', 'millimetresOfMercury',
    'pascal', 'poundPerSquareInch',
  ],
  RadioactivityUnit: ['becquerel', 'gigabecquerel', 'kilobecquerel', 'megabecquerel'],
  ReactiveEnergyUnit: ['gigavoltAmpereReactiveHour', 'kilovoltAmpereReactiveHour', 'megavoltAmpereReactiveHour', 'voltAmpereReactiveHour'],
  ReactivePowerUnit: ['gigavoltAmpereReactive', 'kilovoltAmpereReactive', 'megavoltAmpereReactive', 'millivoltAmpereReactive', 'voltAmpereReactive'],
  ResistanceUnit: ['kiloohm', 'megaohm', 'milliohm', 'ohm'],
  SoundPressureUnit: ['bel', 'decibel'],
  TemperatureUnit: ['degreeCelsius', 'degreeFahrenheit', 'kelvin'],
  TimeUnit: ['day', 'hour', 'microsecond', 'millisecond', 'minute', 'nanosecond', 'second', 'year'],
  TorqueUnit: ['newtonMetre'],
  Unitless: ['partsPerBillion', 'partsPerMillion', 'partsPerQuadrillion', 'partsPerTrillion', 'percent', 'unity'],
  VelocityUnit: [
    'centimetrePerSecond', 'kilometrePerHour', 'kilometrePerSecond', 'knot', 'metrePerHour', 'metrePerSecond', 'milePerHour',
    'milePerSecond',
  ],
  VoltageUnit: ['kilovolt', 'megavolt', 'microvolt', 'millivolt', 'volt'],
  VolumeFlowRateUnit: [
    'cubicFootPerMinute', 'cubicMetrePerHour', 'cubicMetrePerMinute', 'cubicMetrePerSecond', 'gallonPerHour', 'gallonPerMinute',
    'litrePerHour', 'litrePerMinute', 'litrePerSecond', 'millilitrePerHour', 'millilitrePerMinute', 'millilitrePerSecond',
  ],
  VolumeUnit: ['cubicCentimetre', 'cubicFoot', 'cubicInch', 'cubicMetre', 'fluidOunce', 'gallon', 'litre', 'millilitre'],
};

/** Semantic type -> unit type, QuantitativeTypes v1/v2. */
const QT_SEMANTIC_TYPES: Readonly<Record<string, string>> = {
  Acceleration: 'AccelerationUnit',
  Angle: 'AngleUnit',
  AngularAcceleration: 'AngularAccelerationUnit',
  AngularVelocity: 'AngularVelocityUnit',
  ApparentEnergy: 'ApparentEnergyUnit',
  ApparentPower: 'ApparentPowerUnit',
  Area: 'AreaUnit',
  Capacitance: 'CapacitanceUnit',
  Concentration: 'Unitless',
  Current: 'CurrentUnit',
  DataRate: 'DataRateUnit',
  DataSize: 'DataSizeUnit',
  Density: 'DensityUnit',
  Distance: 'LengthUnit',
  ElectricCharge: 'ChargeUnit',
  Energy: 'EnergyUnit',
  EnergyRate: 'PowerUnit',
  Force: 'ForceUnit',
  Frequency: 'FrequencyUnit',
  Humidity: 'DensityUnit',
  Illuminance: 'IlluminanceUnit',
  Inductance: 'InductanceUnit',
  IonizingRadiationDose: 'IonizingRadiationDoseUnit',
  Irradiance: 'IrradianceUnit',
  Latitude: 'AngleUnit',
  Length: 'LengthUnit',
  Longitude: 'AngleUnit',
  Luminance: 'LuminanceUnit',
  Luminosity: 'PowerUnit',
  LuminousFlux: 'LuminousFluxUnit',
  LuminousIntensity: 'LuminousIntensityUnit',
  MagneticFlux: 'MagneticFluxUnit',
  MagneticInduction: 'MagneticInductionUnit',
  Mass: 'MassUnit',
  MassFlowRate: 'MassFlowRateUnit',
  Power: 'PowerUnit',
  Pressure: 'PressureUnit',
  Radioactivity: 'RadioactivityUnit',
  ReactiveEnergy: 'ReactiveEnergyUnit',
  ReactivePower: 'ReactivePowerUnit',
  RelativeDensity: 'Unitless',
  RelativeHumidity: 'Unitless',
  Resistance: 'ResistanceUnit',
  SoundPressure: 'SoundPressureUnit',
  Temperature: 'TemperatureUnit',
  Thrust: 'ForceUnit',
  TimeSpan: 'TimeUnit',
  Torque: 'TorqueUnit',
  Velocity: 'VelocityUnit',
  Voltage: 'VoltageUnit',
  Volume: 'VolumeUnit',
  VolumeFlowRate: 'VolumeFlowRateUnit',
};

/** DTDL v2's native table: fewer units than QuantitativeTypes, and no unit-type schemas. */
const V2_SEMANTIC_UNITS: Readonly<Record<string, readonly string[]>> = (() => {
  const angle = ['degreeOfArc', 'minuteOfArc', 'radian', 'secondOfArc', 'turn'];
  const length = QT_UNIT_TYPES['LengthUnit'] ?? [];
  const force = ['newton', 'ounce', 'pound', 'ton'];
  const power = ['gigawatt', 'horsepower', 'kilowatt', 'kilowattHourPerYear', 'megawatt', 'microwatt', 'milliwatt', 'watt'];
  const density = ['gramPerCubicMetre', 'kilogramPerCubicMetre'];
  return {
    Acceleration: ['centimetrePerSecondSquared', 'gForce', 'metrePerSecondSquared'],
    Angle: angle,
    AngularAcceleration: ['radianPerSecondSquared'],
    AngularVelocity: ['degreePerSecond', 'radianPerSecond', 'revolutionPerMinute', 'revolutionPerSecond'],
    Area: QT_UNIT_TYPES['AreaUnit'] ?? [],
    Capacitance: QT_UNIT_TYPES['CapacitanceUnit'] ?? [],
    Current: ['ampere', 'microampere', 'milliampere'],
    DataRate: QT_UNIT_TYPES['DataRateUnit'] ?? [],
    DataSize: QT_UNIT_TYPES['DataSizeUnit'] ?? [],
    Density: density,
    Distance: length,
    ElectricCharge: ['coulomb'],
    Energy: ['electronvolt', 'gigajoule', 'joule', 'kilojoule', 'kilowattHour', 'megaelectronvolt', 'megajoule'],
    Force: force,
    Frequency: ['gigahertz', 'hertz', 'kilohertz', 'megahertz'],
    Humidity: density,
    Illuminance: ['footcandle', 'lux'],
    Inductance: ['henry', 'microhenry', 'millihenry'],
    Latitude: angle,
    Length: length,
    Longitude: angle,
    Luminance: ['candelaPerSquareMetre'],
    Luminosity: power,
    LuminousFlux: ['lumen'],
    LuminousIntensity: ['candela'],
    MagneticFlux: ['maxwell', 'weber'],
    MagneticInduction: ['tesla'],
    Mass: ['gram', 'kilogram', 'microgram', 'milligram', 'slug', 'tonne'],
    MassFlowRate: ['gramPerHour', 'gramPerSecond', 'kilogramPerHour', 'kilogramPerSecond'],
    Power: power,
    Pressure: ['bar', 'inchesOfMercury', 'inchesOfWater', 'kilopascal', 'millibar', 'millimetresOfMercury', 'pascal', 'poundPerSquareInch'],
    RelativeHumidity: ['percent', 'unity'],
    Resistance: ['kiloohm', 'megaohm', 'milliohm', 'ohm'],
    SoundPressure: ['bel', 'decibel'],
    Temperature: ['degreeCelsius', 'degreeFahrenheit', 'kelvin'],
    Thrust: force,
    TimeSpan: QT_UNIT_TYPES['TimeUnit'] ?? [],
    Torque: ['newtonMetre'],
    Velocity: QT_UNIT_TYPES['VelocityUnit'] ?? [],
    Voltage: ['kilovolt', 'megavolt', 'microvolt', 'millivolt', 'volt'],
    Volume: QT_UNIT_TYPES['VolumeUnit'] ?? [],
    VolumeFlowRate: ['litrePerHour', 'litrePerSecond', 'millilitrePerHour', 'millilitrePerSecond'],
  };
})();

const V2_UNIT_TYPE_NAMES = [
  'AccelerationUnit', 'AngleUnit', 'AngularAccelerationUnit', 'AngularVelocityUnit', 'AreaUnit', 'CapacitanceUnit', 'ChargeUnit',
  'CurrentUnit', 'DataRateUnit', 'DataSizeUnit', 'DensityUnit', 'EnergyUnit', 'ForceUnit', 'FrequencyUnit', 'IlluminanceUnit',
  'InductanceUnit', 'LengthUnit', 'LuminanceUnit', 'LuminousFluxUnit', 'LuminousIntensityUnit', 'MagneticFluxUnit',
  'MagneticInductionUnit', 'MassFlowRateUnit', 'MassUnit', 'PowerUnit', 'PressureUnit', 'ResistanceUnit', 'SoundPressureUnit',
  'TemperatureUnit', 'TimeUnit', 'TorqueUnit', 'Unitless', 'VelocityUnit', 'VoltageUnit', 'VolumeFlowRateUnit', 'VolumeUnit',
];

/** A vocabulary of semantic types and the units each accepts, with the DTMI spellings of both. */
export interface QuantityVocabulary {
  /** Where the vocabulary comes from, for messages: "DTDL v2" or "QuantitativeTypes v1". */
  readonly source: string;
  /** Semantic type term -> accepted unit terms. */
  readonly unitsBySemanticType: ReadonlyMap<string, readonly string[]>;
  /** Semantic type term -> unit type term (e.g. Temperature -> TemperatureUnit). */
  readonly unitTypeBySemanticType: ReadonlyMap<string, string>;
  /** Unit type term -> unit terms; unit types are usable as schemas in QuantitativeTypes. */
  readonly unitsByUnitType: ReadonlyMap<string, readonly string[]>;
  /** DTMI spelling of a semantic type, or undefined if `dtmi` names none. */
  semanticTypeOfDtmi(dtmi: string): string | undefined;
  /** Unit term of a unit spelt as a term or a DTMI, or undefined. */
  unitTerm(text: string): string | undefined;
  /** Unit type term of a schema spelt as a term or a DTMI, or undefined (QuantitativeTypes only). */
  unitTypeTerm(text: string): string | undefined;
  /** DTMI spelling of the `unit` member name. */
  readonly unitPropertyDtmi: string;
}

function quantitativeTypes(version: 1 | 2): QuantityVocabulary {
  const prefix = `dtmi:dtdl:extension:quantitativeTypes:v${version}`;
  const unitTypeBySemanticType = new Map(Object.entries(QT_SEMANTIC_TYPES));
  const unitsByUnitType = new Map<string, readonly string[]>(Object.entries(QT_UNIT_TYPES));
  unitsByUnitType.set('EnergyRateUnit', QT_UNIT_TYPES['PowerUnit'] ?? []);
  const unitsBySemanticType = new Map<string, readonly string[]>();
  for (const [semantic, unitType] of unitTypeBySemanticType) unitsBySemanticType.set(semantic, QT_UNIT_TYPES[unitType] ?? []);
  const allUnits = new Set([...unitsByUnitType.values()].flat());
  return {
    source: `QuantitativeTypes v${version}`,
    unitsBySemanticType,
    unitTypeBySemanticType,
    unitsByUnitType,
    semanticTypeOfDtmi: (dtmi) => {
      const term = dtmi.startsWith(`${prefix}:class:`) ? dtmi.slice(prefix.length + 7) : undefined;
      return term !== undefined && unitTypeBySemanticType.has(term) ? term : undefined;
    },
    unitTerm: (text) => {
      const term = text.startsWith(`${prefix}:unit:`) ? text.slice(prefix.length + 6) : text;
      return allUnits.has(term) ? term : undefined;
    },
    unitTypeTerm: (text) => {
      const term = text.startsWith(`${prefix}:enum:`) ? text.slice(prefix.length + 6) : text;
      return unitsByUnitType.has(term) ? term : undefined;
    },
    unitPropertyDtmi: `${prefix}:property:unit`,
  };
}

function v2Native(): QuantityVocabulary {
  const unitsBySemanticType = new Map(Object.entries(V2_SEMANTIC_UNITS));
  const allUnits = new Set([...unitsBySemanticType.values()].flat());
  const unitTypeBySemanticType = new Map<string, string>();
  for (const [semantic, unitType] of Object.entries(QT_SEMANTIC_TYPES)) {
    if (unitsBySemanticType.has(semantic)) unitTypeBySemanticType.set(semantic, unitType);
  }
  return {
    source: 'DTDL v2',
    unitsBySemanticType,
    unitTypeBySemanticType,
    unitsByUnitType: new Map(),
    semanticTypeOfDtmi: (dtmi) => {
      const match = /^dtmi:standard:class:([A-Za-z]+);2$/.exec(dtmi);
      return match && unitsBySemanticType.has(match[1] ?? '') ? match[1] : undefined;
    },
    unitTerm: (text) => {
      const match = /^dtmi:standard:unit:([A-Za-z]+);2$/.exec(text);
      const term = match ? (match[1] ?? '') : text;
      return allUnits.has(term) ? term : undefined;
    },
    unitTypeTerm: () => undefined,
    unitPropertyDtmi: 'dtmi:dtdl:property:unit;2',
  };
}

export const QUANTITATIVE_TYPES_V1 = quantitativeTypes(1);
export const QUANTITATIVE_TYPES_V2 = quantitativeTypes(2);
export const DTDL_V2_QUANTITIES = v2Native();

/** Every term of v2's native vocabulary: reserved strings in DTDL v2. */
export const V2_QUANTITY_TERMS: readonly string[] = [
  ...Object.keys(V2_SEMANTIC_UNITS),
  ...V2_UNIT_TYPE_NAMES,
  ...new Set(Object.values(V2_SEMANTIC_UNITS).flat()),
];
