// A hand-written recursive-descent parser for the supported subset of the Azure Digital Twins query
// language. Anything outside the subset is refused with the construct and its position.
//
//   query      := SELECT [TOP '(' int ')'] selection FROM DIGITALTWINS ( [[AS] alias] | MATCH pattern ) [WHERE expr]
//   selection  := '*' | COUNT '(' ')' | item (',' item)*        item := ref [AS name]
//   pattern    := node (edge node)*                             node := '(' [var] ')'
//   edge       := '-' '[' [var] [':' name ('|' name)*] ['*' hops] ']' ('->' | '-')  |  '<' '-' '[' … ']' '-'
//   hops       := int | int '..' int | '..' int                 (1 ≤ min ≤ max ≤ maxHops)
//   expr       := and (OR and)*        and := not (AND not)*     not := NOT not | predicate
//   predicate  := operand [('=' | '!=' | '<>' | '<' | '<=' | '>' | '>=') operand | [NOT] IN list | NIN list]
//   operand    := '(' expr ')' | literal | function '(' args ')' | ref      ref := name ('.' name)*
//   functions  := IS_OF_MODEL([var,] 'dtmi'[, exact]) IS_DEFINED IS_NULL IS_BOOL IS_NUMBER IS_STRING
//                 IS_PRIMITIVE IS_OBJECT STARTSWITH ENDSWITH CONTAINS

import { TwinError } from '../errors';
import type { CompareOp, EdgePattern, Expr, FunctionName, LiteralExpr, MatchPattern, NodePattern, QueryAst, RefExpr, SelectItem, Selection, Source } from './ast';
import { queryError, tokenize, type Token } from './lexer';

export interface ParseOptions {
  /** Largest hop count a MATCH range may ask for; default 5. */
  maxHops?: number;
}

const FUNCTIONS: Record<FunctionName, { min: number; max: number }> = {
  IS_DEFINED: { min: 1, max: 1 },
  IS_NULL: { min: 1, max: 1 },
  IS_BOOL: { min: 1, max: 1 },
  IS_NUMBER: { min: 1, max: 1 },
  IS_STRING: { min: 1, max: 1 },
  IS_PRIMITIVE: { min: 1, max: 1 },
  IS_OBJECT: { min: 1, max: 1 },
  STARTSWITH: { min: 2, max: 2 },
  ENDSWITH: { min: 2, max: 2 },
  CONTAINS: { min: 2, max: 2 },
};
const SUPPORTED_FUNCTIONS = ['IS_OF_MODEL', ...Object.keys(FUNCTIONS)].join(', ');

/** Words that end a clause, so they are never taken as an alias. */
const RESERVED = new Set(['SELECT', 'FROM', 'WHERE', 'MATCH', 'JOIN', 'AND', 'OR', 'NOT', 'IN', 'NIN', 'ORDER', 'GROUP', 'BY', 'LIMIT', 'OFFSET', 'HAVING', 'UNION', 'AS', 'TOP', 'DISTINCT', 'RELATED', 'ON']);

/** Clauses of other SQL dialects people try, with what to use instead. */
const UNSUPPORTED_CLAUSES: Record<string, string | undefined> = {
  JOIN: 'use MATCH',
  ORDER: 'sort the rows after the query',
  GROUP: undefined,
  HAVING: undefined,
  LIMIT: 'use SELECT TOP(n)',
  OFFSET: undefined,
  UNION: 'run two queries',
  DISTINCT: undefined,
};

class Parser {
  private i = 0;

  constructor(
    private readonly text: string,
    private readonly tokens: Token[],
    private readonly maxHops: number,
  ) {}

  private get token(): Token {
    return this.tokens[this.i] as Token;
  }

