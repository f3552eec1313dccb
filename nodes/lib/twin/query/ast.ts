// The syntax tree of a parsed query. Every node keeps the offset it came from.

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

/** `T.spindle.speed`: a variable (empty for a FROM without alias) and a path into what it binds. */
export interface RefExpr {
  type: 'ref';
  variable: string;
  path: string[];
  pos: number;
  /** Where the path would sit in `$telemetry` (`spindle/speed`); set by the evaluator on first use. */
  telemetryKey?: string | null;
}

export interface LiteralExpr {
  type: 'literal';
  value: string | number | boolean | null;
  pos: number;
}

export interface CompareExpr {
  type: 'compare';
  op: CompareOp;
  left: Expr;
  right: Expr;
  pos: number;
}

export interface LogicalExpr {
  type: 'and' | 'or';
  items: Expr[];
  pos: number;
}

export interface NotExpr {
  type: 'not';
  expr: Expr;
  pos: number;
}

export interface InExpr {
  type: 'in';
  negate: boolean;
  expr: Expr;
  list: LiteralExpr[];
  pos: number;
}

export interface IsOfModelExpr {
  type: 'isOfModel';
  variable: string;
  model: string;
  exact: boolean;
  pos: number;
}

export type FunctionName = 'IS_DEFINED' | 'IS_NULL' | 'IS_BOOL' | 'IS_NUMBER' | 'IS_STRING' | 'IS_PRIMITIVE' | 'IS_OBJECT' | 'STARTSWITH' | 'ENDSWITH' | 'CONTAINS';

export interface CallExpr {
  type: 'call';
  name: FunctionName;
  args: Expr[];
  pos: number;
}

export type Expr = RefExpr | LiteralExpr | CompareExpr | LogicalExpr | NotExpr | InExpr | IsOfModelExpr | CallExpr;

export interface SelectItem {
  /** A variable alone (whole twin or relationship) when `path` is empty. */
  ref: RefExpr;
  /** The key in the result row. */
  key: string;
}

export type Selection = { kind: 'all' } | { kind: 'count' } | { kind: 'items'; items: SelectItem[] };

export interface NodePattern {
  /** Empty for an anonymous node `()`. */
  variable: string;
  pos: number;
}

export interface EdgePattern {
  /** Empty when the relationship is not bound to a variable. */
  variable: string;
  /** Relationship names, any when empty. */
  names: string[];
  /** As written, left to right: `->` out, `<-` in, `-` either. */
  direction: 'out' | 'in' | 'both';
  minHops: number;
  maxHops: number;
  /** True when written with `*`: a path of several relationships, none repeating a twin. */
  variableLength: boolean;
  pos: number;
}

export interface MatchPattern {
  nodes: NodePattern[];
  /** edges[i] joins nodes[i] and nodes[i + 1]. */
  edges: EdgePattern[];
}

export type Source = { kind: 'twins'; alias: string } | { kind: 'match'; pattern: MatchPattern };

export interface QueryAst {
  text: string;
  top?: number;
  select: Selection;
  from: Source;
  where?: Expr;
}
