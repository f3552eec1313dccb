// The query language: a subset of Azure Digital Twins' (see parser.ts for the grammar and
// evaluator.ts for the semantics).
export type * from './ast';
export { parseQuery, type ParseOptions } from './parser';
export { evaluateQuery, type QueryContext, type QueryRow } from './evaluator';
export { tokenize, type Token } from './lexer';