  private peek(offset = 1): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)] as Token;
  }

  private next(): Token {
    const token = this.token;
    if (token.type !== 'end') this.i++;
    return token;
  }

  private isWord(word: string, token: Token = this.token): boolean {
    return token.type === 'ident' && token.text.toUpperCase() === word;
  }

  private isPunct(text: string, token: Token = this.token): boolean {
    return token.type === 'punct' && token.text === text;
  }

  private describe(token: Token): string {
    return token.type === 'end' ? 'the end of the query' : `"${token.text}"`;
  }

  syntax(token: Token, expected: string): TwinError {
    return queryError('query-syntax', this.text, token.pos, `expected ${expected} but found ${this.describe(token)}`);
  }

  private unsupported(token: Token, what: string, hint?: string): TwinError {
    return queryError('query-unsupported', this.text, token.pos, `${what} is not supported`, hint);
  }

  private expectWord(word: string): Token {
    if (!this.isWord(word)) throw this.syntax(this.token, word);
    return this.next();
  }

  private expectPunct(text: string, what = `"${text}"`): Token {
    if (!this.isPunct(text)) throw this.syntax(this.token, what);
    return this.next();
  }

  private name(what: string): Token {
    if (this.token.type !== 'ident') throw this.syntax(this.token, what);
    return this.next();
  }

  /** Refuses a clause of another dialect at the current token, if it is one. */
  private refuseForeignClause(): void {
    const word = this.token.type === 'ident' ? this.token.text.toUpperCase() : '';
    if (!(word in UNSUPPORTED_CLAUSES)) return;
    const label = (word === 'ORDER' || word === 'GROUP') && this.isWord('BY', this.peek()) ? `${word} BY` : word;
    throw this.unsupported(this.token, label, UNSUPPORTED_CLAUSES[word]);
  }

  parse(): QueryAst {
    this.expectWord('SELECT');
    this.refuseForeignClause();
    let top: number | undefined;
    if (this.isWord('TOP')) {
      this.next();
      this.expectPunct('(');
      const n = this.token;
      if (n.type !== 'number' || !Number.isInteger(n.value) || (n.value as number) < 1) throw this.syntax(n, 'a whole number of at least 1 in TOP(n)');
      this.next();
      top = n.value as number;
      this.expectPunct(')');
    }
    const select = this.selection();
    this.expectWord('FROM');
    const from = this.source();
    let where: Expr | undefined;
    this.refuseForeignClause();
    if (this.isWord('WHERE')) {
      this.next();
      where = this.expression();
    }
    this.refuseForeignClause();
    if (this.token.type !== 'end') throw this.syntax(this.token, where ? 'AND, OR or the end of the query' : 'WHERE or the end of the query');
    const ast: QueryAst = { text: this.text, select, from };
    if (top !== undefined) ast.top = top;
    if (where) ast.where = where;
    return ast;
  }

  private selection(): Selection {
    if (this.isPunct('*')) {
      this.next();
      return { kind: 'all' };
    }
    if (this.isWord('COUNT') && this.isPunct('(', this.peek())) {
      this.next();
      this.next();
      this.expectPunct(')', '")" (COUNT takes no argument)');
      return { kind: 'count' };
    }
    const items: SelectItem[] = [];
    for (;;) {
      const start = this.token;
      if (start.type === 'ident' && this.isPunct('(', this.peek())) throw this.unsupported(start, `${start.text.toUpperCase()}() in SELECT`, 'select *, COUNT(), variables or their properties');
      const ref = this.ref();
      let key = ref.path.length > 0 ? (ref.path[ref.path.length - 1] as string) : ref.variable;
      if (this.isWord('AS')) {
        this.next();
        key = this.name('a column name after AS').text;
      }
      if (items.some((item) => item.key === key)) throw queryError('query-syntax', this.text, start.pos, `column ${key} is selected twice`, 'name one with AS');
      items.push({ ref, key });
      if (!this.isPunct(',')) break;
      this.next();
    }
    return { kind: 'items', items };
  }

  private source(): Source {
    if (this.isWord('RELATIONSHIPS')) throw this.unsupported(this.token, 'FROM RELATIONSHIPS', 'use MATCH with a relationship variable, e.g. MATCH (a)-[r:contains]->(b)');
    this.expectWord('DIGITALTWINS');
    if (this.isWord('MATCH')) {
      this.next();
      return { kind: 'match', pattern: this.pattern() };
    }
    let alias = '';
    if (this.isWord('AS')) {
      this.next();
      alias = this.name('an alias after AS').text;
    } else if (this.token.type === 'ident' && !RESERVED.has(this.token.text.toUpperCase())) alias = this.next().text;
    if (alias !== '' && this.isWord('MATCH')) throw queryError('query-syntax', this.text, this.token.pos, 'a MATCH query names its twins in the pattern, not after DIGITALTWINS');
    return { kind: 'twins', alias };
  }

  private pattern(): MatchPattern {
    const nodes: NodePattern[] = [this.node()];
    const edges: EdgePattern[] = [];
    while (this.isPunct('-') || (this.isPunct('<') && this.isPunct('-', this.peek()))) {
      edges.push(this.edge());
      nodes.push(this.node());
    }
    return { nodes, edges };
  }

  private node(): NodePattern {
    const open = this.expectPunct('(', '"(" starting a twin of the MATCH pattern');
    let variable = '';
    if (this.token.type === 'ident') variable = this.next().text;
    this.expectPunct(')', '")" closing the twin of the MATCH pattern');
    return { variable, pos: open.pos };
  }

  private edge(): EdgePattern {
    const start = this.token;
    let incoming = false;
    if (this.isPunct('<')) {
      this.next();
      incoming = true;
    }
    this.expectPunct('-');
    this.expectPunct('[', '"[" (relationships are written -[…]->)');
    let variable = '';
    const names: string[] = [];
    if (this.token.type === 'ident') variable = this.next().text;
    if (this.isPunct(':')) {
      this.next();
      names.push(this.name('a relationship name after ":"').text);
      while (this.isPunct('|')) {
        this.next();
        names.push(this.name('a relationship name after "|"').text);
      }
    }
    let minHops = 1;
    let maxHops = 1;
    let variableLength = false;
    if (this.isPunct('*')) {
      const star = this.next();
      variableLength = true;
      ({ minHops, maxHops } = this.hops(star));
      if (variable !== '') throw this.unsupported(star, `a relationship variable (${variable}) on a variable-hop relationship`, 'bind a variable only to a single hop');
    }
    this.expectPunct(']');
    let direction: EdgePattern['direction'];
    if (this.isPunct('->')) {
      if (incoming) throw queryError('query-syntax', this.text, this.token.pos, 'a relationship cannot point both ways (<-[…]->)', 'use -[…]- for either direction');
      this.next();
      direction = 'out';
    } else {
      this.expectPunct('-', '"->" or "-" after the relationship');
      direction = incoming ? 'in' : 'both';
    }
    return { variable, names, direction, minHops, maxHops, variableLength, pos: start.pos };
  }

  private hops(star: Token): { minHops: number; maxHops: number } {
    const integer = (): number | undefined => {
      if (this.token.type !== 'number') return undefined;
      const t = this.next();
      if (!Number.isInteger(t.value)) throw this.syntax(t, 'a whole number of hops');
      return t.value as number;
    };
    const min = integer();
    let max = min;
    if (this.isPunct('..')) {
      this.next();
      max = integer();
    }
    const limit = `at most ${this.maxHops}`;
    if (max === undefined) throw queryError('query-limit', this.text, star.pos, `a hop range needs an upper limit, ${limit}`, `e.g. *1..${Math.min(3, this.maxHops)}`);
    const lower = min ?? 1;
    if (lower < 1) throw queryError('query-limit', this.text, star.pos, `a hop range starts at 1 or more, not ${lower}`);
    if (max < lower) throw queryError('query-limit', this.text, star.pos, `hop range *${lower}..${max} ends before it starts`);
    if (max > this.maxHops) throw queryError('query-limit', this.text, star.pos, `hop range *${min ?? ''}..${max} goes beyond the maximum of ${this.maxHops} hops`);
    return { minHops: lower, maxHops: max };
  }

  // ---- expressions -------------------------------------------------------------------------------

  expression(): Expr {
    const first = this.conjunction();
    if (!this.isWord('OR')) return first;
    const items = [first];
    while (this.isWord('OR')) {
      this.next();
      items.push(this.conjunction());
    }
    return { type: 'or', items, pos: first.pos };
  }

  private conjunction(): Expr {
    const first = this.negation();
    if (!this.isWord('AND')) return first;
    const items = [first];
    while (this.isWord('AND')) {
      this.next();
      items.push(this.negation());
    }
    return { type: 'and', items, pos: first.pos };
  }

  private negation(): Expr {
    if (this.isWord('NOT')) {
      const not = this.next();
      return { type: 'not', expr: this.negation(), pos: not.pos };
    }
    return this.predicate();
  }

  private predicate(): Expr {
    const left = this.operand();
    const token = this.token;
    if (token.type === 'punct' && ['=', '!=', '<>', '<', '<=', '>', '>='].includes(token.text)) {
      this.next();
      const op = (token.text === '<>' ? '!=' : token.text) as CompareOp;
      return { type: 'compare', op, left, right: this.operand(), pos: token.pos };
    }
    if (this.isWord('IN') || this.isWord('NIN') || (this.isWord('NOT') && this.isWord('IN', this.peek()))) {
      let negate = this.isWord('NIN');
      if (this.isWord('NOT')) {
        this.next();
        negate = true;
      }
      this.next();
      return { type: 'in', negate, expr: left, list: this.list(), pos: token.pos };
    }
    if (token.type === 'punct' && ['+', '-', '*', '/', '%'].includes(token.text)) throw this.unsupported(token, `arithmetic (${token.text})`);
    if (this.isWord('LIKE')) throw this.unsupported(token, 'LIKE', 'use STARTSWITH, ENDSWITH or CONTAINS');
    if (this.isWord('BETWEEN')) throw this.unsupported(token, 'BETWEEN', 'use >= and <=');
    return left;
  }

  private list(): LiteralExpr[] {
    this.expectPunct('[', '"[" starting a list of values');
    const items: LiteralExpr[] = [];
    if (!this.isPunct(']')) {
      for (;;) {
        const operand = this.operand();
        if (operand.type !== 'literal') throw queryError('query-syntax', this.text, operand.pos, 'a list holds literal values only');
        items.push(operand);
        if (!this.isPunct(',')) break;
        this.next();
      }
    }
    this.expectPunct(']', '"," or "]" in the list');
    return items;
  }

  private operand(): Expr {
    const token = this.token;
    if (this.isPunct('(')) {
      this.next();
      const inner = this.expression();
      this.expectPunct(')', '")"');
      return inner;
    }
    if (token.type === 'string') {
      this.next();
      return { type: 'literal', value: token.value as string, pos: token.pos };
    }
    if (token.type === 'number') {
      this.next();
      return { type: 'literal', value: token.value as number, pos: token.pos };
    }
    if (this.isPunct('-') && this.peek().type === 'number') {
      this.next();
      const n = this.next();
      return { type: 'literal', value: -(n.value as number), pos: token.pos };
    }
    if (token.type === 'ident') {
      const word = token.text.toUpperCase();
      if (this.isPunct('(', this.peek())) return this.call();
      if (word === 'TRUE' || word === 'FALSE') {
        this.next();
        return { type: 'literal', value: word === 'TRUE', pos: token.pos };
      }
      if (word === 'NULL') {
        this.next();
        return { type: 'literal', value: null, pos: token.pos };
      }
      if (RESERVED.has(word)) throw this.syntax(token, 'a value, a property or a function');
      return this.ref();
    }
    if (this.isPunct('@')) throw this.unsupported(token, 'query parameters');
    throw this.syntax(token, 'a value, a property or a function');
  }

  private call(): Expr {
    const nameToken = this.next();
    const name = nameToken.text.toUpperCase();
    this.next(); // "("
    if (name === 'IS_OF_MODEL') return this.isOfModel(nameToken);
    const spec = FUNCTIONS[name as FunctionName];
    if (!spec) throw this.unsupported(nameToken, `function ${nameToken.text}`, `supported functions are ${SUPPORTED_FUNCTIONS}`);
    const args: Expr[] = [];
    if (!this.isPunct(')')) {
      for (;;) {
        args.push(this.operand());
        if (!this.isPunct(',')) break;
        this.next();
      }
    }
    this.expectPunct(')', `"," or ")" in ${name}(…)`);
    if (args.length < spec.min || args.length > spec.max) {
      throw queryError('query-syntax', this.text, nameToken.pos, `${name} takes ${spec.min === spec.max ? spec.min : `${spec.min} to ${spec.max}`} argument${spec.max === 1 ? '' : 's'}, not ${args.length}`);
    }
    return { type: 'call', name: name as FunctionName, args, pos: nameToken.pos };
  }

  private isOfModel(nameToken: Token): Expr {
    let variable = '';
    let explicitVariable = false;
    if (this.token.type === 'ident') {
      variable = this.next().text;
      explicitVariable = true;
      this.expectPunct(',', '"," after the variable in IS_OF_MODEL');
    }
    const model = this.token;
    if (model.type !== 'string') throw this.syntax(model, "a model DTMI in quotes, e.g. IS_OF_MODEL('dtmi:example:Pump;1')");
    this.next();
    let exact = false;
    if (this.isPunct(',')) {
      this.next();
      if (!this.isWord('EXACT')) throw this.syntax(this.token, 'exact');
      this.next();
      exact = true;
    }
    this.expectPunct(')', '")" closing IS_OF_MODEL');
    // The variable stays empty when omitted; the resolver fills in the only twin variable there is.
    return { type: 'isOfModel', variable: explicitVariable ? variable : '', model: model.value as string, exact, pos: nameToken.pos };
  }

  private ref(): RefExpr {
    const first = this.name('a variable or property name');
    const path = [first.text];
    while (this.isPunct('.')) {
      this.next();
      path.push(this.name('a property name after "."').text);
    }
    if (this.isPunct('[')) throw this.unsupported(this.token, 'bracket property access ([…])', 'write T.name');
    // Resolved against the FROM clause later: the first segment is a variable or a property.
    return { type: 'ref', variable: '', path, pos: first.pos };
  }
}

