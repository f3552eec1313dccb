// Tokens of the query language, each with its offset in the text so errors can name a column.

import { TwinError, type TwinErrorCode } from '../errors';

export type TokenType = 'ident' | 'string' | 'number' | 'punct' | 'end';

export interface Token {
  type: TokenType;
  /** Identifier or punctuation text as written; a string's or number's value as text. */
  text: string;
  /** For numbers and strings: the value. */
  value?: string | number;
  /** Offset in the query text. */
  pos: number;
}

/** 1-based line and column of an offset. */
export function lineColumn(text: string, pos: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: pos - start + 1 };
}

/** "(column 27)", or "(line 2, column 5)" in a query of several lines. */
export function where(text: string, pos: number): string {
  const { line, column } = lineColumn(text, pos);
  return text.includes('\n') ? `(line ${line}, column ${column})` : `(column ${column})`;
}

export function queryError(code: TwinErrorCode, text: string, pos: number, message: string, hint?: string): TwinError {
  const { line, column } = lineColumn(text, pos);
  return new TwinError(code, `${message} ${where(text, pos)}${hint ? `; ${hint}` : ''}`, { line, column });
}

const PUNCT2 = new Set(['!=', '<>', '<=', '>=', '->', '..']);
const PUNCT1 = new Set(['@', '(', ')', '[', ']', ',', '.', '*', '=', '<', '>', '-', ':', '|', '+', '/', '%', '{', '}', ';']);

function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c === '$';
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

export function tokenize(text: string): Token[] {
  if (typeof text !== 'string') throw new TwinError('query-syntax', 'a query must be a text');
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (isIdentStart(c)) {
      i++;
      while (i < text.length && (isIdentStart(text[i] as string) || isDigit(text[i]))) i++;
      tokens.push({ type: 'ident', text: text.slice(start, i), pos: start });
      continue;
    }
    if (isDigit(c)) {
      while (isDigit(text[i])) i++;
      // "1..3" is a hop range: a dot followed by another dot is not a decimal point.
      if (text[i] === '.' && isDigit(text[i + 1])) {
        i++;
        while (isDigit(text[i])) i++;
      }
      if ((text[i] === 'e' || text[i] === 'E') && (isDigit(text[i + 1]) || ((text[i + 1] === '+' || text[i + 1] === '-') && isDigit(text[i + 2])))) {
        i += 2;
        while (isDigit(text[i])) i++;
      }
      const raw = text.slice(start, i);
      tokens.push({ type: 'number', text: raw, value: Number(raw), pos: start });
      continue;
    }
    if (c === "'" || c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw queryError('query-syntax', text, start, 'the text starting here has no closing quote');
        const d = text[i] as string;
        if (d === '\\' && i + 1 < text.length) {
          value += text[i + 1];
          i += 2;
          continue;
        }
        i++;
        if (d === c) break;
        value += d;
      }
      tokens.push({ type: 'string', text: text.slice(start, i), value, pos: start });
      continue;
    }
    const two = text.slice(i, i + 2);
    if (PUNCT2.has(two)) {
      tokens.push({ type: 'punct', text: two, pos: start });
      i += 2;
      continue;
    }
    if (PUNCT1.has(c)) {
      tokens.push({ type: 'punct', text: c, pos: start });
      i++;
      continue;
    }
    throw queryError('query-syntax', text, start, `unexpected character ${JSON.stringify(c)}`);
  }
  tokens.push({ type: 'end', text: '', pos: text.length });
  return tokens;
}
