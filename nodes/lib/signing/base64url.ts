// Strict base64url (RFC 4648 §5, no padding), as JWS uses it. Buffer's decoder skips characters it
// does not know and ignores spare bits, so one text could stand for the same bytes in several ways;
// decoding here accepts only the one canonical text of each byte string.

const ALPHABET = /^[A-Za-z0-9_-]*$/;

export function encodeBase64url(bytes: Uint8Array | string): string {
  return (typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('base64url');
}

/** The bytes of `text`, or undefined when it is not canonical unpadded base64url. */
export function decodeBase64url(text: string): Buffer | undefined {
  if (!ALPHABET.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}