/** Binds refs to variables now that FROM is known, and checks every variable exists. */
class Resolver {
  private readonly twinVariables = new Set<string>();
  private readonly edgeVariables = new Set<string>();
  private readonly bare: boolean;

  constructor(private readonly ast: QueryAst) {
    if (ast.from.kind === 'twins') {
      this.bare = ast.from.alias === '';
      if (!this.bare) this.twinVariables.add(ast.from.alias);
    } else {
      this.bare = false;
      for (const node of ast.from.pattern.nodes) if (node.variable !== '') this.twinVariables.add(node.variable);
      for (const edge of ast.from.pattern.edges) {
        if (edge.variable === '') continue;
        if (this.twinVariables.has(edge.variable) || this.edgeVariables.has(edge.variable)) {
          throw queryError('query-syntax', ast.text, edge.pos, `variable ${edge.variable} is used twice in the pattern`);
        }
        this.edgeVariables.add(edge.variable);
      }
    }
  }

  resolve(): void {
    const { ast } = this;
    if (ast.select.kind === 'items') for (const item of ast.select.items) this.ref(item.ref, true);
    if (ast.where) this.expr(ast.where);
  }

  private ref(ref: RefExpr, selecting: boolean): void {
    if (this.bare) {
      ref.variable = '';
      return;
    }
    const [first, ...rest] = ref.path as [string, ...string[]];
    if (!this.twinVariables.has(first) && !this.edgeVariables.has(first)) {
      const known = [...this.twinVariables, ...this.edgeVariables];
      throw queryError('query-syntax', this.ast.text, ref.pos, `unknown variable ${first}`, `the query names ${known.join(', ') || 'no variables'}`);
    }
    if (!selecting && rest.length === 0) throw queryError('query-syntax', this.ast.text, ref.pos, `${first} is a twin or relationship, not a value`, `compare one of its properties, e.g. ${first}.$dtId`);
    ref.variable = first;
    ref.path = rest;
  }

