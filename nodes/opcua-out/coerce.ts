// Turns a JavaScript value from a message into an OPC UA Variant of the server's DataType, refusing
// values that do not fit (a fraction for an Int16, 70000 for a UInt16, "yes" for a Boolean) rather
// than letting the server guess or truncate.
import { DataType, Variant, VariantArrayType } from 'node-opcua';

/** What the server says a variable (or a method argument) holds. */
export interface TargetType {
  dataType: DataType;
  /** -1 scalar, 1 one-dimensional array, >1 matrix; -2/-3/0 "scalar or array" (see OPC UA Part 3, ValueRank). */
  valueRank: number;
}

const INTEGER_RANGES: Partial<Record<DataType, [number, number]>> = {
  [DataType.SByte]: [-128, 127],
  [DataType.Byte]: [0, 255],
  [DataType.Int16]: [-32768, 32767],
  [DataType.UInt16]: [0, 65535],
  [DataType.Int32]: [-2147483648, 2147483647],
  [DataType.UInt32]: [0, 4294967295],
  [DataType.Int64]: [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  [DataType.UInt64]: [0, Number.MAX_SAFE_INTEGER],
};

export class CoercionError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'CoercionError';
  }
}

function scalar(value: unknown, dataType: DataType, field: string): unknown {
  const typeName = DataType[dataType] ?? `DataType ${dataType}`;
  const range = INTEGER_RANGES[dataType];
  if (range) {
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n)) throw new CoercionError(field, `${JSON.stringify(value)} is not a whole number (${typeName})`);
    if (n < range[0] || n > range[1]) throw new CoercionError(field, `${n} is outside the ${typeName} range ${range[0]}..${range[1]}`);
    // node-opcua carries 64-bit integers as [high, low] 32-bit words.
    if (dataType === DataType.Int64 || dataType === DataType.UInt64) return [Math.floor(n / 2 ** 32), n >>> 0];
    return n;
  }
  switch (dataType) {
    case DataType.Float:
    case DataType.Double: {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n)) throw new CoercionError(field, `${JSON.stringify(value)} is not a finite number (${typeName})`);
      if (dataType === DataType.Float && Math.abs(n) > 3.4028234663852886e38) throw new CoercionError(field, `${n} is outside the Float range`);
      return n;
    }
    case DataType.Boolean:
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      throw new CoercionError(field, `${JSON.stringify(value)} is not a Boolean (true or false)`);
    case DataType.String:
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      throw new CoercionError(field, `${JSON.stringify(value)} is not a String`);
    case DataType.DateTime: {
      const date = value instanceof Date ? value : typeof value === 'string' || typeof value === 'number' ? new Date(value) : undefined;
      if (!date || Number.isNaN(date.getTime())) throw new CoercionError(field, `${JSON.stringify(value)} is not a date (ISO 8601 text or ms since the epoch)`);
      return date;
    }
    case DataType.ByteString:
      if (Buffer.isBuffer(value)) return value;
      if (typeof value === 'string') return Buffer.from(value, 'base64');
      throw new CoercionError(field, `${JSON.stringify(value)} is not a ByteString (a Buffer or base64 text)`);
    case DataType.LocalizedText:
      if (typeof value === 'string') return { text: value };
      if (typeof value === 'object' && value !== null && 'text' in value) return value;
      throw new CoercionError(field, `${JSON.stringify(value)} is not a LocalizedText`);
    case DataType.NodeId:
    case DataType.Guid:
    case DataType.QualifiedName:
      if (typeof value === 'string') return value;
      throw new CoercionError(field, `${JSON.stringify(value)} is not a ${typeName} in text form`);
    default:
      throw new CoercionError(field, `writing ${typeName} values is not supported`);
  }
}

/** A Variant of the target type holding `value`, or a CoercionError naming the field and the rule. */
export function toVariant(value: unknown, target: TargetType, field: string): Variant {
  const wantsArray = target.valueRank >= 1;
  const allowsArray = wantsArray || target.valueRank === 0 || target.valueRank === -2;
  if (Array.isArray(value) || (ArrayBuffer.isView(value) && !Buffer.isBuffer(value))) {
    if (!allowsArray) throw new CoercionError(field, `the variable holds one ${DataType[target.dataType]}, not an array`);
    const items = Array.from(value as ArrayLike<unknown>).map((v, i) => scalar(v, target.dataType, `${field}[${i}]`));
    return new Variant({ dataType: target.dataType, arrayType: VariantArrayType.Array, value: items });
  }
  if (wantsArray) throw new CoercionError(field, `the variable holds an array of ${DataType[target.dataType]}; send an array`);
  return new Variant({ dataType: target.dataType, value: scalar(value, target.dataType, field) });
}
