// CRC-32 (IEEE, as zlib and gzip): Node's own zlib.crc32 where it exists (Node 20.15+, 22.2+),
// otherwise a table-driven fallback with the same results.
import zlib from 'node:zlib';

let table: Uint32Array | undefined;

function fallback(data: Uint8Array, initial = 0): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = (initial ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) crc = (table[(crc ^ (data[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const native = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

export const crc32: (data: Uint8Array, initial?: number) => number = native ? (data, initial = 0) => native(data, initial) : fallback;

/** The table-driven implementation, exported so tests can compare it with Node's. */
export const crc32Fallback = fallback;