  private expr(expr: Expr): void {
    switch (expr.type) {
      case 'ref':
        this.ref(expr, false);
        return;
      case 'literal':
        return;
      case 'compare':
        this.expr(expr.left);
        this.expr(expr.right);
        return;
      case 'and':
      case 'or':
        expr.items.forEach((e) => this.expr(e));
        return;
      case 'not':
        this.expr(expr.expr);
        return;
      case 'in':
        this.expr(expr.expr);
        return;
      case 'call':
        expr.args.forEach((e) => this.expr(e));
        return;
      case 'isOfModel':
        if (expr.variable === '') {
          if (this.bare) return;
          if (this.ast.from.kind === 'twins') expr.variable = this.ast.from.alias;
          else throw queryError('query-syntax', this.ast.text, expr.pos, 'IS_OF_MODEL in a MATCH query needs the twin to test', "e.g. IS_OF_MODEL(b, 'dtmi:…;1')");
        } else if (this.bare || !this.twinVariables.has(expr.variable)) {
          throw queryError('query-syntax', this.ast.text, expr.pos, `IS_OF_MODEL: ${expr.variable} is not a twin variable of this query`);
        }
        return;
    }
  }
}

/** Parses a query into its syntax tree; throws TwinError `query-syntax`, `query-unsupported` or `query-limit`. */
export function parseQuery(text: string, options: ParseOptions = {}): QueryAst {
  const parser = new Parser(text, tokenize(text), options.maxHops ?? 5);
  const ast = parser.parse();
  new Resolver(ast).resolve();
  return ast;
}
